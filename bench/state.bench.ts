/**
 * Replicated state at scale (issue 4): `gossip simulate state` with its defaults (200 nodes,
 * 10,000 keys of mixed types, 50,000 writes, a 30 s partition, 5 % loss, 10 crashes) for seeds
 * 1…20 (or the seeds given as arguments), one row per seed with the command that reproduces it.
 * Prints a table; asserts nothing; exits 1 if any seed failed (not converged, or a lost or
 * resurrected write).
 *
 * Each seed holds 200 replicas of 10,000 keys plus the rumor logs: give it a large heap (the
 * default one makes the run spend its time in the garbage collector).
 *
 *   NODE_OPTIONS='--max-old-space-size=12000 --max-semi-space-size=64' npx tsx bench/state.bench.ts [seed ...]
 */
import { performance } from 'node:perf_hooks';
import type { StateScenarioOptions } from '../src/sim/state.js';
import { stateCommand, stateScenario } from '../src/sim/state.js';

const seeds = process.argv.length > 2 ? process.argv.slice(2).map(Number) : Array.from({ length: 20 }, (_, i) => i + 1);
const base: Omit<StateScenarioOptions, 'seed'> = {
  nodes: 200, keys: 10_000, writes: 50_000, types: ['lww', 'counter', 'orset'], partitionMs: 30_000, loss: 0.05, crashes: 10,
};

const mib = (b: number): string => (b / 1048576).toFixed(0);
console.log('| seed | converged | after heal (ms) | agreement 1 (ms) | lostWrites | resurrected | siblingsMax | rumor MiB | anti-entropy MiB | digest MiB | repaired | tombstones collected | to everyone p50/p99 (ms) | reported p50 (ms) | wall (s) | command |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
let failed = 0;
for (const seed of seeds) {
  const o: StateScenarioOptions = { ...base, seed };
  const r = stateScenario(o, () => performance.now());
  const ok = r.converged && r.lostWrites === 0 && r.resurrected === 0;
  if (!ok) failed++;
  console.log(
    `| ${seed} | ${r.converged ? 'yes' : 'NO'} | ${r.convergedAfterHealMs ?? '-'} | ${r.agreementOneAfterHealMs ?? '-'} | ${r.lostWrites} | ${r.resurrected} | ${r.siblingsMax} | ${mib(r.rumorBytes)} | ${mib(r.antiEntropyBytes)} | ${mib(r.digestBytes)} | ${r.repaired} | ${r.tombstonesCollected} | ${r.simTimeToEveryone.p50Ms}/${r.simTimeToEveryone.p99Ms} | ${r.timeToEveryone.p50Ms} | ${(r.wallMs / 1000).toFixed(1)} | \`${stateCommand(o)}\` |`,
  );
}
console.log(`\n${seeds.length - failed}/${seeds.length} seeds passed`);
if (failed > 0) process.exitCode = 1;
