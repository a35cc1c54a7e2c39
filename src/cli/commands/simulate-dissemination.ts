import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Command } from 'commander';
import type { RoundMode, RumorVariant } from '../../sim/rounds.js';
import type { MembershipSource } from '../../sim/dissemination.js';
import type { Io } from '../io.js';
import { parseTopologyOption } from '../topology-option.js';
import { parseIntIn, resolveSeed, UsageError } from '../parse.js';
import { lineChart, loadVega, renderSvg } from '../plot.js';

const MODES: readonly RoundMode[] = ['push', 'pull', 'push-pull'];
const VARIANTS: readonly RumorVariant[] = ['feedback-counter', 'feedback-coin', 'blind-counter', 'blind-coin'];

interface DissOpts { mode: string; fanout: string; nodes: string; trials: string; seed?: string; json?: boolean; plot?: string; termination: string; ctrMax: string; cRounds: string; engine: string; membership: string; topology?: string }
const ENGINES = ['rounds', 'full'] as const;
const MEMBERSHIPS: readonly MembershipSource[] = ['oracle', 'swim'];

const TERMINATIONS = ['none', 'median-counter', 'push-then-pull'] as const;
type Termination = (typeof TERMINATIONS)[number];
interface RumorOpts { variant: string; k: string; nodes: string; trials: string; seed?: string; json?: boolean }

