import type { Rng } from '../core/rng.js';
import { estimateBetweenMs } from '../core/topology/index.js';
import type { NodeCoordinates } from '../core/topology/index.js';
import type { LatencyModel } from './latency-model.js';

/** Which pairs: the same zone, the same region (another zone), or different regions (wide area). */
export type PairClass = 'zone' | 'region' | 'wan';
export const PAIR_CLASSES: readonly PairClass[] = ['zone', 'region', 'wan'];

/** The error over one class of pairs. */
export interface ClassError {
  readonly pairs: number;
  readonly medianRelErr: number;
  readonly p90RelErr: number;
}

/** How well the nodes' network coordinates predict the latency model's true round trips at one moment. */
export interface AccuracySample {
  readonly atMs: number;
  /** Pairs of live nodes measured. */
  readonly pairs: number;
  /** |estimate − true| / true over those pairs: median and 90th percentile. */
  readonly medianRelErr: number;
  readonly p90RelErr: number;
  /** The same by class of pair (a class with no pair measured is absent). */
  readonly byClass: Partial<Record<PairClass, ClassError>>;
  /** Distance of the coordinates' centroid from the origin (ms): a drifting system walks away. */
  readonly centroidMs: number;
}

export interface CoordinateAccuracy {
  /** One sample a minute, the last at the end of the run. */
  readonly samples: readonly AccuracySample[];
  /** The end of the run. */
  readonly final: AccuracySample;
  /** Median over the pairs of |estimate(end) − estimate(half-way)| / true: how much the estimates still move. */
  readonly driftRelFromHalfway: number;
  /** Of the true 5 nearest live nodes, how many are among the 5 nearest by estimate (average over the nodes checked). */
  readonly nearest5: number;
  /**
   * How much farther (true RTT) the 5 nearest by estimate are than the true 5 nearest, on
   * average: mean true RTT of the chosen 5 / mean true RTT of the true 5, minus 1 (0: the
   * true 5 or ones as close). The literature's "relative penalty" of closest-node selection.
   */
  readonly nearest5Penalty: number;
  readonly nearestChecked: number;
  /**
   * The same overlap as each node's own `nearest(5)` answers it: from the coordinates it has
   * cached (only of members it has measured: at 1,000 members and one probe a second, about 60 %
   * of them after 10 minutes) and its own round-trip samples. NaN without a node view.
   */
  readonly nearest5Own: number;
  /** Hosts the model placed badly (triangle-violating). */
  readonly violators: number;
}

/**
 * The nodes' own ranking (the production code's), for the nearest-node check: `rank` orders
 * given estimates from node `i` as its `nearest` would (its direct round-trip samples first),
 * `own` is node `i`'s own `nearest(k)` over the live nodes. Indexes in, indexes out.
 */
export interface NearestViews {
  rank(i: number, k: number, estimates: readonly (readonly [number, number])[]): number[];
  own(i: number, k: number, live: readonly number[]): number[];
}

const quantile = (sorted: readonly number[], q: number): number => sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;

/**
 * Measures coordinates against a latency model (the simulator's accuracy check): a fixed set
 * of random node pairs (drawn once from `rng`), sampled whenever asked; the nearest-node check
 * compares each node's 5 nearest by coordinates (using every live node's current coordinates:
 * the whole cluster's view) with the true 5 nearest. Estimates are what `estimateRtt` gives:
 * the local space for close pairs that both have one (`localRttMs`, 0: Serf's space only).
 */
export class CoordinateAccuracyMeter {
  private readonly pairs: [number, number][] = [];
  private readonly halfway = new Map<number, number>();
  readonly samples: AccuracySample[] = [];
  private driftRel = NaN;

  constructor(
    private readonly model: LatencyModel,
    private readonly coordinateOf: (i: number) => NodeCoordinates | undefined,
    private readonly localRttMs: number,
    private readonly rng: Rng,
    pairs: number,
    private readonly views: NearestViews | null = null,
  ) {
    const n = model.nodes;
    for (let k = 0; k < pairs && n > 1; k++) {
      const a = rng.int(n);
      let b = rng.int(n - 1);
      if (b >= a) b++;
      this.pairs.push([a, b]);
    }
  }

