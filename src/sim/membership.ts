import type { Config, ProfileName } from '../core/config.js';
import { defaultConfig } from '../core/config.js';
import type { NodeEvent } from '../core/events.js';
import { seededRng } from '../core/rng.js';
import type { NetworkOptions } from './network.js';
import type { StallMode } from './simulator.js';
import { Simulator } from './simulator.js';
import type { LatencySpec } from './latency-model.js';
import type { CoordinateAccuracy } from './coordinate-accuracy.js';
import { CoordinateAccuracyMeter } from './coordinate-accuracy.js';
import { DEFAULT_LOCAL_RTT_MS } from '../core/topology/index.js';

/**
 * The membership scenario behind `gossip simulate membership`: N nodes join through seeds in a
 * join window, then run under loss, crashes and stalls; checkers measure join convergence,
 * crash detection, false suspicions and false positives, and traffic.
 */
export interface MembershipScenario {
  nodes: number;
  seed: number;
  durationMs: number;
  profile: ProfileName;
  lifeguard: boolean;
  /** Every node starts and joins at a random time in [0, joinWindowMs). */
  joinWindowMs: number;
  /** Skip the join: every node starts at t=0 already knowing every other node alive. */
  startConverged: boolean;
  /** Number of seed nodes (the first ones); every other node joins through up to 3 of them. */
  seeds: number;
  loss: number;
  network: Partial<NetworkOptions>;
  /** Number of nodes crashed, at random times in [crashFromMs, crashToMs). */
  crash: number;
  crashFromMs: number;
  crashToMs: number;
  /** Number of nodes that stall, repeatedly, each stall lasting [stallMinMs, stallMaxMs], gaps [stallGapMinMs, stallGapMaxMs]. */
  stall: number;
  stallMinMs: number;
  stallMaxMs: number;
  stallGapMinMs: number;
  stallGapMaxMs: number;
  stallMode: StallMode;
  configOverrides: Partial<Config>;
  /** Places the nodes in regions and zones (true round trips per pair); null: every pair alike. */
  topology: LatencySpec | null;
  /** Network coordinates in every ack (Serf's Vivaldi); with `topology`, their accuracy is measured. Off by default. */
  coordinates: boolean;
  /** With coordinates: round trips up to this (ms) feed each node's local space; 0: Serf's space only. */
  localRttMs: number;
  /** With coordinates: `nearest` settled by direct round trips, extra pings in a large cluster (default true). */
  refine: boolean;
}

export function membershipScenario(p: Partial<MembershipScenario> & { nodes: number; seed: number }): MembershipScenario {
  const durationMs = p.durationMs ?? 600_000;
  return {
    durationMs,
    profile: 'lan',
    lifeguard: true,
    joinWindowMs: 5000,
    startConverged: false,
    seeds: 3,
    loss: 0,
    network: {},
    crash: 0,
    crashFromMs: Math.max(p.joinWindowMs ?? 5000, durationMs * 0.25),
    crashToMs: Math.max(p.joinWindowMs ?? 5000, durationMs * 0.5),
    stall: 0,
    stallMinMs: 14_000,
    stallMaxMs: 30_000,
    stallGapMinMs: 30_000,
    stallGapMaxMs: 90_000,
    stallMode: 'receive',
    configOverrides: {},
    topology: null,
    coordinates: false,
    localRttMs: DEFAULT_LOCAL_RTT_MS,
    refine: true,
    ...p,
  };
}

