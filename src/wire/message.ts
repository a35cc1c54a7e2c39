import { formatAddress, parseAddress } from './address.js';
import { decompress } from './lzw.js';
import { COMPOUND_PARTS_MAX, DECOMPRESSED_BYTES_MAX, NESTING_MAX } from './limits.js';
import { Reader, structFields } from './msgpack-reader.js';
import { Writer } from './msgpack-writer.js';
import { ok, toFailure, WireError, type DecodeResult } from './result.js';
import type { WireStats } from './stats.js';

/**
 * memberlist's messages (reference §2) as typed values: the one definition of each. `I` says
 * what the ids are: plain strings and numbers here (what a decoder can vouch for); the core
 * instantiates the same shapes with its branded ids (`src/core/messages.ts`), so a core
 * `Message` is a `WireMessage`, and a decoded one becomes a core one by branding its ids.
 * Addresses are `host:port` (see address.ts).
 */
export interface MessageIds {
  /** A member's name. */
  readonly name: string;
  /** `host:port`, `[v6]:port`. */
  readonly addr: string;
  readonly incarnation: number;
}

/** `[pmin, pmax, pcur, dmin, dmax, dcur]`. */
export type WireVsn = readonly [number, number, number, number, number, number];

export interface WirePing<I extends MessageIds = MessageIds> {
  readonly type: 'ping';
  readonly seqNo: number;
  /** Name of the intended target; '' when unknown. */
  readonly node: I['name'] | '';
  readonly sourceAddr: I['addr'] | null;
  readonly sourceNode: I['name'] | null;
  /**
   * Not memberlist's: how many of its nearest members the pinger asks to be named in the ack
   * (`Near`, sent only on our nodes' extra pings; Go's decoder skips a field it does not know,
   * so a Serf agent answers as ever). Absent: none. Decoding clamps it to `PING_NEAR_MAX`.
   */
  readonly near?: number;
}
/** The most nearest-member names a ping may ask for (`WirePing.near`); a larger request is clamped. */
export const PING_NEAR_MAX = 8;
export interface WireIndirectPing<I extends MessageIds = MessageIds> {
  readonly type: 'indirect-ping';
  readonly seqNo: number;
  readonly target: I['addr'];
  readonly node: I['name'];
  readonly nack: boolean;
  readonly sourceAddr: I['addr'] | null;
  readonly sourceNode: I['name'] | null;
}
export interface WireAck {
  readonly type: 'ack';
  readonly seqNo: number;
  readonly payload: Uint8Array | null;
}
export interface WireNack {
  readonly type: 'nack';
  readonly seqNo: number;
}
/** memberlist's `suspect` and `dead` are one struct (Incarnation, Node, From) under two type bytes. */
interface WireAccusation<T extends 'suspect' | 'dead', I extends MessageIds> {
  readonly type: T;
  readonly incarnation: I['incarnation'];
  readonly node: I['name'];
  /** The accuser. On a `dead`, `node === from` means a graceful leave. */
  readonly from: I['name'];
}
export type WireSuspect<I extends MessageIds = MessageIds> = WireAccusation<'suspect', I>;
export interface WireAlive<I extends MessageIds = MessageIds> {
  readonly type: 'alive';
  readonly incarnation: I['incarnation'];
  readonly node: I['name'];
  readonly addr: I['addr'];
  readonly meta: Uint8Array | null;
  readonly vsn: WireVsn;
}
export type WireDead<I extends MessageIds = MessageIds> = WireAccusation<'dead', I>;
export interface WireUser {
  readonly type: 'user';
  readonly payload: Uint8Array;
}
export interface WireCompound<I extends MessageIds = MessageIds> {
  readonly type: 'compound';
  readonly parts: readonly WireMessage<I>[];
}
/** Everything that travels in a UDP packet. */
export type WireMessage<I extends MessageIds = MessageIds> =
  | WirePing<I> | WireIndirectPing<I> | WireAck | WireNack | WireSuspect<I> | WireAlive<I> | WireDead<I> | WireUser | WireCompound<I>;

