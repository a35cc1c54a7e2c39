import type { Config } from '../core/config.js';
import { defaultConfig } from '../core/config.js';
import type { DisseminationConfig } from '../core/dissemination/config.js';
import { DEFAULT_DISSEMINATION } from '../core/dissemination/config.js';
import type { PeerSampler } from '../core/dissemination/disseminator.js';
import { Disseminator } from '../core/dissemination/disseminator.js';
import type { Address } from '../core/ids.js';
import { millis } from '../core/ids.js';
import type { NodeEventType } from '../core/events.js';
import type { GossipNode } from '../core/membership/node.js';
import type { Rng } from '../core/rng.js';
import { percentiles } from './membership.js';
import type { NetworkOptions } from './network.js';
import type { LatencySpec } from './latency-model.js';
import { oracleSampler } from './oracle-sampler.js';
import type { RoundTrial } from './rounds.js';
import { Simulator } from './simulator.js';

/**
 * The full engine for dissemination: the production `Disseminator` on every node of the
 * simulator, on virtual time, over the simulated network. Partners come either from each
 * node's own SWIM member list (`membership: 'swim'`, a converged cluster running the whole
 * membership protocol beside dissemination) or from an oracle that knows every live node
 * (`'oracle'`: the same engine without membership's cost, for large n).
 */
export type MembershipSource = 'swim' | 'oracle';

export interface FullEngineOptions {
  readonly nodes: number;
  readonly seed: number;
  readonly dissemination?: Partial<DisseminationConfig>;
  readonly membership?: MembershipSource;
  readonly network?: Partial<NetworkOptions>;
  readonly config?: Config;
  /** Places the nodes in regions and zones (true round trips per pair); none: every pair alike. */
  readonly latency?: LatencySpec;
  /**
   * With a latency model: each engine gets `rtt(peer)` from the model's true round trips
   * ('model', the default; plumtree's eager peers prefer near ones), or none ('none': random).
   */
  readonly rtt?: 'model' | 'none';
}

/** A simulator with a Disseminator on every node, started converged. */
export class DisseminationCluster {
  readonly sim: Simulator;
  readonly engines: Disseminator[] = [];
  readonly config: DisseminationConfig;
  private readonly up: Uint8Array;
  private liveCount: number;
  private readonly lives: Uint32Array;
  private readonly indexOf = new Map<Address, number>();

  constructor(readonly options: FullEngineOptions) {
    const n = options.nodes;
    this.config = { ...DEFAULT_DISSEMINATION, ...options.dissemination };
    const swim = (options.membership ?? 'oracle') === 'swim';
    // Plumtree hears membership's verdicts (SWIM's events, or the oracle's at once in crash and restart).
    const events: NodeEventType[] = swim && this.config.mode === 'plumtree' ? ['member-failed', 'member-left', 'member-joined', 'member-recovered'] : [];
    this.sim = new Simulator({ seed: options.seed, nodes: n, config: options.config ?? defaultConfig('lan'), network: options.network ?? {}, events, ...(options.latency !== undefined ? { latency: options.latency } : {}) });
    this.up = new Uint8Array(n).fill(1);
    this.liveCount = n;
    this.lives = new Uint32Array(n);
    this.sim.addrs.forEach((a, i) => this.indexOf.set(a, i));
    if (events.length > 0) {
      this.sim.observe((now, i, e) => {
        if (e.type === 'member-failed' || e.type === 'member-left') this.sim.withData(i, (d) => (d as Disseminator).handlePeerDown(millis(now), e.member.addr, e.member.name));
        else if (e.type === 'member-joined' || e.type === 'member-recovered') this.sim.withData(i, (d) => (d as Disseminator).handlePeerUp(e.member.addr));
      });
    }
    for (let i = 0; i < n; i++) {
      if (swim) this.sim.startConverged(i);
      const d = this.engine(i, this.sim.names[i] as string);
      this.engines.push(d);
      this.sim.attach(i, d);
    }
  }

