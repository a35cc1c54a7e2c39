import type { CoordinateCodec } from '../../wire/coordinate.js';
import type { Rng } from '../rng.js';
import type { Coordinate, VivaldiConfig } from './coordinate.js';
import { DEFAULT_VIVALDI_CONFIG } from './coordinate.js';
import { RTT_NS_MAX, VivaldiClient } from './vivaldi.js';
import type { NodeCoordinates } from './local-space.js';
import { DEFAULT_LOCAL_RTT_MS, estimateBetweenMs, LOCAL_GATE } from './local-space.js';
import type { RttSamplesOptions } from './rtt-samples.js';
import { RttSamples, TopK } from './rtt-samples.js';
import type { NearestRefinerOptions } from './nearest-refiner.js';
import { NearestRefiner } from './nearest-refiner.js';

/**
 * Why a peer's coordinate or round trip was not used (each is counted, none throws):
 * `undecodable` (bad msgpack), `version` (a ping-version byte other than 1, as Serf logs
 * "Unsupported ping version"), `dimensions` (not our dimensionality), `invalid` (NaN or
 * infinity), `rtt-range` (a round trip below 0 or above 10 s, or not a number).
 */
export type CoordinateRejection = 'undecodable' | 'version' | 'dimensions' | 'invalid' | 'rtt-range';
export const COORDINATE_REJECTIONS: readonly CoordinateRejection[] = ['undecodable', 'version', 'dimensions', 'invalid', 'rtt-range'];

export interface TopologyStats {
  /** Observations that moved our coordinate. */
  updates: number;
  /** Observations refused, by reason. */
  readonly rejected: Record<CoordinateRejection, number>;
  /** Peer coordinates with a value out of bounds (|x| > 10 s, error outside [0, max], height below the minimum), brought into bounds before use. */
  clamped: number;
  /** Acks that carried no payload (a node without coordinates; Serf ignores them too). */
  empty: number;
  /** Observations (round trips of at most `localRttMs`) that moved our local-space coordinate. */
  localUpdates: number;
  /** Local-space coordinates from peers that were refused (undecodable, NaN, wrong dimensions): Serf's coordinate in the same ack is still used. */
  localRejected: number;
  /** Extra pings asked for to measure a near peer (`refine`). */
  refinePings: number;
  /** Acks we sent naming our nearest members (to pings that asked: `ackPayload(near)`). */
  nearNamesSent: number;
  /** Names of a peer's nearest members received in acks (unknown to us: kept for discovery). */
  nearNamesReceived: number;
  /** Lists of nearest names refused (undecodable, too long, not strings, over-long names). */
  nearNamesRefused: number;
}

export interface TopologyOptions {
  readonly codec: CoordinateCodec;
  /** For the random direction Serf draws when two coordinates coincide. */
  readonly rng: Rng;
  /** Serf's defaults unless overridden (a cluster must agree on `dimensionality`). */
  readonly vivaldi?: Partial<VivaldiConfig>;
  /** Our coordinate as a previous life saved it (invalid or mis-sized: ignored, and `restored` says so). */
  readonly coordinate?: Coordinate;
  /**
   * Round trips up to this many ms also feed a second, local coordinate space (see
   * `local-space.ts`), sent after Serf's coordinate in our acks; 0 turns it off (acks are then
   * exactly Serf's). Default `DEFAULT_LOCAL_RTT_MS`.
   */
  readonly localRttMs?: number;
  /** `auto` (default): the local space is used while the cluster shows wide-area round trips (`WIDE_SHARE_ON`); `always`: from the start, whatever the round trips. */
  readonly localSpace?: 'auto' | 'always';
  /**
   * `nearest` settled by direct round trips (default on): a few recent samples per peer
   * (`rtt-samples.ts`), and in a large cluster a low-rate extra ping to the nearest candidates
   * (`nearest-refiner.ts`). False: `nearest` ranks by estimate alone and no extra ping is asked for.
   */
  readonly refine?: false | (RttSamplesOptions & NearestRefinerOptions);
}

/** One member and its round trip from us: estimated, or measured where `nearest` ranked it by a direct sample. */
export interface RttEstimate {
  readonly name: string;
  readonly rttMs: number;
}

