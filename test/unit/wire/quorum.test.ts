import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isValidEntry } from '../../../src/core/replica/index.js';
import type { QuorumMessage } from '../../../src/wire/quorum.js';
import { decodeQuorum, encodeQuorum } from '../../../src/wire/quorum.js';
import { replicaEntries } from './entries.js';

const name = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 });
const id = fc.oneof(fc.nat(300), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }));
const entry = replicaEntries.chain((es) => fc.constantFrom(...es));

const message: fc.Arbitrary<QuorumMessage> = fc.oneof(
  fc.record({ kind: fc.constant('write' as const), src: name, id, origin: name, counter: fc.integer({ min: 1, max: 2 ** 40 }), entry }),
  fc.record({ kind: fc.constant('read' as const), src: name, id, key: fc.string({ unit: 'grapheme', maxLength: 20 }) }),
  fc.record({ kind: fc.constant('ack' as const), src: name, id }),
  fc.record({ kind: fc.constant('refused' as const), src: name, id, reason: fc.string({ maxLength: 40 }) }),
  fc.record({ kind: fc.constant('value' as const), src: name, id, entry: fc.option(entry, { nil: null }) }),
);

describe('quorum messages on the wire (type 0xbd)', () => {
  it('decode(encode(m)) equals m, and a decoded entry is a valid state', () => {
    fc.assert(
      fc.property(message, (m) => {
        const r = decodeQuorum(encodeQuorum(m));
        expect(r).toEqual({ ok: true, value: m });
        if (r.ok && (r.value.kind === 'write' || r.value.kind === 'value') && r.value.entry !== null) expect(isValidEntry(r.value.entry)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('an ack is small: a kind byte, the sender, the id', () => {
    expect(encodeQuorum({ kind: 'ack', src: 'node-1', id: 5 }).length).toBe(1 + 1 + 6 + 1);
  });

  it('every truncation and every extra byte is refused, never thrown', () => {
    fc.assert(
      fc.property(message, fc.nat(), (m, cut) => {
        const body = encodeQuorum(m);
        const short = decodeQuorum(body.subarray(0, cut % body.length));
        expect(short.ok).toBe(false);
        const long = new Uint8Array(body.length + 1);
        long.set(body);
        expect(decodeQuorum(long).ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('random bytes and flipped bytes never throw out of the decoder', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        expect(() => decodeQuorum(b)).not.toThrow();
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(message, fc.nat(), fc.integer({ min: 1, max: 255 }), (m, at, x) => {
        const b = encodeQuorum(m);
        b[at % b.length] = ((b[at % b.length] as number) ^ x) & 0xff;
        expect(() => decodeQuorum(b)).not.toThrow();
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses an unknown kind, an empty sender, a write without a dot, a bad entry flag: each with a reason', () => {
    expect(decodeQuorum(Uint8Array.of(9, 1, 0x61, 0))).toMatchObject({ ok: false, reason: 'malformed' });
    expect(decodeQuorum(Uint8Array.of(2, 0, 0))).toMatchObject({ ok: false, reason: 'malformed' });
    const noDot = encodeQuorum({ kind: 'write', src: 'a', id: 1, origin: 'a', counter: 1, entry: { type: 'lww', key: 'k', context: [], siblings: [] } });
    noDot[6] = 0; // kind, src (len, a), id, origin (len, a), counter: 0
    expect(decodeQuorum(noDot)).toMatchObject({ ok: false, reason: 'malformed' });
    expect(decodeQuorum(Uint8Array.of(4, 1, 0x61, 0, 2))).toMatchObject({ ok: false, reason: 'malformed' });
    expect(decodeQuorum(new Uint8Array(0))).toMatchObject({ ok: false, reason: 'truncated' });
  });
});
