import { describe, expect, it } from 'vitest';
import { seededRng } from '../../../src/core/rng.js';
import type { Coordinate } from '../../../src/core/topology/index.js';
import { NearestRefiner, RttSamples, Topology } from '../../../src/core/topology/index.js';
import { coordinateCodec } from '../../../src/wire/coordinate.js';

/** A settled coordinate `x` seconds along the first axis. */
const at = (x: number): Coordinate => ({ vec: [x, 0, 0, 0, 0, 0, 0, 0], error: 0.1, adjustment: 0, height: 10e-6 });
const names = (es: readonly { name: string }[]): string[] => es.map((e) => e.name);

describe('RttSamples: a few recent direct round trips per peer', () => {
  it('measures a peer by the least of its last perPeer samples, within maxAgeMs', () => {
    const s = new RttSamples({ perPeer: 3, maxAgeMs: 1000 });
    s.record('p', 2.0, 0);
    s.record('p', 1.1, 100);
    s.record('p', 1.5, 200);
    expect(s.measuredMs('p', 300)).toBe(1.1);
    // A fourth sample pushes out the oldest (2.0), not the least.
    s.record('p', 1.7, 300);
    expect(s.freshCount('p', 300)).toBe(3);
    expect(s.measuredMs('p', 300)).toBe(1.1);
    s.record('p', 1.8, 400);
    expect(s.measuredMs('p', 400)).toBe(1.5);
    // Samples older than maxAgeMs no longer count: 1.5 was taken at 200.
    expect(s.measuredMs('p', 1250)).toBe(1.7);
    expect(s.freshCount('p', 1250)).toBe(2);
    expect(s.measuredMs('p', 5000)).toBeUndefined();
    expect(s.lastSampledMs('p')).toBe(400);
    expect(s.lastSampledMs('q')).toBe(-Infinity);
  });

  it('ignores round trips that are not finite numbers ≥ 0, and stays within maxPeers (least recently sampled forgotten)', () => {
    const s = new RttSamples({ maxPeers: 2 });
    for (const bad of [NaN, -1, Infinity]) s.record('p', bad, 0);
    expect(s.size).toBe(0);
    s.record('a', 1, 0);
    s.record('b', 1, 1);
    s.record('a', 1, 2);
    s.record('c', 1, 3);
    expect(s.measuredMs('b', 3)).toBeUndefined();
    expect(s.measuredMs('a', 3)).toBe(1);
    expect(s.size).toBe(2);
    expect(() => new RttSamples({ perPeer: 0 })).toThrow(/perPeer/);
  });

  it('rank: a measured peer at its measured round trip, the others at their estimate', () => {
    const s = new RttSamples();
    const estimates = [{ name: 'a', rttMs: 1.0 }, { name: 'b', rttMs: 1.2 }, { name: 'c', rttMs: 1.1 }];
    expect(names(s.rank(3, estimates, 0))).toEqual(['a', 'c', 'b']);
    s.record('b', 0.9, 0);
    s.record('a', 1.3, 0);
    expect(s.rank(3, estimates, 0)).toEqual([{ name: 'b', rttMs: 0.9 }, { name: 'c', rttMs: 1.1 }, { name: 'a', rttMs: 1.3 }]);
    expect(names(s.rank(1, estimates, 0))).toEqual(['b']);
  });
});

describe('NearestRefiner: when and whom to ping beside the probes', () => {
  const ranked = ['n1', 'n2', 'n3', 'n4'].map((name, i) => ({ name, rttMs: i + 1 }));

  it('only while the probe cycle is at least minProbeCycleMs (2 min by default): never at 64 members and a 1 s probe interval', () => {
    const r = new NearestRefiner(new RttSamples());
    expect(r.minProbeCycleMs).toBe(120_000);
    for (let t = 0; t < 600_000; t += 1000) expect(r.target(t, 63 * 1000, ranked)).toBeNull();
    // (The prober gives the cycle at the configured interval, not as Lifeguard stretches it.)
    expect(r.target(0, 199 * 1000, ranked)).toBe('n1');
  });

  it('at most one per intervalMs; the least measured of the first `pool` candidates, then the one sampled longest ago, then the nearest', () => {
    const s = new RttSamples();
    const r = new NearestRefiner(s, { intervalMs: 5000, pool: 3 });
    const cycle = 500_000;
    s.record('n1', 1, 0);
    s.record('n3', 3, 10);
    expect(r.target(1000, cycle, ranked)).toBe('n2');
    expect(r.target(5999, cycle, ranked)).toBeNull();
    s.record('n2', 2, 6000);
    // All sampled once: n1 is the one sampled longest ago. n4 is beyond the pool.
    expect(r.target(6000, cycle, ranked)).toBe('n1');
    s.record('n1', 1, 6001);
    expect(r.target(11_000, cycle, ranked)).toBe('n3');
    expect(r.target(16_000, cycle, [])).toBeNull();
  });
});

