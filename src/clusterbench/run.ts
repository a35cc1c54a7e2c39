import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Rng } from '../core/rng.js';
import { seededRng } from '../core/rng.js';
import type { Arrival, BenchNode, Side } from './bench-node.js';
import { loopback, sleep } from './bench-node.js';
import type { BatchFigures, Sent } from './event-batch.js';
import { batchFigures, fireEvents } from './event-batch.js';
import { bytesPerNodePerWrite, cpuSeconds, median, percentile } from './figures.js';
import type { Launcher } from './launcher.js';
import { isRunning } from './launcher.js';
import { eventsDroppedAsOld, metricSum } from './metrics-text.js';
import type { GossipCommand } from './our-node.js';
import { OurNode } from './our-node.js';
import { allAlive, pollUntil, reportsFailed } from './poll.js';
import { readCpu, ticksPerSecond } from './proc-stat.js';
import type { RunningJoinFigures } from './running-join.js';
import { measureRunningJoin } from './running-join.js';
import type { BenchOptions, RunPlan } from './scenario.js';
import { SerfNode } from './serf-node.js';
import type { WindowFigures } from './window.js';
import { measureWindow } from './window.js';

export interface JoinFigures {
  /** Seconds from launching the joiners until every node listed all N alive; null on timeout. */
  readonly seconds: number | null;
  readonly timedOut: boolean;
  /** CPU seconds each agent had spent by then (median and largest). */
  readonly cpuSecondsMedian: number;
  readonly cpuSecondsMax: number;
  /** Live nodes some node suspected on the way, from every agent's log (`suspectsInAgentLog`, `suspectsInSerfLog`: the prober's line, a suspect's own refutation). */
  readonly suspectedLive: number;
  readonly suspectedNames: readonly string[];
  /** Ours only: the sum over agents of gossip_suspicions_raised_total at the end of the join. */
  readonly suspicionsRaised: number | null;
  /** Agents that exited or never answered their API before the join timeout, and why. */
  readonly startFailures: readonly string[];
}

export interface WritesFigures {
  readonly rate: number;
  readonly writes: number;
  readonly putErrors: number;
  readonly reachedAll: number;
  /** Time from the PUT until every node reported the key on its stream, s. */
  readonly p50S: number | null;
  readonly p99S: number | null;
  readonly window: WindowFigures;
  /** (bytes per node per second in the write window − in the steady window) × the window's length / writes sent (`bytesPerNodePerWrite`). */
  readonly bytesPerNodePerWrite: number | null;
}

export interface FailureFigures {
  readonly victim: string;
  /** Seconds from kill -9 until every survivor listed the victim as failed; null on timeout. */
  readonly seconds: number | null;
  readonly timedOut: boolean;
}

export interface ChurnFigures {
  readonly joiner: string;
  readonly restarted: string;
  /** Seconds from their start until each listed everyone alive (null: never). */
  readonly joinerJoinedS: number | null;
  readonly restartedRejoinedS: number | null;
  readonly events: BatchFigures;
}

/** Everything one run of one side measured. */
export interface RunResult extends RunPlan {
  readonly error: string | null;
  readonly agentsFromSource: boolean;
  readonly join: JoinFigures | null;
  /** The protocol's join among agents already running (its own cluster, before the rest); null when not asked. */
  readonly runningJoin: RunningJoinFigures | null;
  readonly steady: WindowFigures | null;
  readonly late: WindowFigures | null;
  readonly writes: WritesFigures | null;
  readonly events: BatchFigures | null;
  readonly churn: ChurnFigures | null;
  /** Ours: user events the agents counted as dropped for being old (sum over agents), when /metrics has such a counter. */
  readonly droppedAsOld: number | null;
  readonly failure: FailureFigures | null;
}

export interface RunContext {
  readonly launcher: Launcher;
  readonly options: BenchOptions;
  readonly gossip: GossipCommand;
  readonly serf: string | null;
  readonly tcpdump: string | null;
  /** This run's directory (agents' data, logs, captures, samples). */
  readonly dir: string;
  readonly progress: (line: string) => void;
}

/** Between the last agent answering and the join requests of the running join: start-up work (JIT, first timers) is not the join's. */
const RUNNING_JOIN_SETTLE_MS = 2000;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function makeNode(ctx: RunContext, side: Side, name: string, snapshot: boolean): BenchNode {
  const dir = join(ctx.dir, name);
  mkdirSync(dir, { recursive: true });
  const logFile = join(ctx.dir, 'logs', `${name}.log`);
  const o = ctx.options;
  const readyTimeoutMs = o.joinTimeoutMs;
  if (side === 'serf') {
    if (ctx.serf === null) throw new Error('serf is not installed');
    return new SerfNode(ctx.launcher, ctx.serf, { name, dir, logFile, profile: o.profile, encrypt: o.encryptKey, snapshot, readyTimeoutMs });
  }
  return new OurNode(ctx.launcher, ctx.gossip, { name, dir, logFile, profile: o.profile, encrypt: o.encryptKey, config: o.config, extraArgs: o.agentArgs, readyTimeoutMs });
}

