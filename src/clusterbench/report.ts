import type { Side } from './bench-node.js';
import type { Spread } from './figures.js';
import { ratio, spread } from './figures.js';
import type { RunResult } from './run.js';
import type { WindowFigures } from './window.js';

/** One row of the table: a figure, per side its median [min–max] over the runs, and ours/serf. */
export interface Row {
  readonly key: string;
  readonly label: string;
  readonly unit: string;
  readonly serf: Spread | null;
  readonly ours: Spread | null;
  /** ours/serf of the medians; null when either is missing or the ratio says nothing (counts). */
  readonly ratio: number | null;
}

export interface SizeReport {
  readonly n: number;
  readonly rows: readonly Row[];
  /** Things the reader must know about these figures (timeouts, errors, missing capture). */
  readonly notes: readonly string[];
  readonly runs: readonly RunResult[];
}

export interface BenchReport {
  readonly seed: number;
  readonly options: Readonly<Record<string, unknown>>;
  readonly machine: { readonly cpus: number; readonly loadAvg: readonly number[]; readonly node: string; readonly serf: string | null };
  readonly wireSource: 'tcpdump' | 'none';
  readonly agentsFromSource: boolean;
  readonly sizes: readonly SizeReport[];
}

type Pick = (r: RunResult) => number | null | undefined;

interface RowDef {
  readonly key: string;
  readonly label: string;
  readonly unit: string;
  readonly pick: Pick;
  /** A count out of something (no ratio). */
  readonly count?: boolean;
  readonly sides?: readonly Side[];
}

const MB = 1024 * 1024;
/** Bytes as MB; undefined for a figure not measured (an older result, no process left, or no smaps_rollup). */
const mb = (x: number | undefined): number | undefined => (x === undefined || Number.isNaN(x) ? undefined : x / MB);

function windowRows(prefix: 'steady' | 'late', w: (r: RunResult) => WindowFigures | null | undefined, title: string): RowDef[] {
  return [
    { key: `${prefix}.bytesPerNodePerS`, label: `${title}: wire bytes per node per second`, unit: 'B/s', pick: (r) => w(r)?.wire?.bytesPerNodePerS },
    { key: `${prefix}.udpBytesPerNodePerS`, label: `${title}: … of which UDP`, unit: 'B/s', pick: (r) => w(r)?.wire?.udpBytesPerNodePerS },
    { key: `${prefix}.tcpBytesPerNodePerS`, label: `${title}: … of which TCP`, unit: 'B/s', pick: (r) => w(r)?.wire?.tcpBytesPerNodePerS },
    { key: `${prefix}.packetsPerNodePerS`, label: `${title}: packets per node per second`, unit: '/s', pick: (r) => w(r)?.wire?.packetsPerNodePerS },
    { key: `${prefix}.cpuPctMedian`, label: `${title}: CPU per agent, % of a core (median)`, unit: '%', pick: (r) => w(r)?.cpuPctMedian },
    { key: `${prefix}.cpuPctTotal`, label: `${title}: CPU of all agents, % of a core`, unit: '%', pick: (r) => w(r)?.cpuPctTotal },
    { key: `${prefix}.rssMedianMB`, label: `${title}: RSS per agent (median)`, unit: 'MB', pick: (r) => mb(w(r)?.rssMedianBytes) },
    { key: `${prefix}.rssMaxMB`, label: `${title}: RSS of the largest agent`, unit: 'MB', pick: (r) => mb(w(r)?.rssMaxBytes) },
    { key: `${prefix}.pssMedianMB`, label: `${title}: PSS per agent, shared pages split among the agents (median)`, unit: 'MB', pick: (r) => mb(w(r)?.pssMedianBytes) },
    { key: `${prefix}.privateMedianMB`, label: `${title}: private memory per agent, what stopping it frees (median)`, unit: 'MB', pick: (r) => mb(w(r)?.privateMedianBytes) },
  ];
}

