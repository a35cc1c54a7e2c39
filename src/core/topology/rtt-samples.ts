import type { RttEstimate } from './topology.js';

export interface RttSamplesOptions {
  /** Samples kept per peer (the most recent). Default 3. */
  readonly perPeer?: number;
  /** Samples older than this are not used. Default 10 min. */
  readonly maxAgeMs?: number;
  /** Peers with samples at most (the least recently sampled are forgotten first). Default 1,024. */
  readonly maxPeers?: number;
}

export const DEFAULT_RTT_SAMPLES: Required<RttSamplesOptions> = { perPeer: 3, maxAgeMs: 600_000, maxPeers: 1024 };

interface PeerSamples {
  /** Round trips (ms) and when they were taken, oldest first, at most `perPeer`. */
  readonly rtts: number[];
  readonly at: number[];
}

/**
 * A few recent direct round trips per peer (sans-IO: times are given), and the ranking they
 * settle: `rank` orders peers by their measured round trip where one is known and by their
 * estimate otherwise.
 *
 * Why measure at all when coordinates estimate every pair: the nearest few peers of a node are
 * often a few per cent apart (the 5th and 6th nearest of a 1,000-node data centre differ by about
 * 2 %), which is the noise of a coordinate fitted from a few hundred samples; a direct round
 * trip is exact up to queueing delay. Delay only ever adds to a round trip, so the *minimum* of
 * the recent samples is the measure (as TCP's min-RTT): one queued packet does not make a near
 * peer look far.
 */
export class RttSamples {
  readonly perPeer: number;
  readonly maxAgeMs: number;
  readonly maxPeers: number;
  /** In order of last sample, least recent first (a `Map` keeps insertion order). */
  private readonly peers = new Map<string, PeerSamples>();

  constructor(o: RttSamplesOptions = {}) {
    const c = { ...DEFAULT_RTT_SAMPLES, ...o };
    for (const [k, v] of [['perPeer', c.perPeer], ['maxPeers', c.maxPeers]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`rtt samples: ${k} must be a whole number ≥ 1, got ${v}`);
    }
    if (!(c.maxAgeMs > 0)) throw new RangeError(`rtt samples: maxAgeMs must be > 0, got ${c.maxAgeMs}`);
    this.perPeer = c.perPeer;
    this.maxAgeMs = c.maxAgeMs;
    this.maxPeers = c.maxPeers;
  }

  /** Peers with samples (fresh or not). */
  get size(): number {
    return this.peers.size;
  }

  /** One direct round trip to `peer` taken at `nowMs`. Not a finite number ≥ 0: ignored. */
  record(peer: string, rttMs: number, nowMs: number): void {
    if (!(Number.isFinite(rttMs) && rttMs >= 0)) return;
    let s = this.peers.get(peer);
    if (s !== undefined) this.peers.delete(peer);
    else s = { rtts: [], at: [] };
    s.rtts.push(rttMs);
    s.at.push(nowMs);
    if (s.rtts.length > this.perPeer) {
      s.rtts.shift();
      s.at.shift();
    }
    this.peers.set(peer, s);
    if (this.peers.size > this.maxPeers) {
      const oldest = this.peers.keys().next();
      if (oldest.done !== true) this.peers.delete(oldest.value);
    }
  }

  /** The least of `peer`'s samples taken after `nowMs − maxAgeMs`, or undefined. */
  measuredMs(peer: string, nowMs: number): number | undefined {
    const s = this.peers.get(peer);
    if (s === undefined) return undefined;
    const since = nowMs - this.maxAgeMs;
    let best: number | undefined;
    for (let i = 0; i < s.rtts.length; i++) if ((s.at[i] as number) > since && (best === undefined || (s.rtts[i] as number) < best)) best = s.rtts[i];
    return best;
  }

  /** How many of `peer`'s samples are fresh at `nowMs`. */
  freshCount(peer: string, nowMs: number): number {
    const s = this.peers.get(peer);
    if (s === undefined) return 0;
    const since = nowMs - this.maxAgeMs;
    let n = 0;
    for (const t of s.at) if (t > since) n++;
    return n;
  }

  /** When `peer` was last sampled (−Infinity if never). */
  lastSampledMs(peer: string): number {
    const at = this.peers.get(peer)?.at;
    return at === undefined || at.length === 0 ? -Infinity : (at[at.length - 1] as number);
  }

  forget(peer: string): void {
    this.peers.delete(peer);
  }

  /**
   * The `k` nearest of `estimates`: each peer at its measured round trip where it has a fresh
   * sample, at its estimate otherwise; nearest first, ties by name. The returned `rttMs` is the
   * value it was ranked by.
   */
  rank(k: number, estimates: Iterable<RttEstimate>, nowMs: number): RttEstimate[] {
    const top = new TopK(k);
    for (const e of estimates) {
      const m = this.measuredMs(e.name, nowMs);
      top.offer(m === undefined ? e : { name: e.name, rttMs: m });
    }
    return top.sorted();
  }
}

/**
 * The `k` least of a stream by `byRtt`, without sorting it all (a node ranks every member each
 * time it chooses an extra ping: 1,000 members, k 20).
 */
export class TopK {
  private readonly items: RttEstimate[] = [];

  constructor(private readonly k: number) {}

  offer(e: RttEstimate): void {
    const items = this.items;
    if (this.k <= 0) return;
    if (items.length === this.k && byRtt(e, items[items.length - 1] as RttEstimate) >= 0) return;
    // Binary search for its place, then one splice (a native move, however large k is).
    let lo = 0;
    let hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (byRtt(items[mid] as RttEstimate, e) <= 0) lo = mid + 1;
      else hi = mid;
    }
    items.splice(lo, 0, e);
    if (items.length > this.k) items.pop();
  }

  /** The least `k` offered, least first. */
  sorted(): RttEstimate[] {
    return this.items.slice();
  }
}

/** Nearest first, ties by name (a stable order whatever the input's). */
export function byRtt(x: RttEstimate, y: RttEstimate): number {
  return x.rttMs - y.rttMs || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0);
}
