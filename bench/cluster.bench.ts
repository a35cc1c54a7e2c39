/**
 * The README's "Measured against Serf" figures (issues 11 and 12): real processes on this
 * machine, our agents beside Debian's serf in the same run, interleaved (serf, ours, serf, ours).
 * N = 10 and 30 with 3 runs per side, N = 64 with 2, each with the late window (≥ 70 s after
 * launch). Builds first so that the agents run from dist/ (not under tsx), then runs
 * `node dist/cli/main.js bench cluster` per size group; tables go to stdout, progress to
 * stderr, raw samples, logs and captures to bench/results/cluster-<time>/.
 *
 *   npm run bench:cluster            (or: npx tsx bench/cluster.bench.ts [extra bench-cluster flags])
 *
 * Takes about 40 minutes on 2 cores; needs serf (/usr/bin/serf) and, for wire bytes, tcpdump run
 * as root. Run it on a quiet machine: every figure is wall-clock and CPU on shared cores.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const extra = process.argv.slice(2);
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const results = join(root, 'bench', 'results', `cluster-${stamp}`);
mkdirSync(results, { recursive: true });

const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

const groups: { nodes: string; runs: string }[] = [
  { nodes: '10,30', runs: '3' },
  { nodes: '64', runs: '2' },
];
let failed = 0;
for (const g of groups) {
  const args = [join(root, 'dist', 'cli', 'main.js'), 'bench', 'cluster', '--nodes', g.nodes, '--runs', g.runs, '--against', 'serf', '--late',
    '--seed', '1', '--out', join(results, `n${g.nodes.replace(',', '-')}`), ...extra];
  console.log(`\n$ node ${args.map((a) => a.replace(`${root}/`, '')).join(' ')}\n`);
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