/** Every row the table can show, in order; rows no run measured are left out. */
export const ROWS: readonly RowDef[] = [
  { key: 'runningJoin.seconds', label: 'join, all already running: every node lists all N alive, s after the join requests', unit: 's', pick: (r) => r.runningJoin?.seconds },
  { key: 'runningJoin.cpuSecondsMedian', label: 'join, all already running: CPU per agent in that interval, s (median)', unit: 's', pick: (r) => r.runningJoin?.cpuSecondsMedian },
  { key: 'runningJoin.cpuSecondsTotal', label: 'join, all already running: CPU of all agents in that interval, s', unit: 's', pick: (r) => r.runningJoin?.cpuSecondsTotal },
  { key: 'runningJoin.suspectedLive', label: 'join, all already running: live nodes suspected on the way', unit: '', pick: (r) => r.runningJoin?.suspectedLive, count: true },
  { key: 'join.seconds', label: 'join: every node lists all N alive, s after the joiners start', unit: 's', pick: (r) => r.join?.seconds },
  { key: 'join.cpuSecondsMedian', label: 'join: CPU per agent until then, s (median)', unit: 's', pick: (r) => r.join?.cpuSecondsMedian },
  { key: 'join.cpuSecondsMax', label: 'join: CPU of the busiest agent until then, s', unit: 's', pick: (r) => r.join?.cpuSecondsMax },
  { key: 'join.suspectedLive', label: 'join: live nodes suspected on the way', unit: '', pick: (r) => r.join?.suspectedLive, count: true },
  ...windowRows('steady', (r) => r.steady, 'steady'),
  ...windowRows('late', (r) => r.late, 'late'),
  { key: 'writes.p50S', label: 'writes: PUT → every node has it, p50, s', unit: 's', pick: (r) => r.writes?.p50S, sides: ['ours'] },
  { key: 'writes.p99S', label: 'writes: PUT → every node has it, p99, s', unit: 's', pick: (r) => r.writes?.p99S, sides: ['ours'] },
  { key: 'writes.notEverywhere', label: 'writes: not on every node in the end', unit: '', pick: (r) => (r.writes === null ? undefined : r.writes.writes - r.writes.putErrors - r.writes.reachedAll), count: true, sides: ['ours'] },
  { key: 'writes.bytesPerNodePerS', label: 'writes: wire bytes per node per second', unit: 'B/s', pick: (r) => r.writes?.window.wire?.bytesPerNodePerS, sides: ['ours'] },
  { key: 'writes.bytesPerNodePerWrite', label: 'writes: wire bytes per node per write (above idle)', unit: 'B', pick: (r) => r.writes?.bytesPerNodePerWrite, sides: ['ours'] },
  { key: 'events.reachedAll', label: 'events: reached every node', unit: 'of E', pick: (r) => r.events?.reachedAll, count: true },
  { key: 'events.p50MedianS', label: 'events: time to 50 % of nodes, s (median event)', unit: 's', pick: (r) => r.events?.p50MedianS },
  { key: 'events.p90MedianS', label: 'events: time to 90 % of nodes, s (median event)', unit: 's', pick: (r) => r.events?.p90MedianS },
  { key: 'events.p100MedianS', label: 'events: time to every node, s (median event)', unit: 's', pick: (r) => r.events?.p100MedianS },
  { key: 'events.p100MaxS', label: 'events: time to every node, s (slowest event)', unit: 's', pick: (r) => r.events?.p100MaxS },
  { key: 'events.duplicates', label: 'events: duplicate deliveries', unit: '', pick: (r) => r.events?.duplicates, count: true },
  { key: 'events.droppedAsOld', label: 'events dropped as old (agents\' /metrics)', unit: '', pick: (r) => r.droppedAsOld, count: true, sides: ['ours'] },
  { key: 'churn.reachedAll', label: 'churn: events that reached every live node', unit: 'of E', pick: (r) => r.churn?.events.reachedAll, count: true },
  { key: 'churn.duplicates', label: 'churn: duplicate deliveries', unit: '', pick: (r) => r.churn?.events.duplicates, count: true },
  { key: 'churn.p100MedianS', label: 'churn: time to every live node, s (median event)', unit: 's', pick: (r) => r.churn?.events.p100MedianS },
  { key: 'churn.restartedRejoinedS', label: 'churn: restarted node lists all alive, s after restart', unit: 's', pick: (r) => r.churn?.restartedRejoinedS },
  { key: 'failure.seconds', label: 'failure: kill -9 → every survivor says failed, s', unit: 's', pick: (r) => r.failure?.seconds },
];

