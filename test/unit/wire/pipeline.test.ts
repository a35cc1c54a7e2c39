import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32Table } from '../../../src/wire/crc32.js';
import {
  crc32,
  DECOMPRESSED_BYTES_MAX,
  decodeMessage,
  decodePacket,
  encodeMessage,
  encodePacket,
  encodeStreamBody,
  encodeStreamMessage,
  Keyring,
  lzwCompress,
  lzwDecompress,
  PUSH_PULL_NODES_MAX,
  PUSH_STATE_BYTES_MAX,
  StreamDecoder,
  USER_MSG_BYTES_MAX,
  WireStats,
  type WireMessage,
} from '../../../src/wire/index.js';
import { Writer } from '../../../src/wire/msgpack-writer.js';
import { compressedMessage } from '../../../src/wire/packet.js';

const key16 = new Uint8Array(16).fill(1);
const key24 = new Uint8Array(24).fill(2);
const key32 = new Uint8Array(32).fill(3);
const ping: WireMessage = { type: 'ping', seqNo: 5, node: 'n1', sourceAddr: '127.0.0.1:7946', sourceNode: 'n0' };
const aliveOf = (i: number): WireMessage => ({ type: 'alive', incarnation: i + 1, node: `node-${i}`, addr: `127.0.0.${i % 250}:7946`, meta: null, vsn: [1, 5, 2, 2, 5, 5] });
const bigCompound: WireMessage = { type: 'compound', parts: Array.from({ length: 12 }, (_, i) => aliveOf(i)) };

describe('CRC32 (IEEE)', () => {
  it('matches the standard check value and guards the packet', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32Table(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2000 }), fc.nat(2000), fc.nat(2000), (b, x, y) => {
      const [s, e] = [Math.min(x, y, b.length), Math.min(Math.max(x, y), b.length)];
      expect(crc32(b, s, e)).toBe(crc32Table(b, s, e));
    }), { seed: 12 });
    const p = encodePacket(ping, { keyring: null, crc: true });
    expect(p[0]).toBe(12);
    expect(decodePacket(p, { keyring: null })).toEqual({ ok: true, value: ping });
    const stats = new WireStats();
    const bad = p.slice();
    bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 1;
    expect(decodePacket(bad, { keyring: null, stats })).toMatchObject({ ok: false, reason: 'crc-mismatch' });
    expect(stats.rejected['crc-mismatch']).toBe(1);
  });

  it('is honoured only as the outermost layer: a CRC part inside a compound is dropped, the rest kept', () => {
    const crcPing = encodePacket(ping, { keyring: null, crc: true });
    const ack = encodeMessage({ type: 'ack', seqNo: 1, payload: null });
    const buf = new Uint8Array([7, 2, 0, crcPing.length, 0, ack.length, ...crcPing, ...ack]);
    const stats = new WireStats();
    expect(decodePacket(buf, { keyring: null, stats })).toEqual({ ok: true, value: { type: 'compound', parts: [{ type: 'ack', seqNo: 1, payload: null }] } });
    expect(stats.compoundPartsDropped).toBe(1);
    expect(stats.rejected['unknown-type']).toBe(1);
  });
});

describe('LZW (Go compress/lzw, LSB, literal width 8)', () => {
  it('round-trips any input, including inputs long enough to exhaust 4095 codes and reset the table', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ minLength: 5000, maxLength: 20000 }), fc.uint8Array({ minLength: 5000, maxLength: 30000 }).map((a) => a.map((x) => x % 3))), (b) => {
        expect(lzwDecompress(lzwCompress(b), 1 << 20)).toEqual(b);
        expect(lzwDecompress(lzwCompress(b, { initialClear: false }), 1 << 20)).toEqual(b);
      }),
      { numRuns: 40 },
    );
  });

  it('leaves nothing behind for the next call (the encoder table is reused): the same input gives the same bytes after any other input', () => {
    const text = new TextEncoder().encode('alive n1 127.0.0.1:7946 alive n2 127.0.0.1:7947 alive n3 127.0.0.1:7948 '.repeat(4));
    const first = lzwCompress(text);
    const long = Uint8Array.from({ length: 30_000 }, (_, i) => (i * 31 + (i >> 5)) % 251); // resets the table mid-stream
    for (const other of [long, text.subarray(7, 90), new Uint8Array(0), long.subarray(0, 3000)]) {
      lzwCompress(other);
      expect(Buffer.from(lzwCompress(text)).equals(Buffer.from(first))).toBe(true);
      expect(lzwDecompress(lzwCompress(text), 1 << 20)).toEqual(text);
    }
  });

  it('rejects a stream without EOF code, an invalid code, and output over the limit', () => {
    const c = lzwCompress(new TextEncoder().encode('hello hello hello'));
    expect(() => lzwDecompress(c.subarray(0, c.length - 2), 1000)).toThrow(/unexpected EOF/);
    // 9-bit code 300 right at the start (hi is 257 after a clear): invalid.
    expect(() => lzwDecompress(new Uint8Array([300 & 0xff, 300 >> 8, 0]), 1000)).toThrow(/invalid code/);
    expect(() => lzwDecompress(c, 5)).toThrow(/exceeds 5 bytes/);
  });

  it('packets are compressed only when smaller; streams always', () => {
    expect(encodePacket(ping, { keyring: null, compress: true })[0]).toBe(0);
    expect(encodePacket(bigCompound, { keyring: null, compress: true })[0]).toBe(9);
    expect(encodeStreamMessage({ type: 'ack', seqNo: 1, payload: null }, { keyring: null, compress: true })[0]).toBe(9);
  });

  it('an empty decompressed payload is an error (memberlist 0.6; serf 0.9.4 would panic on it)', () => {
    expect(decodePacket(compressedMessage(new Uint8Array(0)), { keyring: null })).toMatchObject({ ok: false, reason: 'decompress-failed' });
  });

  it('rejects a sub-64 KiB packet that decompresses past 40 MiB (stops at the limit)', () => {
    const bomb = compressedMessage(new Uint8Array(DECOMPRESSED_BYTES_MAX + 1024));
    expect(bomb.length).toBeLessThan(65536);
    const stats = new WireStats();
    expect(decodePacket(bomb, { keyring: null, stats })).toMatchObject({ ok: false, reason: 'too-large' });
    expect(stats.rejected['too-large']).toBe(1);
  });

  it('nesting of compress wrappers is bounded', () => {
    let b = encodeMessage(ping);
    for (let i = 0; i < 12; i++) b = compressedMessage(b);
    expect(decodeMessage(b)).toMatchObject({ ok: false, reason: 'limit-exceeded' });
  });
});

