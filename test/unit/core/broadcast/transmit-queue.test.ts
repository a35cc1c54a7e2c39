import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultConfig, retransmitLimit } from '../../../../src/core/config.js';
import { TransmitLimitedQueue } from '../../../../src/core/broadcast/transmit-queue.js';
import { propertySeed } from '../../../property/seed.js';

/** Reference §6.5: memberlist's TransmitLimitedQueue. */

describe('retransmitLimit(mult, n) = mult × ceil(log10(n + 1)) (reference §6.5)', () => {
  const lanMult = defaultConfig('lan').retransmitMult;
  const localMult = defaultConfig('local').retransmitMult;

  it('LAN RetransmitMult is 4, Local is 2', () => {
    expect(lanMult).toBe(4);
    expect(localMult).toBe(2);
  });

  // LAN: 4 times for n = 1–9, 8 for 10–99, 12 for 100–999
  const lanTable: [number, number][] = [
    ...Array.from({ length: 9 }, (_, i): [number, number] => [i + 1, 4]),
    [10, 8], [11, 8], [42, 8], [50, 8], [98, 8], [99, 8],
    [100, 12], [101, 12], [500, 12], [998, 12], [999, 12],
  ];
  it.each(lanTable)('LAN (mult 4), n = %i → %i', (n, want) => {
    expect(retransmitLimit(lanMult, n)).toBe(want);
  });

  it('covers every n in each band', () => {
    for (let n = 1; n <= 9; n++) expect(retransmitLimit(4, n)).toBe(4);
    for (let n = 10; n <= 99; n++) expect(retransmitLimit(4, n)).toBe(8);
    for (let n = 100; n <= 999; n++) expect(retransmitLimit(4, n)).toBe(12);
  });

  // Local profile (mult 2): half of those
  it.each([
    [1, 2], [9, 2], [10, 4], [99, 4], [100, 6], [999, 6],
  ])('Local (mult 2), n = %i → %i', (n, want) => {
    expect(retransmitLimit(localMult, n)).toBe(want);
  });
});

describe('TransmitLimitedQueue: retransmit limit', () => {
  it.each([1, 2, 3, 4, 8, 12])('limit %i: an item is taken exactly `limit` times, then gone; onFinished(true) once', (limit) => {
    const q = new TransmitLimitedQueue<string>();
    const finished: boolean[] = [];
    q.enqueue('k', 'M', 20, (sent) => finished.push(sent));
    let taken = 0;
    for (let i = 0; i < limit; i++) {
      expect(finished).toEqual([]); // not finished before the last transmission
      expect(q.length).toBe(1);
      const out = q.take(2, 1400, limit);
      expect(out).toEqual(['M']);
      taken += out.length;
    }
    expect(taken).toBe(limit);
    expect(finished).toEqual([true]);
    expect(q.length).toBe(0);
    for (let i = 0; i < 5; i++) expect(q.take(2, 1400, limit)).toEqual([]);
    expect(finished).toEqual([true]);
  });

  it('an item is taken at most once per packet, however large the budget', () => {
    const q = new TransmitLimitedQueue<string>();
    q.enqueue(null, 'a', 10);
    q.enqueue(null, 'b', 10);
    const out = q.take(0, 10_000, 5);
    expect([...out].sort()).toEqual(['a', 'b']);
  });

  it('every take counts as a transmission: alternate items with a one-item budget', () => {
    const q = new TransmitLimitedQueue<string>();
    q.enqueue(null, 'a', 10);
    q.enqueue(null, 'b', 10);
    const seen: string[] = [];
    for (let i = 0; i < 10; i++) seen.push(...q.take(0, 10, 3));
    expect(seen.filter((x) => x === 'a')).toHaveLength(3);
    expect(seen.filter((x) => x === 'b')).toHaveLength(3);
    expect(q.length).toBe(0);
  });
});