const running = (nodes: readonly BenchNode[]): BenchNode[] => nodes.filter((n) => n.proc !== null && isRunning(n.proc));
const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * One run of one side: (unless --no-running-join) the protocol's join among agents already
 * running, on a cluster of its own; then node 0, then the N−1 joiners at once; join; the steady window (and the
 * late one); writes (ours, when asked); user events; churn (when asked); kill -9 of one node.
 * Every process is stopped at the end, whatever happened.
 */
export async function runOnce(plan: RunPlan, ctx: RunContext): Promise<RunResult> {
  const o = ctx.options;
  const rng: Rng = seededRng(plan.seed);
  const say = (s: string): void => ctx.progress(`[${plan.side} N=${plan.n} run ${plan.run}/${o.runs}] ${s}`);
  const r: Mutable<RunResult> = {
    ...plan, error: null, agentsFromSource: plan.side === 'ours' && ctx.gossip.fromSource,
    join: null, runningJoin: null, steady: null, late: null, writes: null, events: null, churn: null, droppedAsOld: null, failure: null,
  };
  mkdirSync(join(ctx.dir, 'logs'), { recursive: true });
  const raw: Record<string, unknown> = { plan };
  const nodes: BenchNode[] = [];
  for (let i = 0; i < plan.n; i++) nodes.push(makeNode(ctx, plan.side, `n${i}`, o.churn));
  const ours = (): OurNode[] => running(nodes).filter((n): n is OurNode => n instanceof OurNode);
  let launchMs = Date.now();
  const windowCtx = (name: string) => ({ launcher: ctx.launcher, tcpdump: ctx.tcpdump, pcapFile: join(ctx.dir, `${name}.pcap`), launchMs });
  try {
    // --- join of agents already running (a cluster of its own, stopped before the rest)
    if (o.runningJoin) {
      const dir = join(ctx.dir, 'running-join');
      mkdirSync(join(dir, 'logs'), { recursive: true });
      const m = await measureRunningJoin({
        makeNode: (name) => makeNode({ ...ctx, dir }, plan.side, name, false),
        n: plan.n, joinTimeoutMs: o.joinTimeoutMs, pollMs: o.pollMs, settleMs: RUNNING_JOIN_SETTLE_MS, dir, say,
      });
      r.runningJoin = m.figures;
      raw.runningJoin = m.raw;
      await ctx.launcher.killAll();
      await sleep(2000); // the sockets and CPU of those agents settle
    }

    // --- join
    const n0 = nodes[0] as BenchNode;
    say('starting node 0');
    await n0.start(null);
    await n0.watch();
    const seed = loopback(n0.gossipPort);
    say(`launching ${plan.n - 1} joiners`);
    launchMs = Date.now();
    const deadline = launchMs + o.joinTimeoutMs;
    const names = nodes.map((n) => n.name);
    const startFailures: string[] = [];
    const targets = nodes.map((n, i) => (i === 0 ? { node: n } : {
      node: n,
      ready: n.start(seed).then(() => n.watch()).catch((e: unknown) => {
        startFailures.push(`${n.name}: ${errorText(e)}`);
        throw e;
      }),
    }));
    const joined = await pollUntil(targets, allAlive(names), deadline, o.pollMs);
    const cpuAtJoin = nodes.map((n) => (n.pid === null ? null : readCpu(n.pid)));
    const suspected = new Set<string>();
    for (const n of nodes) for (const s of n.suspected()) if (names.includes(s)) suspected.add(s);
    const cpuS = cpuAtJoin.filter((c) => c !== null).map((c) => cpuSeconds(c, ticksPerSecond()));
    let raised: number | null = null;
    if (plan.side === 'ours') {
      const texts = await Promise.all(ours().map((n) => n.metrics().catch(() => '')));
      raised = texts.reduce((a, t) => a + (metricSum(t, 'gossip_suspicions_raised_total') ?? 0), 0);
    }
    r.join = {
      seconds: joined.atMs === null ? null : (joined.atMs - launchMs) / 1000, timedOut: joined.atMs === null,
      cpuSecondsMedian: median(cpuS), cpuSecondsMax: cpuS.length === 0 ? NaN : Math.max(...cpuS),
      suspectedLive: suspected.size, suspectedNames: [...suspected].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })), suspicionsRaised: raised,
      startFailures,
    };
    raw.join = { ...r.join, since: Object.fromEntries(joined.since), polls: joined.polls, pollErrors: joined.errors, cpuAtJoin };
    say(joined.atMs === null ? `join timed out after ${o.joinTimeoutMs / 1000} s` : `every node lists all ${plan.n} alive after ${r.join.seconds?.toFixed(2)} s`);

    // --- cost windows (our streams closed: they cost the agent a little every second)
    for (const n of nodes) n.unwatch();
    say(`steady window ${o.steadyMs / 1000} s`);
    const steady = await measureWindow(running(nodes), o.steadyMs, windowCtx('steady'));
    r.steady = steady.figures;
    raw.steady = steady.samples;
    if (o.late) {
      const wait = launchMs + o.lateAfterMs - Date.now();
      if (wait > 0) {
        say(`waiting ${(wait / 1000).toFixed(0)} s for the late window`);
        await sleep(wait);
      }
      say(`late window ${o.steadyMs / 1000} s`);
      const late = await measureWindow(running(nodes), o.steadyMs, windowCtx('late'));
      r.late = late.figures;
      raw.late = late.samples;
    }
    await watchAll(running(nodes), say);

    // --- writes (ours)
    if (o.writes !== null && plan.side === 'ours') {
      say(`writes: ${o.writes}/s for ${o.steadyMs / 1000} s`);
      r.writes = await writeLoad(ours(), o.writes, o.steadyMs, rng, plan, windowCtx('writes'), r.steady, o.deliveryTimeoutMs);
    }

    // --- user events
    if (o.events > 0) {
      say(`${o.events} user events`);
      const ev = await fireEvents({
        senders: () => running(nodes), watched: () => nodes, count: o.events, intervalMs: o.eventIntervalMs,
        tag: `e${plan.run}`, rng, deliveryTimeoutMs: o.deliveryTimeoutMs, expected: () => running(nodes).map((n) => n.name),
      });
      r.events = ev.figures;
      raw.events = ev.sent;
      say(`events: ${ev.figures.reachedAll}/${ev.figures.sent} reached every node, ${ev.figures.duplicates} duplicates`);
    }

    // --- churn: one joins, one is killed and restarted, while events stream
    if (o.churn) r.churn = await churn(nodes, ctx, plan, rng, seed, say);

    if (plan.side === 'ours') {
      const texts = await Promise.all(ours().map((n) => n.metrics().catch(() => '')));
      const drops = texts.map(eventsDroppedAsOld).filter((x): x is number => x !== null);
      r.droppedAsOld = drops.length === 0 ? null : drops.reduce((a, b) => a + b, 0);
    }

    // --- failure
    if (o.failure) {
      const candidates = running(nodes).filter((n) => n !== n0);
      const victim = candidates[rng.int(candidates.length)];
      if (victim !== undefined) {
        say(`kill -9 ${victim.name}`);
        for (const n of nodes) n.unwatch();
        const killedAt = Date.now();
        await victim.kill();
        const survivors = running(nodes);
        const f = await pollUntil(survivors.map((node) => ({ node })), reportsFailed(victim.name), killedAt + o.failTimeoutMs, o.pollMs);
        r.failure = { victim: victim.name, seconds: f.atMs === null ? null : (f.atMs - killedAt) / 1000, timedOut: f.atMs === null };
        say(f.atMs === null ? 'failure not seen everywhere in time' : `every survivor reports ${victim.name} failed after ${r.failure.seconds?.toFixed(2)} s`);
      }
    }
  } catch (e) {
    r.error = errorText(e);
    say(`error: ${r.error}`);
  } finally {
    for (const n of nodes) n.close();
    await ctx.launcher.killAll();
  }
  raw.result = r;
  raw.pids = Object.fromEntries(nodes.map((n) => [n.name, n.pid]));
  writeFileSync(join(ctx.dir, 'samples.json'), `${JSON.stringify(raw, null, 1)}\n`);
  return r;
}

