/**
 * Full-engine benchmark: wall time of one update disseminated through 10⁴ nodes by the
 * production Disseminator on the simulator (issue 3's target: ≤ 10 s), with partners from an
 * oracle and from SWIM member lists (a converged cluster running membership beside it).
 * Prints a table; asserts nothing.   npx tsx bench/dissemination.bench.ts [--nodes N]
 */
import { performance } from 'node:perf_hooks';
import type { GossipMode } from '../src/core/dissemination/mean-field.js';
import type { MembershipSource } from '../src/sim/dissemination.js';
import { fullTrial } from '../src/sim/dissemination.js';

const arg = process.argv.indexOf('--nodes');
const n = arg > 0 ? Number(process.argv[arg + 1]) : 10_000;
console.log(`| full engine, n = ${n} | membership | setup ms | run ms | rounds | payloads per node | all informed |\n|---|---|---|---|---|---|---|`);
for (const [mode, membership] of [['push-pull', 'oracle'], ['push', 'oracle'], ['push-pull', 'swim']] as [GossipMode, MembershipSource][]) {
  const r = fullTrial({ nodes: n, seed: 1, membership, dissemination: { mode, fanout: 1, rumor: 'none', maxHotRounds: 100_000, repairEveryRounds: 0 } }, () => performance.now());
  console.log(`| ${mode} | ${membership} | ${r.setupMs} | ${r.runMs} | ${r.rounds} | ${(r.transmissions / n).toFixed(2)} | ${r.allInformed} |`);
}
