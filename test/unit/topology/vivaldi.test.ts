import { describe, expect, it } from 'vitest';
import { seededRng } from '../../../src/core/rng.js';
import type { Coordinate } from '../../../src/core/topology/index.js';
import {
  DEFAULT_VIVALDI_CONFIG, VivaldiClient, distanceNs, durationSeconds, estimateRttMs, newCoordinate, toDurationNs,
} from '../../../src/core/topology/index.js';

/**
 * Table tests against Serf's formulas (hashicorp/serf coordinate/client.go, coordinate.go),
 * with the expected values worked out by hand from those formulas (each step written down).
 */
const cfg = DEFAULT_VIVALDI_CONFIG;
const at = (x0: number, o: Partial<Omit<Coordinate, 'vec'>> = {}, x1 = 0): Coordinate => ({
  ...newCoordinate(cfg), vec: [x0, x1, 0, 0, 0, 0, 0, 0], ...o,
});

describe('Serf defaults', () => {
  it('are serf ≥ 0.7.0 DefaultConfig()', () => {
    expect(cfg).toEqual({
      dimensionality: 8, vivaldiErrorMax: 1.5, vivaldiCE: 0.25, vivaldiCC: 0.25, adjustmentWindowSize: 20, heightMin: 10e-6, latencyFilterSize: 3, gravityRho: 150,
    });
    expect(newCoordinate(cfg)).toEqual({ vec: [0, 0, 0, 0, 0, 0, 0, 0], error: 1.5, adjustment: 0, height: 10e-6 });
  });
});

describe('distance (Coordinate.DistanceTo)', () => {
  it.each([
    // |(0.003, 0.004)| = 0.005; + heights 0.0001 + 0.0002 = 0.0053 s raw.
    { name: 'raw + both adjustments when positive', a: at(0.003, { height: 0.0001, adjustment: 0.0005 }, 0.004), b: at(0, { height: 0.0002, adjustment: -0.0002 }), ms: 5.6 },
    // 0.0053 − 0.02 < 0: Serf falls back to the raw distance.
    { name: 'raw when the adjusted sum is not positive', a: at(0.003, { height: 0.0001, adjustment: -0.01 }, 0.004), b: at(0, { height: 0.0002, adjustment: -0.01 }), ms: 5.3 },
    // Serf's TestClient_DistanceTo: 12.345 s straight up, heights 0 (HeightMin 0 there; here the heights are 10 µs each).
    { name: 'seconds away', a: at(0), b: at(12.345), ms: 12345.02 },
  ])('$name', ({ a, b, ms }) => {
    expect(estimateRttMs(a, b)).toBeCloseTo(ms, 9);
    expect(estimateRttMs(b, a)).toBe(estimateRttMs(a, b));
  });

  it('is a Go time.Duration: truncated to whole nanoseconds, read back with Duration.Seconds()', () => {
    expect(toDurationNs(0.0123456789999)).toBe(12_345_678);
    expect(toDurationNs(-0.5e-9)).toBe(0);
    expect(durationSeconds(1_500_000_001)).toBe(1 + 500_000_001 / 1e9);
    expect(distanceNs(at(0), at(0.01))).toBe(10_020_000);
  });
});

