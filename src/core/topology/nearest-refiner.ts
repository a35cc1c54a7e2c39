import type { RttSamples } from './rtt-samples.js';
import type { RttEstimate } from './topology.js';

export interface NearestRefinerOptions {
  /** At most one extra ping per this many ms. Default 5 s. */
  readonly intervalMs?: number;
  /**
   * Extra pings only while the SWIM probe cycle (live members × probe interval) is at least this
   * long: below it every member is probed, and so measured, often enough. Default 2 min (more
   * than 120 members at memberlist's 1 s probe interval; never at 64 or fewer).
   */
  readonly minProbeCycleMs?: number;
  /** How many of the nearest peers (by the ranking `nearest` uses) are kept measured. Default 20. */
  readonly pool?: number;
}

export const DEFAULT_NEAREST_REFINER: Required<NearestRefinerOptions> = { intervalMs: 5000, minProbeCycleMs: 120_000, pool: 20 };

/**
 * When to send a ping beside the SWIM probes, and to whom, so that `nearest(k)` is settled by
 * measurement (sans-IO: the prober asks at each of its ticks, with the time and the length of
 * its probe cycle).
 *
 * Coordinates choose the candidates, direct round trips settle their order. In a large cluster
 * SWIM's probes reach each member once per cycle (1,000 members, 1 s interval: once in about
 * 17 minutes), too rarely to tell apart peers a few per cent apart, and the coordinate itself is
 * only that good. So while the cycle is long (`minProbeCycleMs`), every `intervalMs` this node
 * pings one of its `pool` nearest peers: the one with the fewest fresh samples, then the one
 * sampled longest ago, then the nearest. The ping is an ordinary memberlist ping, which any
 * member (a Serf agent too) answers with its coordinate.
 */
export class NearestRefiner {
  readonly intervalMs: number;
  readonly minProbeCycleMs: number;
  readonly pool: number;
  private nextAtMs = -Infinity;

  constructor(private readonly samples: RttSamples, o: NearestRefinerOptions = {}) {
    const c = { ...DEFAULT_NEAREST_REFINER, ...o };
    if (!(Number.isFinite(c.intervalMs) && c.intervalMs > 0)) throw new RangeError(`nearest refiner: intervalMs must be > 0, got ${c.intervalMs}`);
    if (!(c.minProbeCycleMs >= 0)) throw new RangeError(`nearest refiner: minProbeCycleMs must be ≥ 0, got ${c.minProbeCycleMs}`);
    if (!Number.isInteger(c.pool) || c.pool < 1) throw new RangeError(`nearest refiner: pool must be a whole number ≥ 1, got ${c.pool}`);
    this.intervalMs = c.intervalMs;
    this.minProbeCycleMs = c.minProbeCycleMs;
    this.pool = c.pool;
  }

  /** Whether a probe cycle this long calls for extra pings. */
  active(probeCycleMs: number): boolean {
    return probeCycleMs >= this.minProbeCycleMs;
  }

  /** Whether an extra ping is due now (a cheap check before ranking the candidates). */
  due(nowMs: number, probeCycleMs: number): boolean {
    return this.active(probeCycleMs) && nowMs >= this.nextAtMs;
  }

  /**
   * The peer to ping now, or null (the cycle is short, the last extra ping was under
   * `intervalMs` ago, or no candidate). `ranked` is the candidates ranked as `nearest` ranks
   * them, nearest first (only its first `pool` are looked at). Returning a peer counts as
   * sending the ping.
   */
  target(nowMs: number, probeCycleMs: number, ranked: readonly RttEstimate[]): string | null {
    if (!this.due(nowMs, probeCycleMs)) return null;
    let best: string | null = null;
    let bestCount = Infinity;
    let bestLast = Infinity;
    const n = Math.min(this.pool, ranked.length);
    for (let i = 0; i < n; i++) {
      const name = (ranked[i] as RttEstimate).name;
      const count = this.samples.freshCount(name, nowMs);
      const last = this.samples.lastSampledMs(name);
      if (count < bestCount || (count === bestCount && last < bestLast)) {
        best = name;
        bestCount = count;
        bestLast = last;
      }
    }
    if (best !== null) this.nextAtMs = nowMs + this.intervalMs;
    return best;
  }
}
