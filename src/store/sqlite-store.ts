import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { AgentStore, EntryChange, LamportClocks, SnapshotMember, StoredEntry } from './state-store.js';

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
}

const SCHEMA_VERSION = 1;

/**
 * The agent's durable state in one SQLite database (`state.db` in the data directory), WAL
 * journal. Tables: `entries` (key → opaque entry bytes), `meta` (named blobs: the data layer's
 * and ours: incarnation, clocks), `members` (the snapshot to rejoin through).
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
  };
  private readonly writeBatch: (changes: readonly EntryChange[]) => void;
  private readonly replaceMembers: (members: readonly SnapshotMember[]) => void;

  /** Opens (creating if needed) `<dir>/state.db`. Throws a clear error if it cannot. */
  static open(dir: string, o: SqliteStoreOptions = {}): SqliteStore {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return new SqliteStore(join(dir, 'state.db'), o);
  }

  /** `path` may be `:memory:` (tests). */
  constructor(readonly path: string, o: SqliteStoreOptions = {}) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${o.synchronous ?? 'FULL'}`);
    this.db.pragma('foreign_keys = ON');
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      this.db.close();
      throw new Error(`${path}: schema version ${version} is newer than this agent's (${SCHEMA_VERSION})`);
    }
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, entry BLOB NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS members (name TEXT PRIMARY KEY, addr TEXT NOT NULL) WITHOUT ROWID;
    `);
    this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
    this.stmt = {
      allEntries: this.db.prepare('SELECT key, entry FROM entries ORDER BY key'),
      putEntry: this.db.prepare('INSERT INTO entries (key, entry) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET entry = excluded.entry'),
      delEntry: this.db.prepare('DELETE FROM entries WHERE key = ?'),
      getMeta: this.db.prepare('SELECT value FROM meta WHERE name = ?'),
      putMeta: this.db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value'),
      allMembers: this.db.prepare('SELECT name, addr FROM members ORDER BY name'),
      putMember: this.db.prepare('INSERT INTO members (name, addr) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET addr = excluded.addr'),
      clearMembers: this.db.prepare('DELETE FROM members'),
    };
    this.writeBatch = this.db.transaction((changes: readonly EntryChange[]) => {
      for (const c of changes) {
        if (c.entry === null) this.stmt.delEntry.run(c.key);
        else this.stmt.putEntry.run(c.key, toBuffer(c.entry));
      }
    });
    this.replaceMembers = this.db.transaction((members: readonly SnapshotMember[]) => {
      this.stmt.clearMembers.run();
      for (const m of members) this.stmt.putMember.run(m.name, m.addr);
    });
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
    if (changes.length > 0) this.writeBatch(changes);
  }

  loadMeta(name: string): Uint8Array | null {
    const r = this.stmt.getMeta.get(name);
    return r === undefined ? null : new Uint8Array(r.value);
  }

  saveMeta(name: string, value: Uint8Array): void {
    this.stmt.putMeta.run(name, toBuffer(value));
  }

  loadIncarnation(): number {
    return this.loadNumbers('agent.incarnation')[0] ?? 0;
  }

  saveIncarnation(n: number): void {
    if (n > this.loadIncarnation()) this.saveNumbers('agent.incarnation', [n]);
  }

  loadClocks(): LamportClocks {
    const [member = 0, event = 0, query = 0] = this.loadNumbers('agent.clocks');
    return { member, event, query };
  }

  saveClocks(c: LamportClocks): void {
    const old = this.loadClocks();
    const next = [Math.max(old.member, c.member), Math.max(old.event, c.event), Math.max(old.query, c.query)];
    if (next[0] !== old.member || next[1] !== old.event || next[2] !== old.query) this.saveNumbers('agent.clocks', next);
  }

  loadMembers(): SnapshotMember[] {
    return this.stmt.allMembers.all();
  }

  saveMembers(members: readonly SnapshotMember[]): void {
    this.replaceMembers(members);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private loadNumbers(name: string): number[] {
    const v = this.loadMeta(name);
    if (v === null) return [];
    const parsed: unknown = JSON.parse(new TextDecoder().decode(v));
    return Array.isArray(parsed) ? parsed.filter((x): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0) : [];
  }

  private saveNumbers(name: string, values: readonly number[]): void {
    this.saveMeta(name, new TextEncoder().encode(JSON.stringify(values)));
  }
}

function toBuffer(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}
