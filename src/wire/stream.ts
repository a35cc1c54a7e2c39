import { decrypt, encrypt, encryptedLength } from './keyring.js';
import { PUSH_PULL_NODES_MAX, PUSH_STATE_BYTES_MAX, USER_MSG_BYTES_MAX } from './limits.js';
import {
  MessageType,
  PUSH_PULL_HEADER,
  readAckBody,
  readCompressed,
  readErrorBody,
  readPingBody,
  readPushNodeState,
  USER_MSG_HEADER,
  writeAckBody,
  writeErrorBody,
  writePingBody,
  writePushNodeState,
  type WireAlive,
  type WireStreamMessage,
} from './message.js';
import { Reader } from './msgpack-reader.js';
import { Writer } from './msgpack-writer.js';
import { compressedMessage, type PacketOptions } from './packet.js';
import { fail, ok, toFailure, WireError, type DecodeResult } from './result.js';
import { wireStats, type WireStats } from './stats.js';

/**
 * TCP stream framing (reference §4): one message per exchange, no outer length prefix in
 * plaintext, so a receiver parses as bytes arrive. Layering on send: the message, then
 * `compress` (always, when compression is on), then the `0a | len:u32 | AES-GCM` envelope
 * whose 5-byte header is the additional authenticated data.
 */

/** The unwrapped message bytes (type byte first), as memberlist builds them before compression. */
export function encodeStreamBody(m: WireStreamMessage): Uint8Array {
  const w = new Writer(256);
  switch (m.type) {
    case 'push-pull': {
      const n = m.records.length;
      if (m.incarnations.length !== n || m.states.length !== n) throw new RangeError('push-pull: records, incarnations and states differ in length');
      const userLen = m.userState?.length ?? 0;
      w.byte(MessageType.pushPull).mapHeader(3).str('Join').bool(m.join).str('Nodes').uint(n).str('UserStateLen').uint(userLen);
      for (let i = 0; i < n; i++) writePushNodeState(w, m.records[i] as WireAlive, m.incarnations[i] as number, m.states[i] as number);
      if (m.userState !== null) w.bytes(m.userState);
      break;
    }
    case 'ping':
      w.byte(MessageType.ping);
      writePingBody(w, m);
      break;
    case 'ack':
      w.byte(MessageType.ackResp);
      writeAckBody(w, m);
      break;
    case 'user':
      w.byte(MessageType.user).mapHeader(1).str('UserMsgLen').uint(m.payload.length).bytes(m.payload);
      break;
    case 'error':
      w.byte(MessageType.err);
      writeErrorBody(w, m);
      break;
  }
  return w.finish().slice();
}

/** One stream message framed as memberlist's `rawSendMsgStream`: compressed if asked, then encrypted if keyed. */
export function encodeStreamMessage(m: WireStreamMessage, o: PacketOptions): Uint8Array {
  let buf = encodeStreamBody(m);
  if (o.compress === true) buf = compressedMessage(buf);
  if (o.keyring !== null && o.keyring !== undefined) {
    const key = o.keyring.primary();
    if (key === null) throw new Error('encodeStreamMessage: keyring has no primary key');
    const version = o.encryptionVersion ?? 1;
    const header = new Uint8Array(5);
    header[0] = MessageType.encrypt;
    new DataView(header.buffer).setUint32(1, encryptedLength(version, buf.length));
    const sealed = encrypt(version, key, buf, header);
    const out = new Uint8Array(5 + sealed.length);
    out.set(header);
    out.set(sealed, 5);
    buf = out;
  }
  return buf;
}

/** Bytes a plaintext stream may buffer before its message is complete (a 1M-node push-pull fits). */
export const STREAM_BUFFER_BYTES_MAX = 256 * 1024 * 1024;

interface PushPullProgress {
  readonly join: boolean;
  readonly nodes: number;
  readonly userStateLen: number;
  readonly records: WireAlive[];
  readonly incarnations: number[];
  readonly states: number[];
  /** Offset (relative to the message start) where the next node state begins. */
  pos: number;
}

/**
 * Decodes one stream message from chunks as they arrive. `push` returns undefined while more
 * bytes are needed, then the message (or the error). Bytes after a message stay buffered for
 * the next one. After an error the decoder stays failed. Enforces memberlist 0.6's limits
 * (node count, user state and user message sizes, encrypted length, decompressed size).
 * Never throws.
 */
