import { defaultConfig } from '../core/config.js';
import type { DisseminationConfig } from '../core/dissemination/config.js';
import type { PeerSampler } from '../core/dissemination/disseminator.js';
import type { NodeName } from '../core/ids.js';
import type { VersionVector } from '../core/replica/dvv.js';
import { lwwWinner } from '../core/replica/crdt/register.js';
import type { Replica } from '../core/replica/replica.js';
import type { Resolver } from '../core/replica/resolver.js';
import type { StateMessage } from '../core/state/messages.js';
import type { StateNodeOptions } from '../core/state/options.js';
import { STATE_AGENT_TUNING } from '../core/state/options.js';
import type { StateEvent } from '../core/state/outbox.js';
import { StateNode } from '../core/state/state-node.js';
import { stateSizes } from '../wire/state.js';
import { percentiles } from './membership.js';
import type { IdleWindowResult } from './state-idle.js';
import { idleWindow } from './state-idle.js';
import type { NetworkOptions } from './network.js';
import { oracleSampler } from './oracle-sampler.js';
import { Simulator } from './simulator.js';
import type { LostWrites } from './state-oracle.js';
import { ownDot, StateOracle } from './state-oracle.js';

export type { LostWrites } from './state-oracle.js';
export { StateOracle } from './state-oracle.js';

/**
 * The replicated state on every node of the simulator (`StateNode`: replica + rumors + Merkle
 * anti-entropy + convergence digests), driven with random writes of mixed types on random
 * nodes, a partition that heals, crashes and restarts, and packet loss; then checked against
 * an independent oracle built only from the acknowledged operations.
 *
 * Timeline: writes at uniform random times in [0, writeWindowMs] (default 100 s); the partition (two random
 * halves) covers the last `partitionMs` of the window and heals when the writes end; crashes
 * happen at random times before the partition, each node down 5–15 s, and restarts with its
 * durable state (the same `Replica` object: an acknowledged write survives a crash; rumors
 * queued but not sent, sessions and digests are lost). After the heal the run continues until
 * every live node holds the same Merkle root and reports agreement 1, or `drainMaxMs`.
 *
 * Partners come from an oracle that knows which nodes are up (no SWIM beside it): the state
 * layer's cost alone, at 200 nodes and 50,000 writes in seconds.
 */
export type WriteType = 'lww' | 'counter' | 'orset';
export const WRITE_TYPES: readonly WriteType[] = ['lww', 'counter', 'orset'];

export interface StateScenarioOptions {
  readonly nodes: number;
  readonly keys: number;
  readonly writes: number;
  readonly types: readonly WriteType[];
  readonly partitionMs: number;
  readonly loss: number;
  readonly crashes: number;
  readonly seed: number;
  /** Writes spread over this window (default max(100 s, partitionMs + 20 s)). */
  readonly writeWindowMs?: number;
  /** Longest run after the heal (default 120 s). */
  readonly drainMaxMs?: number;
  /** false: every write left to anti-entropy. */
  readonly rumors?: boolean;
  /** Each node's writes whose dot counter is a multiple of this are timed until everyone has them (default 100; 0: none). */
  readonly sampleEvery?: number;
  /** The nodes run with the agent's knobs (`STATE_AGENT_TUNING`: broadcast tree, repair grace, lighter digests) under `state`'s. */
  readonly agentTuning?: boolean;
  /** After the scenario converged, run on this long with no write and report what it cost (`idle`; default 0: none). */
  readonly idleMs?: number;
  /** Anything else of the nodes' options. */
  readonly state?: Partial<Omit<StateNodeOptions, 'name' | 'rng' | 'now' | 'peers' | 'durable' | 'incarnation' | 'addressOf' | 'sampleEvery' | 'sizes'>>;
  readonly network?: Partial<NetworkOptions>;
  /** Sees the cluster at the end (diagnostics). */
  readonly inspect?: (c: StateCluster) => void;
}

