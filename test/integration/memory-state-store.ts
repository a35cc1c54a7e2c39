import type { Entry } from '../../src/core/replica/index.js';
import type { EntryChange, StateStore, StoredEntry } from '../../src/store/state-store.js';
import { decodeDataValue } from '../../src/wire/data.js';

/** An in-memory `StateStore` that counts its writes (what the agent's SQLite store does, durably). */
export class MemoryStateStore implements StateStore {
  readonly entries = new Map<string, Uint8Array>();
  readonly meta = new Map<string, Uint8Array>();
  writes = 0;
  failNext = false;
  /** Refuses every write while set (a full disk). */
  failAlways = false;

  loadEntries(): StoredEntry[] {
    return [...this.entries].map(([key, entry]) => ({ key, entry }));
  }

  writeEntries(changes: readonly EntryChange[]): void {
    if (this.failNext || this.failAlways) {
      this.failNext = false;
      throw new Error('disk full');
    }
    this.writes++;
    for (const c of changes) {
      if (c.entry === null) this.entries.delete(c.key);
      else this.entries.set(c.key, c.entry.slice());
    }
  }

  loadMeta(name: string): Uint8Array | null {
    return this.meta.get(name) ?? null;
  }

  saveMeta(name: string, value: Uint8Array): void {
    this.meta.set(name, value.slice());
  }

  /** The stored entry of a key, decoded. */
  entry(key: string): Entry | undefined {
    const b = this.entries.get(key);
    if (b === undefined) return undefined;
    const r = decodeDataValue(b);
    return r.ok ? (r.value as unknown as Entry) : undefined;
  }
}