export class StreamDecoder {
  private buf = new Uint8Array(0);
  private start = 0;
  private tail = 0;
  private progress: PushPullProgress | undefined;
  private failed: DecodeResult<WireStreamMessage> | undefined;
  private readonly stats: WireStats;

  constructor(private readonly o: PacketOptions) {
    this.stats = o.stats ?? wireStats;
  }

  /** Bytes received but not yet consumed by a decoded message. */
  get buffered(): number {
    return this.tail - this.start;
  }

  push(chunk: Uint8Array): DecodeResult<WireStreamMessage> | undefined {
    if (this.failed !== undefined) return this.failed;
    this.append(chunk);
    return this.next();
  }

  /**
   * The peer closed the stream: undefined if nothing was pending, else the truncation error
   * (Go's "unexpected EOF").
   */
  end(): DecodeResult<WireStreamMessage> | undefined {
    if (this.failed !== undefined) return this.failed;
    if (this.buffered === 0) return undefined;
    return this.reject(fail('truncated', `stream closed with ${this.buffered} bytes of an incomplete message`));
  }

  /** Decodes the next message from what is buffered (undefined if incomplete). */
  next(): DecodeResult<WireStreamMessage> | undefined {
    if (this.failed !== undefined) return this.failed;
    if (this.buffered === 0) return undefined;
    let r: DecodeResult<WireStreamMessage> | undefined;
    try {
      r = this.tryDecode();
    } catch (e) {
      r = toFailure(e);
    }
    if (r === undefined) {
      if (this.buffered > STREAM_BUFFER_BYTES_MAX) return this.reject(fail('too-large', `stream message exceeds ${STREAM_BUFFER_BYTES_MAX} bytes`));
      return undefined;
    }
    if (!r.ok) return this.reject(r);
    this.stats.streamsDecoded++;
    return r;
  }

  private reject(r: DecodeResult<WireStreamMessage>): DecodeResult<WireStreamMessage> {
    this.failed = r;
    this.stats.streamsRejected++;
    if (!r.ok) this.stats.reject(r.reason);
    this.buf = new Uint8Array(0);
    this.start = this.tail = 0;
    this.progress = undefined;
    return r;
  }

  private append(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const live = this.tail - this.start;
    if (this.tail + chunk.length > this.buf.length) {
      if (live + chunk.length <= this.buf.length) {
        this.buf.copyWithin(0, this.start, this.tail);
      } else {
        let size = Math.max(1024, this.buf.length * 2);
        while (size < live + chunk.length) size *= 2;
        const next = new Uint8Array(size);
        next.set(this.buf.subarray(this.start, this.tail));
        this.buf = next;
      }
      // Push-pull progress offsets are relative to `start`, so moving the bytes keeps them valid.
      this.start = 0;
      this.tail = live;
    }
    this.buf.set(chunk, this.tail);
    this.tail += chunk.length;
  }

  private consume(n: number): void {
    this.start += n;
    this.progress = undefined;
    if (this.start === this.tail) this.start = this.tail = 0;
  }

  private tryDecode(): DecodeResult<WireStreamMessage> | undefined {
    const b = this.buf;
    const s = this.start;
    const type = b[s] as number;
    const keyring = this.o.keyring ?? null;
    if (type === MessageType.encrypt) {
      if (keyring === null) return fail('decrypt-failed', 'remote state is encrypted and encryption is not configured');
      if (this.buffered < 5) return undefined;
      const len = new DataView(b.buffer, b.byteOffset + s + 1, 4).getUint32(0);
      if (len > PUSH_STATE_BYTES_MAX) return fail('too-large', `remote node state is larger than limit (${len} > ${PUSH_STATE_BYTES_MAX})`);
      if (this.buffered < 5 + len) return undefined;
      const plain = decrypt(keyring.installed, b.subarray(s + 5, s + 5 + len), b.subarray(s, s + 5));
      this.consume(5 + len);
      return ok(decodeComplete(plain));
    }
    if (keyring !== null && (this.o.gossipVerifyIncoming ?? true)) return fail('not-encrypted', 'encryption is configured but remote state is not encrypted');
    if (type === MessageType.compress) {
      const r = new Reader(b, s + 1, this.tail);
      let inner: Uint8Array;
      try {
        inner = readCompressed(r);
      } catch (e) {
        if (e instanceof WireError && e.reason === 'truncated') return undefined;
        throw e;
      }
      this.consume(r.pos - s);
      return ok(decodeCompleteUncompressed(inner));
    }
    // Plaintext: parse incrementally; a push-pull resumes at the next node state.
    const r = new Reader(b, s + 1, this.tail);
    try {
      const m = readPlain(r, type, this.progress, (p) => (this.progress = p), s);
      this.consume(r.pos - s);
      return ok(m);
    } catch (e) {
      if (e instanceof WireError && e.reason === 'truncated') return undefined;
      throw e;
    }
  }
}