describe('TransmitLimitedQueue: keys', () => {
  it('a keyed enqueue replaces the older one with the same key (onFinished(false))', () => {
    const q = new TransmitLimitedQueue<string>();
    const log: string[] = [];
    q.enqueue('node-x', 'old', 10, (sent) => log.push(`old:${String(sent)}`));
    expect(log).toEqual([]);
    q.enqueue('node-x', 'new', 10, (sent) => log.push(`new:${String(sent)}`));
    expect(log).toEqual(['old:false']);
    expect(q.length).toBe(1);
    expect(q.take(2, 1400, 4)).toEqual(['new']);
    // the replaced one never comes back
    for (let i = 0; i < 3; i++) expect(q.take(2, 1400, 4)).toEqual(['new']);
    expect(log).toEqual(['old:false', 'new:true']);
    expect(q.length).toBe(0);
  });

  it('replacing a partly transmitted broadcast starts the newcomer at zero transmissions', () => {
    const q = new TransmitLimitedQueue<string>();
    q.enqueue('x', 'v1', 10);
    expect(q.take(0, 100, 3)).toEqual(['v1']);
    expect(q.take(0, 100, 3)).toEqual(['v1']);
    q.enqueue('x', 'v2', 10);
    let n = 0;
    for (let i = 0; i < 10; i++) n += q.take(0, 100, 3).filter((m) => m === 'v2').length;
    expect(n).toBe(3);
  });

  it('different keys do not replace each other', () => {
    const q = new TransmitLimitedQueue<string>();
    q.enqueue('a', 'A', 10);
    q.enqueue('b', 'B', 10);
    expect(q.length).toBe(2);
    expect([...q.take(0, 1000, 4)].sort()).toEqual(['A', 'B']);
  });

  it('unkeyed broadcasts never replace anything (Serf user messages)', () => {
    const q = new TransmitLimitedQueue<string>();
    const log: boolean[] = [];
    q.enqueue(null, 'same', 10, (s) => log.push(s));
    q.enqueue(null, 'same', 10, (s) => log.push(s));
    q.enqueue(null, 'other', 10, (s) => log.push(s));
    expect(log).toEqual([]);
    expect(q.length).toBe(3);
    expect(q.take(0, 1000, 4)).toHaveLength(3);
  });

  it('an unkeyed broadcast does not replace a keyed one, nor the reverse', () => {
    const q = new TransmitLimitedQueue<string>();
    q.enqueue('k', 'keyed', 10);
    q.enqueue(null, 'free', 10);
    q.enqueue('k', 'keyed2', 10);
    expect([...q.take(0, 1000, 4)].sort()).toEqual(['free', 'keyed2']);
  });
});

