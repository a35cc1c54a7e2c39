/**
 * Counts what peers sent us that we could not use (undecodable packets, wrong keys, broken
 * streams), by reason, and logs it without letting a flood become a log flood:
 * - one line per (reason, source IP) per `intervalMs`, with the number suppressed in between
 *   (the source port is ignored: datagrams from 2,000 ports of one host are one source);
 * - at most `linesPerSecondMax` lines per second in all, whatever the number of sources; the
 *   lines held back are counted and the next line says how many.
 * Bounded: at most `pairsMax` (reason, IP) pairs are remembered. Every rejection is counted in
 * `counts` and `total` whether or not it was logged; `suppressed` counts the lines held back.
 */
export class RejectionLog {
  readonly counts = new Map<string, number>();
  total = 0;
  /** Lines written. */
  lines = 0;
  /** Rejections not written as a line of their own (per-source interval or the global cap). */
  suppressed = 0;
  private readonly pairs = new Map<string, { lastMs: number; suppressed: number }>();
  private secondStartMs = -Infinity;
  private linesThisSecond = 0;
  /** Held back by the global cap since the last line. */
  private capped = 0;

  constructor(
    private readonly log: (line: string) => void,
    private readonly intervalMs = 10_000,
    private readonly pairsMax = 1024,
    /** First word of each line. */
    private readonly label = 'rejected',
    private readonly linesPerSecondMax = 10,
  ) {}

  /** Counts one rejection; logs it unless its (reason, IP) was logged within `intervalMs` or the second's lines are used up. */
  reject(nowMs: number, reason: string, peer: string | null, detail: string): void {
    this.total++;
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
    const source = peer === null ? null : hostOf(peer);
    const key = `${reason}\u0000${source ?? ''}`;
    const seen = this.pairs.get(key);
    if (seen !== undefined && nowMs - seen.lastMs < this.intervalMs) {
      seen.suppressed++;
      this.suppressed++;
      return;
    }
    if (nowMs - this.secondStartMs >= 1000) {
      this.secondStartMs = nowMs;
      this.linesThisSecond = 0;
    }
    if (this.linesThisSecond >= this.linesPerSecondMax) {
      // Not remembered as logged: the source gets its line once the cap allows.
      this.capped++;
      this.suppressed++;
      return;
    }
    this.linesThisSecond++;
    const more = seen !== undefined && seen.suppressed > 0 ? ` (${seen.suppressed} more since the last report)` : '';
    const cap = this.capped > 0 ? ` [${this.capped} other rejection lines held back by the limit of ${this.linesPerSecondMax} per second]` : '';
    this.capped = 0;
    if (seen === undefined && this.pairs.size >= this.pairsMax) {
      const oldest = this.pairs.keys().next();
      if (oldest.done !== true) this.pairs.delete(oldest.value);
    }
    this.pairs.delete(key);
    this.pairs.set(key, { lastMs: nowMs, suppressed: 0 });
    this.lines++;
    this.log(`${this.label} ${reason} from ${peer ?? 'unknown peer'}: ${detail}${more}${cap}`);
  }

  count(reason: string): number {
    return this.counts.get(reason) ?? 0;
  }
}

/** The host part of `host:port` or `[v6]:port` (what a flood from many ports of one host shares). */
function hostOf(peer: string): string {
  if (peer.startsWith('[')) {
    const end = peer.indexOf(']');
    return end > 0 ? peer.slice(1, end) : peer;
  }
  const colon = peer.lastIndexOf(':');
  return colon > 0 && peer.indexOf(':') === colon ? peer.slice(0, colon) : peer;
}
