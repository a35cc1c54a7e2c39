import { mkdirSync } from 'node:fs';
import type { BenchNode } from './bench-node.js';
import { loopback, sleep } from './bench-node.js';
import type { CpuReading } from './figures.js';
import { cpuSeconds, median } from './figures.js';
import { metricSum } from './metrics-text.js';
import { OurNode } from './our-node.js';
import { allAlive, pollUntil } from './poll.js';
import { readCpu, ticksPerSecond } from './proc-stat.js';

/**
 * The protocol's join, apart from process start-up: all N agents are launched without a join
 * and waited for (their API answers), then the N−1 are asked at one instant to join node 0
 * (ours: `POST /v1/join`; serf: the RPC `join`, Replay false, as `serf join` does). The clock
 * starts when the requests are issued and stops when every node lists all N alive.
 */
export interface RunningJoinFigures {
  /** Seconds from issuing the join requests until every node listed all N alive; null on timeout. */
  readonly seconds: number | null;
  readonly timedOut: boolean;
  /** How long the bench's loop took to hand the N−1 requests to its runtime (one Node process sending them all), s. */
  readonly issueS: number;
  /** Seconds until the first and the last join request was answered (a request is answered once its push-pull with node 0 is done); null when none / some failed. */
  readonly firstAnsweredS: number | null;
  readonly answeredS: number | null;
  /** Join requests that failed, and why (the first few). */
  readonly joinFailed: number;
  readonly joinErrors: readonly string[];
  /** CPU seconds each agent spent from the requests until every node listed all alive: median, largest, sum. */
  readonly cpuSecondsMedian: number;
  readonly cpuSecondsMax: number;
  readonly cpuSecondsTotal: number;
  /** Live nodes some node suspected on the way, from every agent's log (`suspectsInAgentLog`, `suspectsInSerfLog`: the prober's line, a suspect's own refutation). */
  readonly suspectedLive: number;
  readonly suspectedNames: readonly string[];
  /** Ours only: the sum over agents of gossip_suspicions_raised_total at the end. */
  readonly suspicionsRaised: number | null;
  /** CPU the bench process itself spent in the interval (issuing the requests, polling every node every 200 ms), s. */
  readonly benchCpuS: number;
  /** Seconds from launching the N agents until every API answered (start-up, not part of the join). */
  readonly startedS: number;
  /** Agents that did not start, and why. */
  readonly startFailures: readonly string[];
}