/**
 * memberlist's push-pull: the sender's whole member list (pushNodeState: Name, Addr, Port,
 * Meta, Incarnation, State, Vsn per member), here as parallel arrays, like the member table:
 * entry i is `records[i]` (the member's last `alive`, shared by reference: name, address,
 * meta, versions), `incarnations[i]` (the sender's current view, which may be newer than
 * `records[i].incarnation` after a suspicion or death) and `states[i]` (a MemberState).
 * A 10,000-member exchange is then three allocations, not ten thousand.
 */
export interface WirePushPull<I extends MessageIds = MessageIds> {
  readonly type: 'push-pull';
  readonly join: boolean;
  readonly records: readonly WireAlive<I>[];
  readonly incarnations: Uint32Array;
  readonly states: Uint8Array;
  readonly userState: Uint8Array | null;
}
export interface WireErrorMsg {
  readonly type: 'error';
  readonly error: string;
}
/** Everything that travels on a TCP stream (one exchange per connection). */
export type WireStreamMessage<I extends MessageIds = MessageIds> = WirePushPull<I> | WirePing<I> | WireAck | WireUser | WireErrorMsg;

/** memberlist's message type bytes (reference §2). */
export const MessageType = {
  ping: 0,
  indirectPing: 1,
  ackResp: 2,
  suspect: 3,
  alive: 4,
  dead: 5,
  pushPull: 6,
  compound: 7,
  user: 8,
  compress: 9,
  encrypt: 10,
  nackResp: 11,
  hasCrc: 12,
  err: 13,
  hasLabel: 244,
} as const;

// Go struct fields in declaration order (reference §2); the encoder writes them sorted.
const PING = structFields('SeqNo', 'Node', 'SourceAddr', 'SourcePort', 'SourceNode', 'Near');
const INDIRECT_PING = structFields('SeqNo', 'Target', 'Port', 'Node', 'Nack', 'SourceAddr', 'SourcePort', 'SourceNode');
const ACK = structFields('SeqNo', 'Payload');
const NACK = structFields('SeqNo');
const ERR = structFields('Error');
/** suspect and dead (`WireAccusation`). */
const ACCUSATION = structFields('Incarnation', 'Node', 'From');
const ALIVE = structFields('Incarnation', 'Node', 'Addr', 'Port', 'Meta', 'Vsn');
export const PUSH_PULL_HEADER = structFields('Nodes', 'UserStateLen', 'Join');
const PUSH_NODE_STATE = structFields('Name', 'Addr', 'Port', 'Meta', 'Incarnation', 'State', 'Vsn');
export const USER_MSG_HEADER = structFields('UserMsgLen');
const COMPRESS = structFields('Algo', 'Buf');

const U32 = 0xffffffff;
const U16 = 0xffff;

// ---------------------------------------------------------------------------------------
// Encoding

/** Encodes one message: type byte + msgpack body, exactly as Go's memberlist does. */
export function encodeMessage(m: WireMessage): Uint8Array {
  const w = new Writer(64);
  writeMessage(w, m);
  return w.finish().slice();
}

