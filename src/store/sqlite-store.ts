import { chmodSync, closeSync, existsSync, mkdirSync, openSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { DocUpdate, StoredDoc } from './doc-store.js';
import type { AgentStore, EntryChange, LamportClocks, NodeSnapshot, SnapshotMember, StoredEntry } from './state-store.js';
import { raisedClocks } from './state-store.js';
import { StoreError, storeOpenError } from './store-error.js';
import type { MarkerState } from './store-marker.js';
import { StoreMarker } from './store-marker.js';

/**
 * Durability of a commit. In WAL mode `NORMAL` does not fsync the log at commit (only at
 * checkpoints): a process crash loses nothing, but an OS crash or power loss can lose the last
 * commits. The agent acknowledges a write only when durable, and a SIGKILL is not the only
 * way to lose a machine, so the default is `FULL` (one fsync of the WAL per commit); the cost
 * is amortized by committing concurrent writes together (`writeEntries` takes a batch).
 */
export type SyncMode = 'FULL' | 'NORMAL';

export interface SqliteStoreOptions {
  /** Default `FULL`, see `SyncMode`. */
  readonly synchronous?: SyncMode;
  /**
   * Start even though the store is damaged (commits lost from its WAL, `state.db` deleted or
   * replaced, a corrupt `state.db`, which is moved aside, never overwritten): what is left is
   * kept, `recovered` is set, and the node must relearn from its peers what it lost (its dot
   * counter first, then the entries by anti-entropy). Without it such a store is refused.
   */
  readonly recover?: boolean;
  /** A line worth logging: a mode tightened, a marker recreated, a damaged store accepted. */
  readonly notice?: (line: string) => void;
}

const SCHEMA_VERSION = 1;
const SEQ_META = 'store.seq';
/** Files of the store in its directory; all are kept 0600 (the keyring is in `state.db`). */
export const STORE_FILES = ['state.db', 'state.db-wal', 'state.db-shm', 'state.meta'] as const;

/**
 * The agent's durable state in one SQLite database (`state.db` in the data directory), WAL
 * journal. Tables: `entries` (key → opaque entry bytes), `meta` (named blobs: the data layer's
 * and ours: incarnation, clocks, keyring, and `store.seq`, the number of commits), `members`
 * (the snapshot to rejoin through).
 *
 * Damage is never silent: every commit also bumps `store.seq`, and `state.meta` beside the
 * database (see `StoreMarker`) records it after each commit. At open, a database behind its
 * marker lost commits (a damaged, truncated or deleted WAL; a deleted or replaced `state.db`)
 * and is refused with a `StoreError`, unless `recover`. The directory is kept 0700 and the
 * files 0600.
 */
export class SqliteStore implements AgentStore {
  private readonly db: Database.Database;
  private readonly stmt: {
    allEntries: Database.Statement<[], { key: string; entry: Buffer }>;
    putEntry: Database.Statement<[string, Buffer]>;
    delEntry: Database.Statement<[string]>;
    getMeta: Database.Statement<[string], { value: Buffer }>;
    putMeta: Database.Statement<[string, Buffer]>;
    allMembers: Database.Statement<[], { name: string; addr: string }>;
    putMember: Database.Statement<[string, string]>;
    clearMembers: Database.Statement<[]>;
    docSnapshot: Database.Statement<[string], { snapshot: Buffer }>;
    docTail: Database.Statement<[string], { body: Buffer }>;
    putDocSnapshot: Database.Statement<[string, Buffer]>;
    addDocUpdate: Database.Statement<[string, Buffer]>;
    clearDocTail: Database.Statement<[string]>;
    docNames: Database.Statement<[], { name: string }>;
  };
  private readonly inTransaction: (fn: () => void) => void;
  private seq = 0;
  private marker: StoreMarker | null = null;
  /** The store was damaged and opened anyway (`recover`): the node must refill from its peers. */
  readonly recovered: boolean;

  /**
   * Opens (creating if needed) `<dir>/state.db` and its marker `<dir>/state.meta`. Throws a
   * `StoreError` naming the file, the cause and what to do if it cannot, or if the store is
   * damaged (unless `recover`).
   */
  static open(dir: string, o: SqliteStoreOptions = {}): SqliteStore {
    const notice = o.notice ?? (() => undefined);
    prepareDir(dir, notice);
    const dbPath = join(dir, 'state.db');
    const metaPath = join(dir, 'state.meta');
    let marker: MarkerState | null;
    try {
      marker = StoreMarker.read(metaPath);
    } catch (e) {
      const problem = `cannot read the store's marker: ${e instanceof Error ? e.message : String(e)}`;
      if (o.recover !== true) throw new StoreError(metaPath, problem, 'Restore the data directory from a backup, or start with --recover to rebuild the marker from state.db, rejoin, and refill from peers');
      notice(`${metaPath}: ${problem}; starting anyway (recover)`);
      marker = { seq: 0, incarnation: 0 };
    }
    let store: SqliteStore;
    try {
      // Created 0600 before SQLite opens it: its -wal and -shm files take the database's mode.
      if (!existsSync(dbPath)) closeSync(openSync(dbPath, 'wx', 0o600));
      store = new SqliteStore(dbPath, o, { marker, metaPath });
    } catch (e) {
      if (e instanceof StoreError) throw e;
      const err = storeOpenError(dbPath, e);
      if (o.recover !== true || !isCorruption(e)) throw err;
      const aside = `${dbPath}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      for (const suffix of ['', '-wal', '-shm']) if (existsSync(dbPath + suffix)) renameSync(dbPath + suffix, aside + suffix);
      notice(`${err.message}; moved it aside to ${aside} and starting with an empty store (recover)`);
      closeSync(openSync(dbPath, 'wx', 0o600));
      store = new SqliteStore(dbPath, o, { marker: marker ?? { seq: 0, incarnation: 0 }, metaPath, recovered: true });
    }
    tightenFiles(dir, notice);
    return store;
  }

  /** `path` may be `:memory:` (tests); a marker is kept only when `open` gives one. */
  constructor(readonly path: string, o: SqliteStoreOptions = {}, m?: { readonly marker: MarkerState | null; readonly metaPath: string; readonly recovered?: boolean }) {
    this.db = new Database(path);
    let recovered = m?.recovered ?? false;
    try {
      // Read before anything is written: a store behind its marker is refused as it is.
      const dbSeq = this.readSeq();
      const marker = m?.marker ?? null;
      if (m !== undefined && marker !== null && dbSeq < marker.seq) {
        const problem = dbSeq === 0
          ? `holds no committed state, but ${m.metaPath} records ${marker.seq} commits (last incarnation ${marker.incarnation}): the database was deleted or replaced, or its write-ahead log ${path}-wal was lost`
          : `ends at commit ${dbSeq}, but ${m.metaPath} records ${marker.seq}: the last ${marker.seq - dbSeq} commits are lost (its write-ahead log ${path}-wal was damaged, truncated or deleted)`;
        if (o.recover !== true) {
          throw new StoreError(path, problem, 'Acknowledged writes may be lost. Restore the data directory from a backup, or start with --recover (config "recover": true) to keep what is left, rejoin, and refill from peers');
        }
        o.notice?.(`${path}: ${problem}; starting anyway (recover): this node relearns its dot counter and refills from its peers`);
        recovered = true;
      } else if (m !== undefined && marker === null && dbSeq > 0) {
        o.notice?.(`${m.metaPath} was missing: recreated from ${path} (commit ${dbSeq})`);
      }
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${o.synchronous ?? 'FULL'}`);
      this.db.pragma('foreign_keys = ON');
      const version = this.db.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION) throw new StoreError(path, `schema version ${version} is newer than this agent's (${SCHEMA_VERSION})`, 'Run a newer agent, or start with --data-dir pointing at another directory');
      this.db.exec(`
        CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, entry BLOB NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS members (name TEXT PRIMARY KEY, addr TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS doc_snapshots (name TEXT PRIMARY KEY, snapshot BLOB NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS doc_updates (seq INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, body BLOB NOT NULL);
        CREATE INDEX IF NOT EXISTS doc_updates_name ON doc_updates (name, seq);
      `);
      this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
      this.recovered = recovered;
      this.stmt = {
        allEntries: this.db.prepare('SELECT key, entry FROM entries ORDER BY key'),
        putEntry: this.db.prepare('INSERT INTO entries (key, entry) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET entry = excluded.entry'),
        delEntry: this.db.prepare('DELETE FROM entries WHERE key = ?'),
        getMeta: this.db.prepare('SELECT value FROM meta WHERE name = ?'),
        putMeta: this.db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value'),
        allMembers: this.db.prepare('SELECT name, addr FROM members ORDER BY name'),
        putMember: this.db.prepare('INSERT INTO members (name, addr) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET addr = excluded.addr'),
        clearMembers: this.db.prepare('DELETE FROM members'),
        docSnapshot: this.db.prepare('SELECT snapshot FROM doc_snapshots WHERE name = ?'),
        docTail: this.db.prepare('SELECT body FROM doc_updates WHERE name = ? ORDER BY seq'),
        putDocSnapshot: this.db.prepare('INSERT INTO doc_snapshots (name, snapshot) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET snapshot = excluded.snapshot'),
        addDocUpdate: this.db.prepare('INSERT INTO doc_updates (name, body) VALUES (?, ?)'),
        clearDocTail: this.db.prepare('DELETE FROM doc_updates WHERE name = ?'),
        docNames: this.db.prepare('SELECT name FROM doc_snapshots UNION SELECT DISTINCT name FROM doc_updates ORDER BY name'),
      };
      // Every commit counts itself in `store.seq`, inside the same transaction.
      this.inTransaction = this.db.transaction((fn: () => void) => {
        fn();
        this.stmt.putMeta.run(SEQ_META, Buffer.from(String(this.seq + 1)));
      });
      this.seq = dbSeq;
      if (m !== undefined) {
        const atLeast = Math.max(dbSeq, marker?.seq ?? 0);
        // Recovered: the database continues at the marker's count, so the next check holds.
        if (atLeast > dbSeq) {
          this.seq = atLeast - 1;
          this.commit(() => undefined);
        }
        const incarnation = Math.max(marker?.incarnation ?? 0, this.loadNumbers('agent.incarnation')[0] ?? 0);
        this.marker = StoreMarker.create(m.metaPath, { seq: this.seq, incarnation }, (o.synchronous ?? 'FULL') === 'FULL');
      }
    } catch (e) {
      this.db.close();
      throw e;
    }
  }

  /** The journal mode and synchronous level in effect (for tests and the startup log). */
  get durability(): { journalMode: string; synchronous: number } {
    return {
      journalMode: this.db.pragma('journal_mode', { simple: true }) as string,
      synchronous: this.db.pragma('synchronous', { simple: true }) as number,
    };
  }

  loadEntries(): StoredEntry[] {
    return this.stmt.allEntries.all().map((r) => ({ key: r.key, entry: new Uint8Array(r.entry) }));
  }

  writeEntries(changes: readonly EntryChange[]): void {
    if (changes.length === 0) return;
    this.commit(() => {
      for (const c of changes) {
        if (c.entry === null) this.stmt.delEntry.run(c.key);
        else this.stmt.putEntry.run(c.key, toBuffer(c.entry));
      }
    });
  }

  loadMeta(name: string): Uint8Array | null {
    const r = this.stmt.getMeta.get(name);
    return r === undefined ? null : new Uint8Array(r.value);
  }

  saveMeta(name: string, value: Uint8Array): void {
    this.saveSnapshot({ meta: [[name, value]] });
  }

  /** Commits made (what `state.meta` records). */
  get commits(): number {
    return this.seq;
  }

  /** The highest incarnation saved here or recorded in the marker (which survives a lost database). */
  loadIncarnation(): number {
    return Math.max(this.loadNumbers('agent.incarnation')[0] ?? 0, this.marker?.current.incarnation ?? 0);
  }

  saveIncarnation(n: number): void {
    this.saveSnapshot({ incarnation: n });
  }

  /** Every save of ours goes through here: one commit, and none when nothing would change. */
  saveSnapshot(s: NodeSnapshot): void {
    for (const [name] of s.meta ?? []) if (name === SEQ_META) throw new RangeError(`meta ${SEQ_META} is the store's own`);
    const incarnation = s.incarnation !== undefined && s.incarnation > this.loadIncarnation() ? s.incarnation : null;
    const clocks = s.clocks === undefined ? null : raisedClocks(this.loadClocks(), s.clocks);
    if (s.members === undefined && incarnation === null && clocks === null && (s.meta ?? []).length === 0) return;
    this.commit(() => {
      if (s.members !== undefined) {
        this.stmt.clearMembers.run();
        for (const m of s.members) this.stmt.putMember.run(m.name, m.addr);
      }
      if (incarnation !== null) this.putNumbers('agent.incarnation', [incarnation]);
      if (clocks !== null) this.putNumbers('agent.clocks', [clocks.member, clocks.event, clocks.query]);
      for (const [name, value] of s.meta ?? []) this.stmt.putMeta.run(name, toBuffer(value));
    });
  }

  loadClocks(): LamportClocks {
    const [member = 0, event = 0, query = 0] = this.loadNumbers('agent.clocks');
    return { member, event, query };
  }

  saveClocks(c: LamportClocks): void {
    this.saveSnapshot({ clocks: c });
  }

  loadMembers(): SnapshotMember[] {
    return this.stmt.allMembers.all();
  }

  saveMembers(members: readonly SnapshotMember[]): void {
    this.saveSnapshot({ members });
  }

  loadDoc(doc: string): StoredDoc {
    const snap = this.stmt.docSnapshot.get(doc);
    const updates = this.stmt.docTail.all(doc).map((r) => new Uint8Array(r.body));
    let tailBytes = 0;
    for (const u of updates) tailBytes += u.length;
    return { snapshot: snap === undefined ? null : new Uint8Array(snap.snapshot), updates, tailBytes };
  }

  appendDocUpdates(updates: readonly DocUpdate[]): void {
    if (updates.length === 0) return;
    this.commit(() => {
      for (const u of updates) this.stmt.addDocUpdate.run(u.doc, toBuffer(u.update));
    });
  }

  compactDoc(doc: string, snapshot: Uint8Array): void {
    this.commit(() => {
      this.stmt.putDocSnapshot.run(doc, toBuffer(snapshot));
      this.stmt.clearDocTail.run(doc);
    });
  }

  docNames(): string[] {
    return this.stmt.docNames.all().map((r) => r.name);
  }

  close(): void {
    if (this.db.open) this.db.close();
    this.marker?.close();
  }

  private readSeq(): number {
    const has = this.db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get() as { n: number };
    if (has.n === 0) return 0;
    const r = this.db.prepare('SELECT value FROM meta WHERE name = ?').get(SEQ_META) as { value: Buffer } | undefined;
    const n = r === undefined ? 0 : Number(r.value.toString());
    return Number.isSafeInteger(n) && n >= 0 ? n : 0;
  }

  /** One transaction that also counts itself; once committed, the marker records it. */
  private commit(fn: () => void): void {
    this.inTransaction(fn);
    this.seq++;
    if (this.marker === null) return;
    try {
      this.marker.write(this.seq, this.loadNumbers('agent.incarnation')[0] ?? 0);
    } catch {
      // The commit is durable; a marker that lags only weakens the next start's check.
    }
  }

  private loadNumbers(name: string): number[] {
    const v = this.loadMeta(name);
    if (v === null) return [];
    const parsed: unknown = JSON.parse(new TextDecoder().decode(v));
    return Array.isArray(parsed) ? parsed.filter((x): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0) : [];
  }

  private putNumbers(name: string, values: readonly number[]): void {
    this.stmt.putMeta.run(name, toBuffer(new TextEncoder().encode(JSON.stringify(values))));
  }
}