describe('AES-GCM keyring', () => {
  it('encrypts with the primary and decrypts with any installed key (16, 24, 32 bytes; versions 0 and 1)', () => {
    for (const version of [0, 1] as const) {
      for (const k of [key16, key24, key32]) {
        const sender = new Keyring([k]);
        const receiver = new Keyring([key32, key16, key24].filter((x) => x !== k).concat([k]));
        const p = encodePacket(ping, { keyring: sender, encryptionVersion: version });
        expect(p[0]).toBe(version);
        expect(decodePacket(p, { keyring: receiver })).toEqual({ ok: true, value: ping });
      }
    }
    // Version 1 adds 29 bytes; version 0 pads to 16.
    const plainLen = encodeMessage(ping).length;
    expect(encodePacket(ping, { keyring: new Keyring([key16]) }).length).toBe(plainLen + 29);
    expect(encodePacket(ping, { keyring: new Keyring([key16]), encryptionVersion: 0 }).length).toBe(29 + 16 * Math.ceil((plainLen + 1) / 16));
  });

  it('a wrong key is rejected and counted; plaintext needs gossipVerifyIncoming: false', () => {
    const stats = new WireStats();
    const p = encodePacket(ping, { keyring: new Keyring([key16]) });
    expect(decodePacket(p, { keyring: new Keyring([key32]), stats })).toMatchObject({ ok: false, reason: 'decrypt-failed' });
    const plain = encodePacket(ping, { keyring: null });
    expect(decodePacket(plain, { keyring: new Keyring([key32]), stats })).toMatchObject({ ok: false, reason: 'decrypt-failed' });
    expect(stats.rejected['decrypt-failed']).toBe(2);
    expect(decodePacket(plain, { keyring: new Keyring([key32]), gossipVerifyIncoming: false, stats })).toEqual({ ok: true, value: ping });
    expect(stats.plaintextAccepted).toBe(1);
  });

  it('install / use / remove as memberlist: the primary cannot be removed; fromBase64 rejects bad keys clearly', () => {
    const k = new Keyring([key16]);
    k.install(key32);
    expect(k.primary()).toEqual(key16);
    k.use(key32);
    expect(k.primary()).toEqual(key32);
    expect(k.keys()).toEqual([key32, key16]);
    expect(() => k.remove(key32)).toThrow(/primary/);
    k.remove(key16);
    expect(k.keys()).toEqual([key32]);
    expect(() => k.use(key24)).toThrow(/not in the keyring/);
    expect(() => Keyring.fromBase64(['not base64!'])).toThrow(/base64/);
    expect(() => Keyring.fromBase64([Buffer.alloc(20).toString('base64')])).toThrow(/16, 24 or 32/);
    expect(Keyring.fromBase64([Buffer.from(key24).toString('base64')]).primary()).toEqual(key24);
  });

  it('streams: encrypted to a plaintext node and plaintext to an encrypting node are both rejected', () => {
    const ack = { type: 'ack' as const, seqNo: 3, payload: null };
    const enc = encodeStreamMessage(ack, { keyring: new Keyring([key16]) });
    expect(enc[0]).toBe(10);
    expect(new StreamDecoder({ keyring: null }).push(enc)).toMatchObject({ ok: false, reason: 'decrypt-failed' });
    const plain = encodeStreamMessage(ack, { keyring: null });
    expect(new StreamDecoder({ keyring: new Keyring([key16]) }).push(plain)).toMatchObject({ ok: false, reason: 'not-encrypted' });
    expect(new StreamDecoder({ keyring: new Keyring([key16]), gossipVerifyIncoming: false }).push(plain)).toEqual({ ok: true, value: ack });
    // The 5-byte header is authenticated: changing the length byte breaks it even if the body fits.
    const tampered = new Uint8Array([...enc, 0]);
    tampered[4] = (tampered[4] as number) + 1;
    expect(new StreamDecoder({ keyring: new Keyring([key16]) }).push(tampered)).toMatchObject({ ok: false, reason: 'decrypt-failed' });
  });
});