export function registerSimulateDissemination(simulate: Command, io: Io): void {
  trialOptions(simulate
    .command('dissemination')
    .description('rounds until everyone is informed, push / pull / push-pull with fanout, against theory (round engine or the full engine)')
    .option('--engine <e>', 'rounds (lean synchronous model) or full (the production Disseminator on the simulator)', 'rounds')
    .option('--membership <m>', 'full engine: partners from an oracle of live nodes, or from each node\'s SWIM member list', 'oracle')
    .option('--mode <m>', 'push, pull or push-pull', 'push-pull')
    .option('--fanout <f>', 'peers contacted per informed node per round (push)', '1')
    .option('--termination <t>', 'push-pull only: none, median-counter (Karp et al.) or push-then-pull', 'none')
    .option('--ctr-max <k>', 'median-counter: counter value at which a node stops growing it', '2')
    .option('--c-rounds <k>', 'median-counter: rounds a node keeps spreading after that', '1')
    .option('--plot <file.svg>', 'draw the informed fraction per round against theory (Vega-Lite, SVG)')
    .option('--topology <file|preset>', 'full engine: place nodes in regions and zones with true round trips per pair: lan, geo, or a JSON file'))
    .action(async (o: DissOpts) => {
      // The simulator is loaded when the command runs, not when the CLI starts (issue 12).
      const [{ seededRng }, { MedianCounterEngine, RoundEngine, theoryCurve, theoryRounds }, { fullTrial }, { percentiles }] = await Promise.all([
        import('../../core/rng.js'), import('../../sim/rounds.js'), import('../../sim/dissemination.js'), import('../../sim/membership.js'),
      ]);
      if (o.plot !== undefined) await loadVega(); // before the run: say now if --plot cannot work
      const mode = o.mode as RoundMode;
      if (!MODES.includes(mode)) throw new UsageError(`--mode: expected push, pull or push-pull, got '${o.mode}'`);
      const fanout = parseIntIn(o.fanout, '--fanout', 1, 64);
      const engineName = o.engine as (typeof ENGINES)[number];
      if (!ENGINES.includes(engineName)) throw new UsageError(`--engine: expected rounds or full, got '${o.engine}'`);
      const membership = o.membership as MembershipSource;
      if (!MEMBERSHIPS.includes(membership)) throw new UsageError(`--membership: expected oracle or swim, got '${o.membership}'`);
      if (engineName === 'rounds' && mode !== 'push' && fanout !== 1) throw new UsageError('--fanout applies to --mode push only on the round engine (pull and push-pull make one call a round)');
      const nodes = parseIntIn(o.nodes, '--nodes', 2, 10_000_000);
      const trials = parseIntIn(o.trials, '--trials', 1, 100_000);
      const termination = o.termination as Termination;
      if (!TERMINATIONS.includes(termination)) throw new UsageError(`--termination: expected none, median-counter or push-then-pull, got '${o.termination}'`);
      if (termination !== 'none' && mode !== 'push-pull') throw new UsageError('--termination applies to --mode push-pull only');
      if (engineName === 'full' && termination === 'median-counter') throw new UsageError('--termination median-counter runs on --engine rounds only; the full engine has none and push-then-pull');
      if (engineName === 'full' && nodes > 100_000) throw new UsageError('--nodes: the full engine runs up to 100000 nodes; use --engine rounds beyond');
      if (o.topology !== undefined && engineName !== 'full') throw new UsageError('--topology applies to --engine full only (the round engine has no network)');
      const latency = o.topology !== undefined ? await parseTopologyOption(o.topology) : undefined;
      const ctrMax = parseIntIn(o.ctrMax, '--ctr-max', 1, 255);
      const cRounds = parseIntIn(o.cRounds, '--c-rounds', 1, 255);
      const seed = resolveSeed(o.seed);
      const t0 = performance.now();
      const engine = new RoundEngine(seededRng(seed));
      const median = new MedianCounterEngine(seededRng(seed));
      const trialSeeds = seededRng(seed);
      const rounds: number[] = [];
      let tx = 0;
      let stateFirst = 0;
      let all = 0;
      const curveSum: number[] = [];
      for (let t = 0; t < trials; t++) {
        const r = engineName === 'full'
          ? fullTrial({
            nodes, seed: trialSeeds.int(0x7fffffff), membership, ...(latency !== undefined ? { latency } : {}),
            // Naive spreading, as the round engine models it: informed nodes push every round.
            dissemination: { mode, fanout, rumor: 'none', maxHotRounds: 100_000, repairEveryRounds: 0, termination: termination === 'push-then-pull' ? 'push-then-pull' : 'none' },
          })
          : termination === 'median-counter'
            ? median.trial({ nodes, ctrMax, cRounds })
            : engine.trial({ mode, nodes, fanout, termination });
        rounds.push(r.rounds);
        tx += r.transmissions;
        stateFirst += r.stateFirstTransmissions ?? 0;
        if (r.allInformed) all++;
        r.informedByRound.forEach((c, i) => (curveSum[i] = (curveSum[i] ?? 0) + c));
      }
      const wallMs = Math.round(performance.now() - t0);
      const p = percentiles(rounds);
      const result = {
        mode, fanout, nodes, trials, seed, engine: engineName, ...(engineName === 'full' ? { membership } : {}), termination,
        ...(termination === 'median-counter' ? { ctrMax, cRounds } : {}),
        rounds: { mean: rounds.reduce((a, b) => a + b, 0) / trials, p50: p.p50Ms, p99: p.p99Ms, max: p.maxMs },
        theoryRounds: theoryRounds(mode, nodes, fanout),
        transmissionsPerNode: tx / trials / nodes,
        ...(termination === 'median-counter' ? { stateFirstTransmissionsPerNode: stateFirst / trials / nodes } : {}),
        allInformedTrials: all,
        wallMs,
      };
      if (o.plot !== undefined) {
        // A trial that finished early counts as fully informed in the rounds after it.
        const longest = Math.max(...rounds);
        const sim: { x: number; y: number }[] = [];
        for (let i = 0; i <= longest; i++) {
          let finished = 0;
          for (const r of rounds) if (i > r) finished += nodes;
          sim.push({ x: i, y: ((curveSum[i] ?? 0) + finished) / trials / nodes });
        }
        const th = theoryCurve(mode, nodes, fanout).map((y, x) => ({ x, y }));
        const label = `${mode}${fanout > 1 ? `, fanout ${fanout}` : ''}`;
        const svg = await renderSvg(lineChart(`${label}: informed fraction per round, n = ${nodes}`, 'round', 'informed fraction', [
          { name: `simulated (mean of ${trials})`, points: sim },
          { name: 'theory (mean field)', points: th },
        ]));
        writeFileSync(o.plot, svg);
        if (!o.json) io.out(`plot written to ${o.plot}`);
      }
      if (o.json) {
        io.out(JSON.stringify(result));
        return;
      }
      io.out(`${mode}${fanout > 1 ? ` fanout ${fanout}` : ''}${termination === 'none' ? '' : `, ${termination} termination`}, ${nodes} nodes, ${trials} trials, seed ${seed} (${engineName === 'full' ? `full engine, ${membership} membership` : 'round engine'}, ${wallMs} ms)`);
      io.out(`  rounds until everyone is informed: mean ${result.rounds.mean.toFixed(2)}, p50 ${p.p50Ms}, p99 ${p.p99Ms}, max ${p.maxMs}; theory ${result.theoryRounds.toFixed(2)} + O(1)`);
      io.out(`  payload transmissions per node: ${result.transmissionsPerNode.toFixed(2)}${termination === 'median-counter' ? ` (${(stateFirst / trials / nodes).toFixed(2)} when counters are swapped before the payload)` : ''}; every node informed in ${all} of ${trials} trials`);
    });

  trialOptions(simulate
    .command('rumor')
    .description("Demers et al.'s rumor mongering: residue, traffic and time, against s = e^{-(k+1)(1-s)}")
    .option('--variant <v>', 'feedback-counter, feedback-coin, blind-counter or blind-coin', 'feedback-counter')
    .option('--k <k>', 'loss of interest after k (counter) or with probability 1/k (coin)', '2'))
    .action(async (o: RumorOpts) => {
      const [{ seededRng }, { meanRumor, RumorEngine, theoryResidue }] = await Promise.all([import('../../core/rng.js'), import('../../sim/rounds.js')]);
      const variant = o.variant as RumorVariant;
      if (!VARIANTS.includes(variant)) throw new UsageError(`--variant: expected one of ${VARIANTS.join(', ')}, got '${o.variant}'`);
      const k = parseIntIn(o.k, '--k', 1, 255);
      const nodes = parseIntIn(o.nodes, '--nodes', 2, 10_000_000);
      const trials = parseIntIn(o.trials, '--trials', 1, 100_000);
      const seed = resolveSeed(o.seed);
      const t0 = performance.now();
      const means = meanRumor(new RumorEngine(seededRng(seed)), variant, nodes, k, trials);
      const result = {
        variant, k, nodes, trials, seed,
        ...means,
        // The paper's mean-field residue is for feedback (loss of interest on unnecessary contacts).
        theoryResidue: variant.startsWith('feedback') ? theoryResidue(k) : null,
        wallMs: Math.round(performance.now() - t0),
      };
      if (o.json) {
        io.out(JSON.stringify(result));
        return;
      }
      io.out(`${variant}, k = ${k}, ${nodes} nodes, ${trials} trials, seed ${seed}`);
      io.out(`  residue ${result.residue.toPrecision(3)}${result.theoryResidue === null ? '' : ` (theory ${result.theoryResidue.toPrecision(3)})`}, traffic ${result.trafficPerNode.toFixed(2)} messages per node (e^-m = ${Math.exp(-result.trafficPerNode).toPrecision(3)}), mean round ${result.tAve.toFixed(1)}, last round ${result.tLast.toFixed(1)}`);
    });
}

/** --nodes, --trials, --seed and --json, shared by the round-engine commands. */
function trialOptions(cmd: Command): Command {
  return cmd
    .option('--nodes <n>', 'number of nodes', '10000')
    .option('--trials <t>', 'independent trials', '20')
    .option('--seed <s>', 'seed (decimal or 0x hex); random and printed if omitted')
    .option('--json', 'print one JSON object on stdout');
}
