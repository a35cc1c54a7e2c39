import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { freePort } from '../../../src/clusterbench/ports.js';
import { SqliteStore, StoreError, StoreMarker } from '../../../src/store/index.js';
import { capture } from '../cli/capture.js';
import { mountTmpfs } from '../../integration/tmpfs.js';

/** Issue 13, items 8, 13 and 18: a damaged or unusable data dir is never silent, never reset. */
const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'gossip-integrity-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const mode = (p: string): number => statSync(p).mode & 0o777;

function openOrError(dir: string, o: Parameters<typeof SqliteStore.open>[1] = {}): SqliteStore | StoreError {
  try {
    return SqliteStore.open(dir, o);
  } catch (e) {
    if (e instanceof StoreError) return e;
    throw e;
  }
}

/**
 * A data dir as a crash leaves it: `n` commits of one entry each (the last ones still in the
 * WAL, not checkpointed), copied while the store is open, as a SIGKILL would leave the files.
 */
function crashedDir(n: number): string {
  const live = tempDir();
  const s = SqliteStore.open(live);
  s.saveIncarnation(7);
  for (let i = 0; i < n; i++) s.writeEntries([{ key: `k${i}`, entry: bytes(`v${i}`) }]);
  const crashed = join(tempDir(), 'data');
  mkdirSync(crashed, { mode: 0o700 });
  for (const f of readdirSync(live)) copyFileSync(join(live, f), join(crashed, f));
  s.close();
  return crashed;
}

describe('file modes (item 18): the keyring lives in state.db', () => {
  it('creates the data dir 0700 and every store file 0600', () => {
    const dir = join(tempDir(), 'new');
    const s = SqliteStore.open(dir);
    s.saveMeta('agent.keyring', bytes('["secret"]'));
    expect(mode(dir)).toBe(0o700);
    for (const f of ['state.db', 'state.db-wal', 'state.db-shm', 'state.meta']) expect([f, mode(join(dir, f))]).toEqual([f, 0o600]);
    s.close();
  });

  it('tightens an existing dir and files, and says so', () => {
    const dir = join(tempDir(), 'loose');
    SqliteStore.open(dir).close();
    chmodSync(dir, 0o755);
    chmodSync(join(dir, 'state.db'), 0o644);
    chmodSync(join(dir, 'state.meta'), 0o644);
    const notices: string[] = [];
    const s = SqliteStore.open(dir, { notice: (l) => notices.push(l) });
    expect(mode(dir)).toBe(0o700);
    expect(mode(join(dir, 'state.db'))).toBe(0o600);
    expect(mode(join(dir, 'state.meta'))).toBe(0o600);
    expect(notices.join('\n')).toMatch(/was mode 0755: tightened to 0700/);
    expect(notices.join('\n')).toMatch(/state\.db was mode 0644: tightened to 0600/);
    s.close();
  });
});

describe('a data dir that cannot be used (item 8): which file, why, what to do; never overwritten', () => {
  it('a corrupt state.db: "file is not a database", the path, the way out; the file is left as it was', () => {
    const dir = tempDir();
    const garbage = Buffer.alloc(16384, 0x5a);
    writeFileSync(join(dir, 'state.db'), garbage);
    const e = openOrError(dir);
    expect(e).toBeInstanceOf(StoreError);
    const msg = (e as StoreError).message;
    expect(msg).toContain(join(dir, 'state.db'));
    expect(msg).toMatch(/file is not a database/);
    expect(msg).toMatch(/backup/);
    expect(msg).toMatch(/--recover/);
    expect(msg).toMatch(/--data-dir/);
    expect(readFileSync(join(dir, 'state.db')).equals(garbage)).toBe(true);
  });

  it('with --recover a corrupt state.db is moved aside (kept), and the store starts empty', () => {
    const dir = tempDir();
    const garbage = Buffer.alloc(16384, 0x5a);
    writeFileSync(join(dir, 'state.db'), garbage);
    const notices: string[] = [];
    const s = SqliteStore.open(dir, { recover: true, notice: (l) => notices.push(l) });
    expect(s.recovered).toBe(true);
    expect(s.loadEntries()).toEqual([]);
    const aside = readdirSync(dir).filter((f) => f.startsWith('state.db.corrupt-'));
    expect(aside).toHaveLength(1);
    expect(readFileSync(join(dir, aside[0] as string)).equals(garbage)).toBe(true);
    expect(notices.join('\n')).toMatch(/moved it aside/);
    s.close();
  });

  it('a data dir path through a file: the path and the cause', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'file'), 'x');
    const e = openOrError(join(dir, 'file', 'data'));
    expect(e).toBeInstanceOf(StoreError);
    expect((e as StoreError).message).toContain(join(dir, 'file'));
    expect((e as StoreError).message).toMatch(/not a directory|ENOTDIR|EEXIST/);
  });

  it('a read-only directory: "cannot open" or read-only, the path, what to do', () => {
    const m = mountTmpfs(1024 * 1024);
    if ('reason' in m) {
      // Not root: a mode does it.
      const dir = tempDir();
      SqliteStore.open(dir).close();
      chmodSync(dir, 0o500);
      const e = openOrError(dir);
      chmodSync(dir, 0o700);
      expect(e).toBeInstanceOf(StoreError);
      expect((e as StoreError).message).toMatch(/owner and mode/);
      return;
    }
    try {
      const dir = join(m.dir, 'data');
      SqliteStore.open(dir).close();
      execFileSync('mount', ['-o', 'remount,ro', m.dir]);
      const e = openOrError(dir);
      expect(e).toBeInstanceOf(StoreError);
      const msg = (e as StoreError).message;
      expect(msg).toContain(dir);
      expect(msg).toMatch(/cannot open database file|unable to open database file|read-only|readonly/i);
      expect(msg).toMatch(/owner and mode/);
      expect(msg).toMatch(/--data-dir/);
    } finally {
      m.unmount();
    }
  });

  it('gossip agent exits 2 with the message on a corrupt store', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'state.db'), Buffer.alloc(8192, 0x5a));
    const io = capture();
    const code = await main(['agent', '--name', 'x', '--data-dir', dir, '--bind', `127.0.0.1:${await freePort()}`, '--http', `127.0.0.1:${await freePort()}`, '--log-level', 'silent'], io);
    expect(code).toBe(2);
    expect(io.stderr.join('\n')).toMatch(/state\.db: file is not a database/);
  });
});