/**
 * No component of a sane coordinate is anywhere near this (seconds: Serf refuses round trips
 * above 10 s). A peer's value beyond it is clamped, so one hostile ack cannot fling our
 * coordinate to infinity (which Serf would only notice afterwards, resetting it).
 */
export const COORDINATE_BOUND_S = 10;

/** The most of our nearest members we name in one ack, whatever the ping asked. */
export const NEAR_NAMES_SENT_MAX = 3;

/**
 * The local space is used (sent in our acks, our own coordinate in estimates) only while the
 * cluster spans distances one space cannot hold: while a share of this node's recent round trips
 * (an exponential average over about `1 / WIDE_SHARE_WEIGHT` observations) are too long for the
 * local space. A cluster in one data centre (or on loopback) keeps acks exactly Serf's 130 bytes
 * (issue 12's idle bytes) and its estimates in Serf's space; one spanning regions turns it on
 * within a few dozen probes and pays 58 bytes an ack. The two thresholds keep a node from
 * flickering, and keep the odd slow host of a LAN (a detour, a triangle violation) from turning
 * it on.
 */
export const WIDE_SHARE_WEIGHT = 0.01;
export const WIDE_SHARE_ON = 0.15;
export const WIDE_SHARE_OFF = 0.05;

const clampTo = (v: number, lo: number, hi: number): number => (v < lo ? lo : v > hi ? hi : v);

/**
 * This node's place in the network (sans-IO): our Vivaldi coordinate, updated by every direct
 * probe's ack that carries a coordinate (from Serf or from us), and the last coordinate each
 * peer sent us (Serf's coordinate cache). It makes our ack payload, estimates the round trip
 * between any two known nodes, and ranks members by distance.
 *
 * Input from peers never throws: undecodable payloads, wrong versions and dimensions, NaN or
 * infinite values and impossible round trips are refused and counted; finite values out of
 * bounds are clamped and counted.
 */
export class Topology {
  readonly stats: TopologyStats = {
    updates: 0, rejected: { undecodable: 0, version: 0, dimensions: 0, invalid: 0, 'rtt-range': 0 }, clamped: 0, empty: 0, localUpdates: 0, localRejected: 0, refinePings: 0, nearNamesSent: 0, nearNamesReceived: 0, nearNamesRefused: 0,
  };
  /** Round trips up to this feed the local space (0: none). */
  readonly localRttMs: number;
  /** True when `coordinate` was given and taken. */
  readonly restored: boolean;
  private readonly client: VivaldiClient;
  private readonly codec: CoordinateCodec;
  private readonly cache = new Map<string, Coordinate>();
  /** Our local-space client (null when the local space is off). */
  private readonly localClient: VivaldiClient | null;
  /** Peers' local-space coordinates (only of peers that sent one). */
  private readonly localCache = new Map<string, Coordinate>();
  /** Average share of recent round trips longer than the local space holds, and whether the local space is in use. */
  private wideShare = 0;
  private localInUse = false;
  private readonly localPinned: boolean;
  /** Direct round trips per peer and the extra-ping schedule (null with `refine: false`). */
  private readonly samples: RttSamples | null;
  private readonly refiner: NearestRefiner | null;
  /** The latest time the node told us (sample freshness). */
  private nowMs = -Infinity;

  constructor(
    /** Our node's name (its entry in the cache is our live coordinate). */
    readonly self: string,
    o: TopologyOptions,
  ) {
    this.codec = o.codec;
    this.client = new VivaldiClient({ ...DEFAULT_VIVALDI_CONFIG, ...o.vivaldi }, o.rng);
    const local = o.localRttMs ?? DEFAULT_LOCAL_RTT_MS;
    if (!(Number.isFinite(local) && local >= 0)) throw new RangeError(`topology: localRttMs must be a number ≥ 0, got ${local}`);
    this.localRttMs = local;
    this.localClient = local > 0 ? new VivaldiClient(this.client.config, o.rng) : null;
    this.localPinned = o.localSpace === 'always';
    this.restored = o.coordinate !== undefined && this.client.setCoordinate(o.coordinate) === null;
    const refine = o.refine ?? {};
    this.samples = refine === false ? null : new RttSamples(refine);
    this.refiner = refine === false || this.samples === null ? null : new NearestRefiner(this.samples, refine);
  }

