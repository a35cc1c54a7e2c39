import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchReport } from '../../src/clusterbench/report.js';
import { ROWS } from '../../src/clusterbench/report.js';
import type { RunResult } from '../../src/clusterbench/run.js';
import type { WindowFigures } from '../../src/clusterbench/window.js';
import { main } from '../../src/cli/main.js';
import { capture } from '../unit/cli/capture.js';
import { ensureSerf } from './serf-agent.js';
import { waitFor } from './wait.js';

// One small real run of `gossip bench cluster`: 4 of our agents (and 4 serf agents when serf is
// installed), short windows. It asserts the report's shape and that every figure is there and
// finite; never a speed.
const haveSerf = ensureSerf();
if (!haveSerf) console.warn('\n*** bench-cluster: /usr/bin/serf is missing: the small run measures our agents only ***\n');
const out = mkdtempSync(join(tmpdir(), 'bench-cluster-test-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const ARGS = ['bench', 'cluster', '--nodes', '4', '--runs', '1', '--events', '3', '--steady', '2s', '--profile', 'local',
  '--join-timeout', '90s', '--fail-timeout', '30s', '--delivery-timeout', '5s', '--seed', '42', '--poll', '100ms'];

const finite = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x);

function expectWindow(w: WindowFigures | null, wire: boolean): void {
  expect(w).not.toBeNull();
  if (w === null) return;
  for (const k of ['startS', 'durationS', 'rssMedianBytes', 'rssMaxBytes', 'cpuPctMedian', 'cpuPctMax', 'cpuPctTotal'] as const) expect(finite(w[k]), k).toBe(true);
  expect(w.rssMedianBytes).toBeGreaterThan(0);
  expect(w.cpuPctTotal).toBeGreaterThanOrEqual(0);
  if (!wire) return;
  expect(w.wire).not.toBeNull();
  for (const v of Object.values(w.wire ?? {})) expect(finite(v)).toBe(true);
  // Every member probes every second: an idle cluster is never silent on the wire.
  expect(w.wireCount?.udpPackets ?? 0).toBeGreaterThan(0);
}