/** Appends one message (type byte + body) to `w`. Throws on values no Go peer could take (caller error). */
function writeMessage(w: Writer, m: WireMessage): void {
  switch (m.type) {
    case 'ping':
      w.byte(MessageType.ping);
      writePingBody(w, m);
      return;
    case 'indirect-ping': {
      const t = parseAddress(m.target);
      const src = m.sourceAddr === null ? null : parseAddress(m.sourceAddr);
      const srcNode = m.sourceNode !== null && m.sourceNode !== '';
      const fields = 5 + (src === null ? 0 : src.port === 0 ? 1 : 2) + (srcNode ? 1 : 0);
      w.byte(MessageType.indirectPing).mapHeader(fields);
      w.str('Nack').bool(m.nack).str('Node').str(m.node).str('Port').uint(t.port).str('SeqNo').uint(checkU32(m.seqNo));
      if (src !== null) w.str('SourceAddr').raw(src.ip);
      if (srcNode) w.str('SourceNode').str(m.sourceNode ?? '');
      if (src !== null && src.port !== 0) w.str('SourcePort').uint(src.port);
      w.str('Target').raw(t.ip);
      return;
    }
    case 'ack':
      w.byte(MessageType.ackResp);
      writeAckBody(w, m);
      return;
    case 'nack':
      w.byte(MessageType.nackResp).mapHeader(1).str('SeqNo').uint(checkU32(m.seqNo));
      return;
    case 'suspect':
    case 'dead':
    case 'alive': {
      // Broadcasts: the same object is piggybacked up to `retransmitLimit` times; encode it once.
      const cached = encodedBroadcasts.get(m);
      if (cached !== undefined) {
        w.bytes(cached);
        return;
      }
      const start = w.length;
      writeBroadcast(w, m);
      encodedBroadcasts.set(m, w.finish().slice(start));
      return;
    }
    case 'user':
      w.byte(MessageType.user).bytes(m.payload);
      return;
    case 'compound': {
      if (m.parts.length > COMPOUND_PARTS_MAX) throw new RangeError(`compound of ${m.parts.length} parts: serf 0.9.4 mis-parses more than ${COMPOUND_PARTS_MAX}`);
      w.byte(MessageType.compound).byte(m.parts.length);
      const lengthsAt = w.length;
      for (let i = 0; i < m.parts.length; i++) w.byte(0).byte(0);
      const view = (): Uint8Array => w.finish();
      for (let i = 0; i < m.parts.length; i++) {
        const start = w.length;
        writeMessage(w, m.parts[i] as WireMessage);
        const len = w.length - start;
        if (len > U16) throw new RangeError(`compound part of ${len} bytes exceeds 65535`);
        const out = view();
        out[lengthsAt + 2 * i] = len >> 8;
        out[lengthsAt + 2 * i + 1] = len & 0xff;
      }
      return;
    }
  }
}

/**
 * Encoded membership broadcasts (alive, suspect, dead) by message object. Messages are
 * immutable (readonly fields; a newer broadcast about a member is a new object that replaces
 * the old one in the queue), so an object's bytes never change; entries go with their object.
 */
const encodedBroadcasts = new WeakMap<WireMessage, Uint8Array>();

function writeBroadcast(w: Writer, m: WireSuspect | WireDead | WireAlive): void {
  switch (m.type) {
    case 'suspect':
    case 'dead':
      w.byte(m.type === 'suspect' ? MessageType.suspect : MessageType.dead)
        .mapHeader(3)
        .str('From')
        .str(m.from)
        .str('Incarnation')
        .uint(checkU32(m.incarnation))
        .str('Node')
        .str(m.node);
      return;
    case 'alive': {
      const a = parseAddress(m.addr);
      w.byte(MessageType.alive).mapHeader(6).str('Addr').raw(a.ip).str('Incarnation').uint(checkU32(m.incarnation));
      w.str('Meta').raw(m.meta).str('Node').str(m.node).str('Port').uint(a.port).str('Vsn').raw(vsnBytes(m.vsn));
      return;
    }
  }
}

export function writePingBody(w: Writer, m: WirePing): void {
  const src = m.sourceAddr === null ? null : parseAddress(m.sourceAddr);
  const srcNode = m.sourceNode !== null && m.sourceNode !== '';
  const near = m.near !== undefined && m.near > 0;
  w.mapHeader(2 + (src === null ? 0 : src.port === 0 ? 1 : 2) + (srcNode ? 1 : 0) + (near ? 1 : 0));
  if (near) w.str('Near').uint(m.near ?? 0);
  w.str('Node').str(m.node).str('SeqNo').uint(checkU32(m.seqNo));
  if (src !== null) w.str('SourceAddr').raw(src.ip);
  if (srcNode) w.str('SourceNode').str(m.sourceNode ?? '');
  if (src !== null && src.port !== 0) w.str('SourcePort').uint(src.port);
}

