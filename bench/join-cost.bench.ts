/**
 * The CPU a join costs the cluster, one join at a time (issue 12, the join among running
 * agents): N agents are started without a join, then nodes 1 … N−1 are asked to join node 0 one
 * after the other (each request answered before the next, `--gap` ms apart), ours and serf's
 * side by side. Without a storm, nothing waits for CPU, so what each agent spends is what the
 * protocol costs it: the seed's CPU per join it answered; each member's CPU against the number
 * of joins it witnessed (node j witnesses the N−1−j joins after its own), whose least-squares
 * slope is what one more member joining costs every member (averaged over a member's first
 * joins, which cost more, and later ones); and what the last five joiners spent (median), who
 * witnessed almost nothing but their own join. CPU from /proc (10 ms ticks, summed over many joins). Ports 21000–21299 (below
 * 32768). Runs the built agent (`npm run build` first) and Debian's `serf`. Asserts nothing.
 *
 *   npm run build && npx tsx bench/join-cost.bench.ts [--nodes 64] [--gap 20] [--runs 1]
 */
import type { ChildProcess } from 'node:child_process';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, slope } from '../src/clusterbench/figures.js';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const N = arg('nodes', 64);
const GAP_MS = arg('gap', 20);
const RUNS = arg('runs', 1);
const MAIN = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const GOSSIP_PORT = 21_000;
const API_PORT = 21_100;
if (N > 100) throw new Error('--nodes: at most 100 (ports 21000-21299)');

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** CPU seconds (user + system) of a process so far. */
function cpuS(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(f[11]) + Number(f[12])) / 100;
}

interface Side {
  readonly name: 'ours' | 'serf';
  start(i: number, dir: string): ChildProcess;
  ready(i: number): Promise<void>;
  join(i: number): Promise<void>;
}

const ours: Side = {
  name: 'ours',
  start: (i, dir) => spawn(process.execPath, [MAIN, 'agent', '--name', `n${i}`, '--bind', `127.0.0.1:${GOSSIP_PORT + i}`, '--http', `127.0.0.1:${API_PORT + i}`, '--data-dir', join(dir, `n${i}`), '--profile', 'lan'], { stdio: 'ignore' }),
  ready: async (i) => void (await (await fetch(`http://127.0.0.1:${API_PORT + i}/v1/health`)).text()),
  join: async (i) => {
    const r = await fetch(`http://127.0.0.1:${API_PORT + i}/v1/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ addrs: [`127.0.0.1:${GOSSIP_PORT}`] }) });
    if (!r.ok) throw new Error(`join n${i}: HTTP ${r.status} ${await r.text()}`);
  },
};

const serf: Side = {
  name: 'serf',
  start: (i) => spawn('serf', ['agent', `-node=n${i}`, `-bind=127.0.0.1:${GOSSIP_PORT + i}`, `-rpc-addr=127.0.0.1:${API_PORT + i}`, '-log-level=warn'], { stdio: 'ignore' }),
  ready: (i) => {
    execFileSync('serf', ['members', `-rpc-addr=127.0.0.1:${API_PORT + i}`], { stdio: 'ignore' });
    return Promise.resolve();
  },
  join: (i) => {
    execFileSync('serf', ['join', `-rpc-addr=127.0.0.1:${API_PORT + i}`, `127.0.0.1:${GOSSIP_PORT}`], { stdio: 'ignore' });
    return Promise.resolve();
  },
};

async function run(side: Side): Promise<{ seedMsPerJoin: number; slopeMs: number; lastJoinersMs: number; totalS: number }> {
  const dir = mkdtempSync(join(tmpdir(), `join-cost-${side.name}-`));
  const procs: ChildProcess[] = [];
  try {
    for (let i = 0; i < N; i++) procs.push(side.start(i, dir));
    for (let i = 0; i < N; i++) {
      for (let tries = 0; ; tries++) {
        try {
          await side.ready(i);
          break;
        } catch (e) {
          if (tries > 300) throw e;
          await sleep(100);
        }
      }
    }
    await sleep(3000);
    const pid = (i: number): number => procs[i]?.pid ?? -1;
    const before = procs.map((_, i) => cpuS(pid(i)));
    for (let j = 1; j < N; j++) {
      await sleep(GAP_MS);
      await side.join(j);
    }
    await sleep(1000);
    const spent = procs.map((_, i) => (cpuS(pid(i)) - before[i]!) * 1000);
    // Node j (1 … N−1) witnessed the N−1−j joins after its own.
    const xs = spent.slice(1).map((_, k) => N - 2 - k);
    return { seedMsPerJoin: spent[0]! / (N - 1), slopeMs: slope(xs, spent.slice(1)), lastJoinersMs: median(spent.slice(-5)), totalS: spent.reduce((a, b) => a + b, 0) / 1000 };
  } finally {
    for (const p of procs) p.kill('SIGKILL');
    await sleep(300);
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`N = ${N}, joins ${GAP_MS} ms apart, each answered before the next; CPU in ms`);
for (let r = 0; r < RUNS; r++) {
  const res: Record<string, Awaited<ReturnType<typeof run>>> = {};
  for (const side of [ours, serf]) res[side.name] = await run(side);
  for (const [name, x] of Object.entries(res)) {
    console.log(`${name.padEnd(5)} seed per join answered ${x.seedMsPerJoin.toFixed(2)}; every member per join witnessed ${x.slopeMs.toFixed(2)}; the last five joiners (median) ${x.lastJoinersMs.toFixed(0)}; all agents ${x.totalS.toFixed(2)} s`);
  }
}
