/**
 * Lifeguard's local health awareness (reference §6.2): a score in [0, max − 1] that grows when
 * this node seems to be the slow one (missed nacks, having to refute) and shrinks with every
 * successful probe. Probe intervals and deadlines are scaled by (score + 1).
 */
export class Awareness {
  private score = 0;

  constructor(private readonly max: number) {}

  /** Adds `delta` and clamps to [0, max − 1]. */
  apply(delta: number): void {
    const s = this.score + delta;
    this.score = s < 0 ? 0 : s > this.max - 1 ? this.max - 1 : s;
  }

  get healthScore(): number {
    return this.score;
  }

  /** `timeout × (score + 1)`. */
  scale(timeoutMs: number): number {
    return timeoutMs * (this.score + 1);
  }
}