export interface StateScenarioResult {
  nodes: number;
  keys: number;
  writes: number;
  types: WriteType[];
  seed: number;
  /** Acknowledged writes per type. */
  acknowledged: { lww: number; counter: number; orset: number };
  /** All live replicas held the same Merkle root at some point after the heal (then checked by the oracle). */
  converged: boolean;
  /** Heal → every live root equal (null: never within drainMaxMs). */
  convergedAfterHealMs: number | null;
  /** Heal → every live node reports agreement fraction 1 (its digest view). */
  agreementOneAfterHealMs: number | null;
  /** Acknowledged writes missing from the converged state or from any live replica at the end (see `StateOracle.check`). */
  lostWrites: number;
  lostByType: LostWrites;
  /** Values present that no acknowledged write explains (deleted keys, removed elements back). */
  resurrected: number;
  /** Most values (siblings) any register key holds on a live replica. */
  siblingsMax: number;
  rumorBytes: number;
  antiEntropyBytes: number;
  digestBytes: number;
  sessions: { started: number; complete: number; failed: number; timedOut: number; refused: number };
  repaired: number;
  tombstonesCollected: number;
  rumorsTooLarge: number;
  /**
   * Sampled writes (each node's writes whose dot counter is a multiple of `sampleEvery`, 100) as
   * the writing nodes report them (`update-everywhere`): from the write until every live member
   * had it, by the members' acknowledgements (or, where one was lost, their summaries or a
   * stability generation's bound: later).
   */
  timeToEveryone: { samples: number; p50Ms: number; p99Ms: number; maxMs: number };
  /**
   * The same sampled writes as the simulator sees them: from the write until every live replica
   * reflected it (checked every 100 ms).
   */
  simTimeToEveryone: { samples: number; p50Ms: number; p99Ms: number; maxMs: number };
  /**
   * The idle window (`idleMs`), after the scenario: bytes per node per second, data layer and
   * membership, and sessions started (null without one). The byte totals above exclude it; the
   * oracle checks every live replica again at its end.
   */
  idle: IdleWindowResult | null;
  simulatedMs: number;
  wallMs: number;
}

/**
 * Rumors in the scenario: a round's pushes to one peer go as one batch of up to 16 KB (the
 * simulator does not fragment; the agent sends a batch above a packet as a stream data message),
 * fanout 2, loss of interest at the first "already knew": at 500 writes/s cluster-wide, 1,400-byte
 * packets cannot carry the ~3 pushes per node per write and the hot lists would grow without end.
 */
export const SCENARIO_DISSEMINATION: Partial<DisseminationConfig> = { packetBytesMax: 16_384, fanout: 2, rumorK: 1 };

const PREFIX: Record<WriteType, string> = { lww: 'l/', counter: 'c/', orset: 's/' };
const RESOLVERS: Record<string, Resolver> = { 'l/': { type: 'lww' }, 'c/': { type: 'pncounter' }, 's/': { type: 'orset' } };
const ELEMENTS = 8;

/** A simulator with a `StateNode` on every node, the oracle beside it. */
export class StateCluster {
  readonly sim: Simulator<StateMessage, StateEvent>;
  readonly states: (StateNode | null)[] = [];
  /** Each node's durable replica (survives its crashes). */
  readonly durable: (Replica | null)[] = [];
  readonly oracle = new StateOracle();
  private readonly up: Uint8Array;
  /** Node index by name. */
  private readonly index = new Map<string, number>();
  private liveCount: number;
  private readonly lives: Int32Array;
  /** Totals of nodes that crashed (their counters are gone with them). */
  readonly retired = { rumorBytes: 0, antiEntropyBytes: 0, digestBytes: 0, started: 0, complete: 0, failed: 0, timedOut: 0, refused: 0, repaired: 0, collected: 0, tooLarge: 0 };