describe('memberlist 0.6 limits on streams', () => {
  const w = (): Writer => new Writer();
  it('push-pull with more than 2^20 nodes is rejected from its header alone', () => {
    const stats = new WireStats();
    const b = w().byte(6).mapHeader(3).str('Join').bool(false).str('Nodes').uint(PUSH_PULL_NODES_MAX + 1).str('UserStateLen').uint(0).finish();
    expect(new StreamDecoder({ keyring: null, stats }).push(b)).toMatchObject({ ok: false, reason: 'limit-exceeded' });
    expect(stats.rejected['limit-exceeded']).toBe(1);
    const atLimit = w().byte(6).mapHeader(3).str('Join').bool(false).str('Nodes').uint(PUSH_PULL_NODES_MAX).str('UserStateLen').uint(0).finish();
    expect(new StreamDecoder({ keyring: null }).push(atLimit)).toBeUndefined();
  });

  it('user state and reliable user messages over 20 MiB, encrypted streams over 20 MiB', () => {
    const pp = w().byte(6).mapHeader(3).str('Join').bool(false).str('Nodes').uint(0).str('UserStateLen').uint(PUSH_STATE_BYTES_MAX + 1).finish();
    expect(new StreamDecoder({ keyring: null }).push(pp)).toMatchObject({ ok: false, reason: 'too-large' });
    const um = w().byte(8).mapHeader(1).str('UserMsgLen').uint(USER_MSG_BYTES_MAX + 1).finish();
    expect(new StreamDecoder({ keyring: null }).push(um)).toMatchObject({ ok: false, reason: 'too-large' });
    const enc = new Uint8Array([10, 0, 0, 0, 0]);
    new DataView(enc.buffer).setUint32(1, PUSH_STATE_BYTES_MAX + 1);
    expect(new StreamDecoder({ keyring: new Keyring([key16]) }).push(enc)).toMatchObject({ ok: false, reason: 'too-large' });
    const neg = w().byte(8).mapHeader(1).str('UserMsgLen').int(-1).finish();
    expect(new StreamDecoder({ keyring: null }).push(neg)).toMatchObject({ ok: false, reason: 'malformed' });
  });

  it('a failed stream stays failed; a stream that ends mid-message is truncated', () => {
    const d = new StreamDecoder({ keyring: null });
    expect(d.push(new Uint8Array([99]))).toMatchObject({ ok: false, reason: 'unknown-type' });
    expect(d.push(encodeStreamBody({ type: 'ack', seqNo: 1, payload: null }))).toMatchObject({ ok: false, reason: 'unknown-type' });
    const e = new StreamDecoder({ keyring: null });
    const body = encodeStreamBody({ type: 'error', error: 'x'.repeat(50) });
    expect(e.push(body.subarray(0, 20))).toBeUndefined();
    expect(e.end()).toMatchObject({ ok: false, reason: 'truncated' });
  });
});

describe('compound', () => {
  it('keeps the parts before a truncated one and counts the rest (as Go does)', () => {
    const full = encodeMessage(bigCompound);
    const stats = new WireStats();
    const r = decodePacket(full.subarray(0, full.length - 5), { keyring: null, stats });
    expect(r.ok && r.value.type === 'compound' ? r.value.parts.length : -1).toBe(11);
    expect(stats.compoundPartsDropped).toBe(1);
    expect(stats.rejected.truncated).toBe(1);
    expect(stats.packetsDecoded).toBe(1);
  });

  it('an empty part is dropped (it panics serf 0.9.4); a compound of only bad parts is an error', () => {
    const ack = encodeMessage({ type: 'ack', seqNo: 1, payload: null });
    expect(decodePacket(new Uint8Array([7, 2, 0, 0, 0, ack.length, ...ack]), { keyring: null })).toMatchObject({ ok: true, value: { parts: [{ type: 'ack' }] } });
    expect(decodePacket(new Uint8Array([7, 1, 0, 0]), { keyring: null })).toMatchObject({ ok: false, reason: 'truncated' });
    expect(decodePacket(new Uint8Array([7, 3, 0]), { keyring: null })).toMatchObject({ ok: false, reason: 'truncated' });
  });

  it('refuses to build a compound serf 0.9.4 would mis-parse (≥ 128 parts)', () => {
    expect(() => encodeMessage({ type: 'compound', parts: Array.from({ length: 128 }, () => ping) })).toThrow(/127/);
  });
});
