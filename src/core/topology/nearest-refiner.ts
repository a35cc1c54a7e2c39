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
  /** A member that pinged us this many times within `hintWindowMs` is worth discovering (see `notePinged`). Default 2. */
  readonly hintPings?: number;
  readonly hintWindowMs?: number;
  /** Members followed as hints at most (the least recently heard from are dropped first), and as many named ones (`noteNamed`). Default 256. */
  readonly maxHints?: number;
}

export const DEFAULT_NEAREST_REFINER: Required<NearestRefinerOptions> = { intervalMs: 5000, minProbeCycleMs: 120_000, pool: 20, hintPings: 2, hintWindowMs: 600_000, maxHints: 256 };

/** A member a near peer named among its nearest: the round trip to that peer (the nearer the namer, the likelier ours), when. */
interface Named {
  readonly viaMs: number;
  readonly atMs: number;
}

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
 *
 * Discovery: a node knows the coordinates only of members it has pinged, and in 10 minutes its
 * probes reach only 600 of 1,000. Who is near us but unknown? Those that refine *us*: a member
 * that pings us twice within 10 minutes is not probing (its probes come once a cycle) but
 * measuring us as one of its nearest, and nearness is roughly mutual. So a member that pinged
 * us `hintPings` times within `hintWindowMs` and whose coordinate we lack comes right after the
 * pool's unmeasured members: pinged once, it is known, and its round trip ranks it.
 *
 * Transitive discovery: the ack to an extra ping names the answerer's nearest members
 * (`noteNamed`); my near members' near members are likely mine. Those whose coordinate we lack
 * come after the hints, the one named by the nearest namer first; one that is not an alive
 * member when its turn comes is dropped and counted (`stats.namedDropped`).
 */
export class NearestRefiner {
  readonly intervalMs: number;
  readonly minProbeCycleMs: number;
  readonly pool: number;
  readonly hintPings: number;
  readonly hintWindowMs: number;
  readonly maxHints: number;
  private nextAtMs = -Infinity;
  /** Members that pinged us: how often since `sinceMs` (least recently heard from first). */
  private readonly hints = new Map<string, { count: number; sinceMs: number }>();
  /** Members named by near peers (least recently named first). */
  private readonly named = new Map<string, Named>();
  readonly stats = { named: 0, namedPinged: 0, namedDropped: 0 };

  constructor(private readonly samples: RttSamples, o: NearestRefinerOptions = {}) {
    const c = { ...DEFAULT_NEAREST_REFINER, ...o };
    if (!(Number.isFinite(c.intervalMs) && c.intervalMs > 0)) throw new RangeError(`nearest refiner: intervalMs must be > 0, got ${c.intervalMs}`);
    if (!(c.minProbeCycleMs >= 0)) throw new RangeError(`nearest refiner: minProbeCycleMs must be ≥ 0, got ${c.minProbeCycleMs}`);
    if (!Number.isInteger(c.pool) || c.pool < 1) throw new RangeError(`nearest refiner: pool must be a whole number ≥ 1, got ${c.pool}`);
    this.intervalMs = c.intervalMs;
    this.minProbeCycleMs = c.minProbeCycleMs;
    this.pool = c.pool;
    if (!Number.isInteger(c.hintPings) || c.hintPings < 1) throw new RangeError(`nearest refiner: hintPings must be a whole number ≥ 1, got ${c.hintPings}`);
    if (!Number.isInteger(c.maxHints) || c.maxHints < 0) throw new RangeError(`nearest refiner: maxHints must be a whole number ≥ 0, got ${c.maxHints}`);
    this.hintPings = c.hintPings;
    this.hintWindowMs = c.hintWindowMs;
    this.maxHints = c.maxHints;
  }