/** Opens every node's delivery watch; a node that does not answer is reported, not fatal (its deliveries stay unseen). */
async function watchAll(nodes: readonly BenchNode[], say: (s: string) => void): Promise<void> {
  const failed: string[] = [];
  await Promise.all(nodes.map((n) => n.watch().catch(() => void failed.push(n.name))));
  if (failed.length > 0) say(`cannot watch the deliveries of ${failed.join(', ')} (not answering)`);
}

async function writeLoad(nodes: OurNode[], rate: number, durationMs: number, rng: Rng, plan: RunPlan, wctx: Parameters<typeof measureWindow>[2], steady: WindowFigures | null, timeoutMs: number): Promise<WritesFigures> {
  const sent: Sent[] = [];
  const load = async (): Promise<void> => {
    const t0 = Date.now();
    const total = Math.max(1, Math.round((rate * durationMs) / 1000));
    const puts: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      await sleep(Math.max(0, t0 + (i * 1000) / rate - Date.now()));
      const node = nodes[rng.int(nodes.length)] as OurNode;
      const id = `bench/r${plan.run}/w${i}`;
      const sentAtMs = Date.now();
      puts.push(node.put(id, `v${i}`).then(
        () => void sent.push({ id, from: node.name, sentAtMs, error: null }),
        (e: unknown) => void sent.push({ id, from: node.name, sentAtMs, error: errorText(e) }),
      ));
    }
    await Promise.all(puts);
  };
  const w = await measureWindow(nodes, durationMs, wctx, load);
  const arrivals = (): Map<string, Arrival[]> => new Map(nodes.map((n) => [n.name, n.kvArrivals().filter((a) => a.id.startsWith('bench/'))]));
  const all = nodes.map((n) => n.name);
  const until = Date.now() + timeoutMs;
  let f = batchFigures(sent, arrivals(), () => all);
  while (f.reachedAll < f.sent - f.sendErrors && Date.now() < until) {
    await sleep(250);
    f = batchFigures(sent, arrivals(), () => all);
  }
  const times = f.perMessage.map((m) => m.p100S).filter((x): x is number => x !== null);
  const perS = w.figures.wire?.bytesPerNodePerS;
  const idle = steady?.wire?.bytesPerNodePerS;
  return {
    rate, writes: f.sent, putErrors: f.sendErrors, reachedAll: f.reachedAll,
    p50S: times.length === 0 ? null : percentile(times, 50), p99S: times.length === 0 ? null : percentile(times, 99),
    window: w.figures,
    bytesPerNodePerWrite: bytesPerNodePerWrite(perS, idle, w.figures.durationS, f.sent),
  };
}

