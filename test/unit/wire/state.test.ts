import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StateMessage } from '../../../src/core/state/messages.js';
import type { Entry } from '../../../src/core/replica/index.js';
import { isValidEntry, Replica } from '../../../src/core/replica/index.js';
import { DATA_MESSAGE_BYTES_MAX, DATA_MESSAGE_KINDS, DataMessageType, DataStats } from '../../../src/wire/data.js';
import type { DataMessageKind } from '../../../src/wire/data.js';
import type { WireStateMessage } from '../../../src/wire/state.js';
import {
  decodeStateFrame, decodeStateMessage, encodeStateFrame, encodeStateMessage, stateMessageBytes, stateReconcileBytes, stateRumorFrameBytes, stateRumorUpdateBytes,
} from '../../../src/wire/state.js';
import { encodeEntry } from '../../../src/wire/state-entry.js';
import { replicaEntries } from './entries.js';
import { nodeName } from '../../../src/core/ids.js';

// The core's messages and the wire's are the same shapes, both ways (compile-time).
const toWire = (m: StateMessage): WireStateMessage => m;
const toCore = (m: WireStateMessage): StateMessage => m;

/** Names as they come: ASCII, any Unicode, or (with `binary`) lone surrogates, which travel as U+FFFD. */
const nameOf = (unit: 'grapheme' | 'binary') => fc.oneof(fc.string({ minLength: 1, maxLength: 12 }), fc.string({ unit, minLength: 1, maxLength: 6 }), fc.constantFrom('node-01', 'node-02', 'node-03'));
const time = fc.oneof(fc.integer({ min: 0, max: 2 ** 47 }), fc.constant(1_750_000_000_123), fc.double({ min: -1e6, max: 1e15, noNaN: true }).filter((x) => !Object.is(x, -0)));
const nat32 = fc.integer({ min: 0, max: 0xffffffff });
const bytes = fc.uint8Array({ maxLength: 40 });
// Hashes are [hi, lo] pairs of words.
const words = fc.array(fc.tuple(nat32, nat32), { maxLength: 8 }).map((a) => new Uint32Array(a.flat()));

