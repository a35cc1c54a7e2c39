/**
 * What the agent keeps across restarts. `StateStore` is the part the data layer writes through
 * (`NodeOptions.store`, contract in /work/briefs/requests-agent.md): opaque entries from the data
 * layer's codec and a few named blobs. `AgentStore` adds what the agent itself restores: the last
 * incarnation, the Serf Lamport clocks and a membership snapshot for rejoining.
 *
 * Every write method returns only once the change is durable; a method that throws wrote nothing
 * (one transaction each), and the caller must then not acknowledge the write.
 */

import type { DocStore } from './doc-store.js';

/** One persisted entry of the replicated state: opaque bytes of the data layer's codec. */
export interface StoredEntry {
  readonly key: string;
  readonly entry: Uint8Array;
}

/** `entry: null` forgets the key (a tombstone collected). */
export interface EntryChange {
  readonly key: string;
  readonly entry: Uint8Array | null;
}

export interface StateStore {
  /** Every entry (live values and tombstones), to load back at start. */
  loadEntries(): StoredEntry[];
  /** Applies the changes in one transaction; returns once durable. */
  writeEntries(changes: readonly EntryChange[]): void;
  /** A named blob the data layer wants back after a restart (its HLC, its dot counter). */
  loadMeta(name: string): Uint8Array | null;
  saveMeta(name: string, value: Uint8Array): void;
}

/** Serf's member, event and query Lamport clocks. */
export interface LamportClocks {
  readonly member: number;
  readonly event: number;
  readonly query: number;
}

/** Each of `stored` raised to `c` (a clock never goes down); null when none goes up. */
export function raisedClocks(stored: LamportClocks, c: LamportClocks): LamportClocks | null {
  if (c.member <= stored.member && c.event <= stored.event && c.query <= stored.query) return null;
  return { member: Math.max(stored.member, c.member), event: Math.max(stored.event, c.event), query: Math.max(stored.query, c.query) };
}

/** A member as the snapshot remembers it, to rejoin through after a restart (Serf's snapshot). */
export interface SnapshotMember {
  readonly name: string;
  readonly addr: string;
}

/**
 * What the agent saves of its node every few seconds (Serf's snapshot), written in one
 * transaction: one commit (one fsync) a round instead of one per part. Parts left out are not
 * touched; the incarnation and clocks only go up, as with their own save methods.
 */
export interface NodeSnapshot {
  /** Replaces the alive members (as `saveMembers`). */
  readonly members?: readonly SnapshotMember[];
  readonly incarnation?: number;
  readonly clocks?: LamportClocks;
  /** Named blobs saved with it (as `saveMeta`): the recent user events, the coordinate. */
  readonly meta?: readonly (readonly [name: string, value: Uint8Array])[];
}

export interface AgentStore extends StateStore, DocStore {
  /** The highest incarnation this node has used (0 if never started). */
  loadIncarnation(): number;
  /** Raises the stored incarnation to `n`; a lower `n` is ignored (it never goes down). */
  saveIncarnation(n: number): void;
  loadClocks(): LamportClocks;
  /** Raises each stored clock to the given value (never down). */
  saveClocks(c: LamportClocks): void;
  /** The alive members last seen, other than this node. */
  loadMembers(): SnapshotMember[];
  /** Replaces the snapshot of alive members. */
  saveMembers(members: readonly SnapshotMember[]): void;
  /** Saves the parts given in one transaction: all of them, or (it throws) none. */
  saveSnapshot(s: NodeSnapshot): void;
  close(): void;
}

/** The next life's incarnation: above anything a previous life may have announced. */
export function nextIncarnation(store: Pick<AgentStore, 'loadIncarnation'>): number {
  return store.loadIncarnation() + 1;
}
