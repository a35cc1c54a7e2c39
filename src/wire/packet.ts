import { crc32 } from './crc32.js';
import { decrypt, encrypt, type Keyring } from './keyring.js';
import { PACKET_BYTES_MAX } from './limits.js';
import { compress } from './lzw.js';
import { encodeMessage, MessageType, readMessage, type WireMessage } from './message.js';
import { Writer } from './msgpack-writer.js';
import { fail, ok, toFailure, type DecodeResult } from './result.js';
import { wireStats, type WireStats } from './stats.js';

/** How packets and streams are wrapped and unwrapped (memberlist's Config, the parts the wire needs). */
export interface PacketOptions {
  /** null: plaintext. Otherwise the primary key encrypts and every key is tried on receive. */
  readonly keyring: Keyring | null;
  /** 1 (default) for memberlist protocol ≥ 2, as serf sends; 0 pads (protocol 1). */
  readonly encryptionVersion?: 0 | 1;
  /** Reject plaintext when a keyring is set (default true); false accepts both, for migrating a cluster. */
  readonly gossipVerifyIncoming?: boolean;
  /** Add the CRC header on send (only to peers whose PMax ≥ 5). */
  readonly crc?: boolean;
  /** LZW on send: on packets only when it makes them smaller; on streams always (as memberlist). */
  readonly compress?: boolean;
  /** Where rejections are counted (default: the process-wide `wireStats`). */
  readonly stats?: WireStats;
}

/**
 * A whole UDP payload in memberlist's order (reference §3.1): the message (single or
 * compound), then compression if it is smaller, then the CRC header, then encryption.
 */
/** memberlist's CRC wrapper on a packet (peers of protocol ≥ 5): a type byte and the CRC-32. */
export const CRC_WRAPPER_BYTES = 5;

export function encodePacket(m: WireMessage, o: PacketOptions): Uint8Array {
  let buf = encodeMessage(m);
  if (o.compress === true) {
    const c = compressedMessage(buf);
    if (c.length < buf.length) buf = c;
  }
  if (o.crc === true) {
    const out = new Uint8Array(CRC_WRAPPER_BYTES + buf.length);
    out[0] = MessageType.hasCrc;
    new DataView(out.buffer).setUint32(1, crc32(buf));
    out.set(buf, CRC_WRAPPER_BYTES);
    buf = out;
  }
  const key = o.keyring?.primary() ?? null;
  if (o.keyring !== null && o.keyring !== undefined) {
    if (key === null) throw new Error('encodePacket: keyring has no primary key');
    buf = encrypt(o.encryptionVersion ?? 1, key, buf, null);
  }
  return buf;
}

/** `09` + msgpack `compress{Algo: 0, Buf: lzw(buf)}`. */
export function compressedMessage(buf: Uint8Array): Uint8Array {
  const lz = compress(buf);
  const w = new Writer(lz.length + 16);
  w.byte(MessageType.compress).mapHeader(2).str('Algo').uint(0).str('Buf').raw(lz);
  return w.finish().slice();
}

/**
 * Unwraps and decodes one UDP payload, the reverse of `encodePacket`: decrypt (trying every
 * key; plaintext only if `gossipVerifyIncoming` is false), verify and strip an outermost CRC
 * header, then decode (compound and compress recurse). Never throws; every rejection is
 * counted in `o.stats`.
 */
export function decodePacket(buf: Uint8Array, o: PacketOptions): DecodeResult<WireMessage> {
  const stats = o.stats ?? wireStats;
  const r = decodePacketInner(buf, o, stats);
  if (r.ok) stats.packetsDecoded++;
  else {
    stats.packetsRejected++;
    stats.reject(r.reason);
  }
  return r;
}

function decodePacketInner(buf: Uint8Array, o: PacketOptions, stats: WireStats): DecodeResult<WireMessage> {
  try {
    if (buf.length > PACKET_BYTES_MAX) return fail('too-large', `packet of ${buf.length} bytes exceeds ${PACKET_BYTES_MAX}`);
    let plain = buf;
    if (o.keyring !== null && o.keyring !== undefined) {
      try {
        plain = decrypt(o.keyring.installed, buf, null);
      } catch (e) {
        if (o.gossipVerifyIncoming ?? true) return toFailure(e);
        stats.plaintextAccepted++;
      }
    }
    if (plain.length >= 5 && plain[0] === MessageType.hasCrc) {
      const want = new DataView(plain.buffer, plain.byteOffset + 1, 4).getUint32(0);
      const got = crc32(plain, 5);
      if (want !== got) return fail('crc-mismatch', `CRC mismatch: header ${want.toString(16)}, computed ${got.toString(16)}`);
      plain = plain.subarray(5);
    }
    return ok(readMessage(plain, 0, stats));
  } catch (e) {
    return toFailure(e);
  }
}
