/**
 * Lifeguard's suspicion timeout (reference §6.3), as pure functions plus a tiny state record.
 *
 *   min = suspicionMult × max(1, log10(max(1, n))) × probeIntervalMs
 *   max = suspicionMaxTimeoutMult × min
 *   k   = suspicionMult − 2 expected confirmations (0 when n − 2 < k)
 *   timeout(c) = max(min, max − (log(c + 1) / log(k + 1)) × (max − min)), floored to whole ms
 */
export function suspicionTimeoutMs(suspicionMult: number, n: number, probeIntervalMs: number): number {
  const nodeScale = Math.max(1, Math.log10(Math.max(1, n)));
  // memberlist computes this in whole milliseconds.
  return Math.floor(suspicionMult * nodeScale * probeIntervalMs);
}

/** Remaining total timeout (measured from the start of the suspicion) after `c` confirmations. */
export function remainingSuspicionMs(c: number, k: number, elapsedMs: number, minMs: number, maxMs: number): number {
  const frac = k <= 0 ? 1 : Math.log(c + 1) / Math.log(k + 1);
  const raw = Math.floor(maxMs - frac * (maxMs - minMs));
  const timeout = Math.max(raw, minMs);
  return timeout - elapsedMs;
}

export interface SuspicionParams {
  readonly suspicionMult: number;
  readonly suspicionMaxTimeoutMult: number;
  readonly probeIntervalMs: number;
  /** Without Lifeguard the timeout is fixed at `min` (plain SWIM with suspicion). */
  readonly lifeguard: boolean;
}

/** One member's suspicion: when it started, who accused, when it fires. */
export class Suspicion {
  readonly startMs: number;
  readonly k: number;
  readonly minMs: number;
  readonly maxMs: number;
  deadlineMs: number;
  /** Its expiry was deferred once because this node handled it late (see `Awareness.late`). */
  deferred = false;
  private readonly accusers: Set<string>;

  constructor(p: SuspicionParams, n: number, from: string, nowMs: number) {
    this.startMs = nowMs;
    const min = suspicionTimeoutMs(p.suspicionMult, n, p.probeIntervalMs);
    let k = p.lifeguard ? p.suspicionMult - 2 : 0;
    if (n - 2 < k) k = 0;
    this.k = k;
    this.minMs = min;
    this.maxMs = p.lifeguard && k > 0 ? p.suspicionMaxTimeoutMult * min : min;
    this.deadlineMs = nowMs + (k > 0 ? this.maxMs : this.minMs);
    this.accusers = new Set([from]);
  }

  /** Number of independent confirmations beyond the first accuser. */
  get confirmations(): number {
    return this.accusers.size - 1;
  }

  /**
   * A suspicion from `from` arrived. Returns true when it was a new, independent accuser
   * (memberlist re-gossips those); the deadline then shrinks toward `min`.
   */
  confirm(from: string, nowMs: number): boolean {
    if (this.confirmations >= this.k) return false;
    if (this.accusers.has(from)) return false;
    this.accusers.add(from);
    const remaining = remainingSuspicionMs(this.confirmations, this.k, 0, this.minMs, this.maxMs);
    // A shrunk timeout that has already run out is due now (memberlist fires its timer at once),
    // not overdue: a deadline left in the past would read as this node's own stall (Awareness.late).
    this.deadlineMs = Math.max(this.startMs + remaining, nowMs);
    return true;
  }
}
