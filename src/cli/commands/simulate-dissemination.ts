import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { RoundMode, RumorVariant } from '../../sim/rounds.js';
import type { MembershipSource } from '../../sim/dissemination.js';
import type { Termination, TrialEngine } from '../../sim/trials.js';
import type { Io } from '../io.js';
import { parseIntIn, resolveSeed, UsageError } from '../parse.js';
import { lineChart, loadVega, renderSvg } from '../plot.js';
import { parseTopologyOption } from '../topology-option.js';
import { jsonOption, nodesOption, parseChoice, printResult, runSeeded, seedOption, wallClock } from './sim-options.js';

const MODES: readonly RoundMode[] = ['push', 'pull', 'push-pull'];
const VARIANTS: readonly RumorVariant[] = ['feedback-counter', 'feedback-coin', 'blind-counter', 'blind-coin'];
const ENGINES: readonly TrialEngine[] = ['rounds', 'full'];
const MEMBERSHIPS: readonly MembershipSource[] = ['oracle', 'swim'];
const TERMINATIONS: readonly Termination[] = ['none', 'median-counter', 'push-then-pull'];

interface DissOpts { mode: string; fanout: string; nodes: string; trials: string; seed?: string; json?: boolean; plot?: string; termination: string; ctrMax: string; cRounds: string; engine: string; membership: string; topology?: string }
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
      const { disseminationTrials } = await import('../../sim/trials.js');
      if (o.plot !== undefined) await loadVega(); // before the run: say now if --plot cannot work
      const mode = parseChoice(o.mode, '--mode', MODES);
      const fanout = parseIntIn(o.fanout, '--fanout', 1, 64);
      const engine = parseChoice(o.engine, '--engine', ENGINES);
      const membership = parseChoice(o.membership, '--membership', MEMBERSHIPS);
      if (engine === 'rounds' && mode !== 'push' && fanout !== 1) throw new UsageError('--fanout applies to --mode push only on the round engine (pull and push-pull make one call a round)');
      const nodes = parseIntIn(o.nodes, '--nodes', 2, 10_000_000);
      const trials = parseIntIn(o.trials, '--trials', 1, 100_000);
      const termination = parseChoice(o.termination, '--termination', TERMINATIONS);
      if (termination !== 'none' && mode !== 'push-pull') throw new UsageError('--termination applies to --mode push-pull only');
      if (engine === 'full' && termination === 'median-counter') throw new UsageError('--termination median-counter runs on --engine rounds only; the full engine has none and push-then-pull');
      if (engine === 'full' && nodes > 100_000) throw new UsageError('--nodes: the full engine runs up to 100000 nodes; use --engine rounds beyond');
      if (o.topology !== undefined && engine !== 'full') throw new UsageError('--topology applies to --engine full only (the round engine has no network)');
      const latency = o.topology !== undefined ? await parseTopologyOption(o.topology) : undefined;
      const ctrMax = parseIntIn(o.ctrMax, '--ctr-max', 1, 255);
      const cRounds = parseIntIn(o.cRounds, '--c-rounds', 1, 255);
      const seed = resolveSeed(o.seed);
      const run = runSeeded(io, seed, () => disseminationTrials({ mode, fanout, nodes, trials, seed, engine, membership, termination, ctrMax, cRounds, ...(latency !== undefined ? { latency } : {}) }, wallClock));
      const { result } = run;
      if (o.plot !== undefined) {
        const label = `${mode}${fanout > 1 ? `, fanout ${fanout}` : ''}`;
        const svg = await renderSvg(lineChart(`${label}: informed fraction per round, n = ${nodes}`, 'round', 'informed fraction', [
          { name: `simulated (mean of ${trials})`, points: run.curve() },
          { name: 'theory (mean field)', points: run.theory() },
        ]));
        writeFileSync(o.plot, svg);
        if (!o.json) io.out(`plot written to ${o.plot}`);
      }
      printResult(io, o.json, result, (r) => [
        `${mode}${fanout > 1 ? ` fanout ${fanout}` : ''}${termination === 'none' ? '' : `, ${termination} termination`}, ${nodes} nodes, ${trials} trials, seed ${seed} (${engine === 'full' ? `full engine, ${membership} membership` : 'round engine'}, ${r.wallMs} ms)`,
        `  rounds until everyone is informed: mean ${r.rounds.mean.toFixed(2)}, p50 ${r.rounds.p50}, p99 ${r.rounds.p99}, max ${r.rounds.max}; theory ${r.theoryRounds.toFixed(2)} + O(1)`,
        `  payload transmissions per node: ${r.transmissionsPerNode.toFixed(2)}${r.stateFirstTransmissionsPerNode !== undefined ? ` (${r.stateFirstTransmissionsPerNode.toFixed(2)} when counters are swapped before the payload)` : ''}; every node informed in ${r.allInformedTrials} of ${trials} trials`,
      ]);
    });

  trialOptions(simulate
    .command('rumor')
    .description("Demers et al.'s rumor mongering: residue, traffic and time, against s = e^{-(k+1)(1-s)}")
    .option('--variant <v>', 'feedback-counter, feedback-coin, blind-counter or blind-coin', 'feedback-counter')
    .option('--k <k>', 'loss of interest after k (counter) or with probability 1/k (coin)', '2'))
    .action(async (o: RumorOpts) => {
      const { rumorTrials } = await import('../../sim/trials.js');
      const variant = parseChoice(o.variant, '--variant', VARIANTS);
      const k = parseIntIn(o.k, '--k', 1, 255);
      const nodes = parseIntIn(o.nodes, '--nodes', 2, 10_000_000);
      const trials = parseIntIn(o.trials, '--trials', 1, 100_000);
      const seed = resolveSeed(o.seed);
      const result = runSeeded(io, seed, () => rumorTrials({ variant, k, nodes, trials, seed }, wallClock));
      printResult(io, o.json, result, (r) => [
        `${variant}, k = ${k}, ${nodes} nodes, ${trials} trials, seed ${seed}`,
        `  residue ${r.residue.toPrecision(3)}${r.theoryResidue === null ? '' : ` (theory ${r.theoryResidue.toPrecision(3)})`}, traffic ${r.trafficPerNode.toFixed(2)} messages per node (e^-m = ${Math.exp(-r.trafficPerNode).toPrecision(3)}), mean round ${r.tAve.toFixed(1)}, last round ${r.tLast.toFixed(1)}`,
      ]);
    });
}

/** --nodes, --trials, --seed and --json, shared by the round-engine commands. */
function trialOptions(cmd: Command): Command {
  return cmd
    .addOption(nodesOption('10000'))
    .option('--trials <t>', 'independent trials', '20')
    .addOption(seedOption())
    .addOption(jsonOption());
}
