/**
 * Simulator benchmark: wall time and peak memory for N nodes × T simulated seconds of SWIM +
 * Lifeguard membership (all nodes join in the first 5 s). Prints a table; asserts nothing.
 *
 *   npm run bench                       # 10,000 nodes × 60 s (the foundation issue's target: ≤ 60 s, ≤ 8 GiB)
 *   npm run bench -- --nodes 1000 --duration 600
 */
import { performance } from 'node:perf_hooks';
import { membershipScenario, runMembership } from '../src/sim/membership.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : dflt;
  if (!Number.isFinite(v)) throw new Error(`--${name} needs a number`);
  return v;
}

const nodes = arg('nodes', 10_000);
const durationS = arg('duration', 60);
const seed = arg('seed', 1);
/** --join: all nodes join through seeds in the first 5 s (the join storm); default: start converged. */
const join = process.argv.includes('--join');
let peakRss = 0;
let peakHeap = 0;
const sample = (): void => {
  const m = process.memoryUsage();
  peakRss = Math.max(peakRss, m.rss);
  peakHeap = Math.max(peakHeap, m.heapUsed);
};
const t0 = performance.now();
const r = runMembership(membershipScenario({ nodes, seed, durationMs: durationS * 1000, crash: Math.min(10, Math.floor(nodes / 100)), startConverged: !join, crashFromMs: durationS * 250, crashToMs: durationS * 500 }), {
  wallClock: () => performance.now(),
  onProgress: (done, total) => {
    sample();
    if (process.stderr.isTTY) process.stderr.write(`\r${(done / 1000).toFixed(0)}/${total / 1000} s simulated, ${((performance.now() - t0) / 1000).toFixed(1)} s wall, rss ${(peakRss / 2 ** 30).toFixed(2)} GiB   `);
  },
});
sample();
if (process.stderr.isTTY) process.stderr.write('\n');
const gib = (b: number): string => `${(b / 2 ** 30).toFixed(2)} GiB`;
const rows: [string, string][] = [
  ['nodes', String(nodes)],
  ['start', join ? 'all join in the first 5 s' : 'converged (every node knows every node)'],
  ['simulated', `${durationS} s`],
  ['crashes detected (p50 / max)', `${r.detection.p50Ms === null ? 'n/a' : (r.detection.p50Ms / 1000).toFixed(1)} s / ${r.detection.maxMs === null ? 'n/a' : (r.detection.maxMs / 1000).toFixed(1)} s, undetected ${r.detection.undetected}`],
  ['wall', `${(r.wallMs / 1000).toFixed(1)} s`],
  ['peak RSS', gib(peakRss)],
  ['peak heap used', gib(peakHeap)],
  ['join converged', r.joinConvergedMs === null ? 'not within the run' : `${(r.joinConvergedMs / 1000).toFixed(1)} s`],
  ['packets', String(r.messages.packets)],
  ['packets / wall s', String(Math.round(r.messages.packets / (r.wallMs / 1000)))],
  ['trace', r.traceHash],
];
console.log('| membership simulator | |\n|---|---|');
for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
console.log(JSON.stringify({ bench: 'membership', start: join ? 'join' : 'converged', nodes, durationS, seed, wallMs: r.wallMs, peakRssBytes: peakRss, peakHeapBytes: peakHeap, joinConvergedMs: r.joinConvergedMs, packets: r.messages.packets }));
