import type { Rng } from '../rng.js';
import type { Coordinate, VivaldiConfig } from './coordinate.js';
import {
  applyForce, distanceNs, durationSeconds, isValidCoordinate, newCoordinate, rawDistance, ZERO_THRESHOLD,
} from './coordinate.js';

/** Serf's ceiling on an observed round trip (`maxRTT`, 10 s), in nanoseconds. */
export const RTT_NS_MAX = 10_000_000_000;

/** Why `VivaldiClient.update` refused an observation (Serf returns an error and changes nothing). */
export type VivaldiRejection = 'dimensions' | 'invalid' | 'rtt-range';

/**
 * Serf's `coordinate.Client`: our own coordinate, moved by every observed round trip to a peer
 * whose coordinate we know. Each update runs Serf's steps in Serf's order: the per-peer
 * moving-median latency filter, the Vivaldi step (error, then force), the adjustment window,
 * a little gravity towards the origin; a result with a NaN or infinity resets the coordinate
 * (counted in `resets`). Sans-IO: the random unit vector Serf draws when two coordinates
 * coincide comes from the injected `Rng`.
 */
export class VivaldiClient {
  private coord: Coordinate;
  private readonly origin: Coordinate;
  private adjustmentIndex = 0;
  private readonly adjustmentSamples: number[];
  private readonly latencySamples = new Map<string, number[]>();
  /** Serf's `ClientStats.Resets`: updates whose result was not a valid coordinate. */
  resets = 0;

  constructor(
    readonly config: VivaldiConfig,
    private readonly rng: Rng,
  ) {
    if (!Number.isInteger(config.dimensionality) || config.dimensionality <= 0) throw new RangeError('vivaldi: dimensionality must be > 0');
    this.coord = newCoordinate(config);
    this.origin = newCoordinate(config);
    this.adjustmentSamples = new Array<number>(config.adjustmentWindowSize).fill(0);
  }

  /** Our coordinate (a copy-free immutable value). */
  get coordinate(): Coordinate {
    return this.coord;
  }

  /** Serf's `SetCoordinate`: forces our coordinate (a restart restores the saved one). Returns the rejection, if any. */
  setCoordinate(c: Coordinate): VivaldiRejection | null {
    const r = this.check(c);
    if (r === null) this.coord = { ...c, vec: [...c.vec] };
    return r;
  }

  /** Serf's `ForgetNode`: drops a peer's latency samples (it was reaped). */
  forgetNode(node: string): void {
    this.latencySamples.delete(node);
  }

  /**
   * Serf's `Update`: one observation of `rttNs` nanoseconds (an integer, Go's `time.Duration`)
   * to `node`, whose coordinate is `other`. Returns our new coordinate, or why the observation
   * was refused (nothing changes then).
   */
  update(node: string, other: Coordinate, rttNs: number): Coordinate | VivaldiRejection {
    const r = this.check(other);
    if (r !== null) return r;
    if (!(rttNs >= 0 && rttNs <= RTT_NS_MAX)) return 'rtt-range';
    const rttSeconds = this.latencyFilter(node, durationSeconds(Math.trunc(rttNs)));
    this.updateVivaldi(other, rttSeconds);
    this.updateAdjustment(other, rttSeconds);
    this.updateGravity();
    if (!isValidCoordinate(this.coord)) {
      this.resets++;
      this.coord = newCoordinate(this.config);
    }
    return this.coord;
  }

  /** Serf's `DistanceTo`: the estimated round trip from us to `other`, in nanoseconds. */
  distanceToNs(other: Coordinate): number {
    return distanceNs(this.coord, other);
  }

  private check(c: Coordinate): VivaldiRejection | null {
    if (c.vec.length !== this.coord.vec.length) return 'dimensions';
    if (!isValidCoordinate(c)) return 'invalid';
    return null;
  }

  private latencyFilter(node: string, rttSeconds: number): number {
    let samples = this.latencySamples.get(node);
    if (samples === undefined) {
      samples = [];
      this.latencySamples.set(node, samples);
    }
    samples.push(rttSeconds);
    if (samples.length > this.config.latencyFilterSize) samples.shift();
    const sorted = [...samples].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)] as number;
  }

  private updateVivaldi(other: Coordinate, rttIn: number): void {
    const c = this.config;
    const dist = durationSeconds(distanceNs(this.coord, other));
    const rtt = rttIn < ZERO_THRESHOLD ? ZERO_THRESHOLD : rttIn;
    const wrongness = Math.abs(dist - rtt) / rtt;
    let totalError = this.coord.error + other.error;
    if (totalError < ZERO_THRESHOLD) totalError = ZERO_THRESHOLD;
    const weight = this.coord.error / totalError;
    let error = c.vivaldiCE * weight * wrongness + this.coord.error * (1.0 - c.vivaldiCE * weight);
    if (error > c.vivaldiErrorMax) error = c.vivaldiErrorMax;
    this.coord = { ...this.coord, error };
    const delta = c.vivaldiCC * weight;
    const force = delta * (rtt - dist);
    this.coord = applyForce(c, this.rng, this.coord, force, other);
  }

  private updateAdjustment(other: Coordinate, rttSeconds: number): void {
    const w = this.config.adjustmentWindowSize;
    if (w === 0) return;
    // Serf uses the raw distance here: the adjustments do not figure in.
    const dist = rawDistance(this.coord, other);
    this.adjustmentSamples[this.adjustmentIndex] = rttSeconds - dist;
    this.adjustmentIndex = (this.adjustmentIndex + 1) % w;
    let sum = 0;
    for (const s of this.adjustmentSamples) sum += s;
    this.coord = { ...this.coord, adjustment: sum / (2.0 * w) };
  }

  private updateGravity(): void {
    const dist = durationSeconds(distanceNs(this.origin, this.coord));
    const ratio = dist / this.config.gravityRho;
    const force = -1.0 * (ratio * ratio);
    this.coord = applyForce(this.config, this.rng, this.coord, force, this.origin);
  }
}
