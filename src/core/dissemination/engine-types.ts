/**
 * The dissemination engine's types: what it takes (`DisseminatorOptions`, `PeerSampler`), what
 * it reports (`DisseminationTransmit`, `DisseminationEvent`, `DisseminationStats`) and its
 * internal records (`Held`, `Outgoing`). Types only; the engine is in disseminator.ts.
 */
import type { TokenBucket, TrafficClass } from '../control/bandwidth.js';
import type { Address, Millis } from '../ids.js';
import type { Rng } from '../rng.js';
import type { DisseminationConfig } from './config.js';
import type { DisseminationMessage, DisseminationSizes } from './messages.js';
import type { Digest, Update } from './update-log.js';

/** Where the engine draws its gossip partners from (the membership layer's live members). */
export interface PeerSampler {
  /** Live peers, self excluded. */
  size(): number;
  /** Up to k distinct random live peers, never self, drawn with `rng`. */
  sample(k: number, rng: Rng): Address[];
}

export interface DisseminatorOptions<P = Uint8Array> {
  /** This node's origin id in update versions (its member name). */
  readonly origin: string;
  readonly config: DisseminationConfig;
  readonly rng: Rng;
  readonly now: Millis;
  readonly peers: PeerSampler;
  /** Encoded size of a payload, for the default `layoutSizes`; required unless payloads are bytes or `sizes` is given. */
  readonly payloadBytes?: (p: P) => number;
  /**
   * A byte budget owned by the caller, shared with its other traffic and kept across engines
   * (a node that replaces its engine keeps one bucket for its whole life). Wins over
   * `config.budget`, which otherwise gives the engine a bucket of its own.
   */
  readonly bucket?: TokenBucket;
  /**
   * Bytes each message takes on the wire beyond what is counted for it (the framing the caller
   * and the transport add: type byte, packet headers), charged to the budget with it. Default 0.
   */
  readonly wireOverheadBytes?: number;
  /** How messages are counted (the data layer's real encoding); default `layoutSizes(payloadBytes)`. */
  readonly sizes?: DisseminationSizes<P>;
  /** Estimated round trip to a peer (ms; undefined: unknown), from coordinates: plumtree's eager peers prefer near ones. */
  readonly rtt?: (peer: Address) => number | undefined;
}

export interface DisseminationTransmit<P = Uint8Array> {
  readonly to: Address;
  readonly message: DisseminationMessage<P>;
  readonly bytes: number;
  readonly cls: TrafficClass;
}

export type DisseminationEvent<P = Uint8Array> =
  /** An update this node had not seen (`from` is null for its own). */
  | { readonly type: 'update'; readonly update: Update<P>; readonly from: Address | null; readonly receivedMs: number }
  | { readonly type: 'protocol-error'; readonly from: Address; readonly detail: string };

export interface DisseminationStats {
  messagesOut: number;
  bytesOut: number;
  /** Updates sent: pushes plus pull replies. */
  payloadsOut: number;
  pushPayloads: number;
  pullPayloads: number;
  payloadsIn: number;
  /** Updates received that were already here. */
  duplicatesIn: number;
  /** Messages not sent (or trimmed) because the byte budget had no room: they wait. */
  deferred: number;
  bytesByClass: Record<TrafficClass, number>;
  malformed: number;
  /** Updates forgotten after `retainMs`. */
  pruned: number;
  /** Versions counted covered because a peer had pruned them before they got here. */
  skipped: number;
}

/** What a node holds about one update: the rumor state of Demers et al. plus feedback counts. */
export interface Held<P> {
  readonly update: Update<P>;
  /** `updateBytes(update)`, counted once (packing a round reads it for every hot update). */
  readonly bytes: number;
  readonly receivedMs: number;
  /** Still being pushed. */
  hot: boolean;
  /** Contacts counted toward loss of interest (counter variants). */
  counter: number;
  /** Contacts that carried it from here. */
  pushes: number;
  /** Of those, how many found the peer already informed (feedback). */
  dups: number;
  /** Times it arrived here (1 = the first time). */
  received: number;
  /** Rounds in which it was pushed. */
  rounds: number;
  /** Pushes from the origin to here (fewest seen). */
  hops: number;
}

export interface Outgoing<P> {
  readonly to: Address;
  readonly held: Held<P>[];
  digest: Digest | null;
  /** Packing estimate (the frame as of the round's start plus the updates); the message's exact bytes are counted when it is sent. */
  bytes: number;
  cls: TrafficClass;
  /** The frame's bytes without the digest, and the digest's. */
  readonly frameBytes: number;
  readonly digestBytes: number;
}
