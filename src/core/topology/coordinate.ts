/**
 * A network coordinate and the geometry on it, exactly as Serf's `coordinate` package computes
 * it (coordinate.go, config.go), so that a coordinate of ours and one of a Serf agent give the
 * same estimate on either side. Units are seconds, as on Serf's wire; the public API converts
 * to milliseconds.
 *
 * Go-exactness details kept on purpose: a distance is a `time.Duration` in Go (the float of
 * seconds × 1e9, truncated to whole nanoseconds) and is read back with `Duration.Seconds()`;
 * a unit vector is the difference multiplied by `1 / magnitude` (not divided by it); sums run
 * in index order.
 */
import type { Coordinate } from '../../wire/coordinate.js';
import type { Rng } from '../rng.js';

export type { Coordinate };

/** Serf's `coordinate.Config`; the names say which knob of the Vivaldi update each one is. */
export interface VivaldiConfig {
  /** Dimensions of `vec` (Serf: 8). A peer's coordinate of another size is rejected. */
  readonly dimensionality: number;
  /** Initial error, and its ceiling (Serf's `VivaldiErrorMax`, 1.5). */
  readonly vivaldiErrorMax: number;
  /** How far one observation moves the error: `error' = ce·w·wrongness + error·(1 − ce·w)`, `w = error / (error + other.error)` (0.25). */
  readonly vivaldiCE: number;
  /** How far one observation moves the coordinate: `force = cc·w·(rtt − distance)` (0.25). */
  readonly vivaldiCC: number;
  /** Samples of `rtt − rawDistance` averaged into `adjustment = Σ / (2·window)` (20; 0 disables). */
  readonly adjustmentWindowSize: number;
  /** The height never drops below this (seconds; 10 µs). */
  readonly heightMin: number;
  /** Moving-median filter over this many RTT samples per peer (3). */
  readonly latencyFilterSize: number;
  /** Gravity towards the origin: `force = −(distanceToOrigin / rho)²` per update (seconds; 150). */
  readonly gravityRho: number;
}

/** Serf's `DefaultConfig()` (serf ≥ 0.7, the one Debian's 0.9.4 runs). */
export const DEFAULT_VIVALDI_CONFIG: VivaldiConfig = Object.freeze({
  dimensionality: 8,
  vivaldiErrorMax: 1.5,
  vivaldiCE: 0.25,
  vivaldiCC: 0.25,
  adjustmentWindowSize: 20,
  heightMin: 10.0e-6,
  latencyFilterSize: 3,
  gravityRho: 150.0,
});

/** Serf's `zeroThreshold`: two coordinates closer than this are "on top of each other". */
export const ZERO_THRESHOLD = 1.0e-6;
const NS_PER_SECOND = 1e9;

/** Serf's `NewCoordinate`: the origin, maximal error, minimal height. */
export function newCoordinate(config: VivaldiConfig): Coordinate {
  return { vec: new Array<number>(config.dimensionality).fill(0), error: config.vivaldiErrorMax, adjustment: 0, height: config.heightMin };
}

/** Serf's `IsValid`: no NaN or infinity anywhere. */
export function isValidCoordinate(c: Coordinate): boolean {
  for (const v of c.vec) if (!Number.isFinite(v)) return false;
  return Number.isFinite(c.error) && Number.isFinite(c.adjustment) && Number.isFinite(c.height);
}

/**
 * Go's `time.Duration(seconds * 1e9)`: truncated towards zero to whole nanoseconds. (Go's
 * conversion of a float beyond int64 is undefined; callers only pass bounded coordinates.)
 */
export function toDurationNs(seconds: number): number {
  return Math.trunc(seconds * NS_PER_SECOND) + 0; // + 0: an integer has no −0
}

/** Go's `Duration.Seconds()`: whole seconds plus the nanosecond remainder / 1e9. */
export function durationSeconds(ns: number): number {
  const sec = Math.trunc(ns / NS_PER_SECOND);
  const nsec = ns - sec * NS_PER_SECOND;
  return sec + nsec / NS_PER_SECOND;
}

function magnitude(vec: readonly number[]): number {
  let sum = 0;
  for (const v of vec) sum += v * v;
  return Math.sqrt(sum);
}

function diff(a: readonly number[], b: readonly number[]): number[] {
  const out = new Array<number>(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] as number) - (b[i] as number);
  return out;
}

/** Serf's `rawDistanceTo` (seconds): |a − b| + both heights, no adjustment. */
export function rawDistance(a: Coordinate, b: Coordinate): number {
  return magnitude(diff(a.vec, b.vec)) + a.height + b.height;
}

/**
 * Serf's `DistanceTo` as a Go duration (ns): the raw distance plus both adjustments, unless
 * that sum is not positive (then the raw distance).
 */
export function distanceNs(a: Coordinate, b: Coordinate): number {
  let dist = rawDistance(a, b);
  const adjusted = dist + a.adjustment + b.adjustment;
  if (adjusted > 0) dist = adjusted;
  return toDurationNs(dist);
}

/** The estimated round trip between two coordinates in milliseconds (Serf's `DistanceTo`, as `serf rtt` prints it). */
export function estimateRttMs(a: Coordinate, b: Coordinate): number {
  return durationSeconds(distanceNs(a, b)) * 1000;
}

/**
 * Serf's `unitVectorAt`: the unit vector from `b` towards `a`, and their distance; when they
 * coincide, a random unit vector (from `rng`) and distance 0.
 */
function unitVectorAt(rng: Rng, a: readonly number[], b: readonly number[]): { unit: number[]; mag: number } {
  const ret = diff(a, b);
  const mag = magnitude(ret);
  if (mag > ZERO_THRESHOLD) return { unit: ret.map((v) => v * (1.0 / mag)), mag };
  for (let i = 0; i < ret.length; i++) ret[i] = rng.next() - 0.5;
  const m2 = magnitude(ret);
  if (m2 > ZERO_THRESHOLD) return { unit: ret.map((v) => v * (1.0 / m2)), mag: 0 };
  const axis = new Array<number>(ret.length).fill(0);
  axis[0] = 1.0;
  return { unit: axis, mag: 0 };
}

/**
 * Serf's `ApplyForce`: moves `c` by `force` seconds away from `other` (towards it when
 * negative); the height grows or shrinks in proportion, never below `heightMin`.
 */
export function applyForce(config: VivaldiConfig, rng: Rng, c: Coordinate, force: number, other: Coordinate): Coordinate {
  const { unit, mag } = unitVectorAt(rng, c.vec, other.vec);
  const vec = c.vec.map((v, i) => v + (unit[i] as number) * force);
  let height = c.height;
  if (mag > ZERO_THRESHOLD) {
    height = ((height + other.height) * force) / mag + height;
    height = Math.max(height, config.heightMin);
  }
  return { vec, error: c.error, adjustment: c.adjustment, height };
}