  /** Takes one sample at `atMs`; `halfway` also remembers the estimates, `end` measures the drift since. */
  sample(atMs: number, mark: 'halfway' | 'end' | null = null): AccuracySample {
    const errs: number[] = [];
    const byClass: Record<PairClass, number[]> = { zone: [], region: [], wan: [] };
    const moved: number[] = [];
    this.pairs.forEach(([a, b], k) => {
      const ca = this.coordinateOf(a);
      const cb = this.coordinateOf(b);
      if (ca === undefined || cb === undefined) return;
      const truth = this.model.rttMs(a, b);
      const est = this.estimate(ca, cb);
      const err = Math.abs(est - truth) / truth;
      errs.push(err);
      byClass[this.classOf(a, b)].push(err);
      if (mark === 'halfway') this.halfway.set(k, est);
      const before = this.halfway.get(k);
      if (mark === 'end' && before !== undefined) moved.push(Math.abs(est - before) / truth);
    });
    errs.sort((x, y) => x - y);
    moved.sort((x, y) => x - y);
    if (mark === 'end') this.driftRel = quantile(moved, 0.5);
    const classes: Partial<Record<PairClass, ClassError>> = {};
    for (const c of PAIR_CLASSES) {
      const e = byClass[c].sort((x, y) => x - y);
      if (e.length > 0) classes[c] = { pairs: e.length, medianRelErr: quantile(e, 0.5), p90RelErr: quantile(e, 0.9) };
    }
    const s: AccuracySample = {
      atMs, pairs: errs.length, medianRelErr: quantile(errs, 0.5), p90RelErr: quantile(errs, 0.9), byClass: classes, centroidMs: this.centroid(),
    };
    this.samples.push(s);
    return s;
  }

  /**
   * The 5-nearest overlap (and the penalty of the chosen 5) over `count` random live nodes:
   * each node's 5 nearest by every live node's current coordinate, ordered as the node's
   * `nearest` orders them (`views`: its own round-trip samples settle the order).
   */
  nearest(count: number): { overlap: number; penalty: number; checked: number; own: number } {
    const n = this.model.nodes;
    const live: number[] = [];
    for (let i = 0; i < n; i++) if (this.coordinateOf(i) !== undefined) live.push(i);
    if (live.length < 7) return { overlap: NaN, penalty: NaN, checked: 0, own: NaN };
    let total = 0;
    let penalty = 0;
    let checked = 0;
    let own = 0;
    const meanTrue = (i: number, js: readonly number[]): number => js.reduce((sum, j) => sum + this.model.rttMs(i, j), 0) / js.length;
    for (let k = 0; k < count; k++) {
      const i = live[this.rng.int(live.length)] as number;
      const ci = this.coordinateOf(i) as NodeCoordinates;
      const others = live.filter((j) => j !== i);
      const byTruth = others.map((j) => [j, this.model.rttMs(i, j)] as const).sort((x, y) => x[1] - y[1]).slice(0, 5).map((x) => x[0]);
      const estimates = others.map((j) => [j, this.estimate(ci, this.coordinateOf(j) as NodeCoordinates)] as const);
      const chosen = this.views !== null ? this.views.rank(i, 5, estimates) : estimates.sort((x, y) => x[1] - y[1]).slice(0, 5).map((x) => x[0]);
      const byEstimate = new Set(chosen);
      total += byTruth.filter((j) => byEstimate.has(j)).length;
      if (this.views !== null) {
        const mine = new Set(this.views.own(i, 5, others));
        own += byTruth.filter((j) => mine.has(j)).length;
      }
      penalty += meanTrue(i, chosen) / meanTrue(i, byTruth) - 1;
      checked++;
    }
    return { overlap: total / checked, penalty: penalty / checked, checked, own: this.views !== null ? own / checked : NaN };
  }

  private estimate(a: NodeCoordinates, b: NodeCoordinates): number {
    return estimateBetweenMs(a, b, this.localRttMs);
  }

  private classOf(a: number, b: number): PairClass {
    const m = this.model;
    return m.zone(a) === m.zone(b) ? 'zone' : m.region(a) === m.region(b) ? 'region' : 'wan';
  }

  /** The summary once the run is over (after `sample(end, 'end')`). */
  result(nearestChecked: number): CoordinateAccuracy {
    const final = this.samples[this.samples.length - 1];
    if (final === undefined) throw new Error('coordinate accuracy: no sample taken');
    let violators = 0;
    for (let i = 0; i < this.model.nodes; i++) if (this.model.isViolator(i)) violators++;
    const near = this.nearest(nearestChecked);
    return { samples: this.samples, final, driftRelFromHalfway: this.driftRel, nearest5: near.overlap, nearest5Penalty: near.penalty, nearestChecked: near.checked, nearest5Own: near.own, violators };
  }

  private centroid(): number {
    let sum: number[] | null = null;
    let k = 0;
    for (let i = 0; i < this.model.nodes; i++) {
      const c = this.coordinateOf(i)?.coordinate;
      if (c === undefined) continue;
      sum ??= new Array<number>(c.vec.length).fill(0);
      c.vec.forEach((v, d) => ((sum as number[])[d] = ((sum as number[])[d] as number) + v));
      k++;
    }
    if (sum === null || k === 0) return 0;
    return 1000 * Math.sqrt(sum.reduce((s, v) => s + (v / k) ** 2, 0));
  }
}
