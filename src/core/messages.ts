import type {
  MessageIds, WireAck, WireAlive, WireCompound, WireDead, WireErrorMsg, WireIndirectPing, WireMessage, WireNack, WirePing,
  WirePushPull, WireStreamMessage, WireSuspect, WireUser, WireVsn,
} from '../wire/message.js';
import type { Address, Incarnation, NodeName } from './ids.js';

/**
 * The message model is memberlist's (reference §2). Each message is defined once, in
 * `src/wire/message.ts` (types only: core imports no wire code); here the same shapes carry
 * the core's branded ids. `messageBytes` gives the size Go's msgpack encoder produces for
 * each, so packet budgets and byte counts are right before any byte is written.
 */

/** `[pmin, pmax, pcur, dmin, dmax, dcur]`: memberlist protocol and delegate versions. */
export type Vsn = WireVsn;
/** What a Serf 0.9.4 agent advertises; we advertise the same (reference §5.2). */
export const DEFAULT_VSN: Vsn = [1, 5, 2, 2, 5, 5];

/** memberlist's member states; the numbers are the protocol (pushNodeState.State). */
export const enum MemberState {
  Alive = 0,
  Suspect = 1,
  Dead = 2,
  Left = 3,
}

export const MEMBER_STATE_NAMES = ['alive', 'suspect', 'dead', 'left'] as const;
export type MemberStatus = (typeof MEMBER_STATE_NAMES)[number];

/** The core's ids in the wire's message shapes: names, addresses and incarnations are branded. */
export interface CoreIds extends MessageIds {
  readonly name: NodeName;
  readonly addr: Address;
  readonly incarnation: Incarnation;
}

export type PingMsg = WirePing<CoreIds>;
export type IndirectPingMsg = WireIndirectPing<CoreIds>;
export type AckMsg = WireAck;
export type NackMsg = WireNack;
export type SuspectMsg = WireSuspect<CoreIds>;
export type AliveMsg = WireAlive<CoreIds>;
export type DeadMsg = WireDead<CoreIds>;
export type UserMsg = WireUser;
export type CompoundMsg = WireCompound<CoreIds>;
/** Everything that travels in a packet (UDP). */
export type Message = WireMessage<CoreIds>;
/** Gossip about members: what the transmit-limited queue carries. */
export type MembershipMsg = SuspectMsg | AliveMsg | DeadMsg;
/** memberlist's push-pull, as parallel arrays (see `WirePushPull`). */
export type PushPullMsg = WirePushPull<CoreIds>;
export type ErrorMsg = WireErrorMsg;
/** Everything that travels on a stream (TCP): one exchange per connection. */
export type StreamMessage = WireStreamMessage<CoreIds>;

/** Builds a push-pull from per-member entries (tests, decoders). */
export function pushPull(join: boolean, entries: readonly { record: AliveMsg; incarnation: number; state: number }[], userState: Uint8Array | null = null): PushPullMsg {
  return {
    type: 'push-pull',
    join,
    records: entries.map((e) => e.record),
    incarnations: Uint32Array.from(entries, (e) => e.incarnation),
    states: Uint8Array.from(entries, (e) => e.state),
    userState,
  };
}

// ---- sizes, as Go's go-msgpack (MsgpackHandle{}) encodes them (reference §1) ----

/** Raw string / []byte: fixstr, str16 or str32 (Go never emits str8). */
export function rawBytes(len: number): number {
  return len < 32 ? 1 + len : len < 65536 ? 3 + len : 5 + len;
}
function uintBytes(v: number): number {
  return v <= 127 ? 1 : v < 256 ? 2 : v < 65536 ? 3 : v < 4294967296 ? 5 : 9;
}
function mapHeader(n: number): number {
  return n < 16 ? 1 : 3;
}
const key = (name: string): number => rawBytes(name.length);
/** A string's UTF-8 length; node names are ASCII in practice, so count fast and fall back. */
const utf8 = new TextEncoder();
function utf8Len(s: string): number {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return utf8.encode(s).length;
  return s.length;
}
const strField = (s: string): number => rawBytes(utf8Len(s));
/** Addresses are sent as the IP's bytes (4 or 16) plus a port field. */
function ipBytes(a: Address): number {
  return rawBytes(a.startsWith('[') ? 16 : 4);
}
const optBytes = (b: Uint8Array | null): number => (b === null || b.length === 0 ? 1 : rawBytes(b.length));
const VSN_BYTES = rawBytes(6);
const PORT_BYTES = 3; // ports ≥ 256 encode as uint16

