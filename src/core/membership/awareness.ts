/**
 * Lifeguard's local health awareness (reference §6.2): a score in [0, max − 1] that grows when
 * this node seems to be the slow one (missed nacks, having to refute, its own timers handled
 * late) and shrinks with every successful probe. Probe intervals and deadlines are scaled by
 * (score + 1).
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

  /**
   * This node's own slowness, seen by the node itself: a verdict timer (a probe's failure, a
   * suspicion's expiry) handled `lateMs` after it was due means the node was not running in
   * between (its event loop blocked, its process starved or paused), so answers that arrived
   * meanwhile may still wait unread in its socket. Over `toleranceMs` late, the score grows by
   * one and the caller defers its verdict once, past the unread input (memberlist counts
   * missed nacks for the same reason: the evidence points at the observer).
   */
  late(lateMs: number, toleranceMs: number): boolean {
    if (lateMs <= toleranceMs) return false;
    this.apply(1);
    return true;
  }

  /** `timeout × (score + 1)`. */
  scale(timeoutMs: number): number {
    return timeoutMs * (this.score + 1);
  }
}
