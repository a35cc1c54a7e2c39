/**
 * Start-up cost of the built CLI (issue 12): CPU seconds and peak memory of client commands,
 * CPU an agent spends from process start until its HTTP API first answers, and the RSS of idle
 * agents in a 3-node cluster. Measures `node dist/cli/main.js` (run `npm run build` first) with
 * `/usr/bin/time -f "%U %S %M"` and /proc. Prints medians; asserts nothing.
 *
 *   npm run build && npx tsx bench/startup.bench.ts [--runs 7] [--idle 30]
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts } from '../src/clusterbench/ports.js';

const MAIN = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const RUNS = arg('runs', 7);
const IDLE_S = arg('idle', 30);
const TICK_S = 0.01; // /proc/PID/stat counts CPU in clock ticks (CLK_TCK = 100 on Linux)

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] ?? NaN) : ((s[m - 1] ?? NaN) + (s[m] ?? NaN)) / 2;
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One run under /usr/bin/time: CPU seconds (user + system) and peak RSS in MB. */
function timed(argv: readonly string[]): Promise<{ cpuS: number; peakMb: number; code: number | null }> {
  return new Promise((resolve, reject) => {
    const p = spawn('/usr/bin/time', ['-f', 'TIME %U %S %M', process.execPath, ...argv], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    p.once('error', reject);
    p.once('exit', (code) => {
      const m = /TIME (\S+) (\S+) (\d+)\s*$/.exec(err);
      if (m === null) return reject(new Error(`no timing in: ${err}`));
      resolve({ cpuS: Number(m[1]) + Number(m[2]), peakMb: Number(m[3]) / 1024, code });
    });
  });
}

async function client(label: string, argv: readonly string[]): Promise<void> {
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await timed(argv));
  const bad = runs.filter((r) => r.code !== 0).length;
  console.log(`| \`${label}\` | ${median(runs.map((r) => r.cpuS)).toFixed(2)} | ${median(runs.map((r) => r.peakMb)).toFixed(0)} |${bad > 0 ? ` ${bad} runs failed` : ''}`);
}

/** CPU seconds (user + system) the process has used so far. */
function cpuOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_S;
}
function rssMbOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1]) / 1024;
}

interface Started { proc: ChildProcess; http: string; gossip: string; cpuAtListenS: number }

/** Starts an agent and polls its HTTP API every 2 ms; the CPU it has used when the API first answers. */
async function startAgent(name: string, dir: string, join: readonly string[]): Promise<Started> {
  const [gossipPort, httpPort] = await freePorts(2);
  const gossip = `127.0.0.1:${gossipPort}`;
  const http = `127.0.0.1:${httpPort}`;
  const proc = spawn(process.execPath, [MAIN, 'agent', '--name', name, '--bind', gossip, '--http', http, '--data-dir', dir, '--profile', 'lan', '--log-level', 'warn', ...join.flatMap((j) => ['--join', j])], { stdio: ['ignore', 'ignore', 'inherit'] });
  const pid = proc.pid;
  if (pid === undefined) throw new Error('no pid');
  for (let i = 0; i < 10_000; i++) {
    try {
      const res = await fetch(`http://${http}/v1/members`);
      await res.arrayBuffer();
      if (res.ok) return { proc, http, gossip, cpuAtListenS: cpuOf(pid) };
    } catch {
      // not listening yet
    }
    if (proc.exitCode !== null) throw new Error(`${name} exited with ${proc.exitCode}`);
    await sleep(2);
  }
  throw new Error(`${name} never answered`);
}

/**
 * The memory floor of a Node process that does what every agent must, and nothing of ours: an
 * HTTP server, a UDP and a TCP socket, better-sqlite3 in WAL mode with one row written, one
 * AES-GCM seal, a 200 ms timer sending a datagram. It prints its RSS after IDLE_S seconds.
 * Arguments: the repository root (to find better-sqlite3), a directory, two ports, seconds.
 */
