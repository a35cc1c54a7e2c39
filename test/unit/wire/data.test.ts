import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DataMessageKind } from '../../../src/wire/data.js';
import {
  DATA_MESSAGE_BYTES_MAX, DATA_MESSAGE_KINDS, DataMessageType, DataStats, decodeDataFrame, decodeDataMessage, decodeDataValue, encodeDataFrame,
  encodeDataMessage, encodeDataValue,
} from '../../../src/wire/data.js';
import type { Entry } from '../../../src/core/replica/index.js';
import { Replica } from '../../../src/core/replica/index.js';

// -0 travels as 0 (MessagePack has no negative zero integer); the arbitraries avoid it.
const num = fc.oneof(fc.integer(), fc.double({ noNaN: true }).map((d) => (Object.is(d, -0) ? 0 : d)), fc.constant(2 ** 53 - 1), fc.constant(-(2 ** 40)));
const name = fc.string({ minLength: 1, maxLength: 12 });
const bytes = fc.uint8Array({ maxLength: 64 });
const u32 = fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 16 }).map((a) => new Uint32Array(a));

const update = fc.record({
  origin: name, version: fc.integer({ min: 1, max: 2 ** 31 }), key: fc.string(), payload: bytes, critical: fc.boolean(), bornMs: fc.integer({ min: 0, max: 2 ** 47 }),
});
const digest = fc.array(fc.tuple(name, fc.record({ upTo: fc.nat(), above: fc.array(fc.nat(), { maxLength: 5 }) })), { maxLength: 6 }).map((a) => new Map(a));
const ref = fc.record({ origin: name, version: fc.nat() });

/** One arbitrary per message kind, as the StateNode fills it (defined below). */
const messages: Record<DataMessageKind, fc.Arbitrary<{ type: DataMessageKind; [k: string]: unknown }>> = {
  'state-rumor': fc.constant(null).chain(() => stateRumor),
  'state-reconcile': fc.constant(null).chain(() => stateReconcile),
  'state-digests': fc.constant(null).chain(() => stateDigests),
  'state-acks': fc.constant(null).chain(() => stateAcks),
};

/** A replica's entries after a random sequence of operations of every resolver type. */
const replicaEntries = fc.array(
  fc.tuple(fc.constantFrom('lww/', 'mv/', 'cnt/', 'set/', 'map/'), fc.constantFrom('a', 'b', 'c'), fc.oneof(fc.string(), num, bytes, fc.boolean()), fc.boolean()),
  { minLength: 1, maxLength: 30 },
).map((ops) => {
  const r = new Replica({
    node: 'n1',
    resolvers: { 'lww/': { type: 'lww' }, 'mv/': { type: 'siblings' }, 'cnt/': { type: 'pncounter' }, 'set/': { type: 'orset' }, 'map/': { type: 'ormap' } },
  });
  let now = 1;
  for (const [prefix, k, v, del] of ops) {
    const key = prefix + k;
    now += 7;
    switch (prefix) {
      case 'lww/':
      case 'mv/':
        if (del) r.delete(now, key);
        else r.put(now, key, v);
        break;
      case 'cnt/':
        if (del) r.decrement(now, key, 2);
        else r.increment(now, key, 3);
        break;
      case 'set/':
        if (del) r.remove(now, key, String(v));
        else r.add(now, key, String(v));
        break;
      case 'map/':
        if (del) r.mapRemoveField(now, key, 'f');
        else {
          r.mapSet(now, key, 'f', v);
          r.mapIncrement(now, key, 'n', 1);
          r.mapAdd(now, key, 's', String(v));
        }
        break;
    }
  }
  return [...r.keys()].map((k) => r.entry(k) as Entry);
});

