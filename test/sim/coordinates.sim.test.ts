import { describe, expect, it } from 'vitest';
import { LATENCY_PRESETS, LatencyModel, latencySpecProblems } from '../../src/sim/latency-model.js';
import { membershipScenario, runMembership } from '../../src/sim/membership.js';
import { seededRng } from '../../src/core/rng.js';

const repro = (seed: number, args: string): string => `seed ${seed}: gossip simulate membership --seed ${seed} ${args}`;

describe('latency model', () => {
  const m = new LatencyModel(LATENCY_PRESETS.geo, seededRng(5), 300);
  it('is symmetric, zero to itself, and orders zone < region < wide area (hosts that are not badly placed)', () => {
    const fine = Array.from({ length: 300 }, (_, i) => i).filter((i) => !m.isViolator(i));
    const byClass: Record<'zone' | 'region' | 'wan', number[]> = { zone: [], region: [], wan: [] };
    for (const a of fine) for (const b of fine) {
      if (a >= b) continue;
      expect(m.rttMs(a, b)).toBe(m.rttMs(b, a));
      byClass[m.zone(a) === m.zone(b) ? 'zone' : m.region(a) === m.region(b) ? 'region' : 'wan'].push(m.rttMs(a, b));
    }
    expect(m.rttMs(7, 7)).toBe(0);
    expect(Math.max(...byClass.zone)).toBeLessThan(2);
    expect(Math.max(...byClass.region)).toBeLessThan(4);
    expect(Math.min(...byClass.wan)).toBeGreaterThan(15);
  });

  it('has triangle-violating hosts: some detour is longer than going through a third host', () => {
    const bad = Array.from({ length: 300 }, (_, i) => i).filter((i) => m.isViolator(i));
    expect(bad.length).toBeGreaterThan(0);
    let violations = 0;
    for (const a of bad) for (let b = 0; b < 300; b++) for (let c = 0; c < 300; c += 7) {
      if (a !== b && b !== c && a !== c && m.rttMs(a, b) > m.rttMs(a, c) + m.rttMs(c, b)) violations++;
    }
    expect(violations).toBeGreaterThan(0);
  });

  it('refuses a bad spec with every problem named', () => {
    expect(latencySpecProblems({ ...LATENCY_PRESETS.lan, regions: [], jitter: -1, violationMin: 0.5 })).toEqual([
      'regions: expected at least one {name, x, y, zones}', 'jitter: expected a number ≥ 0', 'violationMin, violationMax: expected 1 ≤ min ≤ max',
    ]);
    expect(() => new LatencyModel({ ...LATENCY_PRESETS.lan, accessMaxMs: 0 }, seededRng(1), 3)).toThrow(/accessMaxMs/);
  });
});

describe('network coordinates against the latency model (issue 15)', () => {
  it('are off by default: the default run carries no ack payload and reports no coordinates', () => {
    const r = runMembership(membershipScenario({ nodes: 30, seed: 3, durationMs: 20_000 }));
    expect(r.coordinates).toBeUndefined();
  });

  it('lan topology, 120 nodes, 6 simulated minutes: median error ≤ 10 %, p90 ≤ 30 %, no drift, nearest(5) finds ≥ 4 of the true 5', () => {
    const seed = 15;
    const r = runMembership(membershipScenario({ nodes: 120, seed, durationMs: 360_000, topology: LATENCY_PRESETS.lan, coordinates: true }));
    const why = repro(seed, '--nodes 120 --duration 360s --topology lan --coordinates');
    const c = r.coordinates;
    if (c === undefined) throw new Error(why);
    expect(c.final.pairs, why).toBeGreaterThan(1000);
    expect(c.final.medianRelErr, why).toBeLessThanOrEqual(0.10);
    expect(c.final.p90RelErr, why).toBeLessThanOrEqual(0.30);
    // No drift: the estimates barely move in the second half, and the system stays centred.
    expect(c.driftRelFromHalfway, why).toBeLessThanOrEqual(0.05);
    expect(c.final.centroidMs, why).toBeLessThan(0.5);
    expect(c.nearest5, why).toBeGreaterThanOrEqual(4);
    // Every sample is finite (no NaN reached a coordinate).
    for (const s of c.samples) expect(Number.isFinite(s.medianRelErr), why).toBe(true);
  });

  it('geo topology, 150 nodes, 6 simulated minutes: the local space makes same-region pairs as good as wide-area ones (p90 ≤ 30 %, nearest(5) ≥ 4)', () => {
    // Without the local space (localRttMs 0) this seed gives same-region pairs a median error of about 40 % and nearest(5) about 1.
    const seed = 17;
    const r = runMembership(membershipScenario({ nodes: 150, seed, durationMs: 360_000, topology: LATENCY_PRESETS.geo, coordinates: true }));
    const why = repro(seed, '--nodes 150 --duration 360s --topology geo --coordinates');
    const c = r.coordinates;
    if (c === undefined) throw new Error(why);
    expect(c.final.medianRelErr, why).toBeLessThanOrEqual(0.10);
    expect(c.final.p90RelErr, why).toBeLessThanOrEqual(0.30);
    expect(c.final.byClass.region?.medianRelErr, why).toBeLessThanOrEqual(0.15);
    expect(c.final.byClass.wan?.medianRelErr, why).toBeLessThanOrEqual(0.10);
    expect(c.driftRelFromHalfway, why).toBeLessThanOrEqual(0.05);
    expect(c.nearest5, why).toBeGreaterThanOrEqual(4);
  });

  it('lan topology, 300 nodes, 10 simulated minutes: nearest(5) settled by direct round trips finds ≥ 4.5 of the true 5 (by estimate alone: 3.5)', () => {
    // 300 members probed once a second: a 5-minute probe cycle, long enough for the extra pings
    // (one per 5 s to the nearest candidates) that settle nearest(k). With `refine: false` this
    // seed finds 3.51 (own caches 3.50).
    const seed = 1;
    const r = runMembership(membershipScenario({ nodes: 300, seed, durationMs: 600_000, topology: LATENCY_PRESETS.lan, coordinates: true }));
    const why = repro(seed, '--nodes 300 --duration 600s --topology lan --coordinates [--no-refine]');
    const c = r.coordinates;
    if (c === undefined) throw new Error(why);
    expect(c.nearest5, why).toBeGreaterThanOrEqual(4.5);
    expect(c.nearest5Own, why).toBeGreaterThanOrEqual(4.5);
    // The extra pings feed Vivaldi too and spoil nothing: accuracy, drift, no false suspicion.
    expect(c.final.medianRelErr, why).toBeLessThanOrEqual(0.10);
    expect(c.final.p90RelErr, why).toBeLessThanOrEqual(0.30);
    expect(c.driftRelFromHalfway, why).toBeLessThanOrEqual(0.05);
    expect(r.falseSuspicions, why).toBe(0);
  });

  it('geo topology: wide-area estimates converge (median ≤ 10 %)', () => {
    const seed = 16;
    const r = runMembership(membershipScenario({ nodes: 100, seed, durationMs: 240_000, topology: LATENCY_PRESETS.geo, coordinates: true }));
    const why = repro(seed, '--nodes 100 --duration 240s --topology geo --coordinates');
    expect(r.coordinates?.final.medianRelErr, why).toBeLessThanOrEqual(0.10);
  });
});
