import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seededRng } from '../../src/core/rng.js';
import type { Coordinate } from '../../src/core/topology/index.js';
import { COORDINATE_REJECTIONS, DEFAULT_VIVALDI_CONFIG, Topology, estimateRttMs, isValidCoordinate } from '../../src/core/topology/index.js';
import { coordinateCodec, encodeCoordinatePayload } from '../../src/wire/coordinate.js';
import { propertySeed } from './seed.js';

const cfg = DEFAULT_VIVALDI_CONFIG;

/** Any double, hostile ones weighted in: NaN, ±Infinity, ±1e308, −0, subnormals. */
const anyDouble = fc.oneof(
  fc.double({ noNaN: false }),
  fc.constantFrom(Number.NaN, Infinity, -Infinity, 1e308, -1e308, -0, 5e-324),
  fc.double({ min: -0.05, max: 0.05, noNaN: true }),
);
/** A sane coordinate (what Serf sends): tens of ms, error in [0, 1.5], height ≥ 10 µs. */
const saneCoordinate: fc.Arbitrary<Coordinate> = fc.record({
  vec: fc.array(fc.double({ min: -0.2, max: 0.2, noNaN: true }), { minLength: 8, maxLength: 8 }),
  error: fc.double({ min: 0, max: 1.5, noNaN: true }),
  adjustment: fc.double({ min: -0.01, max: 0.01, noNaN: true }),
  height: fc.double({ min: 10e-6, max: 0.05, noNaN: true }),
});
/** Anything a peer could put in a well-formed payload: wrong dimensions, NaN, infinities, huge values. */
const hostileCoordinate: fc.Arbitrary<Coordinate> = fc.record({
  vec: fc.oneof(fc.array(anyDouble, { minLength: 8, maxLength: 8 }), fc.array(anyDouble, { maxLength: 12 })),
  error: anyDouble,
  adjustment: anyDouble,
  height: anyDouble,
});
const anyRttMs = fc.oneof(fc.double({ min: 0, max: 500, noNaN: true }), anyDouble);

const observation = fc.record({
  node: fc.constantFrom('a', 'b', 'c', 'd'),
  rttMs: anyRttMs,
  payload: fc.oneof(
    saneCoordinate.map((c) => encodeCoordinatePayload(c)),
    hostileCoordinate.map((c) => encodeCoordinatePayload(c)),
    // Ours: a local-space coordinate after Serf's, sane or hostile, or garbage after Serf's part.
    fc.tuple(saneCoordinate, fc.oneof(saneCoordinate.map((c) => ({ ...c, vec: c.vec.map((v) => v / 100) })), hostileCoordinate)).map(([c, l]) => encodeCoordinatePayload(c, l)),
    fc.tuple(saneCoordinate, fc.uint8Array({ minLength: 1, maxLength: 60 })).map(([c, junk]) => new Uint8Array([...encodeCoordinatePayload(c), ...junk])),
    fc.uint8Array({ maxLength: 200 }),
    fc.constant(null),
  ),
});

function sane(c: Coordinate): void {
  expect(isValidCoordinate(c)).toBe(true);
  expect(c.vec).toHaveLength(cfg.dimensionality);
  expect(c.error).toBeGreaterThanOrEqual(0);
  expect(c.error).toBeLessThanOrEqual(cfg.vivaldiErrorMax);
  expect(c.height).toBeGreaterThanOrEqual(cfg.heightMin);
}