/** The rows for one size from its runs (both sides). */
export function sizeRows(runs: readonly RunResult[]): Row[] {
  const rows: Row[] = [];
  for (const d of ROWS) {
    const of = (side: Side): Spread | null => (d.sides !== undefined && !d.sides.includes(side) ? null : spread(runs.filter((r) => r.side === side).map(d.pick)));
    const serf = of('serf');
    const ours = of('ours');
    if (serf === null && ours === null) continue;
    rows.push({ key: d.key, label: d.label, unit: d.unit, serf, ours, ratio: d.count === true ? null : ratio(ours?.median, serf?.median) });
  }
  return rows;
}

/** Notes on a size's runs: errors, timeouts, missing events, how the agents ran. */
export function sizeNotes(runs: readonly RunResult[], eventsPerRun: number): string[] {
  const notes: string[] = [];
  for (const r of runs) {
    const who = `${r.side} run ${r.run}`;
    if (r.error !== null) notes.push(`${who}: stopped early: ${r.error}`);
    notes.push(...runningJoinNotes(who, r));
    if (r.join?.timedOut === true) notes.push(`${who}: the join did not complete within the join timeout (figures after it are of a partial cluster)`);
    for (const f of r.join?.startFailures ?? []) notes.push(`${who}: agent ${f}`);
    if (r.failure?.timedOut === true) notes.push(`${who}: not every survivor reported ${r.failure.victim} failed within the timeout`);
    if (r.events !== null && r.events.sendErrors > 0) notes.push(`${who}: ${r.events.sendErrors} of ${eventsPerRun} events could not be sent`);
    if (r.churn !== null && r.churn.events.sendErrors > 0) {
      notes.push(`${who}: churn: ${r.churn.events.sendErrors} of ${r.churn.events.sent} events could not be sent (their sender was being killed); "reached every live node" counts them as missed`);
    }
    if (r.join !== null && r.join.suspectedLive > 0) {
      const names = r.join.suspectedNames;
      notes.push(`${who}: ${names.length} live node${names.length === 1 ? '' : 's'} suspected during the join: ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', …' : ''}`);
    }
  }
  return notes;
}

const ms = (s: number): string => `${Math.round(s * 1000)} ms`;

/** The running join's notes: how the bench issued the requests (it is one process sending N−1), and what went wrong. */
function runningJoinNotes(who: string, r: RunResult): string[] {
  const j = r.runningJoin;
  if (j === null) return [];
  const notes: string[] = [];
  for (const f of j.startFailures) notes.push(`${who}: running join: agent ${f}`);
  if (j.startFailures.length > 0) return notes;
  const answered = j.answeredS === null ? '' : `; answered after ${ms(j.firstAnsweredS ?? j.answeredS)}–${ms(j.answeredS)}`;
  notes.push(`${who}: running join: ${r.n} agents answered ${j.startedS.toFixed(1)} s after launch; the ${r.n - 1} join requests were issued concurrently in ${ms(j.issueS)}${answered}; the bench process spent ${ms(j.benchCpuS)} of CPU until every node listed all alive`);
  if (j.timedOut) notes.push(`${who}: running join: not every node listed all ${r.n} alive within the join timeout`);
  if (j.joinFailed > 0) notes.push(`${who}: running join: ${j.joinFailed} of ${r.n - 1} join requests failed (the agent could not push-pull with node 0), e.g. ${j.joinErrors.slice(0, 2).join('; ')}`);
  if (j.suspectedLive > 0) {
    const names = j.suspectedNames;
    notes.push(`${who}: running join: ${names.length} live node${names.length === 1 ? '' : 's'} suspected: ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', …' : ''}`);
  }
  return notes;
}