describe('TransmitLimitedQueue: picking order', () => {
  it('fewest transmissions first', () => {
    const q = new TransmitLimitedQueue<string>();
    q.enqueue('a', 'A', 100);
    expect(q.take(0, 100, 10)).toEqual(['A']); // A: 1
    q.enqueue('b', 'B', 100);
    expect(q.take(0, 100, 10)).toEqual(['B']); // B: 0 → 1
    expect(q.take(0, 100, 10)).toHaveLength(1); // both at 1; one of them → 2
    const next = q.take(0, 100, 10); // the one still at 1 must go
    const again = q.take(0, 100, 10); // both at 2
    expect(next).toHaveLength(1);
    expect(again).toHaveLength(1);
  });

  it('an older, already transmitted item waits behind fresh ones with fewer transmissions', () => {
    const q = new TransmitLimitedQueue<string>();
    q.enqueue(null, 'old', 50);
    q.take(0, 50, 10);
    q.take(0, 50, 10); // old: 2
    q.enqueue(null, 'n1', 50);
    q.enqueue(null, 'n2', 50);
    // budget for two: both fresh ones, not 'old'
    expect([...q.take(0, 100, 10)].sort()).toEqual(['n1', 'n2']);
    // n1, n2 at 1; old at 2: budget for two → n1 and n2 again
    expect([...q.take(0, 100, 10)].sort()).toEqual(['n1', 'n2']);
    // all at 2 now: any two of them
    expect(q.take(0, 100, 10)).toHaveLength(2);
  });

  it('when the fewest-transmitted do not fit, smaller ones with more transmissions fill the space', () => {
    const q = new TransmitLimitedQueue<string>();
    q.enqueue(null, 'small', 10);
    q.take(0, 10, 10); // small: 1
    q.enqueue(null, 'big', 500);
    expect(q.take(0, 100, 10)).toEqual(['small']);
  });

  it('urgent items are taken before normal ones, even with more transmissions', () => {
    const q = new TransmitLimitedQueue<string>();
    q.enqueue('n', 'normal', 50, null, false);
    q.enqueue('u', 'urgent', 50, null, true);
    expect(q.take(0, 50, 10)).toEqual(['urgent']);
    expect(q.take(0, 50, 10)).toEqual(['urgent']); // urgent: 2 transmissions, normal: 0
    expect(q.take(0, 100, 10)).toEqual(['urgent', 'normal']);
  });

  it('normal items get the space the urgent ones leave', () => {
    const q = new TransmitLimitedQueue<string>();
    q.enqueue(null, 'n1', 30, null, false);
    q.enqueue(null, 'u1', 30, null, true);
    q.enqueue(null, 'u2', 30, null, true);
    const out = q.take(0, 90, 10);
    expect(out).toHaveLength(3);
    expect([...out.slice(0, 2)].sort()).toEqual(['u1', 'u2']);
    expect(out[2]).toBe('n1');
  });

  it('a keyed urgent broadcast replaces a normal one with the same key', () => {
    const q = new TransmitLimitedQueue<string>();
    const log: boolean[] = [];
    q.enqueue('x', 'alive-x', 40, (s) => log.push(s), false);
    q.enqueue('x', 'suspect-x', 40, null, true);
    expect(log).toEqual([false]);
    expect(q.length).toBe(1);
    expect(q.take(0, 1000, 4)).toEqual(['suspect-x']);
  });
});

describe('TransmitLimitedQueue: byte budget', () => {
  it('never exceeds the budget: bytes + overhead per item', () => {
    const q = new TransmitLimitedQueue<string>();
    const sizes: Record<string, number> = { a: 100, b: 200, c: 300, d: 400 };
    for (const [m, b] of Object.entries(sizes)) q.enqueue(m, m, b);
    const out = q.take(2, 505, 10);
    const cost = out.reduce((s, m) => s + (sizes[m] ?? Infinity) + 2, 0);
    expect(cost).toBeLessThanOrEqual(505);
    expect(q.takenBytes).toBe(cost);
    expect(out.length).toBeGreaterThan(0);
  });

  it('an item that does not fit with its overhead is not taken', () => {
    const q = new TransmitLimitedQueue<string>();
    q.enqueue(null, 'x', 100);
    expect(q.take(2, 101, 4)).toEqual([]);
    expect(q.takenBytes).toBe(0);
    expect(q.take(2, 102, 4)).toEqual(['x']);
    expect(q.takenBytes).toBe(102);
  });

  it('takes nothing from an empty queue and reports 0 bytes', () => {
    const q = new TransmitLimitedQueue<string>();
    expect(q.take(2, 1400, 4)).toEqual([]);
    expect(q.takenBytes).toBe(0);
  });

  it('appends to the given output array', () => {
    const q = new TransmitLimitedQueue<string>();
    q.enqueue(null, 'x', 10);
    const out = ['already'];
    expect(q.take(0, 100, 4, out)).toBe(out);
    expect(out).toEqual(['already', 'x']);
  });
});