  get config(): VivaldiConfig {
    return this.client.config;
  }

  /** Updates that produced an invalid coordinate and reset ours to the origin (Serf's `coordinate_resets`). */
  get resets(): number {
    return this.client.resets;
  }

  /** Our coordinate. */
  coordinate(): Coordinate {
    return this.client.coordinate;
  }

  /** Our local-space coordinate (null with the local space off). Like Serf's, it starts at the origin with the maximal error. */
  localCoordinate(): Coordinate | null {
    return this.localClient?.coordinate ?? null;
  }

  /** Whether the local space is in use: on, and the cluster has lately shown wide-area round trips (`WIDE_SHARE_ON`). */
  get sendsLocal(): boolean {
    return this.localClient !== null && (this.localInUse || this.localPinned);
  }

  /**
   * Our ack payload: `01` + our coordinate (Serf's `AckPayload`), then our local-space
   * coordinate while `sendsLocal`. With `near` (the ping asked: only our extra pings do), then
   * the names of our `near.count` nearest members (at most `NEAR_NAMES_SENT_MAX`), the asker
   * left out, as `nearest` ranks them; with `refine: false` nothing is named.
   */
  ackPayload(near?: { readonly count: number; readonly from: string | null }): Uint8Array {
    const local = this.sendsLocal ? this.localCoordinate() : null;
    const count = near === undefined || this.samples === null ? 0 : Math.min(Math.floor(near.count), NEAR_NAMES_SENT_MAX);
    if (!(count > 0)) return this.codec.encode(this.client.coordinate, local);
    const names: string[] = [];
    for (const e of this.nearest(count + 1, this.cache.keys())) if (e.name !== near?.from && names.length < count) names.push(e.name);
    if (names.length === 0) return this.codec.encode(this.client.coordinate, local);
    this.stats.nearNamesSent++;
    return this.codec.encodeWithNear(this.client.coordinate, local, names);
  }

  /**
   * A direct probe of `node` (or an extra ping, `extraPingTarget`) was answered after `rttMs`
   * with `payload` (memberlist's `NotifyPingComplete`) at `nowMs`: decode the peer's coordinate,
   * update ours, cache theirs, and keep the round trip as a sample. Returns whether the
   * coordinate was used.
   */
  handlePingComplete(node: string, rttMs: number, payload: Uint8Array | null, nowMs?: number): boolean {
    if (nowMs !== undefined && nowMs > this.nowMs) this.nowMs = nowMs;
    if (this.samples !== null && node !== this.self && rttMs * 1e6 <= RTT_NS_MAX) this.samples.record(node, rttMs, this.nowMs);
    if (payload === null || payload.length === 0) {
      this.stats.empty++;
      return false;
    }
    const d = this.codec.decode(payload);
    if (!d.ok) {
      this.stats.rejected[d.reason === 'unknown-type' ? 'version' : 'undecodable']++;
      return false;
    }
    let local: Coordinate | null = null;
    if (this.localClient !== null) {
      const l = this.codec.decodeLocal(payload);
      if (l.ok) local = l.value;
      else this.stats.localRejected++;
    }
    const used = this.observe(node, d.value, rttMs, local);
    if (this.refiner !== null) this.noteNamed(node, rttMs, payload);
    return used;
  }

  /** The names `node` (`rttMs` away) sent of its nearest members: those unknown to us are candidates for discovery (`NearestRefiner.noteNamed`). */
  private noteNamed(node: string, rttMs: number, payload: Uint8Array): void {
    const r = this.refiner;
    if (r === null) return;
    const names = this.codec.decodeNear(payload);
    if (!names.ok) {
      this.stats.nearNamesRefused++;
      return;
    }
    for (const name of names.value) {
      if (name === this.self || name === node || name === '' || this.cache.has(name)) continue;
      this.stats.nearNamesReceived++;
      r.noteNamed(name, rttMs, this.nowMs);
    }
  }

  /** Counters of discovery by names (see `NearestRefiner.stats`); zeros with `refine: false`. */
  get namedStats(): { readonly named: number; readonly namedPinged: number; readonly namedDropped: number } {
    return this.refiner?.stats ?? { named: 0, namedPinged: 0, namedDropped: 0 };
  }

