import type { DocUpdate, StoredDoc } from './doc-store.js';
import type { AgentStore, EntryChange, LamportClocks, NodeSnapshot, SnapshotMember, StoredEntry } from './state-store.js';

/** Whether the store takes writes, as `/v1/health` and `/metrics` report it. */
export interface StoreHealth {
  /** The last write failed and none has succeeded since. */
  readonly failing: boolean;
  /** The error of the write that failed first in the current failing spell, or null. */
  readonly error: string | null;
  /** When the current failing spell started (ms since the epoch), or null. */
  readonly sinceMs: number | null;
  /** Writes the store refused since it was opened. */
  readonly writeFailures: number;
}

/** Called once per state change: `failing` with the error that started it, or recovered (`error` null). */
export type StoreStateListener = (health: StoreHealth, error: unknown) => void;

/**
 * An `AgentStore` that watches its writes: the first failure turns it `failing` and the first
 * success after that turns it back; the listener hears each change once (a disk that stays
 * full is one log line, not one per retry). Every call passes straight through, errors included.
 */
export class WatchedStore implements AgentStore {
  private state: { failing: boolean; error: string | null; sinceMs: number | null } = { failing: false, error: null, sinceMs: null };
  private failures = 0;

  constructor(
    readonly inner: AgentStore,
    private readonly onChange: StoreStateListener,
    private readonly clock: () => number = Date.now,
  ) {}

  get health(): StoreHealth {
    return { ...this.state, writeFailures: this.failures };
  }

  loadEntries(): StoredEntry[] {
    return this.inner.loadEntries();
  }

  writeEntries(changes: readonly EntryChange[]): void {
    this.write(() => this.inner.writeEntries(changes));
  }

  loadDoc(doc: string): StoredDoc {
    return this.inner.loadDoc(doc);
  }

  appendDocUpdates(updates: readonly DocUpdate[]): void {
    this.write(() => this.inner.appendDocUpdates(updates));
  }

  compactDoc(doc: string, snapshot: Uint8Array): void {
    this.write(() => this.inner.compactDoc(doc, snapshot));
  }

  docNames(): string[] {
    return this.inner.docNames();
  }

  loadMeta(name: string): Uint8Array | null {
    return this.inner.loadMeta(name);
  }

  saveMeta(name: string, value: Uint8Array): void {
    this.write(() => this.inner.saveMeta(name, value));
  }

  loadIncarnation(): number {
    return this.inner.loadIncarnation();
  }

  saveIncarnation(n: number): void {
    this.write(() => this.inner.saveIncarnation(n));
  }

  loadClocks(): LamportClocks {
    return this.inner.loadClocks();
  }

  saveClocks(c: LamportClocks): void {
    this.write(() => this.inner.saveClocks(c));
  }

  loadMembers(): SnapshotMember[] {
    return this.inner.loadMembers();
  }

  saveMembers(members: readonly SnapshotMember[]): void {
    this.write(() => this.inner.saveMembers(members));
  }

  saveSnapshot(s: NodeSnapshot): void {
    this.write(() => this.inner.saveSnapshot(s));
  }

  /** A small write (meta `store.probe`) to learn whether a failing store takes writes again. */
  probe(): void {
    this.write(() => this.inner.saveMeta('store.probe', new TextEncoder().encode(String(this.clock()))));
  }

  close(): void {
    this.inner.close();
  }

  private write(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.failures++;
      if (!this.state.failing) {
        this.state = { failing: true, error: e instanceof Error ? e.message : String(e), sinceMs: this.clock() };
        this.onChange(this.health, e);
      }
      throw e;
    }
    if (this.state.failing) {
      this.state = { failing: false, error: null, sinceMs: null };
      this.onChange(this.health, null);
    }
  }
}
