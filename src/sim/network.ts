import type { Rng } from '../core/rng.js';
import type { LatencyModel } from './latency-model.js';

/** The simulated network between nodes: delay, loss, duplication, reordering, partitions. */
export interface NetworkOptions {
  /** One-way delay = latencyMinMs + exponential with mean (latencyMeanMs − latencyMinMs). */
  latencyMinMs: number;
  latencyMeanMs: number;
  /** Probability that a packet is lost (streams are reliable, as TCP is). */
  loss: number;
  /** Probability that a packet is delivered twice. */
  duplicate: number;
  /** Probability that a packet is held back by an extra `reorderDelayMs` (so later ones overtake it). */
  reorder: number;
  reorderDelayMs: number;
}

export const DEFAULT_NETWORK: NetworkOptions = {
  latencyMinMs: 0.5,
  latencyMeanMs: 2,
  loss: 0,
  duplicate: 0,
  reorder: 0,
  reorderDelayMs: 20,
};

export class Network {
  /** Partition group per node: packets only flow within a group. */
  private readonly group: Int32Array;
  private partitioned = false;

  constructor(
    readonly options: NetworkOptions,
    private readonly rng: Rng,
    nodes: number,
    /** Where nodes sit (true round trips per pair); null: every pair alike (`latencyMinMs`, `latencyMeanMs`). */
    readonly model: LatencyModel | null = null,
  ) {
    this.group = new Int32Array(nodes);
  }

  /** One packet's delay from node `from` to node `to` (the pair matters only with a latency model). */
  delayMs(from: number, to: number): number {
    const o = this.options;
    let d: number;
    if (this.model !== null) d = this.model.oneWayMs(from, to, this.rng);
    else {
      const jitter = o.latencyMeanMs - o.latencyMinMs;
      d = o.latencyMinMs + (jitter > 0 ? -Math.log(1 - this.rng.next()) * jitter : 0);
    }
    if (o.reorder > 0 && this.rng.next() < o.reorder) d += o.reorderDelayMs;
    return d;
  }

  /**
   * One leg of a TCP exchange: the packet is retransmitted after `rtoMs` (doubling each time)
   * while it is lost, so loss turns into delay rather than failure.
   */
  reliableDelayMs(from: number, to: number, rtoMs: number): number {
    let d = this.delayMs(from, to);
    let rto = rtoMs;
    for (let tries = 0; tries < 6 && this.lost(); tries++) {
      d += rto;
      rto *= 2;
    }
    return d;
  }

  lost(): boolean {
    return this.options.loss > 0 && this.rng.next() < this.options.loss;
  }

  duplicated(): boolean {
    return this.options.duplicate > 0 && this.rng.next() < this.options.duplicate;
  }

  reachable(a: number, b: number): boolean {
    return !this.partitioned || this.group[a] === this.group[b];
  }

  /** Splits the nodes into groups (group id per node index). */
  partition(groups: ArrayLike<number>): void {
    for (let i = 0; i < this.group.length; i++) this.group[i] = groups[i] ?? 0;
    this.partitioned = true;
  }

  heal(): void {
    this.group.fill(0);
    this.partitioned = false;
  }
}
