import type { Side } from './bench-node.js';

/** What one `gossip bench cluster` invocation measures. */
export interface BenchOptions {
  /** Cluster sizes, each measured in turn. */
  readonly nodes: readonly number[];
  readonly runs: number;
  /** User events fired after the cost windows. */
  readonly events: number;
  /** Gap between two events, ms. */
  readonly eventIntervalMs: number;
  /** How long after the last event to wait for deliveries, at most (ms). */
  readonly deliveryTimeoutMs: number;
  /** The steady window's length, ms (also the writes window's). */
  readonly steadyMs: number;
  /** Measure a second window that starts at least `lateAfterMs` after the joiners were launched. */
  readonly late: boolean;
  readonly lateAfterMs: number;
  readonly profile: 'lan' | 'local' | 'wan';
  /** One base64 key for both sides, or null. */
  readonly encryptKey: string | null;
  readonly against: 'serf' | null;
  /** `--config FILE` for our agents. */
  readonly config: string | null;
  /** Further arguments for every `gossip agent`. */
  readonly agentArgs: readonly string[];
  readonly seed: number;
  /** One agent joins and one is killed and restarted while a second batch of events streams. */
  readonly churn: boolean;
  /** Writes per second (ours only) in a window of `steadyMs`, or null. */
  readonly writes: number | null;
  /**
   * Also measure the protocol's join apart from process start-up: on a cluster of its own, all N
   * agents launched without a join and answering, then the N−1 asked to join node 0 at once.
   */
  readonly runningJoin: boolean;
  readonly joinTimeoutMs: number;
  readonly failTimeoutMs: number;
  /**
   * The step of the member polls that time the joins and the failure, ms: each agent is asked
   * for its members this often, so those figures are known to within one step (and a join
   * shorter than a step reads as one step).
   */
  readonly pollMs: number;
  /** Skip the failure phase (kill -9). */
  readonly failure: boolean;
  /** Keep raw samples, logs and captures here; null: a temp dir removed at the end. */
  readonly out: string | null;
}

export const DEFAULTS = {
  runs: 1,
  events: 20,
  eventIntervalMs: 100,
  deliveryTimeoutMs: 15_000,
  steadyMs: 20_000,
  lateAfterMs: 70_000,
  profile: 'lan',
  joinTimeoutMs: 180_000,
  failTimeoutMs: 60_000,
} as const;

/** One measured run: which side, which size, which repetition. */
export interface RunPlan {
  readonly side: Side;
  readonly n: number;
  /** 1-based. */
  readonly run: number;
  /** The seed of this run's random choices, the same for both sides of one (n, run). */
  readonly seed: number;
}

/** Derives a run's seed from the bench's seed, the size and the repetition (both sides share it). */
export function runSeed(seed: number, n: number, run: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const x of [n, run]) {
    h = Math.imul(h ^ x, 0x85ebca6b) >>> 0;
    h = (h ^ (h >>> 13)) >>> 0;
  }
  return h;
}

/**
 * The runs in order: for each size, each repetition, serf then ours, so that both sides meet
 * the machine in the same state (interleaved, never all of one side first).
 */
export function planRuns(o: Pick<BenchOptions, 'nodes' | 'runs' | 'against' | 'seed'>): RunPlan[] {
  const plans: RunPlan[] = [];
  for (const n of o.nodes) {
    for (let run = 1; run <= o.runs; run++) {
      const seed = runSeed(o.seed, n, run);
      if (o.against === 'serf') plans.push({ side: 'serf', n, run, seed });
      plans.push({ side: 'ours', n, run, seed });
    }
  }
  return plans;
}