  private engine(i: number, origin: string): Disseminator {
    const swim = (this.options.membership ?? 'oracle') === 'swim';
    const peers = swim ? this.swimSampler(i) : oracleSampler(i, this.sim.addrs, this.up, () => this.liveCount);
    const model = this.sim.network.model;
    const rtt = model !== null && this.options.rtt !== 'none'
      ? (peer: Address): number | undefined => {
        const j = this.indexOf.get(peer);
        return j === undefined ? undefined : model.rttMs(i, j);
      }
      : undefined;
    return new Disseminator({ origin, config: this.config, rng: this.sim.rng.fork(), now: millis(this.sim.now), peers, ...(rtt !== undefined ? { rtt } : {}) });
  }

  /** Restarts a crashed node (oracle membership): a fresh engine, empty, under a new origin id for its versions. */
  restart(i: number): void {
    if (this.up[i] === 1) return;
    this.up[i] = 1;
    this.liveCount++;
    this.lives[i] = (this.lives[i] as number) + 1;
    const d = this.engine(i, `${this.sim.names[i] as string}~${this.lives[i]}`);
    this.engines[i] = d;
    this.sim.attach(i, d);
    const addr = this.sim.addrs[i] as Address;
    this.eachLiveEngine(i, (e) => e.handlePeerUp(addr));
  }

  /** Runs `fn` on every live engine but node `except`'s, sending what it produces. */
  private eachLiveEngine(except: number, fn: (d: Disseminator) => void): void {
    if (this.config.mode !== 'plumtree') return;
    for (let j = 0; j < this.engines.length; j++) {
      if (j === except || this.up[j] !== 1) continue;
      this.sim.withData(j, (d) => fn(d as Disseminator));
    }
  }

  /** Publishes an update at node i now. */
  publish(i: number, key: string, payload: Uint8Array, critical = false): void {
    const d = this.engines[i] as Disseminator;
    this.sim.withData(i, () => d.publish(millis(this.sim.now), key, payload, { critical }));
  }

  /** Crashes node i; with oracle membership, every live engine hears at once that it is dead. */
  crash(i: number): void {
    if (this.up[i] === 0) return;
    this.up[i] = 0;
    this.liveCount--;
    this.sim.crash(i);
    if ((this.options.membership ?? 'oracle') === 'swim') return;
    const addr = this.sim.addrs[i] as Address;
    const name = (this.engines[i] as Disseminator).origin;
    const now = millis(this.sim.now);
    this.eachLiveEngine(i, (d) => d.handlePeerDown(now, addr, name));
  }

  isUp(i: number): boolean {
    return this.up[i] === 1;
  }

  get live(): number {
    return this.liveCount;
  }

  private swimSampler(self: number): PeerSampler {
    const node = (): GossipNode | null => this.sim.nodes[self] ?? null;
    return {
      size: () => Math.max(0, (node()?.liveCount ?? 1) - 1),
      sample: (k: number, rng: Rng): Address[] => node()?.sampleMembers(k, rng) ?? [],
    };
  }
}

export interface FullTrial extends RoundTrial {
  /** Data-plane bytes per node. */
  bytesPerNode: number;
  /** Wall time building the cluster (with SWIM: every node's converged member list) and running it, by `clock`. */
  setupMs: number;
  runMs: number;
}

/**
 * One update from a random node at time 0 in synchronous rounds (`alignedRounds`): the round
 * a node was informed in is ⌊t / intervalMs⌋, as in the round engine (the source is round 0).
 */