const summary = fc.array(fc.tuple(name, fc.nat()), { maxLength: 4 }).map((x) => new Map(x));
const rootNote = fc.record({ member: name, atMs: fc.integer({ min: 0, max: 2 ** 47 }), seq: fc.nat(), rootHi: fc.nat(), rootLo: fc.nat() });
const summaryNote = fc.record({ member: name, atMs: fc.integer({ min: 0, max: 2 ** 47 }), seq: fc.nat(), summary });
const entryUpdate = fc.tuple(update, replicaEntries).map(([u, es]) => ({ ...u, payload: es[0] as Entry }));
const stateRumor = fc.record({
  type: fc.constant('state-rumor' as const),
  gossip: fc.oneof(
    fc.record({ type: fc.constant('gossip' as const), id: fc.nat(), updates: fc.array(entryUpdate, { maxLength: 2 }), digest: fc.option(digest, { nil: null }), feedback: fc.boolean(), hops: fc.constant(null) }),
    fc.record({ type: fc.constant('gossip-reply' as const), id: fc.nat(), updates: fc.array(entryUpdate, { maxLength: 2 }), known: fc.array(ref, { maxLength: 3 }), floors: fc.array(ref, { maxLength: 3 }) }),
  ),
});
const stabilityNote = fc.record({ gen: fc.nat(), min: fc.array(fc.tuple(name, fc.nat()), { maxLength: 4 }).map((a) => new Map(a)), members: fc.array(name, { maxLength: 4 }), latestMs: fc.integer({ min: 0, max: 2 ** 47 }) });
const stateReconcile = fc.record({
  type: fc.constant('state-reconcile' as const),
  session: fc.nat(), fromInitiator: fc.boolean(),
  rc: fc.oneof(
    fc.record({ type: fc.constant('rc-open' as const), fanout: fc.nat(64), depth: fc.nat(8), rootHi: fc.nat(), rootLo: fc.nat(), hashes: u32 }),
    fc.record({ type: fc.constant('rc-entries' as const), entries: replicaEntries, want: fc.option(bytes, { nil: null }), missing: fc.nat() }),
    fc.record({ type: fc.constant('rc-hashes' as const), level: fc.nat(8), differ: bytes, hashes: u32 }),
    fc.record({ type: fc.constant('rc-keys' as const), differ: bytes, counts: u32, keys: fc.array(fc.string(), { maxLength: 5 }), hashes: u32 }),
    fc.record({ type: fc.constant('rc-done' as const), reason: fc.constantFrom('equal', 'no-difference') }),
    fc.record({ type: fc.constant('rc-abort' as const), reason: fc.string() }),
  ),
  digest: fc.option(fc.record({ root: rootNote, summary: summaryNote, stability: fc.option(stabilityNote, { nil: null }) }), { nil: null }),
});
const stateDigests = fc.record({
  type: fc.constant('state-digests' as const), roots: fc.array(rootNote, { maxLength: 4 }), summaries: fc.array(summaryNote, { maxLength: 3 }), stability: fc.option(stabilityNote, { nil: null }),
});
const stateAcks = fc.record({ type: fc.constant('state-acks' as const), member: name, acks: fc.array(fc.record({ counter: fc.integer({ min: 1, max: 2 ** 40 }), atMs: fc.integer({ min: 0, max: 2 ** 47 }) }), { maxLength: 5 }) });

