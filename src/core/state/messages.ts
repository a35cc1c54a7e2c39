import type { ReconcileMessage } from '../antientropy/messages.js';
import { reconcileMessageBytes, utf8Length, varintBytes } from '../antientropy/messages.js';
import type { DisseminationMessage } from '../dissemination/messages.js';
import { messageBytes } from '../dissemination/messages.js';
import type { Entry } from '../replica/entry.js';
import { entryBytes } from '../replica/entry.js';
import type { VersionSummary } from '../replica/summary.js';
import { summaryBytes } from '../replica/summary.js';

/**
 * The replicated state's messages, one typed union with the bytes each would take on the wire
 * (the simulator counts bytes without encoding), in three classes:
 * - `state-rumor`: the dissemination engine's push (each local write's entry) and its feedback;
 * - `state-reconcile`: one message of a Merkle anti-entropy session, the first message of each
 *   side carrying that side's convergence digest (so a complete session can absorb the peer's
 *   version summary);
 * - `state-digests`: convergence digests of members, relayed: the recent Merkle roots of every
 *   member (small), a few version summaries (O(members) bytes each) and the sender's stability
 *   aggregate (O(members) bytes);
 * - `state-acks`: a member's acknowledgements of a writer's sampled writes, sent to that writer
 *   (counted with the digests: both are convergence monitoring).
 * Layout assumed for the count: a 1-byte type, then the inner message as its own module counts it.
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
  readonly gossip: DisseminationMessage<Entry>;
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

export type StateMessage = StateRumorMsg | StateReconcileMsg | StateDigestsMsg | StateAcksMsg;

const entrySizes = new WeakMap<Entry, number>();

/** `entryBytes`, remembered per entry object (entries are immutable and shared). */
export function cachedEntryBytes(e: Entry): number {
  let b = entrySizes.get(e);
  if (b === undefined) entrySizes.set(e, (b = entryBytes(e)));
  return b;
}

const noteBytes = (member: string, seq: number): number => {
  const len = utf8Length(member);
  return varintBytes(len) + len + 6 + varintBytes(seq);
};

/** Name, 6-byte time, varint seq, 8-byte root. */
export function rootNoteBytes(r: RootNote): number {
  return noteBytes(r.member, r.seq) + 8;
}

const summarySizes = new WeakMap<VersionSummary, number>();

/** Name, 6-byte time, varint seq, then the summary (`summaryBytes`). */
export function summaryNoteBytes(n: SummaryNote): number {
  let b = summarySizes.get(n.summary);
  if (b === undefined) summarySizes.set(n.summary, (b = summaryBytes(n.summary)));
  return noteBytes(n.member, n.seq) + b;
}

/** Varint generation, 6-byte time, the minimum (`summaryBytes`), a count and each member's name; 1 byte when absent. */
export function stabilityNoteBytes(n: StabilityNote | null): number {
  if (n === null) return 1;
  let b = varintBytes(n.gen) + 6 + summaryBytes(n.min) + varintBytes(n.members.length);
  for (const m of n.members) {
    const len = utf8Length(m);
    b += varintBytes(len) + len;
  }
  return b;
}

export function memberDigestBytes(d: MemberDigest): number {
  return rootNoteBytes(d.root) + summaryNoteBytes(d.summary) + stabilityNoteBytes(d.stability);
}

/** What a message's bytes carried: rumors, anti-entropy (reconcile) or digests. */
export interface StateBytes {
  readonly rumor: number;
  readonly antiEntropy: number;
  readonly digest: number;
  readonly total: number;
}

export function stateMessageParts(m: StateMessage): StateBytes {
  switch (m.type) {
    case 'state-rumor': {
      const b = 1 + messageBytes(m.gossip, cachedEntryBytes);
      return { rumor: b, antiEntropy: 0, digest: 0, total: b };
    }
    case 'state-reconcile': {
      const rc = 1 + varintBytes(m.session) + 1 + reconcileMessageBytes(m.rc, cachedEntryBytes);
      const d = m.digest === null ? 1 : memberDigestBytes(m.digest);
      return { rumor: 0, antiEntropy: rc, digest: d, total: rc + d };
    }
    case 'state-digests': {
      let b = 1 + varintBytes(m.roots.length) + varintBytes(m.summaries.length);
      for (const r of m.roots) b += rootNoteBytes(r);
      for (const n of m.summaries) b += summaryNoteBytes(n);
      b += stabilityNoteBytes(m.stability);
      return { rumor: 0, antiEntropy: 0, digest: b, total: b };
    }
    case 'state-acks': {
      // Type, the member's name, a count, then per ack a varint counter and a 6-byte time.
      const len = utf8Length(m.member);
      let b = 1 + varintBytes(len) + len + varintBytes(m.acks.length);
      for (const a of m.acks) b += varintBytes(a.counter) + 6;
      return { rumor: 0, antiEntropy: 0, digest: b, total: b };
    }
  }
}

export function stateMessageBytes(m: StateMessage): number {
  return stateMessageParts(m).total;
}