function arbitraries(unit: 'grapheme' | 'binary') {
  const name = nameOf(unit);
  const summary = fc.uniqueArray(fc.tuple(name, fc.nat()), { maxLength: 5, selector: (t) => t[0] }).map((x) => new Map(x));
  const rootNote = fc.record({ member: name, atMs: time, seq: fc.nat(), rootHi: nat32, rootLo: nat32 });
  const summaryNote = fc.record({ member: name, atMs: time, seq: fc.nat(), summary });
  const stabilityNote = fc.record({ gen: fc.nat(), genMs: fc.integer({ min: 1, max: 2 ** 40 }), min: summary, members: fc.array(name, { maxLength: 5 }), latestMs: time });
  const update = fc.tuple(replicaEntries, name, fc.integer({ min: 1, max: 2 ** 40 }), fc.option(fc.string({ unit }), { nil: null }), fc.boolean(), time).map(([es, origin, version, key, critical, bornMs]) => {
    const payload = es[0] as Entry;
    return { origin, version, key: key ?? payload.key, payload, critical, bornMs };
  });
  const digest = fc.uniqueArray(fc.tuple(name, fc.record({ upTo: fc.nat(), above: fc.array(fc.nat(), { maxLength: 4 }) })), { maxLength: 5, selector: (t) => t[0] }).map((a) => new Map(a));
  const ref = fc.record({ origin: name, version: fc.nat() });
  const request = fc.tuple(fc.array(update, { maxLength: 3 }), fc.boolean()).chain(([updates, withHops]) =>
    fc.record({
      type: fc.constant('gossip' as const), id: fc.nat(), updates: fc.constant(updates), digest: fc.option(digest, { nil: null }), feedback: fc.boolean(),
      hops: withHops ? fc.array(fc.integer({ min: 0, max: 255 }), { minLength: updates.length, maxLength: updates.length }) : fc.constant(null),
    }),
  );
  const reply = fc.record({ type: fc.constant('gossip-reply' as const), id: fc.nat(), updates: fc.array(update, { maxLength: 3 }), known: fc.array(ref, { maxLength: 3 }), floors: fc.array(ref, { maxLength: 3 }) });
  const rc = fc.oneof(
    fc.record({ type: fc.constant('rc-open' as const), fanout: fc.nat(64), depth: fc.nat(8), rootHi: nat32, rootLo: nat32, hashes: words }),
    fc.record({ type: fc.constant('rc-hashes' as const), level: fc.nat(8), differ: bytes, hashes: words }),
    fc.record({ type: fc.constant('rc-keys' as const), differ: bytes, counts: words, keys: fc.array(fc.string({ unit }), { maxLength: 5 }), hashes: words }),
    fc.record({ type: fc.constant('rc-entries' as const), entries: replicaEntries, want: fc.option(bytes, { nil: null }), missing: fc.nat() }),
    fc.record({ type: fc.constant('rc-done' as const), reason: fc.constantFrom('equal' as const, 'no-difference' as const) }),
    fc.record({ type: fc.constant('rc-abort' as const), reason: fc.string({ unit }) }),
  );
  const messages: Record<DataMessageKind, fc.Arbitrary<StateMessage>> = {
    'state-rumor': fc.record({ type: fc.constant('state-rumor' as const), gossip: fc.oneof(request, reply) }),
    'state-reconcile': fc.record({
      type: fc.constant('state-reconcile' as const), session: nat32, fromInitiator: fc.boolean(), rc,
      digest: fc.option(fc.record({ root: rootNote, summary: summaryNote, stability: fc.option(stabilityNote, { nil: null }) }), { nil: null }),
    }),
    'state-digests': fc.record({ type: fc.constant('state-digests' as const), roots: fc.array(rootNote, { maxLength: 5 }), summaries: fc.array(summaryNote, { maxLength: 3 }), stability: fc.option(stabilityNote, { nil: null }) }),
    'state-acks': fc.record({ type: fc.constant('state-acks' as const), member: name, acks: fc.array(fc.record({ counter: fc.integer({ min: 1, max: 2 ** 40 }), atMs: time }), { maxLength: 6 }) }),
    'state-tree': fc.record({ type: fc.constant('state-tree' as const), root: name, entries: replicaEntries }),
  };
  return { name, messages, any: fc.constantFrom(...DATA_MESSAGE_KINDS).chain((k) => messages[k]) };
}

const wellFormed = arbitraries('grapheme');
const anyText = arbitraries('binary');