export function fullTrial(o: FullEngineOptions & { maxRounds?: number }, clock: () => number = () => 0): FullTrial {
  const t0 = clock();
  const cluster = new DisseminationCluster({ ...o, dissemination: { ...o.dissemination, alignedRounds: true } });
  const t1 = clock();
  const { sim, config } = cluster;
  const n = o.nodes;
  const interval = config.intervalMs;
  const informedAt = new Float64Array(n).fill(Infinity);
  let informed = 0;
  sim.observeData((now, i, e) => {
    if (e.type === 'update' && informedAt[i] === Infinity) {
      informedAt[i] = now;
      informed++;
    }
  });
  const source = sim.rng.int(n);
  cluster.publish(source, 'k', new Uint8Array(16));
  const byRound = [informed];
  const maxRounds = o.maxRounds ?? 200;
  let round = 0;
  while (informed < n && round < maxRounds) {
    round++;
    // Everything sent at the round's tick has arrived half a round later.
    sim.run(round * interval + interval / 2);
    byRound.push(informed);
  }
  let last = 0;
  for (let i = 0; i < n; i++) if (informedAt[i] !== Infinity) last = Math.max(last, Math.floor((informedAt[i] as number) / interval));
  let payloads = 0;
  for (const d of cluster.engines) payloads += d.stats.payloadsOut;
  const t2 = clock();
  return { rounds: last, allInformed: informed === n, informedByRound: byRound, transmissions: payloads, bytesPerNode: sim.dataBytes / n, setupMs: Math.round(t1 - t0), runMs: Math.round(t2 - t1) };
}

export interface StreamOptions extends FullEngineOptions {
  /** Nodes that publish (chosen at random). */
  readonly writers: number;
  /** Updates per second, cluster-wide. */
  readonly updatesPerSec: number;
  readonly durationMs: number;
  /** Extra time after the last publish for stragglers. */
  readonly drainMs: number;
  /** Fraction of updates flagged critical. */
  readonly criticalShare?: number;
  readonly payloadBytes?: number;
  /** Nodes (a share of n, at random) that crash at a random time while updates are published and restart `downMs` later. */
  readonly churn?: { readonly share: number; readonly downMs: number };
}