export function writeAckBody(w: Writer, m: WireAck): void {
  w.mapHeader(2).str('Payload').raw(m.payload).str('SeqNo').uint(checkU32(m.seqNo));
}

export function writeErrorBody(w: Writer, m: WireErrorMsg): void {
  w.mapHeader(1).str('Error').str(m.error);
}

/** One pushNodeState (sorted keys: Addr, Incarnation, Meta, Name, Port, State, Vsn). */
export function writePushNodeState(w: Writer, r: WireAlive, incarnation: number, state: number): void {
  const a = parseAddress(r.addr);
  w.mapHeader(7).str('Addr').raw(a.ip).str('Incarnation').uint(checkU32(incarnation)).str('Meta').raw(r.meta);
  w.str('Name').str(r.node).str('Port').uint(a.port).str('State').uint(state).str('Vsn').raw(vsnBytes(r.vsn));
}

function checkU32(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > U32) throw new RangeError(`wire: ${n} is not a uint32`);
  return n;
}

function vsnBytes(v: WireVsn): Uint8Array {
  const out = new Uint8Array(6);
  for (let i = 0; i < 6; i++) {
    const x = v[i];
    if (x === undefined || !Number.isInteger(x) || x < 0 || x > 255) throw new RangeError(`wire: Vsn[${i}] = ${x} is not a uint8`);
    out[i] = x;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Decoding

/**
 * Decodes one message (type byte + body), unwrapping `compress` and recursing into
 * `compound`, as memberlist's `handleCommand` does. A compound keeps the parts that decode
 * and counts the others (Go logs and skips them). Never throws.
 */
export function decodeMessage(buf: Uint8Array, stats?: WireStats): DecodeResult<WireMessage> {
  try {
    return ok(readMessage(buf, 0, stats));
  } catch (e) {
    return toFailure(e);
  }
}

/** Reads one message filling `buf` (trailing bytes after a msgpack body are ignored, as in Go). */
export function readMessage(buf: Uint8Array, depth: number, stats: WireStats | undefined): WireMessage {
  if (depth > NESTING_MAX) throw new WireError('limit-exceeded', `compound/compress nesting deeper than ${NESTING_MAX}`);
  if (buf.length === 0) throw new WireError('truncated', 'empty message');
  const t = buf[0] as number;
  const r = new Reader(buf, 1);
  switch (t) {
    case MessageType.ping:
      return readPingBody(r);
    case MessageType.indirectPing:
      return readIndirectPingBody(r);
    case MessageType.ackResp:
      return readAckBody(r);
    case MessageType.nackResp: {
      let seqNo = 0;
      r.struct(NACK, () => (seqNo = r.uint(U32, 'SeqNo')), 'nackResp');
      return { type: 'nack', seqNo };
    }
    case MessageType.suspect:
    case MessageType.dead: {
      const type = t === MessageType.suspect ? 'suspect' : 'dead';
      let incarnation = 0;
      let node = '';
      let from = '';
      r.struct(ACCUSATION, (i) => {
        if (i === 0) incarnation = r.uint(U32, 'Incarnation');
        else if (i === 1) node = r.string('Node');
        else from = r.string('From');
      }, type);
      return { type, incarnation, node, from };
    }
    case MessageType.alive:
      return readAliveBody(r);
    case MessageType.user:
      return { type: 'user', payload: buf.slice(1) };
    case MessageType.compound:
      return readCompound(buf, depth, stats);
    case MessageType.compress:
      return readMessage(readCompressed(r), depth + 1, stats);
    case MessageType.hasCrc:
      throw new WireError('unknown-type', 'CRC header inside a message (only honoured as the outermost layer of a packet)');
    case MessageType.hasLabel:
      throw new WireError('label-mismatch', 'labelled message (memberlist ≥ 0.3 label header); no label is configured');
    default:
      throw new WireError('unknown-type', `message type ${t} not supported in a packet`);
  }
}

function readCompound(buf: Uint8Array, depth: number, stats: WireStats | undefined): WireCompound {
  if (buf.length < 2) throw new WireError('truncated', 'compound: missing part count');
  const n = buf[1] as number;
  if (buf.length < 2 + 2 * n) throw new WireError('truncated', `compound: ${n} part lengths need ${2 * n} bytes, have ${buf.length - 2}`);
  const parts: WireMessage[] = [];
  const failures: WireError[] = [];
  let off = 2 + 2 * n;
  for (let i = 0; i < n; i++) {
    const len = ((buf[2 + 2 * i] as number) << 8) | (buf[3 + 2 * i] as number);
    if (off + len > buf.length) {
      // Go: the remaining parts are "truncated", logged and skipped; the others are handled.
      for (let j = i; j < n; j++) failures.push(new WireError('truncated', `compound: part ${j} is truncated`));
      break;
    }
    try {
      parts.push(readMessage(buf.subarray(off, off + len), depth + 1, stats));
    } catch (e) {
      const f = toFailure<never>(e);
      if (!f.ok) failures.push(new WireError(f.reason, `compound part ${i}: ${f.detail}`));
    }
    off += len;
  }
  const first = failures[0];
  if (first === undefined) return { type: 'compound', parts };
  // Nothing usable: the whole packet fails with the first part's reason (counted once, by the caller).
  if (parts.length === 0) throw first;
  if (stats !== undefined) {
    stats.compoundPartsDropped += failures.length;
    for (const f of failures) stats.reject(f.reason);
  }
  return { type: 'compound', parts };
}

/** Reads a msgpack `compress{Algo, Buf}` body and returns the LZW-decompressed bytes (non-empty, ≤ 40 MiB). */
export function readCompressed(r: Reader): Uint8Array {
  let algo = 0;
  let data: Uint8Array | null = null;
  r.struct(COMPRESS, (i) => {
    if (i === 0) algo = r.uint(0xff, 'Algo');
    else data = r.bytes('Buf');
  }, 'compress');
  if (algo !== 0) throw new WireError('decompress-failed', `unknown compression algorithm ${algo}`);
  const out = decompress(data ?? new Uint8Array(0), DECOMPRESSED_BYTES_MAX);
  if (out.length === 0) throw new WireError('decompress-failed', 'empty decompressed payload');
  return out;
}

export function readPingBody(r: Reader): WirePing {
  let seqNo = 0;
  let node = '';
  let sourceIp: Uint8Array | null = null;
  let sourcePort = 0;
  let sourceNode = '';
  let near = 0;
  r.struct(PING, (i) => {
    if (i === 0) seqNo = r.uint(U32, 'SeqNo');
    else if (i === 1) node = r.string('Node');
    else if (i === 2) sourceIp = r.bytes('SourceAddr');
    else if (i === 3) sourcePort = r.uint(U16, 'SourcePort');
    else if (i === 4) sourceNode = r.string('SourceNode');
    // A huge count is clamped, not refused: the ping is still answered.
    else near = Math.min(r.uint(U32, 'Near'), PING_NEAR_MAX);
  }, 'ping');
  const m: WirePing = { type: 'ping', seqNo, node, sourceAddr: optAddress(sourceIp, sourcePort), sourceNode: sourceNode === '' ? null : sourceNode };
  return near > 0 ? { ...m, near } : m;
}

function readIndirectPingBody(r: Reader): WireIndirectPing {
  let seqNo = 0;
  let target: Uint8Array | null = null;
  let port = 0;
  let node = '';
  let nack = false;
  let sourceIp: Uint8Array | null = null;
  let sourcePort = 0;
  let sourceNode = '';
  r.struct(INDIRECT_PING, (i) => {
    if (i === 0) seqNo = r.uint(U32, 'SeqNo');
    else if (i === 1) target = r.bytes('Target');
    else if (i === 2) port = r.uint(U16, 'Port');
    else if (i === 3) node = r.string('Node');
    else if (i === 4) nack = r.bool('Nack');
    else if (i === 5) sourceIp = r.bytes('SourceAddr');
    else if (i === 6) sourcePort = r.uint(U16, 'SourcePort');
    else sourceNode = r.string('SourceNode');
  }, 'indirectPingReq');
  return {
    type: 'indirect-ping',
    seqNo,
    target: formatAddress(target ?? new Uint8Array(0), port),
    node,
    nack,
    sourceAddr: optAddress(sourceIp, sourcePort),
    sourceNode: sourceNode === '' ? null : sourceNode,
  };
}

export function readAckBody(r: Reader): WireAck {
  let seqNo = 0;
  let payload: Uint8Array | null = null;
  r.struct(ACK, (i) => {
    if (i === 0) seqNo = r.uint(U32, 'SeqNo');
    else payload = copy(r.bytes('Payload'));
  }, 'ackResp');
  return { type: 'ack', seqNo, payload };
}

export function readErrorBody(r: Reader): WireErrorMsg {
  let error = '';
  r.struct(ERR, () => (error = r.string('Error')), 'errResp');
  return { type: 'error', error };
}

function readAliveBody(r: Reader): WireAlive {
  let incarnation = 0;
  let node = '';
  let ip: Uint8Array | null = null;
  let port = 0;
  let meta: Uint8Array | null = null;
  let vsn: Uint8Array | null = null;
  r.struct(ALIVE, (i) => {
    if (i === 0) incarnation = r.uint(U32, 'Incarnation');
    else if (i === 1) node = r.string('Node');
    else if (i === 2) ip = r.bytes('Addr');
    else if (i === 3) port = r.uint(U16, 'Port');
    else if (i === 4) meta = copy(r.bytes('Meta'));
    else vsn = r.bytes('Vsn');
  }, 'alive');
  return { type: 'alive', incarnation, node, addr: formatAddress(ip ?? new Uint8Array(0), port), meta, vsn: toVsn(vsn) };
}

/** One pushNodeState as a record plus its incarnation and state. */
export function readPushNodeState(r: Reader): { record: WireAlive; state: number } {
  let name = '';
  let ip: Uint8Array | null = null;
  let port = 0;
  let meta: Uint8Array | null = null;
  let incarnation = 0;
  let state = 0;
  let vsn: Uint8Array | null = null;
  r.struct(PUSH_NODE_STATE, (i) => {
    if (i === 0) name = r.string('Name');
    else if (i === 1) ip = r.bytes('Addr');
    else if (i === 2) port = r.uint(U16, 'Port');
    else if (i === 3) meta = copy(r.bytes('Meta'));
    else if (i === 4) incarnation = r.uint(U32, 'Incarnation');
    else if (i === 5) state = r.int(-0x80000000, 0x7fffffff, 'State');
    else vsn = r.bytes('Vsn');
  }, 'pushNodeState');
  if (state < 0 || state > 255) throw new WireError('malformed', `pushNodeState.State ${state} out of range`);
  return { record: { type: 'alive', incarnation, node: name, addr: formatAddress(ip ?? new Uint8Array(0), port), meta, vsn: toVsn(vsn) }, state };
}

function optAddress(ip: Uint8Array | null, port: number): string | null {
  if (ip === null || ip.length === 0) return null;
  return formatAddress(ip, port);
}

/**
 * A Vsn as Go sends it: 6 bytes. Empty or nil reads as all zeros (a bare memberlist node);
 * 1–5 bytes are malformed (they crash Go 0.2.2 peers; memberlist #368 rejects them); extra
 * bytes beyond 6 are ignored.
 */
function toVsn(b: Uint8Array | null): WireVsn {
  if (b === null || b.length === 0) return [0, 0, 0, 0, 0, 0];
  if (b.length < 6) throw new WireError('malformed', `Vsn of ${b.length} bytes (expected 6)`);
  return [b[0] as number, b[1] as number, b[2] as number, b[3] as number, b[4] as number, b[5] as number];
}

function copy(b: Uint8Array | null): Uint8Array | null {
  return b === null ? null : b.slice();
}
