import type { Digest, Update } from './update-log.js';
import { UpdateLog } from './update-log.js';
import { MalformedMessage } from '../malformed-message.js';

/**
 * The dissemination engine's messages, as typed values with their encoded sizes (the
 * simulator counts bytes without encoding; the runtime carries them as memberlist user
 * messages). One contact is a request and at most one reply:
 *
 * - push: the request carries the sender's hot updates (rumors);
 * - pull: the request carries the sender's digest and the reply what the digest lacked;
 * - push-pull: both in one exchange.
 *
 * Feedback (Demers' "the recipient already knew") travels back in the reply as `known`.
 */
export interface UpdateRef {
  readonly origin: string;
  readonly version: number;
}

export interface GossipRequest<P = Uint8Array> {
  readonly type: 'gossip';
  /** Matches the reply to the request. */
  readonly id: number;
  /** Pushed updates (rumors). */
  readonly updates: readonly Update<P>[];
  /** What the sender has, asking for what it lacks (pull); null for a pure push. */
  readonly digest: Digest | null;
  /** The sender wants to know which pushed updates were already known here. */
  readonly feedback: boolean;
  /**
   * Per pushed update, how many pushes it took to get here from its origin (one byte each;
   * null when the sender does not adapt its fanout). Generation g of a push with fanout F
   * reaches about (1 + F)^g nodes, which is what adaptive fanout starts from.
   */
  readonly hops: readonly number[] | null;
}

export interface GossipReply<P = Uint8Array> {
  readonly type: 'gossip-reply';
  readonly id: number;
  /** What the request's digest lacked (pull). */
  readonly updates: readonly Update<P>[];
  /** Pushed updates this node already had (feedback). */
  readonly known: readonly UpdateRef[];
  /**
   * Origins whose versions up to `version` this node has pruned while the requester's digest
   * is still below: the requester counts them covered (anti-entropy repairs the data).
   */
  readonly floors: readonly UpdateRef[];
}

/**
 * Plumtree's control messages (mode 'plumtree'; its eager pushes are `gossip` requests with
 * updates and no digest): "I have" announcements to lazy peers, GRAFT (send me these and push
 * to me from now on; no refs: just the link) and PRUNE (stop pushing these origins' updates to me). They carry no
 * updates (`updates` is always empty, so that every message has the field).
 */
export interface TreeIHave {
  readonly type: 'ihave';
  readonly updates: readonly never[];
  readonly refs: readonly UpdateRef[];
}
export interface TreeGraft {
  readonly type: 'graft';
  readonly updates: readonly never[];
  readonly refs: readonly UpdateRef[];
}
export interface TreePrune {
  readonly type: 'prune';
  readonly updates: readonly never[];
  /** The duplicates: the link is pruned from their origins' trees. */
  readonly refs: readonly UpdateRef[];
}
export type TreeMessage = TreeIHave | TreeGraft | TreePrune;

/** The random-gossip exchanges (what the replicated state's rumors carry). */
export type GossipMessage<P = Uint8Array> = GossipRequest<P> | GossipReply<P>;
export type DisseminationMessage<P = Uint8Array> = GossipMessage<P> | TreeMessage;

/** A tree message's bytes: type byte and list count, plus its refs. */
export function treeMessageBytes(m: TreeMessage): number {
  let b = 1 + 2;
  for (const r of m.refs) b += refBytes(r);
  return b;
}

export function varintBytes(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

const utf8 = new TextEncoder();
function strBytes(s: string): number {
  let ascii = true;
  for (let i = 0; i < s.length && ascii; i++) if (s.charCodeAt(i) > 0x7f) ascii = false;
  const n = ascii ? s.length : utf8.encode(s).length;
  return varintBytes(n) + n;
}

/** The size of a byte payload: its length. */
export const rawPayloadBytes = (p: Uint8Array): number => p.length;

/** One update on the wire: origin, version, key, born time (ms, 6 bytes), flags, payload length and payload. */
export function updateBytes<P>(u: Update<P>, payloadBytes: (p: P) => number): number {
  const pb = payloadBytes(u.payload);
  return strBytes(u.origin) + varintBytes(u.version) + strBytes(u.key) + 6 + 1 + varintBytes(pb) + pb;
}

export function refBytes(r: UpdateRef): number {
  return strBytes(r.origin) + varintBytes(r.version);
}

/** Type byte, id, flags and list counts. */
export const GOSSIP_HEADER_BYTES = 1 + 4 + 1 + 2;

/**
 * How the engine counts a message's bytes: a message is its frame plus each of its updates (the
 * engine caches an update's bytes and packs rounds by them). The data layer injects the real
 * encoding's (src/wire/state.ts); without it, `layoutSizes` below.
 */
export interface DisseminationSizes<P> {
  /** Bytes one update adds to a message. */
  readonly update: (u: Update<P>) => number;
  /** A message's bytes besides its updates (header, digest, hop counts, refs). */
  readonly frame: (m: DisseminationMessage<P>) => number;
}

/**
 * The stand-alone engine's layout (the simulator's `simulate stream` and tests; no agent sends
 * these as they are): a fixed header, per update its origin, version, key, 6-byte born time,
 * flags and length-prefixed payload, the digest as `UpdateLog.digestBytes`, a byte per hop count.
 */
export function layoutSizes<P>(payloadBytes: (p: P) => number): DisseminationSizes<P> {
  return {
    update: (u) => updateBytes(u, payloadBytes),
    frame: (m) => {
      let b = GOSSIP_HEADER_BYTES;
      if (m.type === 'gossip') {
        if (m.digest !== null) b += UpdateLog.digestBytes(m.digest);
        if (m.hops !== null) b += m.hops.length;
      } else if (m.type === 'ihave' || m.type === 'graft' || m.type === 'prune') {
        return treeMessageBytes(m);
      } else {
        for (const r of m.known) b += refBytes(r);
        for (const r of m.floors) b += refBytes(r);
      }
      return b;
    },
  };
}

/** A message's bytes by `sizes`: its frame plus its updates. */
export function messageBytes<P>(m: DisseminationMessage<P>, sizes: DisseminationSizes<P>): number {
  let b = sizes.frame(m);
  for (const u of m.updates) b += sizes.update(u);
  return b;
}

/** Rejects a tree message (IHAVE, GRAFT, PRUNE) a peer could not have meant: at most 4,096 well-formed refs (thrown inside the receive path, caught and counted there). */
export function checkTreeMessage(m: TreeMessage): void {
  if (!Array.isArray(m.refs) || m.refs.length > 4096) throw new MalformedMessage(`${m.type}: refs is not a list of at most 4096`);
  for (const r of m.refs as readonly unknown[]) {
    if (typeof r !== 'object' || r === null) throw new MalformedMessage(`${m.type}: bad update ref`);
    const { origin, version } = r as { origin?: unknown; version?: unknown };
    if (typeof origin !== 'string' || typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) throw new MalformedMessage(`${m.type}: bad update ref`);
  }
}