  constructor(
    readonly n: number,
    seed: number,
    private readonly stateOptions: Partial<StateNodeOptions>,
    network: Partial<NetworkOptions>,
  ) {
    this.sim = new Simulator<StateMessage, StateEvent>({ seed, nodes: n, config: defaultConfig('lan'), network, events: [] });
    this.up = new Uint8Array(n);
    this.liveCount = 0;
    this.lives = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      this.states.push(null);
      this.durable.push(null);
      this.index.set(this.name(i), i);
    }
    for (let i = 0; i < n; i++) this.boot(i, false);
    for (let i = 0; i < n; i++) (this.states[i] as StateNode).setMembers(0, this.liveNames());
  }

  isUp(i: number): boolean {
    return this.up[i] === 1;
  }

  get live(): number {
    return this.liveCount;
  }

  name(i: number): NodeName {
    return this.sim.names[i] as NodeName;
  }

  /** Runs `fn` on node i's state now and sends what it produced. */
  on(i: number, fn: (s: StateNode, now: number) => void): void {
    const s = this.states[i];
    if (s === null || s === undefined) return;
    this.sim.withData(i, () => fn(s, this.sim.now));
  }

  crash(i: number): void {
    if (this.up[i] === 0) return;
    const s = this.states[i] as StateNode;
    const r = this.retired;
    r.rumorBytes += s.stats.rumorBytes;
    r.antiEntropyBytes += s.stats.antiEntropyBytes;
    r.digestBytes += s.stats.digestBytes;
    r.started += s.stats.sessionsStarted;
    r.complete += s.stats.sessionsComplete;
    r.failed += s.stats.sessionsFailed;
    r.timedOut += s.stats.sessionsTimedOut;
    r.refused += s.stats.sessionsRefused;
    r.repaired += s.stats.repaired;
    r.collected += s.stats.tombstonesCollected;
    r.tooLarge += s.stats.rumorsTooLarge;
    this.up[i] = 0;
    this.liveCount--;
    this.states[i] = null;
    this.sim.crash(i);
    const name = this.name(i);
    for (let j = 0; j < this.n; j++) if (this.up[j] === 1) this.on(j, (s2, now) => s2.handleMemberGone(now, name));
  }

  restart(i: number): void {
    if (this.up[i] === 1) return;
    this.boot(i, true);
    const name = this.name(i);
    (this.states[i] as StateNode).setMembers(this.sim.now, this.liveNames());
    for (let j = 0; j < this.n; j++) if (j !== i && this.up[j] === 1) this.on(j, (s, now) => s.handleMemberAlive(now, name));
  }

  liveNames(): NodeName[] {
    const out: NodeName[] = [];
    for (let i = 0; i < this.n; i++) if (this.up[i] === 1) out.push(this.name(i));
    return out;
  }

  /** All live nodes hold the same Merkle root. */
  converged(): boolean {
    let root: string | null = null;
    for (const s of this.states) {
      if (s === null) continue;
      const r = s.root();
      if (root === null) root = r;
      else if (r !== root) return false;
    }
    return true;
  }

  /** Every live node reports that every live member agrees with it. */
  agreeing(): boolean {
    const now = this.sim.now;
    for (const s of this.states) if (s !== null && s.agreement(now).fraction !== 1) return false;
    return true;
  }

  private boot(i: number, restart: boolean): void {
    const name = this.name(i);
    const durable = this.durable[i];
    const life = restart ? (this.lives[i] = (this.lives[i] as number) + 1) : 0;
    const s = new StateNode({
      ...this.stateOptions,
      name,
      sizes: stateSizes(name),
      rng: this.sim.rng.fork(),
      now: this.sim.now,
      peers: this.sampler(i),
      addressOf: (member: NodeName) => {
        const j = this.index.get(member);
        return j !== undefined && this.up[j] === 1 ? this.sim.addrs[j] : undefined;
      },
      incarnation: life,
      replica: { resolvers: RESOLVERS, ...this.stateOptions.replica },
      ...(durable !== null && durable !== undefined ? { durable } : {}),
    });
    this.durable[i] = s.replica;
    this.states[i] = s;
    this.up[i] = 1;
    this.liveCount++;
    this.sim.attach(i, s);
  }

  private sampler(self: number): PeerSampler {
    return oracleSampler(self, this.sim.addrs, this.up, () => this.liveCount);
  }
}