const FLOOR = `
import crypto from 'node:crypto'; import dgram from 'node:dgram'; import http from 'node:http';
import { createRequire } from 'node:module'; import net from 'node:net'; import { join } from 'node:path';
const [root, dir, port, httpPort, idle] = process.argv.slice(1);
const Database = createRequire(join(root, 'package.json'))('better-sqlite3');
const db = new Database(join(dir, 'floor.db'));
db.pragma('journal_mode = WAL');
db.exec('create table if not exists kv(k text primary key, v blob)');
db.prepare('insert or replace into kv values (?, ?)').run('a', Buffer.from('x'));
http.createServer((_q, r) => r.end('ok')).listen(Number(httpPort), '127.0.0.1');
const udp = dgram.createSocket('udp4');
udp.on('message', () => {});
udp.bind(Number(port), '127.0.0.1');
net.createServer((s) => s.end()).listen(Number(port), '127.0.0.1');
const seal = crypto.createCipheriv('aes-256-gcm', crypto.randomBytes(32), crypto.randomBytes(12));
seal.update('x'); seal.final();
setInterval(() => udp.send(Buffer.from('ping'), Number(port), '127.0.0.1'), 200);
setTimeout(() => { process.stdout.write((process.memoryUsage().rss / 1048576).toFixed(1)); process.exit(0); }, Number(idle) * 1000);
`;

/** RSS of the FLOOR process after IDLE_S seconds: what Node needs for an agent's duties before any of our code. */
async function floorRss(dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const [port, http] = await freePorts(2);
  const root = fileURLToPath(new URL('..', import.meta.url));
  const p = spawn(process.execPath, ['--input-type=module', '-e', FLOOR, root, dir, String(port), String(http), String(IDLE_S)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  await new Promise((r) => p.once('exit', r));
  return out.trim();
}

async function stop(a: Started): Promise<void> {
  if (a.proc.exitCode !== null) return;
  const exited = new Promise((r) => a.proc.once('exit', r));
  a.proc.kill('SIGTERM');
  await exited;
}

const root = mkdtempSync(join(tmpdir(), 'gossip-startup-'));
try {
  console.log(`| command (median of ${RUNS}) | CPU s | peak MB |\n|---|---|---|`);
  await client('node -e 0 (the floor)', ['-e', '0']);
  await client('gossip --help', [MAIN, '--help']);

  const starts: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const a = await startAgent(`solo${i}`, join(root, `solo${i}`), []);
    starts.push(a.cpuAtListenS);
    await stop(a);
  }

  const first = await startAgent('n1', join(root, 'n1'), []);
  const others = [await startAgent('n2', join(root, 'n2'), [first.gossip]), await startAgent('n3', join(root, 'n3'), [first.gossip])];
  const agents = [first, ...others];
  try {
    await fetch(`http://${first.http}/v1/kv/bench-key`, { method: 'PUT', body: JSON.stringify({ value: 'v' }), headers: { 'content-type': 'application/json' } });
    await client('gossip members', [MAIN, 'members', '--http', first.http]);
    await client('gossip kv get', [MAIN, 'kv', 'get', 'bench-key', '--http', first.http]);
    console.log(`\nagent start → HTTP API answers, CPU s (median of ${RUNS}, ${TICK_S} s ticks): ${median(starts).toFixed(2)}  [${starts.map((s) => s.toFixed(2)).join(' ')}]`);
    const floor = floorRss(join(root, 'floor')); // idles beside the agents
    await sleep(IDLE_S * 1000);
    const rss = agents.map((a) => rssMbOf(a.proc.pid ?? 0));
    console.log(`idle RSS after ${IDLE_S} s in a 3-node cluster, MB: ${rss.map((r) => r.toFixed(1)).join(', ')} (median ${median(rss).toFixed(1)})`);
    console.log(`the floor for the job, after ${IDLE_S} s (HTTP server, UDP+TCP sockets, SQLite in WAL, AES-GCM; none of our code), MB: ${await floor}`);
  } finally {
    await Promise.all(agents.map(stop));
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