describe('TransmitLimitedQueue: reset', () => {
  it('reports every queued broadcast as not sent, once', () => {
    const q = new TransmitLimitedQueue<string>();
    const log: string[] = [];
    q.enqueue('a', 'A', 10, (s) => log.push(`A:${String(s)}`));
    q.enqueue(null, 'B', 10, (s) => log.push(`B:${String(s)}`), true);
    q.take(0, 100, 5);
    q.reset();
    expect([...log].sort()).toEqual(['A:false', 'B:false']);
    expect(q.length).toBe(0);
    expect(q.take(0, 100, 5)).toEqual([]);
    q.reset();
    expect(log).toHaveLength(2);
  });
});

// ---------------------------------------------------------------- properties

type QOp =
  | { readonly op: 'enqueue'; readonly key: string | null; readonly bytes: number; readonly urgent: boolean }
  | { readonly op: 'take'; readonly overhead: number; readonly budget: number };

const qOpArb: fc.Arbitrary<QOp> = fc.oneof(
  fc.record({
    op: fc.constant('enqueue' as const),
    key: fc.option(fc.constantFrom('k0', 'k1', 'k2', 'k3'), { nil: null }),
    bytes: fc.integer({ min: 1, max: 400 }),
    urgent: fc.boolean(),
  }),
  fc.record({
    op: fc.constant('take' as const),
    overhead: fc.integer({ min: 0, max: 4 }),
    budget: fc.integer({ min: 0, max: 1500 }),
  }),
);