describe('data-layer codec', () => {
  it('every message kind has its own type byte in [0x80, 0xbf]', () => {
    const bytesUsed = DATA_MESSAGE_KINDS.map((k) => DataMessageType[k]);
    expect(new Set(bytesUsed).size).toBe(bytesUsed.length);
    for (const b of bytesUsed) {
      expect(b).toBeGreaterThanOrEqual(0x80);
      expect(b).toBeLessThanOrEqual(0xbf);
    }
  });

  for (const kind of DATA_MESSAGE_KINDS) {
    it(`${kind}: decode(encode(m)) equals m, framed and unframed`, () => {
      fc.assert(
        fc.property(messages[kind], (m) => {
          const stats = new DataStats();
          const { dataType, payload } = encodeDataMessage(m);
          expect(dataType).toBe(DataMessageType[kind]);
          const r = decodeDataMessage(dataType, payload, stats);
          expect(r).toEqual({ ok: true, value: m });
          expect(decodeDataFrame(encodeDataFrame(m), stats)).toEqual({ ok: true, value: m });
          expect(stats.decoded).toBe(2);
        }),
        { numRuns: 300 },
      );
    });
  }

  it('replica entries of every type round-trip as values, and merge back to the same state', () => {
    fc.assert(
      fc.property(replicaEntries, (entries) => {
        for (const e of entries) {
          const r = decodeDataValue(encodeDataValue(e));
          expect(r).toEqual({ ok: true, value: e });
        }
        // A fresh replica that merges the decoded entries holds the same state (same hashes).
        const a = new Replica({ node: 'x', resolvers: { 'lww/': { type: 'lww' }, 'mv/': { type: 'siblings' }, 'cnt/': { type: 'pncounter' }, 'set/': { type: 'orset' }, 'map/': { type: 'ormap' } } });
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
    const r = decodeDataMessage(DataMessageType['state-digests'], encodeDataMessage({ type: 'state-digests', roots: [], summaries: [], note: undefined }).payload);
    expect(r.ok && 'note' in r.value).toBe(false);
    expect(() => encodeDataValue({ f: () => 1 })).toThrow(/cannot encode a function/);
    expect(() => encodeDataValue(new Date(0))).toThrow(/instance of Date/);
    expect(() => encodeDataValue(Symbol('s'))).toThrow(/symbol/);
  });

  it('truncated bodies are rejected as truncated, counted, never thrown', () => {
    fc.assert(
      fc.property(fc.constantFrom(...DATA_MESSAGE_KINDS).chain((k) => messages[k]), fc.nat(), (m, cut) => {
        const stats = new DataStats();
        const { dataType, payload } = encodeDataMessage(m);
        const n = cut % payload.length; // strictly shorter
        const r = decodeDataMessage(dataType, payload.subarray(0, n), stats);
        expect(r.ok).toBe(false);
        if (!r.ok) expect(['truncated', 'malformed']).toContain(r.reason);
        expect(stats.rejectedTotal).toBe(1);
        expect(stats.decoded).toBe(0);
      }),
      { numRuns: 1000 },
    );
  });

  it('random bytes and mutated messages never throw; each result is ok or a counted rejection', () => {
    const stats = new DataStats();
    let total = 0;
    fc.assert(
      fc.property(
        fc.oneof(
          fc.tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 200 })),
          fc.tuple(fc.constantFrom(...DATA_MESSAGE_KINDS).chain((k) => messages[k]), fc.nat(), fc.integer({ min: 0, max: 255 })).map(([m, at, b]): [number, Uint8Array] => {
            const { dataType, payload } = encodeDataMessage(m);
            const p = payload.slice();
            p[at % p.length] = b;
            return [dataType, p];
          }),
        ),
        ([t, p]) => {
          total++;
          const r = decodeDataMessage(t, p, stats);
          if (!r.ok) expect(['truncated', 'malformed', 'unknown-type', 'too-large']).toContain(r.reason);
        },
      ),
      { numRuns: 3000 },
    );
    expect(stats.decoded + stats.rejectedTotal).toBe(total);
    expect(stats.rejected['unknown-type']).toBeGreaterThan(0);
    expect(stats.rejected.malformed + stats.rejected.truncated).toBeGreaterThan(0);
  });

  it('rejects: unknown type bytes, empty bodies, bodies that are not records, bad extensions, oversized bodies', () => {
    const stats = new DataStats();
    const body = encodeDataMessage({ type: 'state-digests', roots: [], summaries: [] }).payload;
    expect(decodeDataMessage(0x85, body, stats)).toMatchObject({ ok: false, reason: 'unknown-type' });
    expect(decodeDataMessage(DataMessageType['state-digests'], new Uint8Array(0), stats)).toMatchObject({ ok: false, reason: 'truncated' });
    expect(decodeDataMessage(DataMessageType['state-digests'], encodeDataValue([1, 2]), stats)).toMatchObject({ ok: false, reason: 'malformed' });
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
    // A map whose key is __proto__ cannot reach an object's prototype.
    expect(decodeDataMessage(DataMessageType['state-digests'], new Uint8Array([0x81, 0xa9, ...new TextEncoder().encode('__proto__'), 0x80]), stats)).toMatchObject({ ok: false, reason: 'malformed' });
    // Over the size limit, refused before decoding.
    expect(decodeDataMessage(DataMessageType['state-digests'], new Uint8Array(DATA_MESSAGE_BYTES_MAX + 1), stats)).toMatchObject({ ok: false, reason: 'too-large' });
    // A bin header that announces more bytes than are there; one over the limit: refused before allocating.
    expect(decodeDataValue(new Uint8Array([0xc4, 10, 1]), stats)).toMatchObject({ ok: false, reason: 'truncated' });
    expect(decodeDataValue(new Uint8Array([0xc6, 0x7f, 0xff, 0xff, 0xff, 1]), stats)).toMatchObject({ ok: false, reason: 'too-large' });
    expect(stats.rejectedTotal).toBe(12);
    expect(stats.decoded).toBe(0);
  });
});
