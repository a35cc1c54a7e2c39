import type { ReconcileBytes, ReconcileMessage } from '../antientropy/messages.js';
import type { GossipMessage } from '../dissemination/messages.js';
import type { Update } from '../dissemination/update-log.js';
import type { Entry } from '../replica/entry.js';
import type { VersionSummary } from '../replica/summary.js';

/**
 * The replicated state's messages, one typed union (encoded by src/wire/state.ts), in these classes:
 * - `state-rumor`: the dissemination engine's push (each local write's entry) and its feedback;
 * - `state-reconcile`: one message of a Merkle anti-entropy session, the first message of each
 *   side carrying that side's convergence digest (so a complete session can absorb the peer's
 *   version summary);
 * - `state-digests`: convergence digests of members, relayed: the recent Merkle roots of every
 *   member (small), a few version summaries (O(members) bytes each) and the sender's stability
 *   aggregate (O(members) bytes);
 * - `state-acks`: a member's acknowledgements of a writer's sampled writes, sent to that writer
 *   (counted with the digests: both are convergence monitoring);
 * - `state-tree`: a local write's entry pushed down its writer's broadcast tree (`treeFanout`),
 *   the entries alone (counted with the rumors: both spread writes).
 * Their sizes are the length of the real encoding, counted by the wire layer and injected
 * (`StateSizes`): core imports no wire code, and there is one definition of a message's size.
 */

/**
 * A member's Merkle root, stamped by its owner: newer = higher (`atMs`, `seq`). Small (about 20
 * bytes), so every node relays the recent roots of all members (agreement fraction).
 */
export interface RootNote {
  readonly member: string;
  /** The owner's clock when it made this note (survives restarts, unlike a counter). */
  readonly atMs: number;
  readonly seq: number;
  readonly rootHi: number;
  readonly rootLo: number;
}

/**
 * A member's version summary (per origin, the highest contiguous write counter it has seen):
 * O(members) bytes, so relayed a few at a time (sampled updates; the last summary of a member gone
 * within the hold; collection itself takes the stability aggregate, `StabilityNote`).
 */
export interface SummaryNote {
  readonly member: string;
  readonly atMs: number;
  readonly seq: number;
  readonly summary: VersionSummary;
}

/**
 * A partial stability aggregate (tombstone collection without every summary at every node).
 * Time is cut into generations (`gen` = ⌊clock / generation length⌋); in each, every member
 * contributes its version summary once, taken when it entered the generation, and nodes merge the
 * aggregates they receive: `min` is the pointwise minimum of the contributors' summaries and
 * `members` names them. Summaries only grow, so `min` stays below every contributor's summary
 * for good; once `members` holds every live member, `min` is a safe "seen by all" (theory.md
 * §2.3) and, since each member contributed the same snapshot to everyone, the same one on every
 * node that completed the generation: they collect the same tombstones. O(members) bytes.
 */
export interface StabilityNote {
  readonly gen: number;
  /**
   * The sender's generation length (`stabilityGenerationMs`): it must be the same on every node,
   * or generation numbers mean different times. A note of another length is refused (counted).
   */
  readonly genMs: number;
  readonly min: VersionSummary;
  readonly members: readonly string[];
  /** The latest time (contributor's clock) at which a contribution was taken: every contributor held `min` by then. */
  readonly latestMs: number;
}

/** Both halves of a member's convergence digest, as piggybacked on anti-entropy, with its stability aggregate. */
export interface MemberDigest {
  readonly root: RootNote;
  readonly summary: SummaryNote;
  readonly stability: StabilityNote | null;
}

export interface StateRumorMsg {
  readonly type: 'state-rumor';
  readonly gossip: GossipMessage<Entry>;
}

export interface StateReconcileMsg {
  readonly type: 'state-reconcile';
  /** The initiator's session id. */
  readonly session: number;
  /** Sent by the initiator (true) or the responder (false). */
  readonly fromInitiator: boolean;
  readonly rc: ReconcileMessage<Entry>;
  /** The sender's digest, on the first message each side sends; null otherwise. */
  readonly digest: MemberDigest | null;
}

export interface StateDigestsMsg {
  readonly type: 'state-digests';
  readonly roots: readonly RootNote[];
  readonly summaries: readonly SummaryNote[];
  readonly stability: StabilityNote | null;
}

/** A member's acknowledgement of one sampled write of the receiver's: when its state first reflected it (its clock). */
export interface SampleAck {
  readonly counter: number;
  readonly atMs: number;
}

/**
 * Sent straight to a writer: the sampled writes of its (counter a multiple of the cluster's
 * `sampleEvery`) that `member` came to hold, with when (convergence monitoring: the writer times
 * each sampled write until every live member acknowledged it).
 */
export interface StateAcksMsg {
  readonly type: 'state-acks';
  readonly member: string;
  readonly acks: readonly SampleAck[];
}

/**
 * Entries of writes made at `root`, pushed down `root`'s broadcast tree over the sorted live
 * members (`broadcast-tree.ts`): each receiver merges them and sends on what changed its replica to
 * its own children in the same tree. No update header: an entry names its key and carries its dots.
 */
export interface StateTreeMsg {
  readonly type: 'state-tree';
  /** The writer: the tree's root. */
  readonly root: string;
  readonly entries: readonly Entry[];
}

export type StateMessage = StateRumorMsg | StateReconcileMsg | StateDigestsMsg | StateAcksMsg | StateTreeMsg;

/** What a message's bytes carried: rumors, anti-entropy (reconcile) or digests. */
export interface StateBytes {
  readonly rumor: number;
  readonly antiEntropy: number;
  readonly digest: number;
  readonly total: number;
}

/**
 * The bytes of the node's messages as they go on the wire (type byte included): the wire layer's
 * encoder, counting (`stateSizes` in src/wire/state-sizes.ts), bound to the sender's name. The
 * driver injects it; the StateNode counts what it sends with it and packs rumors by it.
 */
export interface StateSizes {
  /** A whole message, split by what it carried. */
  readonly message: (m: StateMessage) => StateBytes;
  /** Bytes one update adds to a `state-rumor` (a rumor is its frame plus its updates). */
  readonly rumorUpdate: (u: Update<Entry>) => number;
  /** A `state-rumor`'s bytes besides its updates. */
  readonly rumorFrame: (g: GossipMessage<Entry>) => number;
  /** A reconciliation message inside a `state-reconcile` (anti-entropy session statistics). */
  readonly reconcile: (m: ReconcileMessage<Entry>) => ReconcileBytes;
}

export { MalformedMessage } from '../malformed-message.js';

/** An array (not a type guard: the message's declared types stay as they are for the code after the check). */
export function isList(v: unknown): boolean {
  return Array.isArray(v);
}