describe('NearestRefiner: discovery of members that measure us', () => {
  const ranked = [{ name: 'n1', rttMs: 1 }];

  it('a member that pinged us twice within the window, whose coordinate we lack, is pinged after the pool\'s unmeasured members', () => {
    const s = new RttSamples();
    const r = new NearestRefiner(s, { intervalMs: 1000, hintWindowMs: 600_000 });
    const unknown = (n: string): boolean => n !== 'n1' && n !== 'known';
    r.notePinged('once', 0);
    r.notePinged('twice', 0);
    r.notePinged('twice', 100_000);
    r.notePinged('known', 0);
    r.notePinged('known', 1);
    // n1 is in the pool and never measured: it comes first.
    expect(r.target(200_000, 500_000, ranked, unknown)).toBe('n1');
    s.record('n1', 1, 200_000);
    // Then the hint (pinged twice); not `known` (we have its coordinate), not `once`.
    expect(r.target(201_000, 500_000, ranked, unknown)).toBe('twice');
    // Pinged once, it is no longer a hint: back to refreshing the pool.
    expect(r.target(202_000, 500_000, ranked, unknown)).toBe('n1');
  });

  it('pings older than the window do not add up; hints are bounded', () => {
    const r = new NearestRefiner(new RttSamples(), { intervalMs: 1000, hintWindowMs: 60_000, maxHints: 2 });
    r.notePinged('slow', 0);
    r.notePinged('slow', 61_000);
    expect(r.target(62_000, 500_000, [], () => true)).toBeNull();
    r.notePinged('a', 62_000);
    r.notePinged('a', 62_001);
    r.notePinged('b', 62_002);
    r.notePinged('c', 62_003);
    // a was heard from least recently and dropped when c came (maxHints 2).
    expect(r.target(63_000, 500_000, [], () => true)).toBeNull();
  });
});

describe('Topology.nearest: coordinates choose, direct round trips settle the order', () => {
  /** `near` is nearer by coordinates (0.5 ms vs 3 ms along one axis), `far` by measurement. */
  const setup = (refine: boolean): Topology => {
    const t = new Topology('me', { codec: coordinateCodec, rng: seededRng(3), ...(refine ? {} : { refine: false as const }) });
    t.observe('near', at(0.0005), 1);
    t.observe('far', at(0.003), 6);
    t.observe('other', at(0.02), 40);
    // Acks without coordinates (empty payload): round trips only.
    t.handlePingComplete('far', 0.4, null, 1000);
    t.handlePingComplete('near', 2.5, null, 1000);
    return t;
  };

  it('ranks measured peers by their measured round trip', () => {
    const t = setup(true);
    expect(names(t.nearest(3, ['near', 'far', 'other']))).toEqual(['far', 'near', 'other']);
    expect(t.nearest(1, ['near', 'far', 'other'])).toEqual([{ name: 'far', rttMs: 0.4 }]);
    // From another node: estimates only (our samples are ours).
    expect(names(t.nearest(1, ['near', 'far', 'other', 'me'], 'other'))).toEqual(['far']);
    // A reaped member's samples go with it.
    t.forget('far');
    expect(names(t.nearest(3, ['near', 'far', 'other']))).toEqual(['near', 'other']);
  });

  it('with refine: false, by estimate alone and no extra ping', () => {
    const t = setup(false);
    expect(names(t.nearest(3, ['near', 'far', 'other']))).toEqual(['near', 'far', 'other']);
    expect(t.extraPingTarget(2000, 1_000_000, () => true)).toBeNull();
  });

  it('extraPingTarget: only alive members with a coordinate, none while the probe cycle is short, counted', () => {
    const t = setup(true);
    expect(t.extraPingTarget(2000, 63_000, () => true)).toBeNull();
    // near and far are sampled once (at 1000); other never: it is the least measured.
    expect(t.extraPingTarget(2000, 200_000, () => true)).toBe('other');
    expect(t.extraPingTarget(3000, 200_000, () => true)).toBeNull();
    expect(t.extraPingTarget(7000, 200_000, (n) => n !== 'other')).toBe('far');
    expect(t.stats.refinePings).toBe(2);
  });

  it('notePinged: an unknown member that pinged us twice is discovered (never ourselves)', () => {
    const t = setup(true);
    t.handlePingComplete('other', 30, null, 1500);
    t.notePinged('stranger', 1600);
    t.notePinged('stranger', 1700);
    t.notePinged('me', 1600);
    t.notePinged('me', 1700);
    expect(t.extraPingTarget(2000, 200_000, () => true)).toBe('stranger');
  });
});