describe('TransmitLimitedQueue: properties (fast-check)', () => {
  it('a take never exceeds its byte budget, and takenBytes is the sum of bytes + overhead', () => {
    fc.assert(
      fc.property(fc.array(qOpArb, { minLength: 1, maxLength: 80 }), fc.integer({ min: 1, max: 6 }), (ops, limit) => {
        const q = new TransmitLimitedQueue<number>();
        const bytesOf = new Map<number, number>();
        let id = 0;
        for (const o of ops) {
          if (o.op === 'enqueue') {
            bytesOf.set(id, o.bytes);
            q.enqueue(o.key, id++, o.bytes, null, o.urgent);
          } else {
            const out = q.take(o.overhead, o.budget, limit);
            let cost = 0;
            for (const m of out) cost += (bytesOf.get(m) ?? Infinity) + o.overhead;
            expect(cost).toBeLessThanOrEqual(o.budget);
            expect(q.takenBytes).toBe(cost);
            expect(new Set(out).size).toBe(out.length); // nothing twice in one packet
          }
        }
      }),
      { seed: propertySeed(42), numRuns: 300 },
    );
  });

  it('each item is taken at most `limit` times in total; exactly `limit` times when it finishes as sent', () => {
    fc.assert(
      fc.property(fc.array(qOpArb, { minLength: 1, maxLength: 80 }), fc.integer({ min: 1, max: 6 }), (ops, limit) => {
        const q = new TransmitLimitedQueue<number>();
        const takes = new Map<number, number>();
        const finished = new Map<number, boolean[]>();
        let id = 0;
        const run = (o: QOp): void => {
          if (o.op === 'enqueue') {
            const me = id++;
            takes.set(me, 0);
            finished.set(me, []);
            q.enqueue(o.key, me, o.bytes, (sent) => finished.get(me)?.push(sent), o.urgent);
          } else {
            for (const m of q.take(o.overhead, o.budget, limit)) {
              takes.set(m, (takes.get(m) ?? 0) + 1);
              expect(finished.get(m)).toEqual(takes.get(m) === limit ? [true] : []);
            }
          }
        };
        for (const o of ops) run(o);
        // then drain with a budget that always fits everything
        for (let i = 0; i < limit + 1; i++) run({ op: 'take', overhead: 2, budget: 1_000_000 });
        expect(q.length).toBe(0);
        for (const [m, n] of takes) {
          const f = finished.get(m) ?? [];
          expect(n).toBeLessThanOrEqual(limit);
          expect(f).toHaveLength(1); // onFinished exactly once
          // sent ⇔ taken `limit` times; replaced ⇒ taken fewer times
          if (f[0] === true) expect(n).toBe(limit);
          else expect(n).toBeLessThan(limit);
        }
      }),
      { seed: propertySeed(42), numRuns: 300 },
    );
  });

  it('keyed broadcasts: at most one live per key; the replaced one is never taken again', () => {
    fc.assert(
      fc.property(fc.array(qOpArb, { minLength: 1, maxLength: 80 }), (ops) => {
        const q = new TransmitLimitedQueue<number>();
        const retired = new Set<number>();
        const liveByKey = new Map<string, number>();
        let unkeyedLive = 0;
        const unkeyed = new Set<number>();
        let id = 0;
        for (const o of ops) {
          if (o.op === 'enqueue') {
            const me = id++;
            if (o.key === null) {
              unkeyed.add(me);
              unkeyedLive++;
            } else liveByKey.set(o.key, me);
            q.enqueue(o.key, me, o.bytes, (sent) => {
              retired.add(me);
              if (unkeyed.has(me)) unkeyedLive--;
              else if (!sent) expect(liveByKey.get(o.key ?? '')).not.toBe(me);
            }, o.urgent);
          } else {
            for (const m of q.take(o.overhead, o.budget, 1_000)) expect(retired.has(m)).toBe(false);
          }
          // the queue length is the live unkeyed ones plus one per key still queued
          let keyed = 0;
          for (const m of liveByKey.values()) if (!retired.has(m)) keyed++;
          expect(q.length).toBe(unkeyedLive + keyed);
        }
      }),
      { seed: propertySeed(42), numRuns: 300 },
    );
  });

  it('with a one-item budget, the item taken has the fewest transmissions among its tier (urgent tier first)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.record({ urgent: fc.boolean() }), fc.constant('take' as const)), { minLength: 1, maxLength: 60 }),
        (ops) => {
          const q = new TransmitLimitedQueue<number>();
          const count = new Map<number, number>();
          const urgentOf = new Map<number, boolean>();
          let id = 0;
          const limit = 1_000;
          for (const o of ops) {
            if (o === 'take') {
              const out = q.take(0, 10, limit); // every item costs 10: exactly one fits
              const live = [...count.keys()];
              if (live.length === 0) {
                expect(out).toEqual([]);
                continue;
              }
              expect(out).toHaveLength(1);
              const m = out[0] as number;
              const anyUrgent = live.some((x) => urgentOf.get(x) === true);
              if (anyUrgent) expect(urgentOf.get(m)).toBe(true);
              const tier = live.filter((x) => urgentOf.get(x) === urgentOf.get(m));
              const fewest = Math.min(...tier.map((x) => count.get(x) ?? 0));
              expect(count.get(m)).toBe(fewest);
              count.set(m, (count.get(m) ?? 0) + 1);
            } else {
              count.set(id, 0);
              urgentOf.set(id, o.urgent);
              q.enqueue(null, id++, 10, null, o.urgent);
            }
          }
        },
      ),
      { seed: propertySeed(42), numRuns: 300 },
    );
  });

  it('a budget large enough for everything takes every queued item once', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ key: fc.option(fc.constantFrom('a', 'b', 'c'), { nil: null }), bytes: fc.integer({ min: 1, max: 300 }), urgent: fc.boolean() }), { minLength: 1, maxLength: 40 }),
        (items) => {
          const q = new TransmitLimitedQueue<number>();
          items.forEach((it, i) => q.enqueue(it.key, i, it.bytes, null, it.urgent));
          const expected = new Set<number>();
          const lastByKey = new Map<string, number>();
          items.forEach((it, i) => (it.key === null ? expected.add(i) : lastByKey.set(it.key, i)));
          for (const i of lastByKey.values()) expected.add(i);
          let total = 0;
          for (const i of expected) total += (items[i]?.bytes ?? 0) + 2;
          const out = q.take(2, total, 10);
          expect(new Set(out)).toEqual(expected);
          expect(out).toHaveLength(expected.size);
        },
      ),
      { seed: propertySeed(42), numRuns: 300 },
    );
  });
});

