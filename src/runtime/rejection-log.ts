/**
 * Counts what peers sent us that we could not use (undecodable packets, wrong keys, broken
 * streams), by reason, and logs it: the first time for each (reason, peer), then at most once
 * per `intervalMs` for that pair with the number suppressed in between. Bounded: at most
 * `pairsMax` pairs are remembered.
 */
export class RejectionLog {
  readonly counts = new Map<string, number>();
  total = 0;
  private readonly pairs = new Map<string, { lastMs: number; suppressed: number }>();

  constructor(
    private readonly log: (line: string) => void,
    private readonly intervalMs = 10_000,
    private readonly pairsMax = 1024,
    /** First word of each line. */
    private readonly label = 'rejected',
  ) {}

  /** Counts one rejection; logs it unless the same (reason, peer) was logged within `intervalMs`. */
  reject(nowMs: number, reason: string, peer: string | null, detail: string): void {
    this.total++;
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
    const key = `${reason}\u0000${peer ?? ''}`;
    const seen = this.pairs.get(key);
    if (seen !== undefined && nowMs - seen.lastMs < this.intervalMs) {
      seen.suppressed++;
      return;
    }
    const more = seen !== undefined && seen.suppressed > 0 ? ` (${seen.suppressed} more since the last report)` : '';
    if (seen === undefined && this.pairs.size >= this.pairsMax) {
      const oldest = this.pairs.keys().next();
      if (oldest.done !== true) this.pairs.delete(oldest.value);
    }
    this.pairs.set(key, { lastMs: nowMs, suppressed: 0 });
    this.log(`${this.label} ${reason} from ${peer ?? 'unknown peer'}: ${detail}${more}`);
  }

  count(reason: string): number {
    return this.counts.get(reason) ?? 0;
  }
}
