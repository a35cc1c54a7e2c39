import { describe, expect, it } from 'vitest';
import { loadCaptures, type LoadedCapture } from '../../fixtures/serf-captures.js';
import { decodePacket, encodePacket, encodeStreamMessage, lzwCompress, lzwDecompress, StreamDecoder, WireStats } from '../../../src/wire/index.js';
import { decrypt, encrypt } from '../../../src/wire/keyring.js';
import { Reader, structFields } from '../../../src/wire/msgpack-reader.js';
import { decodeValue, text } from '../../../src/wire/msgpack-value.js';

/**
 * Every byte here was sent by Debian's serf (it reports 0.8.2-dev; upstream tag v0.9.4,
 * memberlist v0.2.2) to a fake node on 127.0.0.1 (test/fixtures/capture-serf.ts).
 */
const captures = loadCaptures();

function key(c: LoadedCapture): Uint8Array {
  return new Uint8Array(Buffer.from(c.key as string, 'base64'));
}

/** The capture without its encryption layer (UDP: whole payload; TCP: the 0a|len envelope). */
function plaintext(c: LoadedCapture): Uint8Array {
  if (c.key === null) return c.bytes;
  if (c.transport === 'udp') return decrypt([key(c)], c.bytes, null);
  return decrypt([key(c)], c.bytes.subarray(5), c.bytes.subarray(0, 5));
}

describe('real serf captures', () => {
  it('has captures of every kind we rely on', () => {
    const notes = captures.map((c) => c.note).join('\n');
    expect(captures.length).toBeGreaterThanOrEqual(50);
    for (const what of ['indirect-ping', ': suspect', 'compound[ping, suspect]', 'stream from a peer: ping', 'push-pull(join=true', 'push-pull(join=false', 'compound[alive', 'user(3)', 'user(4)', 'user(0)', ': ping', ': ack', ': dead']) expect(notes).toContain(what);
    expect(captures.some((c) => c.key !== null)).toBe(true);
  });

  it.each(captures.map((c) => [`${c.file}#${c.index} ${c.note}`, c] as const))('decodes %s', (_name, c) => {
    const stats = new WireStats();
    if (c.transport === 'udp') {
      const r = decodePacket(c.bytes, { ...c.options, stats });
      expect(r).toMatchObject({ ok: true });
      expect(stats.compoundPartsDropped).toBe(0);
    } else {
      const d = new StreamDecoder({ ...c.options, stats });
      // Byte by byte, as a slow socket would deliver it: only the last byte completes it.
      for (let i = 0; i < c.bytes.length - 1; i++) expect(d.push(c.bytes.subarray(i, i + 1))).toBeUndefined();
      expect(d.push(c.bytes.subarray(c.bytes.length - 1))).toMatchObject({ ok: true });
    }
    expect(stats.snapshot().packetsRejected + stats.snapshot().streamsRejected).toBe(0);
  });

  it.each(captures.map((c) => [`${c.file}#${c.index} ${c.note}`, c] as const))('re-encodes %s to the same bytes', (_name, c) => {
    const plain = plaintext(c);
    const o = { keyring: null, compress: true };
    if (c.transport === 'udp') {
      const r = decodePacket(c.bytes, c.options);
      if (!r.ok) throw new Error(r.detail);
      // serf compresses when it is smaller and adds a CRC only to peers it knows (PMax ≥ 5).
      expect(Buffer.from(encodePacket(r.value, { ...o, crc: plain[0] === 12 })).toString('hex')).toBe(Buffer.from(plain).toString('hex'));
    } else {
      const r = new StreamDecoder(c.options).push(c.bytes);
      if (r === undefined || !r.ok) throw new Error('stream did not decode');
      // Streams are always compressed when compression is on (no "only if smaller").
      expect(Buffer.from(encodeStreamMessage(r.value, o)).toString('hex')).toBe(Buffer.from(plain).toString('hex'));
    }
  });

  it('reproduces serf\'s ciphertext byte for byte given its nonce (AES-256-GCM v1; no AAD on UDP, the 5-byte header on TCP)', () => {
    const enc = captures.filter((c) => c.key !== null);
    expect(enc.length).toBeGreaterThan(10);
    for (const c of enc) {
      const plain = plaintext(c);
      if (c.transport === 'udp') {
        expect(Buffer.from(encrypt(1, key(c), plain, null, c.bytes.subarray(1, 13))).equals(Buffer.from(c.bytes))).toBe(true);
      } else {
        const sealed = encrypt(1, key(c), plain, c.bytes.subarray(0, 5), c.bytes.subarray(6, 18));
        expect(Buffer.from(sealed).equals(Buffer.from(c.bytes.subarray(5)))).toBe(true);
      }
    }
  });

  it('compresses exactly as serf\'s Go compress/lzw (starting with a clear code)', () => {
    let checked = 0;
    for (const c of captures) {
      let b = plaintext(c);
      if (b[0] === 12) b = b.subarray(5);
      if (b[0] !== 9) continue;
      const r = new Reader(b, 1);
      let buf: Uint8Array | null = null;
      r.struct(structFields('Algo', 'Buf'), (i) => (i === 0 ? r.uint(255) : (buf = r.bytes())));
      const lz = buf as unknown as Uint8Array;
      expect(lz[0]).toBe(0); // first 9-bit code, LSB first: 256 = clear → 0x00, then bit 8 set in the next byte
      expect((lz[1] as number) & 1).toBe(1);
      expect(Buffer.from(lzwCompress(lzwDecompress(lz, 1 << 20))).equals(Buffer.from(lz))).toBe(true);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(10);
  });

  it('decodes what serf says: its own Vsn 1,5,2,2,5,5, 4-byte address, tags in meta, 512-slot event buffer in the user state', () => {
    const join = captures.find((c) => c.note.includes('push-pull(join=true') && c.key === null && c.note.includes('from a peer'));
    if (join === undefined) throw new Error('no join capture');
    const r = new StreamDecoder(join.options).push(join.bytes);
    if (r === undefined || !r.ok || r.value.type !== 'push-pull') throw new Error('no push-pull');
    const rec = r.value.records[0];
    expect(rec?.vsn).toEqual([1, 5, 2, 2, 5, 5]);
    expect(rec?.addr).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(rec?.meta?.[0]).toBe(0xff);
    const tags = decodeValue((rec?.meta as Uint8Array).subarray(1)) as Map<string, Uint8Array>;
    expect(text(tags.get('role') as Uint8Array)).toBe('cap');
    expect(r.value.states[0]).toBe(0);
    expect(r.value.userState?.[0]).toBe(2); // serf messagePushPull
    const pp = decodeValue((r.value.userState as Uint8Array).subarray(1)) as Map<string, unknown>;
    expect((pp.get('Events') as unknown[]).length).toBe(512);
  });
});
