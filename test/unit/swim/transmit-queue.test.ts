import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { retransmitLimit } from '../../../src/core/config.js';
import { TransmitLimitedQueue } from '../../../src/core/broadcast/transmit-queue.js';
import { propertySeed } from '../../property/seed.js';

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