export interface Percentiles {
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

export interface MembershipResult {
  nodes: number;
  seed: number;
  profile: ProfileName;
  lifeguard: boolean;
  simulatedMs: number;
  wallMs: number;
  /** Time at which every live node first listed every live node alive (null: never). */
  joinConvergedMs: number | null;
  crashes: number;
  /** Crash → marked dead by every live node. */
  detection: Percentiles & { undetected: number };
  /** Distinct live (never crashed) nodes declared dead by at least one node. */
  falsePositives: number;
  /** The same, counting only nodes with no injected fault (not stalled). */
  falsePositivesHealthy: number;
  /** Individual declarations of a live node dead (one per declaring node). */
  falsePositiveDeclarations: number;
  /** Suspicion episodes (node, incarnation) about live nodes. */
  falseSuspicions: number;
  refutations: number;
  messages: { packets: number; bytes: number; streams: number; streamBytes: number; bytesPerNodePerSecond: number };
  /** At the end: live nodes whose view of live members is complete and correct. */
  finalAgreement: number;
  traceHash: string;
  /** With coordinates over a topology: estimated vs true round trips, each minute and at the end. */
  coordinates?: CoordinateAccuracy;
}

export function percentiles(xs: number[]): Percentiles {
  if (xs.length === 0) return { p50Ms: null, p99Ms: null, maxMs: null };
  const s = [...xs].sort((a, b) => a - b);
  const q = (f: number): number => s[Math.min(s.length - 1, Math.ceil(f * s.length) - 1)] as number;
  return { p50Ms: q(0.5), p99Ms: q(0.99), maxMs: s[s.length - 1] as number };
}

export interface RunHooks {
  /** Called every simulated second with (simulatedMs, durationMs). */
  onProgress?: (simulatedMs: number, durationMs: number) => void;
  /** Wall clock for `wallMs` (the simulator itself never reads a clock). */
  wallClock?: () => number;
}

export function runMembership(sc: MembershipScenario, hooks: RunHooks = {}): MembershipResult {
  const wall = hooks.wallClock ?? (() => 0);
  const wallStart = wall();
  const config = defaultConfig(sc.profile, { lifeguard: sc.lifeguard, ...sc.configOverrides });
  const sim = new Simulator({
    seed: sc.seed,
    nodes: sc.nodes,
    config,
    network: { loss: sc.loss, ...sc.network },
    events: ['member-failed', 'member-suspected', 'self-refuted'],
    ...(sc.topology !== null ? { latency: sc.topology } : {}),
    ...(sc.coordinates ? { coordinates: true, localRttMs: sc.localRttMs, refine: sc.refine } : {}),
  });
  const plan = seededRng(sc.seed ^ 0x2545f491);
  const n = sc.nodes;

  // Who crashes, who stalls (disjoint), drawn from the seed.
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = plan.int(i + 1);
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  const nonSeeds = order.filter((i) => i >= sc.seeds);
  const crashed = new Set(nonSeeds.slice(0, Math.min(sc.crash, nonSeeds.length)));
  const stalled = new Set(nonSeeds.slice(crashed.size, crashed.size + Math.min(sc.stall, nonSeeds.length - crashed.size)));

  // Join: seeds start at t=0 and join each other; the others at random times in the window.
  const seedCount = Math.min(sc.seeds, n);
  for (let i = 0; i < n; i++) {
    if (sc.startConverged) {
      sim.at(0, () => sim.startConverged(i));
      continue;
    }
    const at = i < seedCount ? 0 : plan.next() * sc.joinWindowMs;
    const seeds: number[] = [];
    for (let s = 0; s < seedCount; s++) if (s !== i) seeds.push(s);
    sim.at(at, () => sim.join(i, seeds.slice(0, 3)));
  }

  // Crashes.
  const crashAt = new Map<number, number>();
  for (const c of crashed) {
    const at = sc.crashFromMs + plan.next() * Math.max(0, sc.crashToMs - sc.crashFromMs);
    if (at > sc.durationMs) continue;
    crashAt.set(c, at);
    sim.at(at, () => sim.crash(c));
  }

  // Stalls: repeated, from the end of the join window to the end of the run.
  for (const s of stalled) {
    let t = sc.joinWindowMs + plan.next() * sc.stallGapMaxMs;
    while (t < sc.durationMs) {
      const d = sc.stallMinMs + plan.next() * (sc.stallMaxMs - sc.stallMinMs);
      const at = t;
      sim.at(at, () => sim.stall(s, d, sc.stallMode));
      t += d + sc.stallGapMinMs + plan.next() * (sc.stallGapMaxMs - sc.stallGapMinMs);
    }
  }

  // Observers.
  const deadBy: Map<number, Set<number>> = new Map(); // crashed node → live nodes that marked it dead
  const detected = new Map<number, number>();
  const fpNodes = new Set<number>();
  const fpHealthy = new Set<number>();
  let fpDeclarations = 0;
  const suspicionEpisodes = new Set<string>();
  let refutations = 0;
  const indexOf = (name: string): number => Number(name.slice(5));
  sim.observe((now: number, at: number, e: NodeEvent) => {
    if (e.type === 'self-refuted') {
      refutations++;
      return;
    }
    if (e.type !== 'member-failed' && e.type !== 'member-suspected') return;
    const target = indexOf(e.member.name);
    const isCrashed = crashAt.has(target) && now >= (crashAt.get(target) as number);
    if (e.type === 'member-suspected') {
      if (!isCrashed) suspicionEpisodes.add(`${target}:${e.member.incarnation}`);
      return;
    }
    if (!isCrashed) {
      fpDeclarations++;
      if (!fpNodes.has(target)) {
        fpNodes.add(target);
        sim.trace.line(now, `false-positive by node-${at}`, target);
      }
      if (!stalled.has(target)) fpHealthy.add(target);
      return;
    }
    let set = deadBy.get(target);
    if (set === undefined) deadBy.set(target, (set = new Set()));
    set.add(at);
  });

  // Checkers: join convergence and crash detection, sampled every 100 ms of virtual time.
  let joinConvergedMs: number | null = null;
  const liveNow = (): number[] => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) if (sim.isUp(i)) out.push(i);
    return out;
  };
  const upCount = (): number => {
    let k = 0;
    for (let i = 0; i < n; i++) if (sim.isUp(i)) k++;
    return k;
  };
  const sampleEveryMs = 100;
  const check = (): void => {
    const now = sim.now;
    if (joinConvergedMs === null) {
      const live = liveNow();
      if (live.length === n - [...crashAt.values()].filter((t) => t <= now).length) {
        let ok = live.length > 0;
        for (const i of live) {
          const node = sim.nodes[i];
          if (node === null || node === undefined || node.countIn('alive') !== live.length) {
            ok = false;
            break;
          }
        }
        if (ok) {
          joinConvergedMs = now;
          sim.trace.line(now, 'join-converged', -1);
        }
      }
    }
    for (const [c, at] of crashAt) {
      if (detected.has(c) || now < at) continue;
      const set = deadBy.get(c);
      // Only verify (O(n) lookups) once enough live nodes have reported the death.
      if (set === undefined || set.size < upCount() - 1) continue;
      let all = true;
      for (let i = 0; i < n; i++) {
        if (i === c || !sim.isUp(i)) continue;
        const st = sim.nodes[i]?.statusOf(sim.names[c] as string);
        if (st === 'alive' || st === 'suspect') {
          all = false;
          break;
        }
      }
      if (all) {
        detected.set(c, now - at);
        sim.trace.line(now, 'crash-detected-by-all', c, Math.round(now - at));
      }
    }
    if (now + sampleEveryMs <= sc.durationMs) sim.at(now + sampleEveryMs, check);
  };
  sim.at(sampleEveryMs, check);
  let lastProgress = -1;
  if (hooks.onProgress) {
    const progress = hooks.onProgress;
    const tick = (): void => {
      progress(sim.now, sc.durationMs);
      lastProgress = sim.now;
      if (sim.now + 1000 <= sc.durationMs) sim.at(sim.now + 1000, tick);
    };
    sim.at(0, tick);
  }
  // Coordinates against the true round trips: a sample each minute, one half-way (for drift) and one at the end.
  const model = sim.network.model;
  const meter = sc.coordinates && model !== null
    ? new CoordinateAccuracyMeter(model, (i) => (sim.isUp(i) ? sim.topologies[i]?.nodeCoordinates(sim.names[i] as string) : undefined), sc.localRttMs, seededRng(sc.seed ^ 0x0ac1c), Math.min(20_000, n * 20), {
      rank: (i, k, estimates) => {
        const t = sim.topologies[i];
        if (t === null || t === undefined) return [];
        return t.rank(k, estimates.map(([j, rttMs]) => ({ name: sim.names[j] as string, rttMs }))).map((e) => indexOf(e.name));
      },
      own: (i, k, live) => sim.topologies[i]?.nearest(k, live.map((j) => sim.names[j] as string)).map((e) => indexOf(e.name)) ?? [],
    })
    : null;
  if (meter !== null) {
    for (let t = 60_000; t < sc.durationMs; t += 60_000) {
      const at = t;
      sim.at(at, () => meter.sample(at));
    }
    sim.at(sc.durationMs / 2, () => meter.sample(sc.durationMs / 2, 'halfway'));
  }
  sim.run(sc.durationMs);
  if (meter !== null) meter.sample(sc.durationMs, 'end');
  if (hooks.onProgress && lastProgress < sc.durationMs) hooks.onProgress(sc.durationMs, sc.durationMs);

  // Final agreement: every live node lists exactly the live nodes as alive.
  const live = liveNow();
  let agree = 0;
  for (const i of live) {
    const node = sim.nodes[i];
    if (node === null || node === undefined) continue;
    let ok = node.countIn('alive') === live.length;
    if (ok) for (const c of crashed) if (node.statusOf(sim.names[c] as string) === 'alive') ok = false;
    if (ok) agree++;
  }

  const detections = [...detected.values()];
  const totalBytes = sim.bytes + sim.streamBytes;
  return {
    nodes: n,
    seed: sc.seed,
    profile: sc.profile,
    lifeguard: sc.lifeguard,
    simulatedMs: sc.durationMs,
    wallMs: Math.round(wall() - wallStart),
    joinConvergedMs,
    crashes: crashAt.size,
    detection: { ...percentiles(detections), undetected: crashAt.size - detections.length },
    falsePositives: fpNodes.size,
    falsePositivesHealthy: fpHealthy.size,
    falsePositiveDeclarations: fpDeclarations,
    falseSuspicions: suspicionEpisodes.size,
    refutations,
    messages: {
      packets: sim.packets,
      bytes: totalBytes,
      streams: sim.streams,
      streamBytes: sim.streamBytes,
      bytesPerNodePerSecond: Math.round(totalBytes / n / (sc.durationMs / 1000)),
    },
    finalAgreement: live.length === 0 ? 1 : agree / live.length,
    traceHash: sim.trace.hash,
    ...(meter !== null ? { coordinates: meter.result(Math.min(200, n)) } : {}),
  };
}