/** The command that reproduces a run. */
export function stateCommand(o: StateScenarioOptions): string {
  const parts = [
    'npx gossip simulate state', `--nodes ${o.nodes}`, `--keys ${o.keys}`, `--writes ${o.writes}`, `--types ${o.types.join(',')}`,
    `--partition ${o.partitionMs / 1000}s`, `--loss ${o.loss}`, `--crash ${o.crashes}`,
  ];
  if (o.writeWindowMs !== undefined) parts.push(`--duration ${o.writeWindowMs / 1000}s`);
  if (o.drainMaxMs !== undefined) parts.push(`--drain ${o.drainMaxMs / 1000}s`);
  if (o.rumors === false) parts.push('--no-rumors');
  if (o.sampleEvery !== undefined && o.sampleEvery !== 100) parts.push(`--sample-every ${o.sampleEvery}`);
  if (o.agentTuning === true) parts.push('--agent-tuning');
  if (o.idleMs !== undefined && o.idleMs > 0) parts.push(`--idle ${o.idleMs / 1000}s`);
  parts.push(`--seed ${o.seed}`, '--json');
  return parts.join(' ');
}

/** Runs the scenario; `clock` (performance.now in the CLI) only measures wall time. */
export function stateScenario(o: StateScenarioOptions, clock: () => number = () => 0): StateScenarioResult {
  const t0 = clock();
  if (o.types.length === 0) throw new RangeError('stateScenario: at least one write type');
  const window = o.writeWindowMs ?? Math.max(100_000, o.partitionMs + 20_000);
  const drainMax = o.drainMaxMs ?? 120_000;
  const state: Partial<StateNodeOptions> = { ...(o.agentTuning === true ? STATE_AGENT_TUNING : {}), ...o.state, sampleEvery: o.sampleEvery ?? 100, dissemination: { ...SCENARIO_DISSEMINATION, ...o.state?.dissemination }, ...(o.rumors === false ? { rumors: false } : {}) };
  const cluster = new StateCluster(o.nodes, o.seed, state, { ...o.network, loss: o.loss });
  const { sim, oracle } = cluster;
  const rng = sim.rng.fork();
  const n = o.nodes;

  const everyone: number[] = [];
  sim.observeData((_now, _i, e) => {
    if (e.type === 'update-everywhere') everyone.push(e.update.elapsedMs);
  });

  // The sampled writes are followed on every live replica (the simulator's own time to everyone).
  const sampleEvery = o.sampleEvery ?? 100;
  const CHECK_MS = 100;
  const tracked: { origin: string; counter: number; atMs: number; cursor: number }[] = [];
  const trueEveryone: number[] = [];
  const checkTracked = (): void => {
    let kept = 0;
    for (const t of tracked) {
      while (t.cursor < n) {
        const s = cluster.states[t.cursor];
        if (s !== null && s !== undefined && !s.replica.hasSeen(t.origin, t.counter)) break;
        t.cursor++;
      }
      if (t.cursor === n) trueEveryone.push(sim.now - t.atMs);
      else tracked[kept++] = t;
    }
    tracked.length = kept;
    sim.at(sim.now + CHECK_MS, checkTracked);
  };
  sim.at(CHECK_MS, checkTracked);

  // Writes.
  const times: number[] = [];
  for (let w = 0; w < o.writes; w++) times.push(rng.next() * window);
  times.sort((a, b) => a - b);
  let written = 0;
  const write = (): void => {
    let i = rng.int(n);
    for (let tries = 0; !cluster.isUp(i) && tries < n; tries++) i = (i + 1) % n;
    // `keys` keys in all, each of one type (key k has type k mod |types|).
    const k = rng.int(o.keys);
    const type = o.types[k % o.types.length] as WriteType;
    const key = `${PREFIX[type]}${k}`;
    const w = written++;
    cluster.on(i, (s, now) => {
      const name = s.name;
      switch (type) {
        case 'lww': {
          if (rng.next() < 0.1) s.delete(now, key);
          else s.put(now, key, `v${w}`);
          const e = s.replica.entry(key);
          const win = e !== undefined && (e.type === 'lww' || e.type === 'register') ? lwwWinner(e.siblings) : undefined;
          if (win === undefined || win.dot.origin !== name) throw new Error(`lww write on ${key} at ${name} is not its own winner`);
          oracle.ackLww(key, { l: win.l, c: win.c, dot: win.dot, value: win.deleted ? null : (win.value as string) });
          return;
        }
        case 'counter': {
          if (rng.next() < 0.2) {
            const by = 1 + rng.int(3);
            s.decrement(now, key, by);
            oracle.ackCount(key, -by);
          } else {
            const by = 1 + rng.int(5);
            s.increment(now, key, by);
            oracle.ackCount(key, by);
          }
          return;
        }
        case 'orset': {
          const element = `e${rng.int(ELEMENTS)}`;
          if (rng.next() < 0.3) {
            s.remove(now, key, element);
            oracle.ackRemove(key, element, (s.replica.entry(key) as { context: VersionVector }).context);
          } else {
            s.add(now, key, element);
            oracle.ackAdd(key, element, ownDot((s.replica.entry(key) as { context: VersionVector }).context, name));
          }
          return;
        }
      }
    });
    const s = cluster.states[i];
    if (s !== null && s !== undefined && sampleEvery > 0 && s.replica.lastCounter % sampleEvery === 0) tracked.push({ origin: s.name, counter: s.replica.lastCounter, atMs: sim.now, cursor: 0 });
  };
  for (const t of times) sim.at(t, write);

  // Partition over the last partitionMs of the window, healing when the writes end.
  const healAt = window;
  if (o.partitionMs > 0) {
    const groups = new Int32Array(n);
    for (let i = 0; i < n; i++) groups[i] = rng.int(2);
    sim.at(Math.max(0, healAt - o.partitionMs), () => sim.partition(groups));
    sim.at(healAt, () => sim.heal());
  }
  // Crashes before the partition (or anywhere in the window without one), 5–15 s down.
  let lastRestart = 0;
  const crashUntil = Math.max(1, healAt - o.partitionMs - 15_000);
  const victims = new Set<number>();
  while (victims.size < Math.min(o.crashes, n - 1)) victims.add(rng.int(n));
  for (const v of victims) {
    const at = rng.next() * crashUntil;
    const down = 5_000 + rng.next() * 10_000;
    lastRestart = Math.max(lastRestart, at + down);
    sim.at(at, () => cluster.crash(v));
    sim.at(at + down, () => cluster.restart(v));
  }

  // The oracle's verdict on every live replica (all are checked: one per distinct root), and
  // the most values (siblings) any register key holds.
  let lost: LostWrites = { lww: 0, counter: 0, orset: 0 };
  let resurrected = 0;
  let siblingsMax = 0;
  const verdict = (): void => {
    const checked = new Set<string>();
    for (let i = 0; i < n; i++) {
      const s = cluster.states[i];
      if (s === null || s === undefined) continue;
      const root = s.root();
      if (checked.has(root)) continue;
      checked.add(root);
      const v = oracle.check(s.replica);
      lost = { lww: Math.max(lost.lww, v.lost.lww), counter: Math.max(lost.counter, v.lost.counter), orset: Math.max(lost.orset, v.lost.orset) };
      resurrected = Math.max(resurrected, v.resurrected);
      for (const key of s.replica.keys()) {
        const e = s.replica.entry(key);
        if (e !== undefined && (e.type === 'lww' || e.type === 'register')) siblingsMax = Math.max(siblingsMax, e.siblings.filter((x) => !x.deleted).length);
      }
    }
  };

  // Run to the heal, then until converged (checked every 250 ms): the oracle checks that
  // converged state; then on until every node reports agreement 1 (its digest view), and the
  // oracle checks every live replica again at the end (tombstone collection went on meanwhile).
  sim.run(Math.max(healAt, lastRestart));
  let convergedAt: number | null = null;
  let agreeAt: number | null = null;
  const stepMs = 250;
  for (let t = sim.now; t <= healAt + drainMax; t += stepMs) {
    sim.run(t);
    if (convergedAt === null && cluster.converged()) {
      convergedAt = sim.now;
      verdict();
    }
    if (convergedAt !== null && agreeAt === null && cluster.agreeing()) agreeAt = sim.now;
    if (convergedAt !== null && agreeAt !== null) break;
  }
  const converged = convergedAt !== null;
  verdict();

  const r = cluster.retired;
  const sessions = { started: r.started, complete: r.complete, failed: r.failed, timedOut: r.timedOut, refused: r.refused };
  let repaired = r.repaired;
  let collected = r.collected;
  let tooLarge = r.tooLarge;
  // Bytes sent (lost packets included), by what they carried; crashed lives included.
  const bytes = { rumor: r.rumorBytes, antiEntropy: r.antiEntropyBytes, digest: r.digestBytes };
  for (const s of cluster.states) {
    if (s === null) continue;
    bytes.rumor += s.stats.rumorBytes;
    bytes.antiEntropy += s.stats.antiEntropyBytes;
    bytes.digest += s.stats.digestBytes;
    sessions.started += s.stats.sessionsStarted;
    sessions.complete += s.stats.sessionsComplete;
    sessions.failed += s.stats.sessionsFailed;
    sessions.timedOut += s.stats.sessionsTimedOut;
    sessions.refused += s.stats.sessionsRefused;
    repaired += s.stats.repaired;
    collected += s.stats.tombstonesCollected;
    tooLarge += s.stats.rumorsTooLarge;
  }
  let idle: IdleWindowResult | null = null;
  if (o.idleMs !== undefined && o.idleMs > 0) {
    idle = idleWindow(cluster, o.idleMs, healAt);
    verdict();
  }
  o.inspect?.(cluster);
  return {
    nodes: n, keys: o.keys, writes: o.writes, types: [...o.types], seed: o.seed,
    acknowledged: { ...oracle.acknowledged },
    converged,
    convergedAfterHealMs: convergedAt === null ? null : Math.round(convergedAt - healAt),
    agreementOneAfterHealMs: agreeAt === null ? null : Math.round(agreeAt - healAt),
    lostWrites: lost.lww + lost.counter + lost.orset,
    lostByType: lost,
    resurrected,
    siblingsMax,
    rumorBytes: bytes.rumor,
    antiEntropyBytes: bytes.antiEntropy,
    digestBytes: bytes.digest,
    sessions,
    repaired,
    tombstonesCollected: collected,
    rumorsTooLarge: tooLarge,
    timeToEveryone: quantiles(everyone),
    simTimeToEveryone: quantiles(trueEveryone),
    idle,
    simulatedMs: Math.round(sim.now),
    wallMs: Math.round(clock() - t0),
  };
}

/** Count, p50, p99 and max of a list of durations (`percentiles`, ms rounded; zeros when empty). */
function quantiles(xs: number[]): { samples: number; p50Ms: number; p99Ms: number; maxMs: number } {
  const p = percentiles(xs);
  return { samples: xs.length, p50Ms: Math.round(p.p50Ms ?? 0), p99Ms: Math.round(p.p99Ms ?? 0), maxMs: Math.round(p.maxMs ?? 0) };
}