async function churn(nodes: BenchNode[], ctx: RunContext, plan: RunPlan, rng: Rng, seedAddr: string, say: (s: string) => void): Promise<ChurnFigures> {
  const o = ctx.options;
  const originals = running(nodes).filter((n) => n.name !== 'n0');
  const victim = originals[rng.int(originals.length)];
  if (victim === undefined) throw new Error('churn: no node to restart');
  const joiner = makeNode(ctx, plan.side, `n${nodes.length}`, true);
  nodes.push(joiner);
  const everyone = nodes.map((n) => n.name);
  let joinedAt: number | null = null;
  let backAt: number | null = null;
  const batchMs = Math.max(3000, o.events * o.eventIntervalMs);
  const startAt = Date.now();
  let victimStart = 0;
  const beside = (async () => {
    const j = (async () => {
      await joiner.start(seedAddr);
      await joiner.watch();
      const p = await pollUntil([{ node: joiner }], allAlive(everyone), startAt + o.joinTimeoutMs, o.pollMs);
      joinedAt = p.atMs;
    })();
    const v = (async () => {
      await sleep(batchMs / 3);
      say(`churn: kill -9 ${victim.name}, restart it in 2 s; ${joiner.name} joins`);
      await victim.kill();
      await sleep(2000);
      victimStart = Date.now();
      await victim.restart();
      await victim.watch();
      const p = await pollUntil([{ node: victim }], allAlive(everyone), victimStart + o.joinTimeoutMs, o.pollMs);
      backAt = p.atMs;
    })();
    await Promise.all([j, v].map((t) => t.catch((e: unknown) => say(`churn: ${errorText(e)}`))));
  })();
  const expected = (s: Sent): string[] => nodes.filter((n) => {
    if (n === victim) return backAt !== null && s.sentAtMs >= backAt;
    if (n === joiner) return joinedAt !== null && s.sentAtMs >= joinedAt;
    return true;
  }).map((n) => n.name);
  const ev = await fireEvents({
    senders: () => running(nodes).filter((n) => n !== joiner || joinedAt !== null), watched: () => nodes,
    count: Math.max(o.events, 1), intervalMs: o.eventIntervalMs, tag: `c${plan.run}`, rng, deliveryTimeoutMs: o.deliveryTimeoutMs, expected, beside,
  });
  const unsent = ev.figures.sendErrors > 0 ? ` (${ev.figures.sendErrors} could not be sent)` : '';
  say(`churn events: ${ev.figures.reachedAll}/${ev.figures.sent} reached every live node${unsent}, ${ev.figures.duplicates} duplicates`);
  return {
    joiner: joiner.name, restarted: victim.name,
    joinerJoinedS: joinedAt === null ? null : (joinedAt - startAt) / 1000,
    restartedRejoinedS: backAt === null ? null : (backAt - victimStart) / 1000,
    events: ev.figures,
  };
}
