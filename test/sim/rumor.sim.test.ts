import { describe, expect, it } from 'vitest';
import { seededRng } from '../../src/core/rng.js';
import type { RumorVariant } from '../../src/sim/rounds.js';
import { meanRumor, RumorEngine, theoryResidue } from '../../src/sim/rounds.js';

function mean(variant: RumorVariant, n: number, k: number, trials: number, seed: number): { s: number; m: number; tAve: number; tLast: number } {
  const r = meanRumor(new RumorEngine(seededRng(seed)), variant, n, k, trials);
  return { s: r.residue, m: r.trafficPerNode, tAve: r.tAve, tLast: r.tLast };
}

describe('Demers rumor mongering (theory.md §2.2)', () => {
  it('the fixed point s = e^{−(k+1)(1−s)} matches the table of §2.2', () => {
    expect(theoryResidue(1)).toBeCloseTo(0.203, 3);
    expect(theoryResidue(2)).toBeCloseTo(0.0595, 4);
    expect(theoryResidue(5)).toBeCloseTo(0.0025, 4);
  });

  it.each([1, 2, 3, 4, 5])('feedback/counter push, k = %i, n = 10⁴: residue within ±10 %% of the formula, and s ≈ e^{−m}', (k) => {
    const seed = 40 + k;
    const r = mean('feedback-counter', 10_000, k, 40, seed);
    const th = theoryResidue(k);
    expect(Math.abs(r.s - th) / th, `seed ${seed}: residue ${r.s} vs ${th}`).toBeLessThanOrEqual(0.1);
    expect(Math.abs(r.s - Math.exp(-r.m)) / r.s, `seed ${seed}`).toBeLessThanOrEqual(0.1);
  });

  it('blind variants need about one more unit of k than feedback; coin and counter agree on the residue', () => {
    const fb2 = mean('feedback-counter', 5000, 2, 60, 7).s;
    const blind3 = mean('blind-counter', 5000, 3, 60, 8).s;
    const blindCoin3 = mean('blind-coin', 5000, 3, 60, 9).s;
    const fbCoin2 = mean('feedback-coin', 5000, 2, 60, 10).s;
    expect(Math.abs(blind3 - fb2) / fb2).toBeLessThanOrEqual(0.15);
    expect(Math.abs(blindCoin3 - fb2) / fb2).toBeLessThanOrEqual(0.15);
    expect(Math.abs(fbCoin2 - fb2) / fb2).toBeLessThanOrEqual(0.15);
  });

  it('n = 1,000, feedback/counter: traffic, mean and last round as re-simulated in §2.2', () => {
    const r = mean('feedback-counter', 1000, 1, 300, 3);
    expect(r.m).toBeGreaterThan(1.59 * 0.95);
    expect(r.m).toBeLessThan(1.59 * 1.05);
    expect(r.tAve).toBeGreaterThan(9.8 * 0.9);
    expect(r.tAve).toBeLessThan(9.8 * 1.1);
    expect(r.tLast).toBeGreaterThan(17.3 * 0.9);
    expect(r.tLast).toBeLessThan(17.3 * 1.1);
  });

  it('rejects bad parameters', () => {
    const e = new RumorEngine(seededRng(1));
    expect(() => e.trial('feedback-counter', 1, 2)).toThrow(/nodes/);
    expect(() => e.trial('feedback-counter', 100, 0)).toThrow(/k must be/);
  });
});