/** A complete decrypted stream message: may be compressed once, then one of the stream types. */
function decodeComplete(plain: Uint8Array): WireStreamMessage {
  if (plain.length === 0) throw new WireError('truncated', 'empty decrypted stream message');
  if (plain[0] === MessageType.compress) {
    const r = new Reader(plain, 1);
    return decodeCompleteUncompressed(readCompressed(r));
  }
  return decodeCompleteUncompressed(plain);
}

function decodeCompleteUncompressed(buf: Uint8Array): WireStreamMessage {
  if (buf.length === 0) throw new WireError('truncated', 'empty stream message');
  const r = new Reader(buf, 1);
  return readPlain(r, buf[0] as number, undefined, () => undefined, 0);
}

/**
 * Reads one plaintext stream message of `type` whose body starts at `r.pos`. A truncated input
 * throws `WireError('truncated')`; for push-pull the node states read so far are kept in
 * the progress handed to `save`, so the next attempt resumes (offsets relative to `base`).
 */
function readPlain(r: Reader, type: number, resume: PushPullProgress | undefined, save: (p: PushPullProgress) => void, base: number): WireStreamMessage {
  switch (type) {
    case MessageType.pushPull: {
      let p = resume;
      if (p === undefined) {
        let nodes = 0;
        let userStateLen = 0;
        let join = false;
        r.struct(PUSH_PULL_HEADER, (i) => {
          if (i === 0) nodes = r.int(-0x80000000, 0x7fffffff, 'Nodes');
          else if (i === 1) userStateLen = r.int(-0x80000000, 0x7fffffff, 'UserStateLen');
          else join = r.bool('Join');
        }, 'pushPullHeader');
        if (nodes < 0 || userStateLen < 0) throw new WireError('malformed', `push-pull header with negative Nodes (${nodes}) or UserStateLen (${userStateLen})`);
        if (nodes > PUSH_PULL_NODES_MAX) throw new WireError('limit-exceeded', `push-pull announces ${nodes} nodes (limit ${PUSH_PULL_NODES_MAX})`);
        if (userStateLen > PUSH_STATE_BYTES_MAX) throw new WireError('too-large', `push-pull user state of ${userStateLen} bytes (limit ${PUSH_STATE_BYTES_MAX})`);
        p = { join, nodes, userStateLen, records: [], incarnations: [], states: [], pos: r.pos - base };
        save(p);
      } else {
        r.pos = base + p.pos;
      }
      while (p.records.length < p.nodes) {
        const { record, state } = readPushNodeState(r);
        p.records.push(record);
        p.incarnations.push(record.incarnation);
        p.states.push(state);
        p.pos = r.pos - base;
      }
      const userState = p.userStateLen > 0 ? r.take(p.userStateLen).slice() : null;
      return {
        type: 'push-pull',
        join: p.join,
        records: p.records,
        incarnations: Uint32Array.from(p.incarnations),
        states: Uint8Array.from(p.states),
        userState,
      };
    }
    case MessageType.user: {
      let len = 0;
      r.struct(USER_MSG_HEADER, () => (len = r.int(-0x80000000, 0x7fffffff, 'UserMsgLen')), 'userMsgHeader');
      if (len < 0) throw new WireError('malformed', `negative UserMsgLen ${len}`);
      if (len > USER_MSG_BYTES_MAX) throw new WireError('too-large', `user message of ${len} bytes (limit ${USER_MSG_BYTES_MAX})`);
      return { type: 'user', payload: r.take(len).slice() };
    }
    case MessageType.ping:
      return readPingBody(r);
    case MessageType.ackResp:
      return readAckBody(r);
    case MessageType.err:
      return readErrorBody(r);
    case MessageType.hasLabel:
      throw new WireError('label-mismatch', 'labelled stream (memberlist ≥ 0.3 label header); no label is configured');
    default:
      throw new WireError('unknown-type', `message type ${type} not supported on a stream`);
  }
}
