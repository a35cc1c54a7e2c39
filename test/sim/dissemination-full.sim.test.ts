import { describe, expect, it } from 'vitest';
import { DEFAULT_ADAPTIVE } from '../../src/core/dissemination/config.js';
import { seededRng } from '../../src/core/rng.js';
import { fullTrial, streamScenario } from '../../src/sim/dissemination.js';
import type { RoundMode } from '../../src/sim/rounds.js';
import { RoundEngine } from '../../src/sim/rounds.js';

const repro = (seed: number, args: string): string => `seed ${seed}; repro: npx gossip ${args} --seed ${seed}`;

describe('full engine (production Disseminator on the simulator) against the round engine', () => {
  const cases: [RoundMode, number, number, number][] = [
    // mode, fanout, n, full-engine trials
    ['push', 1, 100, 100], ['pull', 1, 100, 100], ['push-pull', 1, 100, 100],
    ['push', 1, 1000, 40], ['pull', 1, 1000, 40], ['push-pull', 1, 1000, 40],
    ['push', 2, 1000, 30], ['push', 3, 1000, 30], ['push', 4, 1000, 30],
  ];
  it.each(cases)('%s, fanout %i, n = %i: mean rounds within ±3 %%', (mode, fanout, n, trials) => {
    const seed = 7000 + n + fanout;
    const seeds = seededRng(seed);
    let full = 0;
    for (let t = 0; t < trials; t++) {
      const r = fullTrial({ nodes: n, seed: seeds.int(0x7fffffff), dissemination: { mode, fanout, rumor: 'none', maxHotRounds: 100_000, repairEveryRounds: 0 } });
      expect(r.allInformed, repro(seed, `simulate dissemination --engine full --mode ${mode} --fanout ${fanout} --nodes ${n}`)).toBe(true);
      full += r.rounds;
    }
    const engine = new RoundEngine(seededRng(seed));
    let rounds = 0;
    const roundTrials = 400;
    for (let t = 0; t < roundTrials; t++) rounds += engine.trial({ mode, nodes: n, fanout }).rounds;
    const a = full / trials;
    const b = rounds / roundTrials;
    expect(Math.abs(a - b) / b, `${repro(seed, `simulate dissemination --engine full --mode ${mode} --nodes ${n}`)}: full ${a.toFixed(2)} vs rounds ${b.toFixed(2)}`).toBeLessThanOrEqual(0.03);
  });

  it('with partners from SWIM member lists (membership running beside it) everyone is informed as fast', () => {
    const seed = 31;
    const r = fullTrial({ nodes: 300, seed, membership: 'swim', dissemination: { mode: 'push-pull', rumor: 'none', maxHotRounds: 1000, repairEveryRounds: 0 } });
    expect(r.allInformed, repro(seed, 'simulate dissemination --engine full --membership swim --nodes 300')).toBe(true);
    expect(r.rounds).toBeLessThanOrEqual(10); // log3 300 + log2 ln 300 + 2
  });

  it('push-then-pull spends fewer payloads than naive push-pull and still informs everyone', () => {
    const seed = 8;
    const base = { nodes: 2000, seed, dissemination: { mode: 'push-pull' as const, rumor: 'none' as const, maxHotRounds: 1000, repairEveryRounds: 0 } };
    const naive = fullTrial(base);
    const ptp = fullTrial({ ...base, dissemination: { ...base.dissemination, termination: 'push-then-pull' } });
    expect(ptp.allInformed, repro(seed, 'simulate dissemination --engine full --termination push-then-pull')).toBe(true);
    expect(ptp.transmissions).toBeLessThan(naive.transmissions * 0.6);
  });

  it('is deterministic: the same seed gives the same trial', () => {
    const a = fullTrial({ nodes: 500, seed: 3, dissemination: { mode: 'push' } });
    const b = fullTrial({ nodes: 500, seed: 3, dissemination: { mode: 'push' } });
    expect(a).toEqual(b);
  });
});

describe('steady streams through the full engine', () => {
  it('offered load 3× the byte budget: the budget is never exceeded and critical updates still reach everyone', () => {
    const seed = 5;
    const o = { nodes: 200, seed, writers: 10, updatesPerSec: 40, durationMs: 5000, drainMs: 5000, criticalShare: 0.1, dissemination: { mode: 'push-pull' as const, fanout: 3 } };
    const free = streamScenario(o);
    const rate = Math.round(free.bytesPerNodePerSec / 3);
    const r = streamScenario({ ...o, dissemination: { ...o.dissemination, budget: { rateBytesPerSec: rate, burstBytes: Math.max(1400, rate) } } });
    const msg = `${repro(seed, `simulate stream --nodes 200 --writers 10 --rate 40 --duration 5s --drain 5s --critical-share 0.1 --budget ${rate}`)}`;
    expect(r.budgetExcessBytes, msg).not.toBeNull();
    expect(r.budgetExcessBytes as number, msg).toBeLessThanOrEqual(0);
    expect(r.deferred, msg).toBeGreaterThan(0);
    expect(r.criticalTimeToEveryone, msg).not.toBeNull();
    expect(r.criticalTimeToEveryone?.maxMs, msg).toBeLessThan(Infinity);
    // Without the budget everything arrives; with it, normal updates wait (not all made it in time).
    expect(free.reachedEveryone).toBe(free.updates);
    expect(r.reachedEveryone).toBeLessThan(r.updates);
  });

  it('adaptive fanout against fixed fanout 3: no slower at p99, at least 25 % fewer payloads', () => {
    const seed = 1;
    const o = { nodes: 1000, seed, writers: 20, updatesPerSec: 5, durationMs: 10_000, drainMs: 5000 };
    const fixed = streamScenario({ ...o, dissemination: { mode: 'push-pull', fanout: 3 } });
    const adaptive = streamScenario({ ...o, dissemination: { mode: 'push-pull', fanout: 3, adaptive: DEFAULT_ADAPTIVE } });
    const msg = `${repro(seed, 'simulate stream --nodes 1000 --duration 10s --drain 5s [--adaptive]')}: fixed p99 ${fixed.timeToEveryone.p99Ms.toFixed(0)} ms, ${fixed.payloadsPerNodePerUpdate.toFixed(2)} payloads; adaptive ${adaptive.timeToEveryone.p99Ms.toFixed(0)} ms, ${adaptive.payloadsPerNodePerUpdate.toFixed(2)}`;
    expect(fixed.reachedEveryone, msg).toBe(fixed.updates);
    expect(adaptive.reachedEveryone, msg).toBe(adaptive.updates);
    expect(adaptive.timeToEveryone.p99Ms, msg).toBeLessThanOrEqual(fixed.timeToEveryone.p99Ms);
    expect(adaptive.payloadsPerNodePerUpdate, msg).toBeLessThanOrEqual(0.75 * fixed.payloadsPerNodePerUpdate);
  });
});