describe('state messages on the wire', () => {
  for (const kind of DATA_MESSAGE_KINDS) {
    it(`${kind}: the counted size is the encoding's length, and decode(encode(m)) equals m`, () => {
      fc.assert(
        fc.property(wellFormed.name, wellFormed.messages[kind], (src, m) => {
          const stats = new DataStats();
          const frame = encodeStateFrame(src, m);
          const size = stateMessageBytes(src, m);
          expect(size.total).toBe(frame.length);
          expect(size.rumor + size.antiEntropy + size.digest).toBe(size.total);
          expect(frame[0]).toBe(DataMessageType[kind]);
          const r = decodeStateFrame(frame, stats);
          expect(r).toEqual({ ok: true, value: { src, message: m } });
          expect(stats.decoded).toBe(1);
          if (r.ok) expect(toCore(r.value.message)).toEqual(m);
          if (m.type === 'state-rumor') {
            // A rumor is its frame plus its updates (the engine packs and counts by these).
            let sum = stateRumorFrameBytes(src, m.gossip);
            for (const u of m.gossip.updates) sum += stateRumorUpdateBytes(u);
            expect(sum).toBe(frame.length);
          }
          if (m.type === 'state-reconcile') {
            const rc = stateReconcileBytes(m.rc);
            expect(rc.hashBytes + rc.keyListBytes + rc.entryBytes + rc.headerBytes).toBe(rc.total);
            expect(rc.hashBytes % 8).toBe(0);
            expect(size.antiEntropy).toBeGreaterThan(rc.total);
            if (m.digest === null) expect(size.digest).toBe(0);
          }
        }),
        { numRuns: 200 },
      );
    });
  }

  it('any text (lone surrogates included): the counted size is still the encoding\'s length', () => {
    fc.assert(
      fc.property(anyText.name, anyText.any, (src, m) => {
        expect(stateMessageBytes(src, toWire(m)).total).toBe(encodeStateFrame(src, m).length);
      }),
      { numRuns: 500 },
    );
  });

  it('decoded entries are valid states and merge into a replica as the same state', () => {
    fc.assert(
      fc.property(replicaEntries, (entries) => {
        const m: StateMessage = { type: 'state-reconcile', session: 1, fromInitiator: true, rc: { type: 'rc-entries', entries, want: null, missing: 0 }, digest: null };
        const r = decodeStateFrame(encodeStateFrame('n1', m));
        expect(r.ok).toBe(true);
        if (!r.ok || r.value.message.type !== 'state-reconcile' || r.value.message.rc.type !== 'rc-entries') return;
        const a = new Replica({ node: nodeName('x'), resolvers: { 'lww/': { type: 'lww' }, 'mv/': { type: 'siblings' }, 'cnt/': { type: 'pncounter' }, 'set/': { type: 'orset' }, 'map/': { type: 'ormap' } } });
        for (const e of r.value.message.rc.entries) {
          expect(isValidEntry(e)).toBe(true);
          a.merge(1, e);
        }
        for (const e of entries) expect(a.entry(e.key)).toEqual(e);
      }),
      { numRuns: 100 },
    );
  });

  it('truncated bodies are rejected (truncated or malformed), counted, never thrown', () => {
    fc.assert(
      fc.property(wellFormed.name, wellFormed.any, fc.nat(), (src, m, cut) => {
        const stats = new DataStats();
        const { dataType, payload } = encodeStateMessage(src, m);
        const r = decodeStateMessage(dataType, payload.subarray(0, cut % payload.length), stats);
        expect(r.ok).toBe(false);
        if (!r.ok) expect(['truncated', 'malformed']).toContain(r.reason);
        expect(stats.rejectedTotal).toBe(1);
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
          fc.tuple(wellFormed.any, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([m, at, b]): [number, Uint8Array] => {
            const { dataType, payload } = encodeStateMessage('node-01', m);
            const p = payload.slice();
            p[at % p.length] = b;
            return [dataType, p];
          }),
        ),
        ([t, p]) => {
          total++;
          const r = decodeStateMessage(t, p, stats);
          if (!r.ok) expect(['truncated', 'malformed', 'unknown-type', 'too-large']).toContain(r.reason);
        },
      ),
      { numRuns: 3000 },
    );
    expect(stats.decoded + stats.rejectedTotal).toBe(total);
    expect(stats.rejected['unknown-type']).toBeGreaterThan(0);
    expect(stats.rejected.malformed + stats.rejected.truncated).toBeGreaterThan(0);
  });

  it('rejects by reason: unknown type byte, empty, over the limit, trailing bytes, a name not yet defined, a long or padded varint, bad flags, JSON that is not canonical', () => {
    const stats = new DataStats();
    const acks = DataMessageType['state-acks'];
    const ok = encodeStateMessage('a', { type: 'state-acks', member: 'b', acks: [{ counter: 1, atMs: 2 }] }).payload;
    expect(decodeStateMessage(acks, ok, stats).ok).toBe(true);
    expect(decodeStateMessage(0x85, ok, stats)).toMatchObject({ ok: false, reason: 'unknown-type' });
    expect(decodeStateMessage(acks, new Uint8Array(0), stats)).toMatchObject({ ok: false, reason: 'truncated' });
    expect(decodeStateMessage(acks, new Uint8Array(DATA_MESSAGE_BYTES_MAX + 1), stats)).toMatchObject({ ok: false, reason: 'too-large' });
    expect(decodeStateMessage(acks, new Uint8Array([...ok, 0]), stats)).toMatchObject({ ok: false, reason: 'malformed' });
    // Sender = name #5 of a message that has defined none.
    expect(decodeStateMessage(acks, new Uint8Array([5, ...ok.subarray(3)]), stats)).toMatchObject({ ok: false, reason: 'malformed' });
    // Ack counter 1 written as the padded varint 0x81 0x00.
    expect(decodeStateMessage(acks, new Uint8Array([0, 1, 97, 0, 1, 98, 1, 0x81, 0x00, 4]), stats)).toMatchObject({ ok: false, reason: 'malformed' });
    // A varint of 9 bytes.
    expect(decodeStateMessage(acks, new Uint8Array([0, 1, 97, 0, 1, 98, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1]), stats)).toMatchObject({ ok: false, reason: 'malformed' });
    // An ack counted 0.
    expect(decodeStateMessage(acks, new Uint8Array([0, 1, 97, 0, 1, 98, 1, 0, 4]), stats)).toMatchObject({ ok: false, reason: 'malformed' });
    // A state-digests whose stability flag is 2.
    expect(decodeStateMessage(DataMessageType['state-digests'], new Uint8Array([0, 1, 97, 0, 0, 2]), stats)).toMatchObject({ ok: false, reason: 'malformed' });
    // An entry whose JSON value is written with a space: not what JSON.stringify writes.
    const r = new Replica({ node: nodeName('a') });
    r.put(1, 'k', [1, 2]);
    const entry = encodeEntry(r.entry('k') as Entry);
    const text = new TextEncoder().encode('[1,2]');
    const at = entry.findIndex((_, i) => text.every((b, j) => entry[i + j] === b));
    const spaced = new Uint8Array([...entry.subarray(0, at - 1), 6, ...new TextEncoder().encode('[1, 2]'), ...entry.subarray(at + text.length)]);
    const rcEntries = (e: Uint8Array): Uint8Array => new Uint8Array([0, 1, 97, 1, 0, 3, 1, ...e, 0, 0]);
    expect(decodeStateMessage(DataMessageType['state-reconcile'], rcEntries(entry), stats).ok).toBe(true);
    expect(decodeStateMessage(DataMessageType['state-reconcile'], rcEntries(spaced), stats)).toMatchObject({ ok: false, reason: 'malformed' });
    expect(stats.decoded).toBe(2);
    expect(stats.rejectedTotal).toBe(10);
  });

  it('is compact: a rumor of one small entry, a digest and an ack cost what their fields need', () => {
    const r = new Replica({ node: nodeName('node-01') });
    r.put(1_750_000_000_000, 'user/42/name', 'Ada Lovelace');
    const entry = r.entry('user/42/name') as Entry;
    // type 1 + key 13 + context (1 + new name 9 + counter 1) + siblings (1 + dot (#1 1 + 1) + l 6 + c 1 + flags 1 + value 15)
    expect(encodeEntry(entry).length).toBe(1 + 13 + 11 + 1 + 2 + 6 + 1 + 1 + 15);
    const rumor: StateMessage = { type: 'state-rumor', gossip: { type: 'gossip', id: 1, updates: [{ origin: 'node-01~0.0', version: 1, key: entry.key, payload: entry, critical: false, bornMs: 1_750_000_000_000 }], digest: null, feedback: true, hops: null } };
    // type 1 + sender 9 + kind 1 + id 1 + flags 1 + count 1 + update (origin 12 + version 1 + flags 1 + born 6 + entry)
    expect(stateMessageBytes('node-01', rumor).total).toBe(1 + 9 + 4 + 12 + 1 + 1 + 6 + encodeEntry(entry).length);
  });
});