export interface Spread {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface StreamResult {
  updates: number;
  /** Updates every node up at the end had by the end. */
  reachedEveryone: number;
  /** (node up at the end, update) pairs missing at the end. */
  missingAtEnd: number;
  /** Nodes that crashed and restarted (`churn`). */
  restarted: number;
  /** Publish → the last live node has it. */
  timeToEveryone: Spread;
  criticalTimeToEveryone: Spread | null;
  /** Payload transmissions (pushes + pull replies) per node per update. */
  payloadsPerNodePerUpdate: number;
  /** Data-plane bytes per node per second (plus membership's when charged). */
  bytesPerNodePerSec: number;
  deferred: number;
  /** Largest (bytes in [t0, t1]) − (burst + rate × (t1 − t0)) over every node and window; ≤ 0 = never over budget. */
  budgetExcessBytes: number | null;
  wallMs: number;
}

/**
 * A steady stream of updates from `writers` random nodes, `updatesPerSec` cluster-wide for
 * `durationMs`, then `drainMs` more; per update, the time until every live node had it.
 */
export function streamScenario(o: StreamOptions, clock: () => number = () => 0): StreamResult {
  const t0 = clock();
  const cluster = new DisseminationCluster(o);
  const { sim, config } = cluster;
  const n = o.nodes;
  const rng = sim.rng.fork();
  const writers: number[] = [];
  while (writers.length < Math.min(o.writers, n)) {
    const w = rng.int(n);
    if (!writers.includes(w)) writers.push(w);
  }
  interface Track {
    bornMs: number;
    critical: boolean;
    have: number;
    doneMs: number;
  }
  const tracks = new Map<string, Track>();
  sim.observeData((now, _i, e) => {
    if (e.type !== 'update') return;
    const id = `${e.update.origin}\u0000${e.update.version}`;
    let t = tracks.get(id);
    if (t === undefined) tracks.set(id, (t = { bornMs: e.update.bornMs, critical: e.update.critical, have: 0, doneMs: Infinity }));
    t.have++;
    if (t.have >= cluster.live && t.doneMs === Infinity) t.doneMs = now;
  });
  // Budget accounting per node: prefix sums of bytes against the token bucket's line.
  const budget = config.budget;
  const excess = new Float64Array(n).fill(-Infinity);
  const sum = new Float64Array(n);
  const best = new Float64Array(n).fill(-Infinity); // max over k of (rate·t_k − S_{k−1})
  const account = (now: number, i: number, bytes: number): void => {
    if (budget === null) return;
    const rate = budget.rateBytesPerSec / 1000;
    const cand = rate * now - (sum[i] as number);
    if (cand > (best[i] as number)) best[i] = cand;
    sum[i] = (sum[i] as number) + bytes;
    const e = (sum[i]) - rate * now + (best[i] as number) - budget.burstBytes;
    if (e > (excess[i] as number)) excess[i] = e;
  };
  sim.observeDataSends((now, i, t) => account(now, i, t.bytes));
  sim.observePackets((now, i, bytes) => account(now, i, bytes));

  const gapMs = 1000 / o.updatesPerSec;
  const payload = new Uint8Array(o.payloadBytes ?? 64);
  let published = 0;
  const critShare = o.criticalShare ?? 0;
  for (let t = gapMs; t <= o.durationMs; t += gapMs) {
    const w = writers[published % writers.length] as number;
    const critical = rng.next() < critShare;
    published++;
    sim.at(t, () => cluster.publish(w, `key-${published}`, payload, critical));
  }
  let restarted = 0;
  if (o.churn !== undefined && o.churn.share > 0) {
    const down = Math.round(o.churn.share * n);
    const picked = new Set<number>();
    while (picked.size < Math.min(down, n)) picked.add(rng.int(n));
    for (const i of picked) {
      const at = rng.next() * o.durationMs;
      sim.at(at, () => cluster.crash(i));
      sim.at(at + o.churn.downMs, () => {
        cluster.restart(i);
        restarted++;
      });
    }
  }
  sim.run(o.durationMs + o.drainMs);
  let missingAtEnd = 0;
  const reachedIds = new Set<string>();
  for (const id of tracks.keys()) {
    const [origin, v] = id.split('\u0000') as [string, string];
    let missing = 0;
    for (let i = 0; i < n; i++) if (cluster.isUp(i) && !(cluster.engines[i] as Disseminator).has(origin, Number(v))) missing++;
    missingAtEnd += missing;
    if (missing === 0) reachedIds.add(id);
  }
  const all: number[] = [];
  const crit: number[] = [];
  for (const t of tracks.values()) {
    const d = t.doneMs - t.bornMs;
    all.push(d);
    if (t.critical) crit.push(d);
  }
  let payloads = 0;
  let deferred = 0;
  for (const d of cluster.engines) {
    payloads += d.stats.payloadsOut;
    deferred += d.stats.deferred;
  }
  let maxExcess = -Infinity;
  for (const e of excess) if (e > maxExcess) maxExcess = e;
  return {
    updates: tracks.size,
    reachedEveryone: reachedIds.size,
    missingAtEnd,
    restarted,
    timeToEveryone: spread(all),
    criticalTimeToEveryone: crit.length > 0 ? spread(crit) : null,
    payloadsPerNodePerUpdate: tracks.size === 0 ? 0 : payloads / n / tracks.size,
    bytesPerNodePerSec: (sim.dataBytes + sim.bytes) / n / ((o.durationMs + o.drainMs) / 1000),
    deferred,
    // Rounded to a thousandth of a byte: the line is computed in floating point.
    budgetExcessBytes: budget === null ? null : Math.round(maxExcess * 1000) / 1000,
    wallMs: Math.round(clock() - t0),
  };
}

function spread(xs: number[]): Spread {
  const p = percentiles(xs);
  return { p50Ms: p.p50Ms ?? 0, p99Ms: p.p99Ms ?? 0, maxMs: p.maxMs ?? 0 };
}
