/**
 * Bandwidth control: a token bucket of `rateBytesPerSec` with a burst of `burstBytes`, in
 * front of four strict-priority classes. What does not fit waits; a lower class never
 * overtakes a waiting higher one; the bytes sent in any interval [t0, t1] never exceed
 * `burstBytes + rateBytesPerSec × (t1 − t0) / 1000`.
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

interface Waiting<T> {
  readonly item: T;
  readonly bytes: number;
}

export interface BudgetStats {
  sentBytes: number;
  sent: number;
  /** Offers refused because their class queue was full (counted, never silent). */
  dropped: number;
  /** Offers larger than the burst: they could never be sent. */
  oversized: number;
}

export class BandwidthBudget<T> {
  private readonly queues: Waiting<T>[][] = TRAFFIC_CLASSES.map(() => []);
  private readonly heads = [0, 0, 0, 0];
  readonly stats: BudgetStats = { sentBytes: 0, sent: 0, dropped: 0, oversized: 0 };

  constructor(private readonly bucket: TokenBucket, private readonly maxQueuedPerClass = 10_000) {}

  /** Queues an item; false (and counted) when its class queue is full or it can never fit. */
  offer(cls: TrafficClass, item: T, bytes: number): boolean {
    if (bytes > this.bucket.burstBytes) {
      this.stats.oversized++;
      return false;
    }
    const c = TRAFFIC_CLASSES.indexOf(cls);
    const q = this.queues[c] as Waiting<T>[];
    if (q.length - (this.heads[c] as number) >= this.maxQueuedPerClass) {
      this.stats.dropped++;
      return false;
    }
    q.push({ item, bytes });
    return true;
  }

  waiting(cls: TrafficClass): number {
    const c = TRAFFIC_CLASSES.indexOf(cls);
    return (this.queues[c] as Waiting<T>[]).length - (this.heads[c] as number);
  }

  /** Sends what the tokens allow, highest class first, in order; stops at the first that does not fit. */
  drain(nowMs: number, send: (item: T, bytes: number, cls: TrafficClass) => void): void {
    for (let c = 0; c < this.queues.length; c++) {
      const q = this.queues[c] as Waiting<T>[];
      let h = this.heads[c] as number;
      while (h < q.length) {
        const w = q[h] as Waiting<T>;
        if (!this.bucket.tryTake(nowMs, w.bytes)) {
          this.heads[c] = h;
          this.compact(c);
          return;
        }
        h++;
        this.stats.sent++;
        this.stats.sentBytes += w.bytes;
        send(w.item, w.bytes, TRAFFIC_CLASSES[c] as TrafficClass);
      }
      this.heads[c] = h;
      this.compact(c);
    }
  }

  /** When the next waiting item can go (for pollTimeout); undefined when nothing waits. */
  nextReadyMs(nowMs: number): number | undefined {
    for (let c = 0; c < this.queues.length; c++) {
      const q = this.queues[c] as Waiting<T>[];
      const w = q[this.heads[c] as number];
      if (w !== undefined) return this.bucket.readyAtMs(nowMs, w.bytes);
    }
    return undefined;
  }

  private compact(c: number): void {
    const h = this.heads[c] as number;
    const q = this.queues[c] as Waiting<T>[];
    if (h > 1024 && h * 2 > q.length) {
      this.queues[c] = q.slice(h);
      this.heads[c] = 0;
    }
  }
}
