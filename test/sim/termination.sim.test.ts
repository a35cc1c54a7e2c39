import { describe, expect, it } from 'vitest';
import { seededRng } from '../../src/core/rng.js';
import { halfwayRound, MedianCounterEngine, RoundEngine, theoryCurve } from '../../src/sim/rounds.js';

describe('termination rules for push-pull', () => {
  it('push-then-pull informs everyone with under 2 payloads per node and at most 2 more rounds than naive push-pull', () => {
    const seed = 15;
    const n = 100_000;
    const naive = new RoundEngine(seededRng(seed));
    const ptp = new RoundEngine(seededRng(seed + 1));
    let naiveTx = 0;
    let naiveRounds = 0;
    let tx = 0;
    let rounds = 0;
    const trials = 10;
    for (let t = 0; t < trials; t++) {
      const a = naive.trial({ mode: 'push-pull', nodes: n, fanout: 1 });
      const b = ptp.trial({ mode: 'push-pull', nodes: n, fanout: 1, termination: 'push-then-pull' });
      expect(b.allInformed, `seed ${seed}`).toBe(true);
      naiveTx += a.transmissions;
      naiveRounds += a.rounds;
      tx += b.transmissions;
      rounds += b.rounds;
    }
    expect(tx / trials / n, `seed ${seed}`).toBeLessThan(2);
    expect(tx, `seed ${seed}`).toBeLessThan(naiveTx / 2);
    expect(rounds / trials, `seed ${seed}`).toBeLessThanOrEqual(naiveRounds / trials + 2);
  });

  it('after the switch every payload informs a new node: at most one per node once pulling', () => {
    const n = 20_000;
    const sw = 3; // switch very early: almost everything is learned by pulling
    const r = new RoundEngine(seededRng(4)).trial({ mode: 'push-pull', nodes: n, fanout: 1, termination: 'push-then-pull', switchRound: sw });
    expect(r.allInformed).toBe(true);
    const informedAtSwitch = r.informedByRound[sw] as number;
    // pushes and pulls before the switch are at most 2 per call in which an informed node took part
    expect(r.transmissions).toBeLessThanOrEqual(n - informedAtSwitch + sw * 2 * informedAtSwitch);
  });

  it('the switch round is where the mean-field curve passes one half', () => {
    for (const n of [1000, 1_000_000]) {
      const r = halfwayRound(n);
      const c = theoryCurve('push-pull', n);
      expect(c[r] as number).toBeGreaterThanOrEqual(0.5);
      expect(c[r - 1] as number).toBeLessThan(0.5);
    }
  });

  it('median-counter: every trial informs everyone at 10⁴, spreading stops by itself, and larger counters cost more', () => {
    const seed = 23;
    const e = new MedianCounterEngine(seededRng(seed));
    const cost = (ctrMax: number): number => {
      let tx = 0;
      for (let t = 0; t < 20; t++) {
        const r = e.trial({ nodes: 10_000, ctrMax, cRounds: 2 });
        expect(r.allInformed, `seed ${seed}, ctrMax ${ctrMax}`).toBe(true);
        expect(r.rounds).toBeLessThan(40);
        tx += r.transmissions;
      }
      return tx / 20 / 10_000;
    };
    const c3 = cost(3);
    const c5 = cost(5);
    expect(c5).toBeGreaterThan(c3);
  });
});
