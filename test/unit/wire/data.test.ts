import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppDataType, DATA_MESSAGE_BYTES_MAX, DATA_MESSAGE_KINDS, DataMessageType, DataStats, decodeDataValue, encodeDataValue } from '../../../src/wire/data.js';
import { QUORUM_TYPE } from '../../../src/wire/quorum.js';
import { VIEW_NOTE_TYPE } from '../../../src/wire/view-note.js';
import type { Entry } from '../../../src/core/replica/index.js';
import { Replica } from '../../../src/core/replica/index.js';
import { replicaEntries } from './entries.js';
import { nodeName } from '../../../src/core/ids.js';


describe('data-layer type bytes and values', () => {
  it('every message kind has its own type byte in [0x80, 0xbf]', () => {
    const bytesUsed = DATA_MESSAGE_KINDS.map((k) => DataMessageType[k]);
    expect(new Set(bytesUsed).size).toBe(bytesUsed.length);
    for (const b of bytesUsed) {
      expect(b).toBeGreaterThanOrEqual(0x80);
      expect(b).toBeLessThanOrEqual(0xbf);
    }
  });

  it('no type byte of the state is one another data message travels under (view notes, quorum, our adapters)', () => {
    // A state message under the view notes' byte was routed to the view plane and lost (issue 12 item 6's first bench run).
    const others = [VIEW_NOTE_TYPE, QUORUM_TYPE, ...Object.values(AppDataType)];
    expect(new Set(others).size).toBe(others.length);
    for (const k of DATA_MESSAGE_KINDS) expect(others, k).not.toContain(DataMessageType[k]);
  });

  it('replica entries of every type round-trip as values, and merge back to the same state', () => {
    fc.assert(
      fc.property(replicaEntries, (entries) => {
        for (const e of entries) {
          const r = decodeDataValue(encodeDataValue(e));
          expect(r).toEqual({ ok: true, value: e });
        }
        // A fresh replica that merges the decoded entries holds the same state (same hashes).
        const a = new Replica({ node: nodeName('x'), resolvers: { 'lww/': { type: 'lww' }, 'mv/': { type: 'siblings' }, 'cnt/': { type: 'pncounter' }, 'set/': { type: 'orset' }, 'map/': { type: 'ormap' } } });
        for (const e of entries) {
          const r = decodeDataValue(encodeDataValue(e));
          if (r.ok) a.merge(1, r.value as unknown as Entry);
        }
        for (const e of entries) expect(a.entry(e.key)).toEqual(e);
      }),
      { numRuns: 200 },
    );
  });

  it('Maps with non-string keys, nested Maps, every typed array and bigints round-trip', () => {
    const v = {
      m: new Map<unknown, unknown>([[1, 'one'], ['k', new Map([[2n, [new Uint8Array([1, 2])]]])], [null, true]]),
      typed: [new Uint16Array([1, 65535]), new Int32Array([-5, 7]), new Float64Array([0.5, -1e300]), new BigInt64Array([-(2n ** 63n)]), new BigUint64Array([2n ** 64n - 1n]), new Float32Array([1.5]), new Int8Array([-128])],
      big: [2n ** 200n, -(3n ** 90n), 0n],
      nested: { a: [{ b: null }] },
    };
    expect(decodeDataValue(encodeDataValue(v))).toEqual({ ok: true, value: v });
    // A typed array view into a larger buffer encodes only its own elements.
    const whole = new Uint32Array([9, 8, 7, 6]);
    expect(decodeDataValue(encodeDataValue(whole.subarray(1, 3)))).toEqual({ ok: true, value: new Uint32Array([8, 7]) });
  });

  it('undefined fields are left out, and unencodable values throw a clear error on encode', () => {
    const r = decodeDataValue(encodeDataValue({ a: 1, note: undefined }));
    expect(r.ok && typeof r.value === 'object' && r.value !== null && 'note' in r.value).toBe(false);
    expect(() => encodeDataValue({ f: () => 1 })).toThrow(/cannot encode a function/);
    expect(() => encodeDataValue(new Date(0))).toThrow(/instance of Date/);
    expect(() => encodeDataValue(Symbol('s'))).toThrow(/symbol/);
  });

  it('rejects: empty values, bad extensions, oversized values', () => {
    const stats = new DataStats();
    expect(decodeDataValue(new Uint8Array(0), stats)).toMatchObject({ ok: false, reason: 'truncated' });
    // ext 2 (typed array) with subtype 2 (Uint32Array) and 3 bytes: not whole elements.
    expect(decodeDataValue(new Uint8Array([0xc7, 4, 2, 2, 1, 2, 3]), stats)).toMatchObject({ ok: false, reason: 'malformed' });
    // ext 3 (bigint) that is not digits.
    expect(decodeDataValue(new Uint8Array([0xd4, 3, 0x41]), stats)).toMatchObject({ ok: false, reason: 'malformed' });
    // ext 1 (map) with an odd number of items.
    expect(decodeDataValue(new Uint8Array([0xd4, 1, 0x91]), stats)).toMatchObject({ ok: false, reason: 'malformed' });
    // An unregistered extension type.
    expect(decodeDataValue(new Uint8Array([0xd4, 9, 0]), stats)).toMatchObject({ ok: false, reason: 'malformed' });
    // MessagePack's timestamp extension (−1) would decode to a Date: not a data value.
    expect(decodeDataValue(new Uint8Array([0xd6, 0xff, 0, 0, 0, 1]), stats)).toMatchObject({ ok: false, reason: 'malformed' });
    // Over the size limit, refused before decoding.
    expect(decodeDataValue(new Uint8Array(DATA_MESSAGE_BYTES_MAX + 1), stats)).toMatchObject({ ok: false, reason: 'too-large' });
    // A bin header that announces more bytes than are there; one over the limit: refused before allocating.
    expect(decodeDataValue(new Uint8Array([0xc4, 10, 1]), stats)).toMatchObject({ ok: false, reason: 'truncated' });
    expect(decodeDataValue(new Uint8Array([0xc6, 0x7f, 0xff, 0xff, 0xff, 1]), stats)).toMatchObject({ ok: false, reason: 'too-large' });
    expect(stats.rejectedTotal).toBe(9);
    expect(stats.decoded).toBe(0);
  });
});
