/**
 * Series of seeded trials behind `gossip simulate dissemination` and `gossip simulate rumor`:
 * many independent runs of one spreading scheme (the lean round engine or the full engine),
 * aggregated and set beside their mean-field theory.
 */
import { seededRng } from '../core/rng.js';
import type { MembershipSource } from './dissemination.js';
import { fullTrial } from './dissemination.js';
import { percentiles } from './membership.js';
import type { RoundMode, RumorVariant } from './rounds.js';
import type { LatencySpec } from './latency-model.js';
import { meanRumor, MedianCounterEngine, RoundEngine, RumorEngine, theoryCurve, theoryResidue, theoryRounds } from './rounds.js';

/** The lean synchronous round model, or the production Disseminator on the simulator. */
export type TrialEngine = 'rounds' | 'full';
/** How push-pull stops: never (everyone pushes until all know), Karp et al.'s median counter, or push then pull. */
export type Termination = 'none' | 'median-counter' | 'push-then-pull';

export interface DisseminationTrialsOptions {
  readonly mode: RoundMode;
  readonly fanout: number;
  readonly nodes: number;
  readonly trials: number;
  readonly seed: number;
  readonly engine: TrialEngine;
  /** Full engine: where partners come from. */
  readonly membership: MembershipSource;
  readonly termination: Termination;
  /** Median-counter termination: the counter value at which a node stops growing it. */
  readonly ctrMax: number;
  /** Median-counter termination: rounds a node keeps spreading after that. */
  readonly cRounds: number;
  /** Full engine: true round trips per pair (`--topology`). */
  readonly latency?: LatencySpec;
}

/** One point of an informed-fraction curve: round `x`, fraction `y`. */
export interface CurvePoint {
  readonly x: number;
  readonly y: number;
}

/**
 * Runs `o.trials` trials of one update spreading from a random node until everyone has it,
 * each from its own seed drawn from `o.seed`. `result` is the report (`--json` prints it);
 * `curve` the mean informed fraction per round, `theory` the mean-field one.
 */
export function disseminationTrials(o: DisseminationTrialsOptions, wallClock: () => number) {
  const { mode, fanout, nodes, trials, seed, termination } = o;
  const t0 = wallClock();
  const engine = new RoundEngine(seededRng(seed));
  const median = new MedianCounterEngine(seededRng(seed));
  const trialSeeds = seededRng(seed);
  const rounds: number[] = [];
  let tx = 0;
  let stateFirst = 0;
  let all = 0;
  const curveSum: number[] = [];
  for (let t = 0; t < trials; t++) {
    const r = o.engine === 'full'
      ? fullTrial({
        nodes, seed: trialSeeds.int(0x7fffffff), membership: o.membership, ...(o.latency !== undefined ? { latency: o.latency } : {}),
        // Naive spreading, as the round engine models it: informed nodes push every round.
        dissemination: { mode, fanout, rumor: 'none', maxHotRounds: 100_000, repairEveryRounds: 0, termination: termination === 'push-then-pull' ? 'push-then-pull' : 'none' },
      })
      : termination === 'median-counter'
        ? median.trial({ nodes, ctrMax: o.ctrMax, cRounds: o.cRounds })
        : engine.trial({ mode, nodes, fanout, termination });
    rounds.push(r.rounds);
    tx += r.transmissions;
    stateFirst += r.stateFirstTransmissions ?? 0;
    if (r.allInformed) all++;
    r.informedByRound.forEach((c, i) => (curveSum[i] = (curveSum[i] ?? 0) + c));
  }
  const wallMs = Math.round(wallClock() - t0);
  const p = percentiles(rounds);
  const result = {
    mode, fanout, nodes, trials, seed, engine: o.engine, ...(o.engine === 'full' ? { membership: o.membership } : {}), termination,
    ...(termination === 'median-counter' ? { ctrMax: o.ctrMax, cRounds: o.cRounds } : {}),
    rounds: { mean: rounds.reduce((a, b) => a + b, 0) / trials, p50: p.p50Ms, p99: p.p99Ms, max: p.maxMs },
    theoryRounds: theoryRounds(mode, nodes, fanout),
    transmissionsPerNode: tx / trials / nodes,
    ...(termination === 'median-counter' ? { stateFirstTransmissionsPerNode: stateFirst / trials / nodes } : {}),
    allInformedTrials: all,
    wallMs,
  };
  return {
    result,
    /** The mean informed fraction per round; a trial that finished early counts as fully informed in the rounds after it. */
    curve: (): CurvePoint[] => {
      const longest = Math.max(...rounds);
      const sim: CurvePoint[] = [];
      for (let i = 0; i <= longest; i++) {
        let finished = 0;
        for (const r of rounds) if (i > r) finished += nodes;
        sim.push({ x: i, y: ((curveSum[i] ?? 0) + finished) / trials / nodes });
      }
      return sim;
    },
    theory: (): CurvePoint[] => theoryCurve(mode, nodes, fanout).map((y, x) => ({ x, y })),
  };
}

export interface RumorTrialsOptions {
  readonly variant: RumorVariant;
  readonly k: number;
  readonly nodes: number;
  readonly trials: number;
  readonly seed: number;
}

/** Demers et al.'s rumor mongering, `o.trials` trials: mean residue, traffic and time, and the theory's residue. */
export function rumorTrials(o: RumorTrialsOptions, wallClock: () => number) {
  const { variant, k, nodes, trials, seed } = o;
  const t0 = wallClock();
  const means = meanRumor(new RumorEngine(seededRng(seed)), variant, nodes, k, trials);
  return {
    variant, k, nodes, trials, seed,
    ...means,
    // The paper's mean-field residue is for feedback (loss of interest on unnecessary contacts).
    theoryResidue: variant.startsWith('feedback') ? theoryResidue(k) : null,
    wallMs: Math.round(wallClock() - t0),
  };
}
