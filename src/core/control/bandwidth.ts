/**
 * Bandwidth control: a token bucket of `rateBytesPerSec` with a burst of `burstBytes`. The
 * bytes taken in any interval [t0, t1] never exceed `burstBytes + rateBytesPerSec × (t1 − t0)
 * / 1000` (less what `charge` took on credit). The dissemination engine decides each round
 * what to send in strict priority of the traffic classes (membership is charged first, then
 * critical > normal > repair) and leaves what does not fit for a later round, rather than
 * queueing messages that would be stale when they finally went.
 */
export const TRAFFIC_CLASSES = ['membership', 'critical', 'normal', 'repair'] as const;
export type TrafficClass = (typeof TRAFFIC_CLASSES)[number];

export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(readonly rateBytesPerSec: number, readonly burstBytes: number, nowMs: number) {
    if (!(rateBytesPerSec > 0) || !(burstBytes > 0)) throw new RangeError('rateBytesPerSec and burstBytes must be positive');
    this.tokens = burstBytes;
    this.lastMs = nowMs;
  }

  available(nowMs: number): number {
    this.refill(nowMs);
    return this.tokens;
  }

  /** Takes `bytes` if that many tokens are there now. */
  tryTake(nowMs: number, bytes: number): boolean {
    this.refill(nowMs);
    if (bytes > this.tokens) return false;
    this.tokens -= bytes;
    return true;
  }

  /**
   * Takes `bytes` whether or not they are there (traffic that must not wait, such as
   * membership's): the balance may go negative, and what comes after waits until it is repaid.
   */
  charge(nowMs: number, bytes: number): void {
    this.refill(nowMs);
    this.tokens -= bytes;
  }

  /** When `bytes` tokens will be there (now if they are); Infinity if `bytes` exceeds the burst. */
  readyAtMs(nowMs: number, bytes: number): number {
    this.refill(nowMs);
    if (bytes > this.burstBytes) return Infinity;
    if (bytes <= this.tokens) return nowMs;
    return nowMs + Math.ceil(((bytes - this.tokens) * 1000) / this.rateBytesPerSec);
  }

  private refill(nowMs: number): void {
    if (nowMs <= this.lastMs) return;
    this.tokens = Math.min(this.burstBytes, this.tokens + ((nowMs - this.lastMs) * this.rateBytesPerSec) / 1000);
    this.lastMs = nowMs;
  }
}
