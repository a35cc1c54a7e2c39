import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LamportClock } from '../../../src/core/serf/lamport-clock.js';
import { LamportRing } from '../../../src/core/serf/lamport-ring.js';

describe('Lamport clock and ring', () => {
  it('witness moves to v + 1 only when v ≥ time; increment returns the new time', () => {
    const c = new LamportClock();
    expect(c.time()).toBe(1);
    c.witness(0);
    expect(c.time()).toBe(1);
    c.witness(1);
    expect(c.time()).toBe(2);
    c.witness(10);
    expect(c.time()).toBe(11);
    expect(c.increment()).toBe(12);
  });

  it('law: after witnessing any sequence, time > every witnessed value and never decreases', () => {
    fc.assert(fc.property(fc.array(fc.nat(1e9)), (vs) => {
      const c = new LamportClock();
      let last = c.time();
      for (const v of vs) {
        c.witness(v);
        expect(c.time()).toBeGreaterThan(v);
        expect(c.time()).toBeGreaterThanOrEqual(last);
        last = c.time();
      }
    }));
  });

  it('the ring de-duplicates per Lamport time and a newer time takes the slot over', () => {
    const r = new LamportRing<string>(4);
    const eq = (a: string, b: string): boolean => a === b;
    expect(r.add(1, 'x', eq)).toBe(true);
    expect(r.add(1, 'x', eq)).toBe(false);
    expect(r.add(1, 'y', eq)).toBe(true);
    expect(r.add(5, 'x', eq)).toBe(true); // slot 1 now holds time 5
    expect(r.add(1, 'x', eq)).toBe(true); // forgotten, as in Serf
  });
});
