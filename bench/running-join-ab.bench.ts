/**
 * Two builds of the agent compared on `gossip bench cluster`'s running join alone (issue 12):
 * N agents of build A started without a join, the N−1 asked at one instant to join node 0, timed
 * until every node lists all N alive; then the same with build B; A and B alternate run by run,
 * so both meet the same machine (whose speed drifts). The harness is this checkout's
 * (`measureRunningJoin`); only the agents differ. A build is a checkout directory with
 * `npm run build` done (`dist/cli/main.js`); B defaults to this checkout. Prints each run and the
 * medians: join seconds, the agents' CPU in it, the last join request answered. Ports below 32768
 * (`freePort`). Asserts nothing.
 *
 *   npm run build && npx tsx bench/running-join-ab.bench.ts --a /path/to/other/checkout [--b .] [--nodes 64] [--runs 7] [--poll 50]
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GossipCommand } from '../src/clusterbench/our-node.js';
import { OurNode } from '../src/clusterbench/our-node.js';
import { Launcher } from '../src/clusterbench/launcher.js';
import { median } from '../src/clusterbench/figures.js';
import { measureRunningJoin } from '../src/clusterbench/running-join.js';

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? dflt) : dflt;
};
const here = resolve(fileURLToPath(new URL('..', import.meta.url)));
const A = resolve(arg('a', ''));
const B = resolve(arg('b', here));
const N = Number(arg('nodes', '64'));
const RUNS = Number(arg('runs', '7'));
const POLL_MS = Number(arg('poll', '50'));
if (arg('a', '') === '') throw new Error('--a: the checkout of build A (built with npm run build)');

const command = (dir: string): GossipCommand => ({ node: process.execPath, args: [join(dir, 'dist/cli/main.js')], fromSource: false });
const launcher = new Launcher();
const root = mkdtempSync(join(tmpdir(), 'running-join-ab-'));
const seen: Record<'A' | 'B', { join: number[]; cpu: number[]; answered: number[] }> = { A: { join: [], cpu: [], answered: [] }, B: { join: [], cpu: [], answered: [] } };

try {
  for (let r = 0; r < RUNS; r++) {
    for (const [label, dir] of [['A', A], ['B', B]] as const) {
      const runDir = join(root, `${label}${r}`);
      mkdirSync(join(runDir, 'logs'), { recursive: true });
      const makeNode = (name: string): OurNode => {
        mkdirSync(join(runDir, name), { recursive: true });
        return new OurNode(launcher, command(dir), {
          name, dir: join(runDir, name), logFile: join(runDir, 'logs', `${name}.log`), profile: 'lan', encrypt: null, config: null, extraArgs: [], readyTimeoutMs: 120_000,
        });
      };
      const { figures: f } = await measureRunningJoin({ makeNode, n: N, joinTimeoutMs: 120_000, pollMs: POLL_MS, settleMs: 2000, dir: runDir, say: () => undefined });
      await launcher.killAll();
      console.log(`${label} run ${r + 1}: join ${f.seconds?.toFixed(2) ?? 'timed out'} s, agents' CPU ${f.cpuSecondsTotal.toFixed(2)} s, last request answered ${f.answeredS?.toFixed(2) ?? '—'} s, live nodes suspected ${f.suspectedLive}`);
      if (f.seconds !== null) seen[label].join.push(f.seconds);
      seen[label].cpu.push(f.cpuSecondsTotal);
      if (f.answeredS !== null) seen[label].answered.push(f.answeredS);
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
  for (const label of ['A', 'B'] as const) {
    const s = seen[label];
    console.log(`${label} (${label === 'A' ? A : B}): N = ${N}, median of ${RUNS}: join ${median(s.join).toFixed(2)} s [${Math.min(...s.join).toFixed(2)}–${Math.max(...s.join).toFixed(2)}], agents' CPU ${median(s.cpu).toFixed(2)} s, last request answered ${median(s.answered).toFixed(2)} s`);
  }
} finally {
  await launcher.killAll();
  launcher.dispose();
  rmSync(root, { recursive: true, force: true });
}