function isCorruption(e: unknown): boolean {
  const code = typeof e === 'object' && e !== null && 'code' in e ? String((e).code) : '';
  return code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT');
}

/** Creates the data directory 0700, or tightens an existing one that others can read. */
function prepareDir(dir: string, notice: (line: string) => void): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const mode = statSync(dir).mode & 0o777;
    if (!statSync(dir).isDirectory()) throw Object.assign(new Error(`${dir} is not a directory`), { code: 'ENOTDIR' });
    if ((mode & 0o077) !== 0) {
      chmodSync(dir, 0o700);
      notice(`data directory ${dir} was mode ${mode.toString(8).padStart(4, '0')}: tightened to 0700 (it holds the keyring)`);
    }
  } catch (e) {
    throw storeOpenError(dir, e);
  }
}

/** The store's files 0600 (the database holds the keyring); says which it tightened. */
function tightenFiles(dir: string, notice: (line: string) => void): void {
  for (const f of STORE_FILES) {
    const p = join(dir, f);
    let mode: number;
    try {
      mode = statSync(p).mode & 0o777;
    } catch {
      continue;
    }
    if ((mode & 0o077) === 0) continue;
    chmodSync(p, 0o600);
    notice(`${p} was mode ${mode.toString(8).padStart(4, '0')}: tightened to 0600`);
  }
}

function toBuffer(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}