function fmtNumber(x: number, unit: string): string {
  const abs = Math.abs(x);
  if (unit === 'B/s' || unit === 'B' || unit === '/s') return abs >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1);
  if (unit === 'MB') return x.toFixed(1);
  if (unit === '%') return abs >= 10 ? x.toFixed(1) : x.toFixed(2);
  if (unit === 's') return abs >= 10 ? x.toFixed(1) : abs >= 0.1 || x === 0 ? x.toFixed(2) : x.toFixed(3);
  return Number.isInteger(x) ? String(x) : x.toFixed(1);
}

/** `median [min–max]`, or the value alone for one run or no spread. */
export function fmtSpread(s: Spread | null, unit: string): string {
  if (s === null) return '—';
  const m = fmtNumber(s.median, unit);
  if (s.n === 1 || s.min === s.max) return m;
  return `${m} [${fmtNumber(s.min, unit)}–${fmtNumber(s.max, unit)}]`;
}

function fmtRatio(x: number | null): string {
  if (x === null) return '—';
  return x >= 10 ? `${x.toFixed(0)}×` : `${x.toFixed(2)}×`;
}

/** A Markdown table for one size (both sides when serf ran). */
export function sizeTable(s: SizeReport, eventsPerRun: number): string[] {
  const withSerf = s.runs.some((r) => r.side === 'serf');
  const label = (row: Row): string => (row.unit === 'of E' ? `${row.label} (of ${eventsPerRun})` : row.label);
  const header = withSerf ? [`N = ${s.n}`, 'serf', 'ours', 'ours/serf'] : [`N = ${s.n}`, 'ours'];
  const body = s.rows.map((row) => (withSerf
    ? [label(row), fmtSpread(row.serf, row.unit), fmtSpread(row.ours, row.unit), fmtRatio(row.ratio)]
    : [label(row), fmtSpread(row.ours, row.unit)]));
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const b of body) lines.push(`| ${b.join(' | ')} |`);
  return lines;
}

/** The whole report as text: a table per size, then its notes. */
export function renderReport(rep: BenchReport, eventsPerRun: number): string[] {
  const out: string[] = [];
  const runsPerSide = (s: SizeReport): number => s.runs.filter((r) => r.side === 'ours').length;
  out.push(`gossip bench cluster: seed ${rep.seed}, ${rep.machine.cpus} CPUs, load ${rep.machine.loadAvg.map((x) => x.toFixed(2)).join(' ')} at start; wire bytes: ${rep.wireSource === 'tcpdump' ? 'tcpdump on lo (IP bytes, headers included)' : 'NOT MEASURED (tcpdump not found or not permitted)'}`);
  const poll = rep.options.pollMs;
  if (typeof poll === 'number') out.push(`joins and the failure: every agent's members polled every ${poll} ms, so those times are known to within ${poll} ms (\`--poll\`)`);
  if (rep.agentsFromSource) out.push('note: our agents ran from TypeScript source under tsx (more CPU and memory than the built dist/cli/main.js); run `npm run build` and `node dist/cli/main.js bench cluster` for figures to publish');
  const lateStarts = rep.sizes.flatMap((s) => s.runs.map((r) => r.late?.startS)).filter((x): x is number => x !== undefined);
  if (lateStarts.length > 0) out.push(`late: a second window starting ${Math.min(...lateStarts).toFixed(0)}–${Math.max(...lateStarts).toFixed(0)} s after the joiners were launched`);
  for (const s of rep.sizes) {
    out.push('');
    out.push(`N = ${s.n}: ${runsPerSide(s)} run${runsPerSide(s) === 1 ? '' : 's'} per side, median [min–max]`);
    out.push(...sizeTable(s, eventsPerRun));
    for (const n of s.notes) out.push(`- ${n}`);
  }
  return out;
}
