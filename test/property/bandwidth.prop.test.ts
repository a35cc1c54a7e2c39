import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../src/core/control/bandwidth.js';

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

  it('charge takes on credit: what follows waits until the debt is repaid', () => {
    const b = new TokenBucket(1000, 500, 0);
    b.charge(0, 800);
    expect(b.available(0)).toBe(-300);
    expect(b.tryTake(200, 1)).toBe(false); // back to −100
    expect(b.readyAtMs(200, 100)).toBe(400);
    expect(b.tryTake(400, 100)).toBe(true);
  });

  it('property: the bytes taken in any window stay within burst + rate × window', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 100, max: 100_000 }),
        fc.integer({ min: 1400, max: 20_000 }),
        fc.array(fc.record({ dt: fc.integer({ min: 0, max: 300 }), bytes: fc.integer({ min: 1, max: 1400 }) }), { maxLength: 200 }),
        (rate, burst, offers) => {
          const b = new TokenBucket(rate, burst, 0);
          const taken: { t: number; bytes: number }[] = [];
          let t = 0;
          for (const o of offers) {
            t += o.dt;
            if (b.tryTake(t, o.bytes)) taken.push({ t, bytes: o.bytes });
          }
          for (let i = 0; i < taken.length; i++) {
            let sum = 0;
            for (let j = i; j < taken.length; j++) {
              sum += (taken[j] as { bytes: number }).bytes;
              const span = (taken[j] as { t: number }).t - (taken[i] as { t: number }).t;
              expect(sum).toBeLessThanOrEqual(burst + (rate * span) / 1000 + 1e-6);
            }
          }
        },
      ),
    );
  });
});