function sourceBytes(addr: Address | null, node: NodeName | null): [number, number] {
  let fields = 0;
  let bytes = 0;
  if (addr !== null) {
    fields += 2;
    bytes += key('SourceAddr') + ipBytes(addr) + key('SourcePort') + PORT_BYTES;
  }
  if (node !== null && node !== '') {
    fields += 1;
    bytes += key('SourceNode') + strField(node);
  }
  return [fields, bytes];
}

/** Encoded size of one message including its type byte. */
export function messageBytes(m: Message | StreamMessage): number {
  switch (m.type) {
    case 'ping': {
      const [f, b] = sourceBytes(m.sourceAddr, m.sourceNode);
      const near = m.near !== undefined && m.near > 0 ? key('Near') + uintBytes(m.near) : 0;
      return 1 + mapHeader(2 + f + (near > 0 ? 1 : 0)) + near + key('Node') + strField(m.node) + key('SeqNo') + uintBytes(m.seqNo) + b;
    }
    case 'indirect-ping': {
      const [f, b] = sourceBytes(m.sourceAddr, m.sourceNode);
      return 1 + mapHeader(5 + f) + key('Nack') + 1 + key('Node') + strField(m.node) + key('Port') + PORT_BYTES +
        key('SeqNo') + uintBytes(m.seqNo) + key('Target') + ipBytes(m.target) + b;
    }
    case 'ack':
      return 1 + mapHeader(2) + key('Payload') + optBytes(m.payload) + key('SeqNo') + uintBytes(m.seqNo);
    case 'nack':
      return 1 + mapHeader(1) + key('SeqNo') + uintBytes(m.seqNo);
    case 'suspect':
    case 'dead':
      return 1 + mapHeader(3) + key('From') + strField(m.from) + key('Incarnation') + uintBytes(m.incarnation) + key('Node') + strField(m.node);
    case 'alive':
      return 1 + mapHeader(6) + key('Addr') + ipBytes(m.addr) + key('Incarnation') + uintBytes(m.incarnation) +
        key('Meta') + optBytes(m.meta) + key('Node') + strField(m.node) + key('Port') + PORT_BYTES + key('Vsn') + VSN_BYTES;
    case 'user':
      return 1 + m.payload.length;
    case 'compound': {
      let b = 2 + 2 * m.parts.length;
      for (const p of m.parts) b += messageBytes(p);
      return b;
    }
    case 'push-pull': {
      let b = 1 + mapHeader(3) + key('Join') + 1 + key('Nodes') + uintBytes(m.records.length) + key('UserStateLen') +
        uintBytes(m.userState?.length ?? 0);
      for (let i = 0; i < m.records.length; i++) b += pushNodeStateBytes(m.records[i] as AliveMsg, m.incarnations[i] ?? 0);
      return b + (m.userState?.length ?? 0);
    }
    case 'error':
      return 1 + mapHeader(1) + key('Error') + strField(m.error);
  }
}

/** Encoded size of one pushNodeState (7 fields; State is a positive fixint). */
export function pushNodeStateBytes(r: AliveMsg, incarnation: number): number {
  return PUSH_STATE_FIXED_BYTES + ipBytes(r.addr) + uintBytes(incarnation) + optBytes(r.meta) + strField(r.node);
}
const PUSH_STATE_FIXED_BYTES = mapHeader(7) + key('Addr') + key('Incarnation') + key('Meta') + key('Name') + key('Port') + PORT_BYTES +
  key('State') + 1 + key('Vsn') + VSN_BYTES;

/** Overhead of a compound packet: 1 type byte + 1 count byte; each part adds a 2-byte length. */
export const COMPOUND_HEADER_BYTES = 2;
export const COMPOUND_PART_BYTES = 2;
