import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from './bench-node.js';
import { findTcpdump } from './capture.js';
import { Launcher } from './launcher.js';
import { gossipCommand } from './our-node.js';
import { procAvailable } from './proc-stat.js';
import type { BenchReport, SizeReport } from './report.js';
import { sizeNotes, sizeRows } from './report.js';
import type { RunResult } from './run.js';
import { runOnce } from './run.js';
import type { BenchOptions } from './scenario.js';
import { planRuns } from './scenario.js';
import { findSerf } from './serf-node.js';

/** A problem with the bench's own setup (serf asked for but missing, no /proc): exit 2. */
export class BenchSetupError extends Error {
  override name = 'BenchSetupError';
}

export interface BenchHooks {
  readonly progress: (line: string) => void;
  /** Called once the launcher exists, so that the caller can stop everything on a signal. */
  readonly onLauncher?: (stop: () => Promise<void>) => void;
}

function serfVersion(bin: string): string | null {
  try {
    return execFileSync(bin, ['version'], { encoding: 'utf8', timeout: 5000 }).split('\n')[0]?.trim() ?? null;
  } catch {
    return null;
  }
}

/**
 * Runs the whole bench: every size, every run, serf and ours interleaved. Every process is
 * stopped by PID when a run ends; the work dir is removed at the end unless `out` keeps it.
 */
export async function runClusterBench(o: BenchOptions, hooks: BenchHooks): Promise<BenchReport> {
  if (!procAvailable()) throw new BenchSetupError('bench cluster reads /proc/PID/stat: it runs on Linux only');
  const serf = findSerf();
  if (o.against === 'serf' && serf === null) throw new BenchSetupError('--against serf: serf is not installed (/usr/bin/serf; on Debian: apt-get install serf)');
  const tcpdump = findTcpdump();
  if (tcpdump === null) hooks.progress('tcpdump not found or not permitted (it needs root or CAP_NET_RAW): wire bytes are not measured');
  const gossip = gossipCommand();
  const workDir = o.out ?? mkdtempSync(join(tmpdir(), 'gossip-bench-'));
  mkdirSync(workDir, { recursive: true });
  const launcher = new Launcher();
  let stopped = false;
  const stop = async (): Promise<void> => {
    stopped = true;
    await launcher.killAll();
    if (o.out === null) rmSync(workDir, { recursive: true, force: true });
  };
  hooks.onLauncher?.(stop);
  const machine = { cpus: cpus().length, loadAvg: loadavg(), node: process.version, serf: serf === null ? null : serfVersion(serf) };
  const results: RunResult[] = [];
  try {
    const plans = planRuns(o);
    for (const [i, plan] of plans.entries()) {
      if (stopped) break;
      if (i > 0) await sleep(2000); // the previous run's sockets and CPU settle
      const dir = join(workDir, `n${plan.n}-run${plan.run}-${plan.side}`);
      mkdirSync(dir, { recursive: true });
      results.push(await runOnce(plan, { launcher, options: o, gossip, serf, tcpdump, dir, progress: hooks.progress }));
    }
  } finally {
    await launcher.killAll();
    launcher.dispose();
  }
  const sizes: SizeReport[] = o.nodes.map((n) => {
    const runs = results.filter((r) => r.n === n);
    return { n, rows: sizeRows(runs), notes: sizeNotes(runs, o.events), runs };
  });
  const report: BenchReport = {
    seed: o.seed,
    options: { ...o, encryptKey: o.encryptKey === null ? null : '(a fresh key, the same for both sides)' },
    machine, wireSource: tcpdump === null ? 'none' : 'tcpdump',
    agentsFromSource: gossip.fromSource, sizes,
  };
  if (o.out !== null) writeFileSync(join(workDir, 'report.json'), `${JSON.stringify(report, null, 1)}\n`);
  else rmSync(workDir, { recursive: true, force: true });
  return report;
}