describe('WAL damage is detected (item 13): the store knows its last commit', () => {
  it('a crash with the WAL intact loses nothing and opens cleanly', () => {
    const dir = crashedDir(40);
    const s = SqliteStore.open(dir);
    expect(s.loadEntries()).toHaveLength(40);
    expect(s.recovered).toBe(false);
    s.close();
  });

  it.each<[string, (dir: string) => void, RegExp]>([
    ['a truncated WAL', (d) => truncateSync(join(d, 'state.db-wal'), statSync(join(d, 'state.db-wal')).size - 5000), /commits are lost.*state\.db-wal was damaged, truncated or deleted/],
    ['a corrupted WAL frame', (d) => {
      const p = join(d, 'state.db-wal');
      const b = readFileSync(p);
      b.fill(0x77, b.length - 3000, b.length - 2000);
      writeFileSync(p, b);
    }, /commits are lost/],
    ['a deleted WAL', (d) => rmSync(join(d, 'state.db-wal')), /commits are lost|no committed state.*-wal was lost/],
    ['a deleted state.db (WAL left)', (d) => rmSync(join(d, 'state.db')), /deleted or replaced|not a database/],
  ])('%s: refused with a clear message; --recover starts anyway and above the old incarnation', (_name, damage, why) => {
    const dir = crashedDir(40);
    expect(existsSync(join(dir, 'state.db-wal'))).toBe(true);
    damage(dir);
    const e = openOrError(dir);
    expect(e).toBeInstanceOf(StoreError);
    expect((e as StoreError).message).toMatch(why);
    expect((e as StoreError).message).toMatch(/--recover/);
    // Refused stays refused: nothing was reset by looking.
    expect(openOrError(dir)).toBeInstanceOf(StoreError);
    const notices: string[] = [];
    const s = SqliteStore.open(dir, { recover: true, notice: (l) => notices.push(l) });
    expect(s.recovered).toBe(true);
    expect(s.loadIncarnation()).toBeGreaterThanOrEqual(7);
    expect(notices.join('\n')).toMatch(/recover/);
    s.writeEntries([{ key: 'after', entry: bytes('x') }]);
    s.close();
    // Once recovered, the next start is a normal one.
    const again = SqliteStore.open(dir);
    expect(again.recovered).toBe(false);
    expect(again.loadEntries().some((x) => x.key === 'after')).toBe(true);
    again.close();
  });

  it('a lost marker is recreated from the database (said once), not an error', () => {
    const dir = crashedDir(5);
    rmSync(join(dir, 'state.meta'));
    const notices: string[] = [];
    const s = SqliteStore.open(dir, { notice: (l) => notices.push(l) });
    expect(s.loadEntries()).toHaveLength(5);
    expect(notices.join('\n')).toMatch(/state\.meta was missing: recreated/);
    s.close();
  });

  it('the marker survives a torn write of its newer slot (the older one still reads)', () => {
    const dir = tempDir();
    const s = SqliteStore.open(dir);
    s.writeEntries([{ key: 'a', entry: bytes('1') }]);
    const seq = s.commits;
    s.close();
    const p = join(dir, 'state.meta');
    const b = readFileSync(p);
    const slot = (seq % 2) * 32;
    b.fill(0, slot + 8, slot + 16);
    writeFileSync(p, b);
    expect(StoreMarker.read(p)?.seq).toBe(seq - 1);
  });
});