  /**
   * One observation (what `handlePingComplete` does after decoding): `rttMs` to `node` at
   * `other` in Serf's space and, when the peer sent one, `otherLocal` in the local space.
   */
  observe(node: string, other: Coordinate, rttMs: number, otherLocal: Coordinate | null = null): boolean {
    const peer = this.sanitize(other);
    if (typeof peer === 'string') {
      this.stats.rejected[peer]++;
      return false;
    }
    if (Number.isFinite(rttMs) && this.localClient !== null) this.noteReach(rttMs);
    // A peer that sends no local coordinate has none in use: its cached one is stale.
    if (otherLocal !== null) this.observeLocal(node, otherLocal, rttMs);
    else this.localCache.delete(node);
    // Go's time.Duration: whole nanoseconds.
    const rttNs = Math.round(rttMs * 1e6);
    const r = Number.isFinite(rttMs) ? this.client.update(node, peer, rttNs) : 'rtt-range';
    if (typeof r === 'string') {
      this.stats.rejected[r]++;
      return false;
    }
    this.stats.updates++;
    if (node !== this.self) this.cache.set(node, peer);
    return true;
  }

  /** Follows the share of wide-area round trips, turning the local space's use on and off (with hysteresis). */
  private noteReach(rttMs: number): void {
    this.wideShare += ((rttMs > LOCAL_GATE * this.localRttMs ? 1 : 0) - this.wideShare) * WIDE_SHARE_WEIGHT;
    if (!this.localInUse && this.wideShare >= WIDE_SHARE_ON) this.localInUse = true;
    else if (this.localInUse && this.wideShare < WIDE_SHARE_OFF) this.localInUse = false;
  }

  /** The local space's share of an observation: a close peer's local coordinate moves ours; any peer's is cached. */
  private observeLocal(node: string, other: Coordinate, rttMs: number): void {
    if (this.localClient === null || node === this.self) return;
    const peer = this.sanitize(other, true);
    if (typeof peer === 'string') {
      this.stats.localRejected++;
      this.localCache.delete(node);
      return;
    }
    this.localCache.set(node, peer);
    if (!(rttMs <= this.localRttMs)) return;
    if (typeof this.localClient.update(node, peer, Math.round(rttMs * 1e6)) === 'string') this.stats.localRejected++;
    else this.stats.localUpdates++;
  }

  /** Both coordinates of a node (ours for our own name), or undefined when its Serf coordinate is unknown. */
  nodeCoordinates(name: string): NodeCoordinates | undefined {
    const coordinate = this.coordinateOf(name);
    if (coordinate === undefined) return undefined;
    return { coordinate, local: name === this.self ? (this.sendsLocal ? this.localCoordinate() : null) : this.localCache.get(name) ?? null };
  }

  /** A peer's last coordinate (ours for our own name), or undefined. */
  coordinateOf(name: string): Coordinate | undefined {
    return name === this.self ? this.client.coordinate : this.cache.get(name);
  }

  /** Every coordinate known, ours first. */
  coordinates(): Map<string, Coordinate> {
    const out = new Map<string, Coordinate>([[this.self, this.client.coordinate]]);
    for (const [n, c] of this.cache) out.set(n, c);
    return out;
  }

  /**
   * The estimated round trip (ms) between two known nodes: Serf's `DistanceTo`, or the local
   * space's for a close pair that both have one (`estimateBetweenMs`); undefined if either is unknown.
   */
  estimateRttMs(a: string, b: string): number | undefined {
    const ca = this.nodeCoordinates(a);
    const cb = this.nodeCoordinates(b);
    return ca === undefined || cb === undefined ? undefined : estimateBetweenMs(ca, cb, this.localRttMs);
  }

