/**
 * Round engine benchmark: wall time of one trial per mode at 10⁶ nodes (issue 3's target:
 * one push-pull trial ≤ 1 s). Prints a table; asserts nothing.   npx tsx bench/rounds.bench.ts
 */
import { performance } from 'node:perf_hooks';
import { seededRng } from '../src/core/rng.js';
import type { RoundMode } from '../src/sim/rounds.js';
import { RoundEngine, theoryRounds } from '../src/sim/rounds.js';

const n = 1_000_000;
const trials = 5;
const engine = new RoundEngine(seededRng(1));
console.log(`| mode (n = 10⁶) | ms per trial | mean rounds | theory (no O(1)) | transmissions per node |\n|---|---|---|---|---|`);
for (const [mode, fanout] of [['push', 1], ['pull', 1], ['push-pull', 1], ['push', 3]] as [RoundMode, number][]) {
  engine.trial({ mode, nodes: n, fanout }); // warm-up
  let rounds = 0;
  let tx = 0;
  const t0 = performance.now();
  for (let t = 0; t < trials; t++) {
    const r = engine.trial({ mode, nodes: n, fanout });
    rounds += r.rounds;
    tx += r.transmissions;
  }
  const ms = (performance.now() - t0) / trials;
  console.log(`| ${mode}${fanout > 1 ? ` f=${fanout}` : ''} | ${ms.toFixed(0)} | ${(rounds / trials).toFixed(2)} | ${theoryRounds(mode, n, fanout).toFixed(2)} | ${(tx / trials / n).toFixed(2)} |`);
}
