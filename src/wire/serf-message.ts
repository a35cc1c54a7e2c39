/**
 * Serf's messages (serf v0.9.4, reference §8.2) as typed values: the one definition of each,
 * used by the codec here (`serf.ts`) and, as types only, by the core's Serf layer. They
 * travel as memberlist user messages: the first byte is the Serf type, the rest Go's msgpack
 * (a relay adds a header and then a whole raw Serf message). Lamport times are uint64 on the
 * wire and plain numbers here (a decoder rejects anything past 2^53 as malformed). Addresses
 * are plain `host:port` strings.
 */
import type { DecodeResult } from './result.js';

export interface SerfLeaveMsg {
  readonly type: 'leave';
  readonly ltime: number;
  readonly node: string;
  readonly prune: boolean;
}
export interface SerfJoinMsg {
  readonly type: 'join';
  readonly ltime: number;
  readonly node: string;
}
/** One user event as kept in the event ring buffer (Serf's `userEvent`). */
export interface SerfBufferedEvent {
  readonly name: string;
  readonly payload: Uint8Array | null;
}
/** Serf's `userEvents`: the events seen at one Lamport time. */
export interface SerfEventSlot {
  readonly ltime: number;
  readonly events: readonly SerfBufferedEvent[];
}
/**
 * Push-pull user state (§8.5). `trailer` is not Serf's: bytes after the msgpack map, which
 * Serf's decoder never reads; we carry our data layer's state there, and only to members
 * that advertise our data tag.
 */
export interface SerfPushPullMsg {
  readonly type: 'push-pull';
  readonly ltime: number;
  readonly statusLTimes: ReadonlyMap<string, number>;
  readonly leftMembers: readonly string[];
  readonly eventLTime: number;
  /** The whole event ring buffer, `null` for empty slots (Serf sends all 512). */
  readonly events: readonly (SerfEventSlot | null)[];
  readonly queryLTime: number;
  readonly trailer: Uint8Array | null;
}
export interface SerfUserEventMsg {
  readonly type: 'user-event';
  readonly ltime: number;
  readonly name: string;
  /** An empty payload travels as nil, as `serf event` sends it. */
  readonly payload: Uint8Array | null;
  /** "Can coalesce": the agent may deliver only the latest event of this name within its window. */
  readonly cc: boolean;
}
export interface SerfQueryMsg {
  readonly type: 'query';
  readonly ltime: number;
  readonly id: number;
  /** Where acks and responses go (Addr bytes + Port), as `host:port` / `[v6]:port`. */
  readonly addr: string;
  readonly sourceNode: string;
  /** Each: a filter type byte + msgpack (decode with `SerfCodec.decodeFilter`). */
  readonly filters: readonly Uint8Array[];
  readonly flags: number;
  readonly relayFactor: number;
  readonly timeoutMs: number;
  readonly name: string;
  readonly payload: Uint8Array | null;
}
export interface SerfQueryResponseMsg {
  readonly type: 'query-response';
  readonly ltime: number;
  readonly id: number;
  readonly from: string;
  readonly flags: number;
  readonly payload: Uint8Array | null;
}
/** The payload of a `_serf_conflict` answer (an encoded Member): kept raw, we do not use it. */
export interface SerfConflictResponseMsg {
  readonly type: 'conflict-response';
  readonly raw: Uint8Array;
}
/** Payload of the `_serf_*-key` queries. */
export interface SerfKeyRequestMsg {
  readonly type: 'key-request';
  readonly key: Uint8Array | null;
}
/** Answer to a key query: `Keys` and `PrimaryKey` are base64 (list-keys only). */
export interface SerfKeyResponseMsg {
  readonly type: 'key-response';
  readonly result: boolean;
  readonly message: string;
  readonly keys: readonly string[] | null;
  readonly primaryKey: string;
}
/** `09` + relayHeader + a raw Serf message, to be forwarded unchanged to `destAddr`. */
export interface SerfRelayMsg {
  readonly type: 'relay';
  readonly destAddr: string;
  readonly destName: string;
  readonly message: Uint8Array;
}

export type SerfMessage =
  | SerfLeaveMsg | SerfJoinMsg | SerfPushPullMsg | SerfUserEventMsg | SerfQueryMsg | SerfQueryResponseMsg
  | SerfConflictResponseMsg | SerfKeyRequestMsg | SerfKeyResponseMsg | SerfRelayMsg;

/** Query filters (the entries of messageQuery.Filters). Tag expressions are Go regexps, matched unanchored. */
export type QueryFilter =
  | { readonly type: 'node'; readonly names: readonly string[] }
  | { readonly type: 'tag'; readonly tag: string; readonly expr: string };

/**
 * The bytes of Serf's messages, injected into the core's SerfNode so that core imports no
 * wire code (`serfCodec` in `serf.ts` implements it with Go-exact msgpack).
 * `encode*` may throw for values that cannot be encoded (caller error); `decode*` never throw.
 */
export interface SerfCodec {
  encode(m: SerfMessage): Uint8Array;
  /** A whole Serf message, type byte first; an unknown type byte fails with reason `unknown-type`. */
  decode(buf: Uint8Array): DecodeResult<SerfMessage>;
  /** Node meta for serf protocol ≥ 3: `ff` + msgpack map[string]string (≤ 512 bytes is the caller's check). */
  encodeTags(tags: Readonly<Record<string, string>>): Uint8Array;
  /** Meta → tags; empty meta or meta without the `ff` magic is `{role: <meta as text>}`, as Serf decodes it. */
  decodeTags(meta: Uint8Array | null): DecodeResult<Record<string, string>>;
  encodeFilter(f: QueryFilter): Uint8Array;
  decodeFilter(buf: Uint8Array): DecodeResult<QueryFilter>;
}
