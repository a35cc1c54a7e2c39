import { describe, expect, it } from 'vitest';
import { seededRng } from '../../src/core/rng.js';
import type { RoundMode } from '../../src/sim/rounds.js';
import { RoundEngine, theoryRounds } from '../../src/sim/rounds.js';

// theory.md §1.2, the "sim" columns: mean rounds until everyone is informed on K_n.
const TABLE: [RoundMode, number, number, number][] = [
  // mode, fanout, n, mean rounds
  ['push', 1, 100, 12.3], ['push', 1, 1000, 18.1], ['push', 1, 10000, 23.7],
  ['pull', 1, 100, 9.8], ['pull', 1, 1000, 13.7], ['pull', 1, 10000, 17.5],
  ['push-pull', 1, 100, 6.5], ['push-pull', 1, 1000, 9.1], ['push-pull', 1, 10000, 11.6],
  ['push', 2, 100, 7.3], ['push', 2, 1000, 10.7], ['push', 2, 10000, 14.0],
  ['push', 3, 100, 5.7], ['push', 3, 1000, 8.2], ['push', 3, 10000, 10.5],
  ['push', 4, 100, 4.9], ['push', 4, 1000, 7.0], ['push', 4, 10000, 9.0],
];

describe('round engine against theory.md §1.2', () => {
  it.each(TABLE)('%s, fanout %i, n = %i: mean rounds within ±3 %% of %f', (mode, fanout, n, expected) => {
    const seed = 1000 + n + fanout;
    const engine = new RoundEngine(seededRng(seed));
    const trials = n >= 10000 ? 60 : 200;
    let sum = 0;
    for (let t = 0; t < trials; t++) {
      const r = engine.trial({ mode, nodes: n, fanout });
      expect(r.allInformed, `seed ${seed}`).toBe(true);
      sum += r.rounds;
    }
    const mean = sum / trials;
    expect(Math.abs(mean - expected) / expected, `seed ${seed}: mean ${mean.toFixed(2)} vs ${expected}`).toBeLessThanOrEqual(0.03);
  });

  it('the informed count never decreases, starts at 1 and ends at n; the physical floor log_{1+f} n holds', () => {
    const engine = new RoundEngine(seededRng(5));
    for (const fanout of [1, 2, 3]) {
      const r = engine.trial({ mode: 'push', nodes: 5000, fanout });
      expect(r.informedByRound[0]).toBe(1);
      expect(r.informedByRound.at(-1)).toBe(5000);
      for (let i = 1; i < r.informedByRound.length; i++) {
        const prev = r.informedByRound[i - 1] as number;
        const cur = r.informedByRound[i] as number;
        expect(cur).toBeGreaterThanOrEqual(prev);
        expect(cur).toBeLessThanOrEqual(prev * (1 + fanout)); // each informed node sends f payloads a round
      }
      expect(r.rounds).toBeGreaterThanOrEqual(Math.log(5000) / Math.log(1 + fanout));
      expect(r.transmissions).toBeGreaterThanOrEqual(4999); // everyone must receive it once
    }
  });

  it('same seed, same trial; bad sizes are rejected', () => {
    const a = new RoundEngine(seededRng(9)).trial({ mode: 'push-pull', nodes: 3000, fanout: 1 });
    const b = new RoundEngine(seededRng(9)).trial({ mode: 'push-pull', nodes: 3000, fanout: 1 });
    expect(b).toEqual(a);
    expect(() => new RoundEngine(seededRng(1)).trial({ mode: 'push', nodes: 1, fanout: 1 })).toThrow(/nodes/);
    expect(() => new RoundEngine(seededRng(1)).trial({ mode: 'push', nodes: 10, fanout: 0 })).toThrow(/fanout/);
  });

  it('naive transmissions per node match §1.2: push ≈ 8.0 and push-pull ≈ 3.4 at n = 1,000; pull exactly 1', () => {
    const engine = new RoundEngine(seededRng(33));
    const per = (mode: RoundMode): number => {
      let tx = 0;
      for (let t = 0; t < 100; t++) tx += engine.trial({ mode, nodes: 1000, fanout: 1 }).transmissions;
      return tx / 100 / 1000;
    };
    expect(per('push')).toBeGreaterThan(8.0 * 0.95);
    expect(per('push')).toBeLessThan(8.0 * 1.05);
    expect(per('push-pull')).toBeGreaterThan(3.4 * 0.95);
    expect(per('push-pull')).toBeLessThan(3.4 * 1.05);
    expect(per('pull')).toBeCloseTo(0.999, 3);
  });

  it('theoryRounds gives the formulas of §1.1', () => {
    expect(theoryRounds('push', 1000)).toBeCloseTo(16.87, 2);
    expect(theoryRounds('pull', 1000)).toBeCloseTo(12.75, 2);
    expect(theoryRounds('push-pull', 1000)).toBeCloseTo(9.08, 2);
    expect(theoryRounds('push', 1000, 3)).toBeCloseTo(7.29, 2);
  });
});
