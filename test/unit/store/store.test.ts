import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentStore } from '../../../src/store/index.js';
import { MemoryStore, nextIncarnation, SqliteStore } from '../../../src/store/index.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'gossip-store-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array | null): string | null => (b === null ? null : new TextDecoder().decode(b));

describe.each([
  ['SqliteStore', (): AgentStore => SqliteStore.open(tempDir())],
  ['MemoryStore', (): AgentStore => new MemoryStore()],
])('%s', (_name, open) => {
  it('writes, overwrites and forgets entries in one batch, and loads them back', () => {
    const s = open();
    s.writeEntries([{ key: 'a', entry: bytes('1') }, { key: 'b', entry: bytes('2') }]);
    s.writeEntries([{ key: 'a', entry: bytes('3') }, { key: 'b', entry: null }, { key: 'c', entry: bytes('4') }]);
    expect(s.loadEntries().map((e) => [e.key, text(e.entry)])).toEqual([['a', '3'], ['c', '4']]);
    s.close();
  });

  it('keeps named blobs', () => {
    const s = open();
    expect(s.loadMeta('hlc')).toBeNull();
    s.saveMeta('hlc', bytes('x'));
    s.saveMeta('hlc', bytes('y'));
    expect(text(s.loadMeta('hlc'))).toBe('y');
    s.close();
  });

  it('never lowers the incarnation or a clock', () => {
    const s = open();
    expect(nextIncarnation(s)).toBe(1);
    s.saveIncarnation(5);
    s.saveIncarnation(3);
    expect(s.loadIncarnation()).toBe(5);
    expect(nextIncarnation(s)).toBe(6);
    s.saveClocks({ member: 10, event: 2, query: 7 });
    s.saveClocks({ member: 4, event: 9, query: 7 });
    expect(s.loadClocks()).toEqual({ member: 10, event: 9, query: 7 });
    s.close();
  });

  it('replaces the membership snapshot', () => {
    const s = open();
    s.saveMembers([{ name: 'x', addr: '127.0.0.1:1' }, { name: 'y', addr: '127.0.0.1:2' }]);
    s.saveMembers([{ name: 'z', addr: '127.0.0.1:3' }]);
    expect(s.loadMembers()).toEqual([{ name: 'z', addr: '127.0.0.1:3' }]);
    s.close();
  });

  it('saves a snapshot: members replaced, incarnation and clocks raised (never lowered), blobs kept, parts left out untouched', () => {
    const s = open();
    s.saveSnapshot({ members: [{ name: 'x', addr: '127.0.0.1:1' }], incarnation: 4, clocks: { member: 5, event: 6, query: 7 }, meta: [['agent.events', bytes('e')]] });
    s.saveSnapshot({ incarnation: 2, clocks: { member: 9, event: 1, query: 7 }, meta: [['agent.coordinate', bytes('c')]] });
    expect(s.loadMembers()).toEqual([{ name: 'x', addr: '127.0.0.1:1' }]);
    expect(s.loadIncarnation()).toBe(4);
    expect(s.loadClocks()).toEqual({ member: 9, event: 6, query: 7 });
    expect([text(s.loadMeta('agent.events')), text(s.loadMeta('agent.coordinate'))]).toEqual(['e', 'c']);
    s.close();
  });
});

describe('SqliteStore', () => {
  it('runs in WAL mode with synchronous=FULL by default', () => {
    const s = SqliteStore.open(tempDir());
    expect(s.durability).toEqual({ journalMode: 'wal', synchronous: 2 });
    s.close();
    const n = SqliteStore.open(tempDir(), { synchronous: 'NORMAL' });
    expect(n.durability.synchronous).toBe(1);
    n.close();
  });

  it('keeps everything across a reopen of the same directory', () => {
    const dir = tempDir();
    const s = SqliteStore.open(dir);
    s.writeEntries([{ key: 'k', entry: new Uint8Array([0, 255, 7]) }]);
    s.saveIncarnation(3);
    s.saveClocks({ member: 1, event: 2, query: 3 });
    s.saveMembers([{ name: 'p', addr: '127.0.0.1:9' }]);
    s.close();
    const r = SqliteStore.open(dir);
    expect(r.loadEntries()).toEqual([{ key: 'k', entry: new Uint8Array([0, 255, 7]) }]);
    expect(r.loadIncarnation()).toBe(3);
    expect(r.loadClocks()).toEqual({ member: 1, event: 2, query: 3 });
    expect(r.loadMembers()).toEqual([{ name: 'p', addr: '127.0.0.1:9' }]);
    r.close();
  });

  it('writes a failing batch not at all', () => {
    const s = SqliteStore.open(tempDir());
    s.writeEntries([{ key: 'a', entry: bytes('old') }]);
    // A null key violates the primary key's NOT NULL: the whole transaction rolls back.
    expect(() => s.writeEntries([{ key: 'a', entry: bytes('new') }, { key: null as unknown as string, entry: bytes('x') }])).toThrow();
    expect(s.loadEntries().map((e) => [e.key, text(e.entry)])).toEqual([['a', 'old']]);
    s.close();
  });

  it('a snapshot is one commit (one fsync), where its parts saved one by one were four', () => {
    const s = SqliteStore.open(tempDir());
    const before = s.commits;
    s.saveSnapshot({ members: [{ name: 'p', addr: '127.0.0.1:9' }], incarnation: 3, clocks: { member: 1, event: 2, query: 3 }, meta: [['agent.events', bytes('[]')]] });
    expect(s.commits - before).toBe(1);
    // Nothing new: no commit at all.
    s.saveSnapshot({ incarnation: 3, clocks: { member: 1, event: 2, query: 3 } });
    expect(s.commits - before).toBe(1);
    s.close();
  });

  it('writes a failing snapshot not at all', () => {
    const s = SqliteStore.open(tempDir());
    s.saveSnapshot({ members: [{ name: 'p', addr: '127.0.0.1:9' }], clocks: { member: 1, event: 1, query: 1 } });
    const bad = { members: [{ name: 'q', addr: '127.0.0.1:8' }, { name: null as unknown as string, addr: 'x' }], incarnation: 7, clocks: { member: 5, event: 5, query: 5 } };
    expect(() => s.saveSnapshot(bad)).toThrow();
    expect(s.loadMembers()).toEqual([{ name: 'p', addr: '127.0.0.1:9' }]);
    expect(s.loadIncarnation()).toBe(0);
    expect(s.loadClocks()).toEqual({ member: 1, event: 1, query: 1 });
    s.close();
  });

  it('refuses a database written by a newer schema', () => {
    const dir = tempDir();
    const s = SqliteStore.open(dir);
    (s as unknown as { db: { pragma(p: string): unknown } }).db.pragma('user_version = 99');
    s.close();
    expect(() => SqliteStore.open(dir)).toThrow(/schema version 99 is newer/);
  });
});
