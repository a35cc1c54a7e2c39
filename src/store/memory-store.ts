import type { DocUpdate, StoredDoc } from './doc-store.js';
import type { AgentStore, EntryChange, LamportClocks, NodeSnapshot, SnapshotMember, StoredEntry } from './state-store.js';
import { raisedClocks } from './state-store.js';

/** The store in memory, for tests: same semantics as `SqliteStore`, nothing survives the process. */
export class MemoryStore implements AgentStore {
  private readonly entries = new Map<string, Uint8Array>();
  private readonly meta = new Map<string, Uint8Array>();
  private incarnation = 0;
  private clocks: LamportClocks = { member: 0, event: 0, query: 0 };
  private members: SnapshotMember[] = [];
  private closed = false;
  private readonly docs = new Map<string, { snapshot: Uint8Array | null; updates: Uint8Array[] }>();

  loadEntries(): StoredEntry[] {
    this.assertOpen();
    return [...this.entries].map(([key, entry]) => ({ key, entry: entry.slice() }));
  }

  writeEntries(changes: readonly EntryChange[]): void {
    this.assertOpen();
    for (const c of changes) {
      if (c.entry === null) this.entries.delete(c.key);
      else this.entries.set(c.key, c.entry.slice());
    }
  }

  loadMeta(name: string): Uint8Array | null {
    this.assertOpen();
    return this.meta.get(name)?.slice() ?? null;
  }

  saveMeta(name: string, value: Uint8Array): void {
    this.saveSnapshot({ meta: [[name, value]] });
  }

  loadIncarnation(): number {
    this.assertOpen();
    return this.incarnation;
  }

  saveIncarnation(n: number): void {
    this.saveSnapshot({ incarnation: n });
  }

  loadClocks(): LamportClocks {
    this.assertOpen();
    return this.clocks;
  }

  saveClocks(c: LamportClocks): void {
    this.saveSnapshot({ clocks: c });
  }

  loadMembers(): SnapshotMember[] {
    this.assertOpen();
    return [...this.members];
  }

  saveMembers(members: readonly SnapshotMember[]): void {
    this.saveSnapshot({ members });
  }

  /** Every save goes through here, as in `SqliteStore`. */
  saveSnapshot(s: NodeSnapshot): void {
    this.assertOpen();
    if (s.members !== undefined) this.members = [...s.members];
    if (s.incarnation !== undefined) this.incarnation = Math.max(this.incarnation, s.incarnation);
    if (s.clocks !== undefined) this.clocks = raisedClocks(this.clocks, s.clocks) ?? this.clocks;
    for (const [name, value] of s.meta ?? []) this.meta.set(name, value.slice());
  }

  loadDoc(doc: string): StoredDoc {
    this.assertOpen();
    const d = this.docs.get(doc);
    const updates = d === undefined ? [] : d.updates.map((u) => u.slice());
    return { snapshot: d?.snapshot?.slice() ?? null, updates, tailBytes: updates.reduce((n, u) => n + u.length, 0) };
  }

  appendDocUpdates(updates: readonly DocUpdate[]): void {
    this.assertOpen();
    for (const u of updates) {
      let d = this.docs.get(u.doc);
      if (d === undefined) this.docs.set(u.doc, (d = { snapshot: null, updates: [] }));
      d.updates.push(u.update.slice());
    }
  }

  compactDoc(doc: string, snapshot: Uint8Array): void {
    this.assertOpen();
    this.docs.set(doc, { snapshot: snapshot.slice(), updates: [] });
  }

  docNames(): string[] {
    this.assertOpen();
    return [...this.docs.keys()].sort();
  }

  close(): void {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('store is closed');
  }
}
