import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { messageBytes, type Message, type StreamMessage } from '../../../src/core/messages.js';
import { decodeMessage, decodePacket, encodeMessage, encodePacket, encodeStreamBody, encodeStreamMessage, Keyring, StreamDecoder, WireStats, type PacketOptions } from '../../../src/wire/index.js';
import { expectedStream, message, streamMessage } from './arbitraries.js';

const keyOf = (n: 16 | 24 | 32, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
const options = fc.record({
  keySize: fc.constantFrom(0, 16, 24, 32),
  encryptionVersion: fc.constantFrom(0 as const, 1 as const),
  crc: fc.boolean(),
  compress: fc.boolean(),
});
function toOptions(o: { keySize: number; encryptionVersion: 0 | 1; crc: boolean; compress: boolean }): PacketOptions {
  return { keyring: o.keySize === 0 ? null : new Keyring([keyOf(o.keySize as 16 | 24 | 32, 7)]), encryptionVersion: o.encryptionVersion, crc: o.crc, compress: o.compress };
}

describe('memberlist message codec', () => {
  it('encodes each message in exactly core messageBytes(m) bytes, and decode(encode(m)) = m', () => {
    fc.assert(
      fc.property(message, (m) => {
        const b = encodeMessage(m);
        expect(b.length).toBe(messageBytes(m as unknown as Message));
        expect(decodeMessage(b)).toEqual({ ok: true, value: m });
      }),
      { numRuns: 2000 },
    );
  });

  it('stream bodies (push-pull, ping, ack, error) are messageBytes(m) long', () => {
    fc.assert(
      fc.property(streamMessage, (m) => {
        const len = encodeStreamBody(m).length;
        if (m.type === 'user') expect(len).toBeGreaterThan(m.payload.length + 1); // stream form has a UserMsgLen header
        else expect(len).toBe(messageBytes(m as unknown as StreamMessage));
      }),
      { numRuns: 500 },
    );
  });

  it('packets round-trip through every wrapper combination (CRC, LZW, AES-GCM 128/192/256, versions 0 and 1)', () => {
    fc.assert(
      fc.property(message, options, (m, o) => {
        const opts = toOptions(o);
        const stats = new WireStats();
        expect(decodePacket(encodePacket(m, opts), { ...opts, stats })).toEqual({ ok: true, value: m });
        expect(stats.packetsDecoded).toBe(1);
      }),
      { numRuns: 1000 },
    );
  });

  it('streams round-trip in any chunking, with any wrappers', () => {
    fc.assert(
      fc.property(streamMessage, options, fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 }), (m, o, cuts) => {
        const opts = toOptions(o);
        const b = encodeStreamMessage(m, opts);
        const d = new StreamDecoder(opts);
        let got: unknown;
        let at = 0;
        for (let i = 0; at < b.length; i++) {
          const n = cuts[i % cuts.length] as number;
          const r = d.push(b.subarray(at, at + n));
          at += n;
          if (at < b.length) expect(r).toBeUndefined();
          else got = r;
        }
        expect(got).toEqual({ ok: true, value: expectedStream(m) });
        expect(d.buffered).toBe(0);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps bytes after a stream message for the next one', () => {
    const a = encodeStreamBody({ type: 'ack', seqNo: 1, payload: null });
    const e = encodeStreamBody({ type: 'error', error: 'nope' });
    const both = new Uint8Array([...a, ...e]);
    const d = new StreamDecoder({ keyring: null });
    expect(d.push(both)).toEqual({ ok: true, value: { type: 'ack', seqNo: 1, payload: null } });
    expect(d.next()).toEqual({ ok: true, value: { type: 'error', error: 'nope' } });
    expect(d.next()).toBeUndefined();
  });
});