describe('one update (Client.Update), worked by hand', () => {
  // Us at the origin (error 1.5, height 10 µs); the peer 10 ms along the first axis, same
  // error and height; an observed round trip of 20 ms.
  //   latency filter (one sample)      rtt = 0.020
  //   dist   = 0.01 + 10e-6 + 10e-6    = 0.01002 (Duration 10,020,000 ns)
  //   wrongness = |0.01002 − 0.02| / 0.02 = 0.499
  //   weight = 1.5 / (1.5 + 1.5)       = 0.5
  //   error  = 0.25·0.5·0.499 + 1.5·(1 − 0.25·0.5) = 0.062375 + 1.3125 = 1.374875
  //   force  = 0.25·0.5·(0.02 − 0.01002) = 0.0012475, away from the peer: vec[0] = −0.0012475
  //   height = (10e-6 + 10e-6)·0.0012475 / 0.01 + 10e-6 = 1.2495e-5
  //   adjustment: raw distance now 0.0112475 + 1.2495e-5 + 10e-6 = 0.011269995;
  //              sample 0.02 − 0.011269995 = 0.008730005; / (2·20) = 0.000218250125
  //   gravity: distance to the origin 0.0012475 + 10e-6 + 1.2495e-5 + 0.000218250125
  //              = 0.001488245125 (Duration 1,488,245 ns → 0.001488245)
  //            force = −(0.001488245 / 150)² = −9.8438808e-11, towards the origin:
  //            vec[0] = −0.0012475 + 9.8438808e-11 = −0.00124749990156119
  //            height = (1.2495e-5 + 10e-6)·(−9.8438808e-11) / 0.0012475 + 1.2495e-5 = 1.24949982249e-5
  const peer = at(0.01);
  const client = new VivaldiClient(cfg, seededRng(1));
  const c = client.update('peer', peer, 20_000_000);

  it('moves, weighs and adjusts as Serf does', () => {
    if (typeof c === 'string') throw new Error(c);
    expect(c.error).toBe(1.374875);
    expect(c.vec[0]).toBeCloseTo(-0.00124749990156119, 16);
    expect(c.vec.slice(1)).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect(c.adjustment).toBeCloseTo(0.000218250125, 16);
    expect(c.height).toBeCloseTo(1.24949982249e-5, 16);
    // The new estimate to the peer: raw 0.01124749990156 + 1.2494998e-5 + 10e-6, + adjustment 0.000218250125.
    expect(estimateRttMs(c, peer)).toBeCloseTo(11.488245, 6);
  });

  it('refuses what Serf refuses, changing nothing', () => {
    const before = client.coordinate;
    expect(client.update('peer', peer, -1)).toBe('rtt-range');
    expect(client.update('peer', peer, 10_000_000_001)).toBe('rtt-range');
    expect(client.update('peer', { ...peer, vec: [Number.NaN, 0, 0, 0, 0, 0, 0, 0] }, 1e6)).toBe('invalid');
    expect(client.update('peer', { ...peer, height: Infinity }, 1e6)).toBe('invalid');
    expect(client.update('peer', { ...peer, vec: [0, 0, 0] }, 1e6)).toBe('dimensions');
    expect(client.coordinate).toBe(before);
  });
});

describe('the error term', () => {
  it('is capped at VivaldiErrorMax: weight 1 (the peer claims error 0), wrongness 10 → 0.25·10 + 1.5·0.75 = 3.625 → 1.5', () => {
    const client = new VivaldiClient(cfg, seededRng(1));
    // Peer 1 s away (raw 1.00002 s), observed 0.0909 s: wrongness = |1.00002 − 0.0909| / 0.0909 ≈ 10.0.
    const c = client.update('p', at(1, { error: 0 }), 90_900_000);
    if (typeof c === 'string') throw new Error(c);
    expect(c.error).toBe(1.5);
  });

  it('falls when the estimate is right: wrongness 0 → error·(1 − 0.25·0.5) = 1.3125', () => {
    const client = new VivaldiClient(cfg, seededRng(1));
    // raw distance 0.01002 s exactly the observed round trip.
    const c = client.update('p', at(0.01), 10_020_000);
    if (typeof c === 'string') throw new Error(c);
    expect(c.error).toBe(1.3125);
  });
});

describe('latency filter (Serf TestClient_latencyFilter): a moving median of 3 per node', () => {
  it('medians out a glitch and keeps nodes apart', () => {
    // A peer at distance d = rtt exactly: the observation used is the filter's median, seen in
    // the adjustment sample rtt_used − rawDistance. We read the filter through a tiny client
    // per step instead: the same samples as Serf's test, the same medians.
    const client = new VivaldiClient({ ...cfg, adjustmentWindowSize: 1, gravityRho: Infinity }, seededRng(2));
    const used: number[] = [];
    const peer = at(5);
    for (const ms of [201, 200, 207, 1900, 203, 199, 211]) {
      const before = client.coordinate;
      const c = client.update('alice', peer, ms * 1e6);
      if (typeof c === 'string') throw new Error(c);
      // adjustment = (rttUsed − raw(after)) / 2 with a window of 1.
      used.push(Math.round((c.adjustment * 2 + rawAfter(c, peer)) * 1e6) / 1e3);
      expect(before).not.toBe(c);
    }
    expect(used).toEqual([201, 201, 201, 207, 207, 203, 203]);
    client.forgetNode('alice');
    const c = client.update('alice', peer, 888e6);
    if (typeof c === 'string') throw new Error(c);
    expect(Math.round((c.adjustment * 2 + rawAfter(c, peer)) * 1e6) / 1e3).toBe(888);
  });
});

function rawAfter(c: Coordinate, other: Coordinate): number {
  let s = 0;
  c.vec.forEach((v, i) => (s += (v - (other.vec[i] as number)) ** 2));
  return Math.sqrt(s) + c.height + other.height;
}

describe('reset', () => {
  it('a result that is not a valid coordinate resets ours to the origin and counts it (Serf ClientStats.Resets)', () => {
    const client = new VivaldiClient({ ...cfg, gravityRho: 0 }, seededRng(3));
    // Gravity with rho 0 divides by zero: force −Infinity, the coordinate becomes NaN.
    const c = client.update('p', at(0.01), 20_000_000);
    expect(c).toEqual(newCoordinate(cfg));
    expect(client.resets).toBe(1);
  });
});