  /** Member `name` pinged us at `nowMs` (a probe, or a peer measuring us). */
  notePinged(name: string, nowMs: number): void {
    if (this.maxHints === 0) return;
    const h = this.hints.get(name);
    if (h !== undefined) this.hints.delete(name);
    const fresh = h !== undefined && nowMs - h.sinceMs <= this.hintWindowMs;
    this.hints.set(name, fresh ? { count: h.count + 1, sinceMs: h.sinceMs } : { count: 1, sinceMs: nowMs });
    if (this.hints.size > this.maxHints) {
      const oldest = this.hints.keys().next();
      if (oldest.done !== true) this.hints.delete(oldest.value);
    }
  }

  /**
   * Peer `via`, `viaMs` away, named `name` among its nearest members at `nowMs` (in the ack to
   * our extra ping). Kept as a candidate for discovery, at most `maxHints` (least recently
   * named dropped first).
   */
  noteNamed(name: string, viaMs: number, nowMs: number): void {
    if (this.maxHints === 0 || !Number.isFinite(viaMs)) return;
    const old = this.named.get(name);
    if (old !== undefined) this.named.delete(name);
    else this.stats.named++;
    const fresh = old !== undefined && nowMs - old.atMs <= this.hintWindowMs;
    this.named.set(name, { viaMs: fresh ? Math.min(old.viaMs, viaMs) : viaMs, atMs: nowMs });
    if (this.named.size > this.maxHints) {
      const oldest = this.named.keys().next();
      if (oldest.done !== true) this.named.delete(oldest.value);
    }
  }

  forget(name: string): void {
    this.hints.delete(name);
    this.named.delete(name);
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
   * them, nearest first (only its first `pool` are looked at); `unknown` says which members
   * may be discovered (alive, no coordinate known). In order: a pool member never measured, a
   * hint (the one that pinged us most), the pool member with the fewest fresh samples, then
   * the one sampled longest ago, then the nearest. Returning a peer counts as sending the ping.
   */
  target(nowMs: number, probeCycleMs: number, ranked: readonly RttEstimate[], unknown: (name: string) => boolean = () => false): string | null {
    if (!this.due(nowMs, probeCycleMs)) return null;
    const n = Math.min(this.pool, ranked.length);
    let unmeasured: string | null = null;
    for (let i = 0; i < n && unmeasured === null; i++) {
      const name = (ranked[i] as RttEstimate).name;
      if (this.samples.freshCount(name, nowMs) === 0) unmeasured = name;
    }
    let hint = unmeasured === null ? this.bestHint(nowMs, unknown) : null;
    if (hint !== null) this.hints.delete(hint);
    else if (unmeasured === null) {
      hint = this.bestNamed(nowMs, unknown);
      if (hint !== null) {
        this.named.delete(hint);
        this.stats.namedPinged++;
      }
    }
    if (unmeasured !== null || hint !== null) {
      this.nextAtMs = nowMs + this.intervalMs;
      return unmeasured ?? hint;
    }
    let best: string | null = null;
    let bestCount = Infinity;
    let bestLast = Infinity;
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

  /** The member that pinged us most (at least `hintPings` times within the window) and may be discovered; stale hints are dropped. */
  private bestHint(nowMs: number, unknown: (name: string) => boolean): string | null {
    let best: string | null = null;
    let bestCount = this.hintPings - 1;
    for (const [name, h] of this.hints) {
      if (nowMs - h.sinceMs > this.hintWindowMs) {
        this.hints.delete(name);
        continue;
      }
      if (h.count > bestCount && unknown(name)) {
        best = name;
        bestCount = h.count;
      }
    }
    return best;
  }

  /** The member named by the nearest namer that may still be discovered; stale ones, and those not alive or already known, are dropped. */
  private bestNamed(nowMs: number, unknown: (name: string) => boolean): string | null {
    let best: string | null = null;
    let bestVia = Infinity;
    for (const [name, n] of this.named) {
      if (nowMs - n.atMs > this.hintWindowMs || !unknown(name)) {
        this.named.delete(name);
        this.stats.namedDropped++;
        continue;
      }
      if (n.viaMs < bestVia) {
        best = name;
        bestVia = n.viaMs;
      }
    }
    return best;
  }
}