describe('retransmitLimit = mult × ceil(log10(n + 1)) (reference §6.5)', () => {
  it.each([
    [4, 1, 4], [4, 9, 4], [4, 10, 8], [4, 99, 8], [4, 100, 12], [4, 999, 12], [4, 1000, 16], [2, 50, 4],
  ])('mult %i, n %i → %i', (mult, n, expected) => {
    expect(retransmitLimit(mult, n)).toBe(expected);
  });
});

describe('TransmitLimitedQueue', () => {
  it('sends each broadcast exactly `limit` times, then reports it finished once', () => {
    const q = new TransmitLimitedQueue<string>();
    const finished: boolean[] = [];
    q.enqueue('a', 'A', 10, (sent) => finished.push(sent));
    let sends = 0;
    for (let i = 0; i < 10; i++) sends += q.take(2, 1000, 3).length;
    expect(sends).toBe(3);
    expect(finished).toEqual([true]);
    expect(q.length).toBe(0);
  });

  it('a newer broadcast with the same key replaces the queued one; unkeyed ones never replace', () => {
    const q = new TransmitLimitedQueue<string>();
    const finished: string[] = [];
    q.enqueue('x', 'old', 10, (sent) => finished.push(`old:${sent}`));
    q.enqueue('x', 'new', 10);
    q.enqueue(null, 'u1', 10);
    q.enqueue(null, 'u2', 10);
    expect(finished).toEqual(['old:false']);
    expect(q.take(2, 1000, 5).sort()).toEqual(['new', 'u1', 'u2']);
  });

  it('takes the fewest-transmitted first', () => {
    const q = new TransmitLimitedQueue<string>();
    q.enqueue('a', 'A', 100);
    expect(q.take(0, 100, 10)).toEqual(['A']); // A has 1 transmit now
    q.enqueue('b', 'B', 100);
    expect(q.take(0, 100, 10)).toEqual(['B']); // only room for one: B (0 transmits) goes first
    expect(q.take(0, 200, 10).sort()).toEqual(['A', 'B']);
  });

  it('takes urgent broadcasts before normal ones', () => {
    const q = new TransmitLimitedQueue<string>();
    for (let i = 0; i < 5; i++) q.enqueue(`n${i}`, `normal${i}`, 50);
    q.enqueue('u', 'urgent', 50, null, true);
    expect(q.take(0, 50, 10)).toEqual(['urgent']);
  });

  it('property: a packet never exceeds its byte budget, and no broadcast is sent more than `limit` times', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ key: fc.option(fc.integer({ min: 0, max: 20 }), { nil: null }), bytes: fc.integer({ min: 1, max: 300 }), urgent: fc.boolean() }), { maxLength: 60 }),
        fc.array(fc.integer({ min: 0, max: 1400 }), { maxLength: 40 }),
        fc.integer({ min: 1, max: 6 }),
        (items, budgets, limit) => {
          const q = new TransmitLimitedQueue<number>();
          const sent = new Map<number, number>();
          items.forEach((it, id) => q.enqueue(it.key === null ? null : `k${it.key}`, id, it.bytes, null, it.urgent));
          for (const budget of budgets) {
            const got = q.take(2, budget, limit);
            const used = got.reduce((sum, id) => sum + (items[id]?.bytes ?? 0) + 2, 0);
            if (used > budget) return false;
            if (q.takenBytes !== used) return false;
            for (const id of got) sent.set(id, (sent.get(id) ?? 0) + 1);
          }
          for (const times of sent.values()) if (times > limit) return false;
          // A keyed broadcast replaced before sending is never sent.
          const lastByKey = new Map<string, number>();
          items.forEach((it, id) => { if (it.key !== null) lastByKey.set(`k${it.key}`, id); });
          for (const [id] of sent) {
            const it = items[id];
            if (it !== undefined && it.key !== null && lastByKey.get(`k${it.key}`) !== id) return false;
          }
          return true;
        },
      ),
      { seed: propertySeed(42), numRuns: 300 },
    );
  });
});
