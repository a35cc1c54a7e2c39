import { MerkleTree } from '../antientropy/merkle.js';
import type { Entry } from '../replica/entry.js';
import type { Replica } from '../replica/replica.js';

/**
 * The node's replica and its Merkle tree, kept in step: every change of a key's state (a local
 * write, a merged rumor or repair, a collected tombstone) updates the key's leaf, goes to the
 * durability hook before the operation returns, and marks the node's root and version summary
 * as due to be re-made (`rootDirty`, `summaryDirty`: digests re-make them lazily).
 */
export class ReplicaTree {
  readonly tree: MerkleTree;
  /** The Merkle root changed since the node's root note was made. */
  rootDirty = true;
  /** The version summary may have changed since the node's summary note was made. */
  summaryDirty = true;
  private readonly hashScratch = new Uint32Array(2);
  private readonly onEntryChange: ((key: string, entry: Entry | undefined) => void) | undefined;

  constructor(readonly replica: Replica, shape: { readonly fanout: number; readonly depth: number }, onEntryChange: ((key: string, entry: Entry | undefined) => void) | undefined) {
    this.tree = new MerkleTree({ fanout: shape.fanout, depth: shape.depth });
    // A restored replica's keys are durable already: the hook is not called for them.
    for (const key of replica.keys()) this.syncKey(key);
    this.onEntryChange = onEntryChange;
  }

  /** Brings the key's Merkle leaf in line with the replica. */
  syncKey(key: string): void {
    const h = this.replica.entryHash(key, this.hashScratch);
    if (h === undefined) this.tree.delete(key);
    else this.tree.setHash(key, h);
    this.onEntryChange?.(key, this.replica.entry(key));
    this.rootDirty = true;
    this.summaryDirty = true;
  }

  /** A tombstone the replica collected: its leaf goes. */
  collected(key: string): void {
    this.tree.delete(key);
    this.onEntryChange?.(key, undefined);
    this.rootDirty = true;
  }

  /** Whether a root (as two 32-bit halves) is this node's current one. */
  rootEquals(hi: number, lo: number): boolean {
    return hi === this.tree.rootHi() && lo === this.tree.rootLo();
  }
}