describe('gossip bench cluster (a small real run)', () => {
  it(`N = 4, one run${haveSerf ? ', against serf' : ''}: every figure present and finite, every process stopped`, async () => {
    const io = capture();
    const code = await main([...ARGS, '--json', '--out', out, ...(haveSerf ? ['--against', 'serf'] : [])], io);
    expect(io.stderr.join('\n')).not.toMatch(/error:/);
    expect(code).toBe(0);
    const rep = JSON.parse(io.stdout.join('\n')) as BenchReport;
    expect(rep.seed).toBe(42);
    expect(rep.options.pollMs).toBe(100);
    expect(rep.sizes.map((s) => s.n)).toEqual([4]);
    const size = rep.sizes[0];
    const runs: readonly RunResult[] = size?.runs ?? [];
    expect(runs.map((r) => r.side)).toEqual(haveSerf ? ['serf', 'ours'] : ['ours']);
    const wire = rep.wireSource === 'tcpdump';
    for (const r of runs) {
      expect(r.error).toBeNull();
      expect(r.join?.timedOut).toBe(false);
      expect(finite(r.join?.seconds)).toBe(true);
      expect(finite(r.join?.cpuSecondsMedian)).toBe(true);
      expect(Number.isInteger(r.join?.suspectedLive)).toBe(true);
      // The join among running agents (on by default): its own cluster, asked to join at once.
      expect(r.runningJoin?.startFailures).toEqual([]);
      expect(r.runningJoin?.joinFailed).toBe(0);
      expect(r.runningJoin?.timedOut).toBe(false);
      for (const k of ['seconds', 'issueS', 'answeredS', 'cpuSecondsMedian', 'cpuSecondsTotal'] as const) expect(finite(r.runningJoin?.[k]), `runningJoin.${k}`).toBe(true);
      expect(Number.isInteger(r.runningJoin?.suspectedLive)).toBe(true);
      expectWindow(r.steady, wire);
      expect(r.events?.sent).toBe(3);
      expect(r.events?.sendErrors).toBe(0);
      expect(r.events?.reachedAll).toBeGreaterThanOrEqual(0);
      expect(r.events?.reachedAll).toBeLessThanOrEqual(3);
      expect(finite(r.events?.p50MedianS)).toBe(true);
      expect(r.events?.perMessage).toHaveLength(3);
      expect(r.failure?.timedOut).toBe(false);
      expect(finite(r.failure?.seconds)).toBe(true);
    }
    // The table: each measured row has a finite median for each side that ran, and a ratio when both did.
    const rowKeys = size?.rows.map((row) => row.key) ?? [];
    for (const key of ['runningJoin.seconds', 'runningJoin.cpuSecondsTotal', 'join.seconds', 'steady.cpuPctTotal', 'steady.rssMedianMB', 'events.p50MedianS', 'failure.seconds', ...(wire ? ['steady.bytesPerNodePerS', 'steady.packetsPerNodePerS'] : [])]) {
      expect(rowKeys).toContain(key);
    }
    for (const row of size?.rows ?? []) {
      const def = ROWS.find((d) => d.key === row.key);
      expect(def).toBeDefined();
      expect(finite(row.ours?.median), `${row.key} ours`).toBe(true);
      if (haveSerf && def?.sides === undefined) expect(finite(row.serf?.median), `${row.key} serf`).toBe(true);
    }
    // Raw samples and logs are kept under --out; every agent the bench started is gone.
    const dirs = readdirSync(out).filter((d) => d.startsWith('n4-run1-'));
    expect(dirs.sort()).toEqual(haveSerf ? ['n4-run1-ours', 'n4-run1-serf'] : ['n4-run1-ours']);
    for (const d of dirs) {
      const samples = JSON.parse(readFileSync(join(out, d, 'samples.json'), 'utf8')) as { pids: Record<string, number | null> };
      expect(Object.keys(samples.pids)).toHaveLength(4);
      for (const pid of Object.values(samples.pids)) {
        expect(pid).not.toBeNull();
        expect(existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z '), `pid ${pid} still running`).toBe(false);
      }
      expect(readdirSync(join(out, d, 'logs'))).toHaveLength(4);
    }
    expect(existsSync(join(out, 'report.json'))).toBe(true);
  }, 300_000); // 8 process starts under tsx on a shared 2-core machine

  it('--against serf without serf is a clear error, exit 2', async () => {
    const io = capture();
    const before = process.env.GOSSIP_BENCH_SERF;
    process.env.GOSSIP_BENCH_SERF = '/nonexistent/serf';
    try {
      expect(await main(['bench', 'cluster', '--nodes', '4', '--against', 'serf'], io)).toBe(2);
    } finally {
      if (before === undefined) delete process.env.GOSSIP_BENCH_SERF;
      else process.env.GOSSIP_BENCH_SERF = before;
    }
    expect(io.stderr.join('\n')).toMatch(/error: --against serf: serf is not installed/);
  });

  it('bad sizes and profiles are usage errors', async () => {
    for (const args of [['--nodes', '1'], ['--nodes', '4,x'], ['--nodes', '4', '--profile', 'fast'], ['--nodes', '4', '--against', 'consul']]) {
      const io = capture();
      expect(await main(['bench', 'cluster', ...args], io)).toBe(2);
      expect(io.stderr[0]).toMatch(/^error: --(nodes|profile|against)/);
    }
  });

  it('a poll step under 10 ms is a usage error, not quietly raised', async () => {
    const io = capture();
    expect(await main(['bench', 'cluster', '--nodes', '4', '--poll', '5ms'], io)).toBe(2);
    expect(io.stderr[0]).toMatch(/^error: --poll: at least 10ms, got '5ms'/);
  });

  it('Ctrl-C stops every process the bench started', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-cluster-int-'));
    try {
      const entry = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
      const child = spawn(process.execPath, ['--import', 'tsx', entry, ...ARGS, '--out', dir, '--join-timeout', '120s'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      await waitFor('the joiners to be launched', 60_000, () => /launching 3 joiners/.test(err), () => err);
      const ours = (): number[] => agentsUnder(dir);
      await waitFor('an agent to run', 30_000, () => ours().length > 0);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      expect(err).toMatch(/interrupted: stopping every agent/);
      await waitFor('every agent to be gone', 10_000, () => ours().length === 0, () => ours().join(','));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});

/** PIDs of live processes whose command line mentions `dir` (the agents' data dirs and handler scripts are under it). */
function agentsUnder(dir: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(dir) && !readFileSync(`/proc/${p}/stat`, 'utf8').includes(') Z ')) out.push(Number(p));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}