  /**
   * The `k` candidates nearest to `from` (default: us), nearest first. From us: each at its
   * measured round trip where we have a fresh sample (`refine`), at its estimate otherwise;
   * from another node: by estimate. Candidates with neither are skipped.
   */
  nearest(k: number, candidates: Iterable<string>, from: string = this.self): RttEstimate[] {
    const origin = this.nodeCoordinates(from);
    if (origin === undefined || k <= 0) return [];
    const out: RttEstimate[] = [];
    const measured = from === this.self ? this.samples : null;
    for (const name of candidates) {
      if (name === from) continue;
      const c = this.nodeCoordinates(name);
      if (c !== undefined) out.push({ name, rttMs: estimateBetweenMs(origin, c, this.localRttMs) });
      else if (measured !== null) {
        const m = measured.measuredMs(name, this.nowMs);
        if (m !== undefined) out.push({ name, rttMs: m });
      }
    }
    if (measured !== null) return measured.rank(k, out, this.nowMs);
    const top = new TopK(k);
    for (const e of out) top.offer(e);
    return top.sorted();
  }

  /**
   * Ranks `estimates` of round trips from us as `nearest` does: at our measured round trip where
   * we have a fresh sample (by estimate alone with `refine: false`). For a caller that estimates
   * otherwise (the simulator's check uses every node's current coordinate).
   */
  rank(k: number, estimates: Iterable<RttEstimate>): RttEstimate[] {
    if (this.samples !== null) return this.samples.rank(k, estimates, this.nowMs);
    const top = new TopK(k);
    for (const e of estimates) top.offer(e);
    return top.sorted();
  }

  /**
   * Whom to ping now beside the SWIM probes (memberlist has no such ping; the prober asks at
   * each probe tick), or null: see `NearestRefiner`. `probeCycleMs` is how long the prober takes
   * to reach every member once; `isAlive` says which members may be pinged.
   */
  extraPingTarget(nowMs: number, probeCycleMs: number, isAlive: (name: string) => boolean): string | null {
    if (nowMs > this.nowMs) this.nowMs = nowMs;
    const r = this.refiner;
    if (r === null || !r.due(nowMs, probeCycleMs)) return null;
    const alive: string[] = [];
    for (const name of this.cache.keys()) if (isAlive(name)) alive.push(name);
    const target = r.target(nowMs, probeCycleMs, this.nearest(r.pool, alive), (name) => name !== this.self && !this.cache.has(name) && isAlive(name));
    if (target !== null) this.stats.refinePings++;
    return target;
  }

  /** A member pinged us (a probe, or a peer measuring us): a hint that it may be near (`NearestRefiner`). */
  notePinged(name: string, nowMs: number): void {
    if (nowMs > this.nowMs) this.nowMs = nowMs;
    if (name !== this.self) this.refiner?.notePinged(name, nowMs);
  }

  /** A member was reaped: forget its coordinate and latency samples (Serf's `eraseNode`). */
  forget(name: string): void {
    this.cache.delete(name);
    this.client.forgetNode(name);
    this.localCache.delete(name);
    this.localClient?.forgetNode(name);
    this.samples?.forget(name);
    this.refiner?.forget(name);
  }

  /**
   * Refuses NaN, infinities and the wrong dimensions; clamps finite values out of bounds
   * (counted once per coordinate, except a local coordinate's height a float32's rounding put
   * just below the minimum).
   */
  private sanitize(c: Coordinate, local = false): Coordinate | CoordinateRejection {
    if (c.vec.length !== this.client.config.dimensionality) return 'dimensions';
    if (!c.vec.every(Number.isFinite) || !Number.isFinite(c.error) || !Number.isFinite(c.adjustment) || !Number.isFinite(c.height)) return 'invalid';
    const b = COORDINATE_BOUND_S;
    const cfg = this.client.config;
    const vec = c.vec.map((v) => clampTo(v, -b, b));
    const out: Coordinate = {
      vec,
      error: clampTo(c.error, 0, cfg.vivaldiErrorMax),
      adjustment: clampTo(c.adjustment, -b, b),
      height: clampTo(c.height, cfg.heightMin, b),
    };
    const changed = out.error !== c.error || out.adjustment !== c.adjustment || out.height !== c.height || vec.some((v, i) => v !== c.vec[i]);
    const rounding = local && c.height >= Math.fround(cfg.heightMin) && out.error === c.error && out.adjustment === c.adjustment && vec.every((v, i) => v === c.vec[i]);
    if (changed && !rounding) this.stats.clamped++;
    return changed ? out : c;
  }
}
