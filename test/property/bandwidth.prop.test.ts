import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TrafficClass } from '../../src/core/control/bandwidth.js';
import { BandwidthBudget, TokenBucket, TRAFFIC_CLASSES } from '../../src/core/control/bandwidth.js';

describe('TokenBucket', () => {
  it('starts full, refills at the rate, caps at the burst', () => {
    const b = new TokenBucket(1000, 500, 0);
    expect(b.tryTake(0, 500)).toBe(true);
    expect(b.tryTake(0, 1)).toBe(false);
    expect(b.available(100)).toBeCloseTo(100, 6);
    expect(b.readyAtMs(100, 300)).toBe(300);
    expect(b.available(10_000)).toBe(500);
    expect(b.readyAtMs(10_000, 501)).toBe(Infinity);
    expect(() => new TokenBucket(0, 10, 0)).toThrow(RangeError);
  });
});

const offerArb = fc.record({
  atMs: fc.integer({ min: 0, max: 5000 }),
  cls: fc.constantFrom(...TRAFFIC_CLASSES),
  bytes: fc.integer({ min: 1, max: 1400 }),
});

describe('BandwidthBudget', () => {
  it('property: bytes sent in any window stay within burst + rate × window, and a lower class never goes while a higher one waits', () => {
    fc.assert(
      fc.property(fc.array(offerArb, { maxLength: 200 }), fc.integer({ min: 500, max: 20_000 }), (offers, rate) => {
        const burst = 1400;
        const budget = new BandwidthBudget<number>(new TokenBucket(rate, burst, 0));
        const sends: { t: number; bytes: number; cls: TrafficClass }[] = [];
        const sorted = [...offers].sort((a, b) => a.atMs - b.atMs);
        let i = 0;
        for (let t = 0; t <= 8000; t += 10) {
          while (i < sorted.length && (sorted[i] as { atMs: number }).atMs <= t) {
            const o = sorted[i++] as { cls: TrafficClass; bytes: number };
            budget.offer(o.cls, i, o.bytes);
          }
          budget.drain(t, (_item, bytes, cls) => {
            const rank = TRAFFIC_CLASSES.indexOf(cls);
            // every higher class had been emptied before this one was served
            for (let h = 0; h < rank; h++) expect(budget.waiting(TRAFFIC_CLASSES[h] as TrafficClass)).toBe(0);
            sends.push({ t, bytes, cls });
          });
        }
        // Token bucket bound over every window between two send times.
        for (let a = 0; a < sends.length; a++) {
          let sum = 0;
          for (let b = a; b < sends.length; b++) {
            sum += (sends[b] as { bytes: number }).bytes;
            const window = (sends[b] as { t: number }).t - (sends[a] as { t: number }).t;
            if (sum > burst + (rate * window) / 1000 + 1e-6) return false;
          }
        }
        return budget.stats.sentBytes === sends.reduce((s, x) => s + x.bytes, 0);
      }),
      { seed: 5, numRuns: 150 },
    );
  });

  it('what does not fit waits, and goes as soon as the bucket allows', () => {
    const budget = new BandwidthBudget<string>(new TokenBucket(1000, 1000, 0));
    const sent: string[] = [];
    budget.offer('normal', 'n1', 800);
    budget.offer('repair', 'r1', 100);
    budget.offer('normal', 'n2', 800);
    budget.drain(0, (x) => sent.push(x));
    expect(sent).toEqual(['n1']); // n2 waits; r1 (lower class) must not overtake it
    expect(budget.nextReadyMs(0)).toBe(600);
    budget.offer('membership', 'm1', 100);
    budget.drain(600, (x) => sent.push(x));
    expect(sent).toEqual(['n1', 'm1']); // membership first; n2 needs 800, only 500 left after m1
    budget.drain(900, (x) => sent.push(x));
    expect(sent).toEqual(['n1', 'm1', 'n2', 'r1']);
  });

  it('counts what it cannot take: full class queues and items larger than the burst', () => {
    const budget = new BandwidthBudget<number>(new TokenBucket(100, 200, 0), 2);
    expect(budget.offer('normal', 1, 500)).toBe(false);
    expect(budget.offer('normal', 2, 150)).toBe(true);
    expect(budget.offer('normal', 3, 150)).toBe(true);
    expect(budget.offer('normal', 4, 150)).toBe(false);
    expect(budget.stats).toMatchObject({ oversized: 1, dropped: 1 });
  });
});