describe('Topology under any input', () => {
  it('never throws, never holds a NaN, keeps the error within [0, 1.5], and counts every ack exactly once', () => {
    fc.assert(fc.property(fc.array(observation, { maxLength: 60 }), fc.integer(), (obs, seed) => {
      const t = new Topology('self', { codec: coordinateCodec, rng: seededRng(seed) });
      let used = 0;
      for (const o of obs) if (t.handlePingComplete(o.node, o.rttMs, o.payload)) used++;
      sane(t.coordinate());
      sane(t.localCoordinate() as Coordinate);
      for (const c of t.coordinates().values()) expect(isValidCoordinate(c)).toBe(true);
      for (const n of ['a', 'b', 'c', 'd']) {
        const l = t.nodeCoordinates(n)?.local;
        if (l !== undefined && l !== null) expect(isValidCoordinate(l)).toBe(true);
      }
      const rejected = COORDINATE_REJECTIONS.reduce((s, r) => s + t.stats.rejected[r], 0);
      expect(t.stats.updates).toBe(used);
      expect(t.stats.updates + rejected + t.stats.empty).toBe(obs.length);
      for (const a of ['self', 'a', 'b']) for (const b of ['c', 'd', 'self']) {
        const e = t.estimateRttMs(a, b);
        if (e !== undefined) {
          expect(Number.isFinite(e)).toBe(true);
          expect(e).toBeGreaterThanOrEqual(0);
        }
      }
    }), { seed: propertySeed(1501), numRuns: 300 });
  });

  it('clamps finite values out of bounds (and counts them), refuses NaN and infinities', () => {
    const t = new Topology('self', { codec: coordinateCodec, rng: seededRng(1) });
    const huge: Coordinate = { vec: [1e300, 0, 0, 0, 0, 0, 0, 0], error: -5, adjustment: 1e200, height: 0 };
    expect(t.observe('a', huge, 1)).toBe(true);
    expect(t.stats.clamped).toBe(1);
    expect(t.coordinateOf('a')).toEqual({ vec: [10, 0, 0, 0, 0, 0, 0, 0], error: 0, adjustment: 10, height: 10e-6 });
    sane(t.coordinate());
    expect(t.observe('b', { ...huge, height: Number.NaN }, 1)).toBe(false);
    expect(t.observe('b', { ...huge, vec: [0, 0] }, 1)).toBe(false);
    expect(t.observe('b', { vec: new Array<number>(8).fill(0), error: 1, adjustment: 0, height: 1e-5 }, Number.NaN)).toBe(false);
    expect(t.stats.rejected).toEqual({ undecodable: 0, version: 0, dimensions: 1, invalid: 1, 'rtt-range': 1 });
    expect(t.coordinateOf('b')).toBeUndefined();
  });
});

describe('estimates', () => {
  it('are symmetric (to the nanosecond Go truncates to), non-negative and finite', () => {
    fc.assert(fc.property(saneCoordinate, saneCoordinate, (a, b) => {
      const ab = estimateRttMs(a, b);
      const ba = estimateRttMs(b, a);
      expect(Math.abs(ab - ba)).toBeLessThanOrEqual(1e-6);
      expect(ab).toBeGreaterThanOrEqual(0);
      // To itself: both heights, plus both adjustments unless that sum is not positive (seconds → ms).
      const self = 2 * a.height + 2 * a.adjustment > 0 ? 2 * a.height + 2 * a.adjustment : 2 * a.height;
      expect(estimateRttMs(a, a)).toBeCloseTo(1000 * self, 5);
    }), { seed: propertySeed(1502) });
  });

  it('a node that keeps observing a settled peer (error ≤ 0.5) at a fixed round trip converges to it', () => {
    fc.assert(fc.property(saneCoordinate.map((c) => ({ ...c, error: c.error / 3, adjustment: 0 })), fc.double({ min: 1, max: 200, noNaN: true }), fc.integer(), (peer, rttMs, seed) => {
      // Reachable: the round trip is longer than the two heights (ours starts at 10 µs), which no position can undercut.
      fc.pre(rttMs > 1000 * (peer.height + 10e-6) * 1.05);
      const t = new Topology('self', { codec: coordinateCodec, rng: seededRng(seed) });
      for (let i = 0; i < 1000; i++) t.observe('p', peer, rttMs);
      const est = t.estimateRttMs('self', 'p') as number;
      // Within 5 %, plus the pull of gravity towards the origin (a peer up to ~300 ms out holds us ~0.1 ms short).
      expect(Math.abs(est - rttMs)).toBeLessThan(0.05 * rttMs + 0.1);
    }), { seed: propertySeed(1503), numRuns: 100 });
  });
});