/** What the running join needs from its run. */
export interface RunningJoinContext {
  /** Makes node `name` under `dir` (this measurement's own cluster). */
  readonly makeNode: (name: string) => BenchNode;
  readonly n: number;
  readonly joinTimeoutMs: number;
  /** The member polls' step (`BenchOptions.pollMs`). */
  readonly pollMs: number;
  /** Quiet time between the last agent answering and the join requests, so start-up CPU is not counted. */
  readonly settleMs: number;
  readonly dir: string;
  readonly say: (line: string) => void;
  /** Runs after the settle, before the requests (a caller reading counters); its time is not counted. */
  readonly beforeJoin?: (nodes: readonly BenchNode[]) => Promise<void>;
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** CPU seconds between two readings of the same process (null when either is missing). */
export function cpuBetween(a: CpuReading | null, b: CpuReading | null, tps: number): number | null {
  if (a === null || b === null) return null;
  return cpuSeconds(b, tps) - cpuSeconds(a, tps);
}

/**
 * Measures the running join on a cluster of its own; the caller stops its processes
 * (the launcher's killAll) afterwards.
 */
export async function measureRunningJoin(ctx: RunningJoinContext): Promise<{ figures: RunningJoinFigures; raw: Record<string, unknown> }> {
  mkdirSync(ctx.dir, { recursive: true });
  const nodes: BenchNode[] = [];
  for (let i = 0; i < ctx.n; i++) nodes.push(ctx.makeNode(`n${i}`));
  const names = nodes.map((n) => n.name);
  const startFailures: string[] = [];
  ctx.say(`running join: launching ${ctx.n} agents without a join`);
  const launchedAt = Date.now();
  await Promise.all(nodes.map((n) => n.start(null).then(() => n.watch()).catch((e: unknown) => void startFailures.push(`${n.name}: ${errorText(e)}`))));
  const startedS = (Date.now() - launchedAt) / 1000;
  const base = {
    startedS, startFailures, suspicionsRaised: null, suspectedLive: 0, suspectedNames: [],
    cpuSecondsMedian: NaN, cpuSecondsMax: NaN, cpuSecondsTotal: NaN, joinFailed: 0, joinErrors: [], firstAnsweredS: null, answeredS: null, issueS: 0, benchCpuS: NaN,
  } as const;
  const n0 = nodes[0];
  if (startFailures.length > 0 || n0 === undefined) return { figures: { ...base, seconds: null, timedOut: false }, raw: { startFailures } };
  ctx.say(`running join: all ${ctx.n} answered after ${startedS.toFixed(1)} s; settling ${ctx.settleMs / 1000} s`);
  await sleep(ctx.settleMs);
  if (ctx.beforeJoin !== undefined) await ctx.beforeJoin(nodes);
  const seed = loopback(n0.gossipPort);
  const tps = ticksPerSecond();
  const cpuBefore = nodes.map((n) => (n.pid === null ? null : readCpu(n.pid)));
  const joinErrors: string[] = [];
  let answeredAt: number | null = null;
  let firstAt: number | null = null;
  const benchCpu0 = process.cpuUsage();
  const t0 = Date.now();
  const requests = nodes.slice(1).map((n) => n.join(seed).then(
    () => void (firstAt ??= Date.now()),
    (e: unknown) => void joinErrors.push(`${n.name}: ${errorText(e)}`),
  ));
  const issueS = (Date.now() - t0) / 1000;
  const answered = Promise.all(requests).then(() => {
    answeredAt = Date.now();
  });
  const joined = await pollUntil(nodes.map((node) => ({ node })), allAlive(names), t0 + ctx.joinTimeoutMs, ctx.pollMs);
  const cpuAfter = nodes.map((n) => (n.pid === null ? null : readCpu(n.pid)));
  const benchCpu = process.cpuUsage(benchCpu0);
  await Promise.race([answered, sleep(5000)]);
  const spent = nodes.map((_, i) => cpuBetween(cpuBefore[i] ?? null, cpuAfter[i] ?? null, tps)).filter((x): x is number => x !== null);
  const suspected = new Set<string>();
  for (const n of nodes) for (const s of n.suspected()) if (names.includes(s)) suspected.add(s);
  let raised: number | null = null;
  const ours = nodes.filter((n): n is OurNode => n instanceof OurNode);
  if (ours.length > 0) {
    const texts = await Promise.all(ours.map((n) => n.metrics().catch(() => '')));
    raised = texts.reduce((a, t) => a + (metricSum(t, 'gossip_suspicions_raised_total') ?? 0), 0);
  }
  for (const n of nodes) n.close();
  const figures: RunningJoinFigures = {
    seconds: joined.atMs === null ? null : (joined.atMs - t0) / 1000, timedOut: joined.atMs === null,
    issueS, firstAnsweredS: firstAt === null ? null : (firstAt - t0) / 1000, answeredS: answeredAt === null || joinErrors.length > 0 ? null : (answeredAt - t0) / 1000, joinFailed: joinErrors.length, joinErrors: joinErrors.slice(0, 5),
    cpuSecondsMedian: median(spent), cpuSecondsMax: spent.length === 0 ? NaN : Math.max(...spent), cpuSecondsTotal: spent.reduce((a, b) => a + b, 0),
    suspectedLive: suspected.size, suspectedNames: [...suspected].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })), suspicionsRaised: raised,
    benchCpuS: (benchCpu.user + benchCpu.system) / 1e6, startedS, startFailures,
  };
  ctx.say(figures.seconds === null ? 'running join: timed out' : `running join: every node lists all ${ctx.n} alive ${figures.seconds.toFixed(2)} s after the join requests (issued in ${(issueS * 1000).toFixed(0)} ms)`);
  return { figures, raw: { ...figures, t0Ms: t0, doneMs: joined.atMs, since: Object.fromEntries([...joined.since].map(([k, v]) => [k, v === null ? null : v - t0])), polls: joined.polls, pollErrors: joined.errors, cpuBefore, cpuAfter } };
}
