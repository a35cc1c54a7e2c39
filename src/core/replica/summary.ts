import type { DotCover } from './dvv.js';

/**
 * What a replica has seen, per origin: the highest counter n such that the replica's state
 * reflects every write (origin, 1..n). Used to decide when a tombstone may be collected (every
 * live member's summary covers it) and by convergence tracking.
 */
export type VersionSummary = ReadonlyMap<string, number>;

/**
 * The seen-set behind a summary: per origin the contiguous prefix `upTo` plus the counters seen
 * beyond it (a write that overtook an earlier one). A dot is marked when its effect is in the
 * state: own writes, and for every merged entry the highest dot per origin of its context (a
 * real write to that key whose effect the entry carries). A write superseded before it reached
 * this replica leaves a gap, filled when its rumor arrives or by `absorb` after a complete sync.
 */
/** Sampled counters noted per origin at most when `absorb` jumps a contiguous prefix forward. */
const SAMPLED_CATCH_UP = 256;

export class SeenDots implements DotCover {
  private readonly upTo = new Map<string, number>();
  private readonly above = new Map<string, Set<number>>();
  /** Sampled writes (counter a multiple of `sampleEvery`) that became covered, in order. */
  readonly sampled: { origin: string; counter: number }[] = [];
  /** 0: no sampling (see `Replica.watchSampled`). */
  sampleEvery = 0;

  covers(origin: string, counter: number): boolean {
    if (counter <= (this.upTo.get(origin) ?? 0)) return true;
    const s = this.above.get(origin);
    return s !== undefined && s.has(counter);
  }

  contiguous(origin: string): number {
    return this.upTo.get(origin) ?? 0;
  }

  mark(origin: string, counter: number): void {
    const u = this.upTo.get(origin) ?? 0;
    if (counter <= u) return;
    const k = this.sampleEvery;
    if (k > 0 && counter % k === 0 && !(this.above.get(origin)?.has(counter) ?? false)) this.sampled.push({ origin, counter });
    if (counter === u + 1) {
      let n = counter;
      const s = this.above.get(origin);
      if (s !== undefined) {
        while (s.delete(n + 1)) n++;
        if (s.size === 0) this.above.delete(origin);
      }
      this.upTo.set(origin, n);
      return;
    }
    let s = this.above.get(origin);
    if (s === undefined) this.above.set(origin, (s = new Set<number>()));
    s.add(counter);
  }

  /**
   * Takes back the mark of `origin`'s latest counter `counter` (a local write its commit hook
   * refused, so nothing reflects it). Only the last mark of a contiguous prefix or a counter
   * held above it can be taken back.
   */
  unmark(origin: string, counter: number): void {
    const s = this.above.get(origin);
    if (s !== undefined && s.delete(counter)) {
      if (s.size === 0) this.above.delete(origin);
      return;
    }
    if (this.upTo.get(origin) === counter) {
      if (counter <= 1) this.upTo.delete(origin);
      else this.upTo.set(origin, counter - 1);
    }
  }

  /** Raises every origin to at least the summary's counter (after a complete sync with its owner). */
  absorb(summary: VersionSummary): void {
    for (const [origin, n] of summary) {
      const old = this.contiguous(origin);
      if (!(n > old)) continue;
      const s = this.above.get(origin);
      const k = this.sampleEvery;
      if (k > 0) {
        // Only the latest few: a catch-up over a long history would otherwise note every one of
        // its writes (the writer keeps only recent samples pending anyway).
        const from = Math.max(old, n - SAMPLED_CATCH_UP * k);
        for (let c = (Math.floor(from / k) + 1) * k; c <= n; c += k) if (!(s?.has(c) ?? false)) this.sampled.push({ origin, counter: c });
      }
      let u = n;
      if (s !== undefined) {
        for (const c of s) if (c <= n) s.delete(c);
        while (s.delete(u + 1)) u++;
        if (s.size === 0) this.above.delete(origin);
      }
      this.upTo.set(origin, u);
    }
  }

  summary(): Map<string, number> {
    return new Map(this.upTo);
  }

  /** Counters held beyond the contiguous prefixes (gaps waiting to be filled). */
  pending(): number {
    let n = 0;
    for (const s of this.above.values()) n += s.size;
    return n;
  }
}

/** Does the summary cover the dot. */
export function summaryCovers(s: VersionSummary, origin: string, counter: number): boolean {
  return counter <= (s.get(origin) ?? 0);
}

/**
 * Pointwise minimum (what every one of them has seen): an origin missing from any summary
 * counts as 0 and is left out. This is the `seenByAll` for `collectTombstones` over the live
 * members' summaries.
 */
export function minSummary(summaries: Iterable<VersionSummary>): Map<string, number> {
  let out: Map<string, number> | undefined;
  for (const s of summaries) {
    if (out === undefined) {
      out = new Map(s);
      continue;
    }
    for (const [origin, n] of out) {
      const m = s.get(origin) ?? 0;
      if (m <= 0) out.delete(origin);
      else if (m < n) out.set(origin, m);
    }
  }
  return out ?? new Map<string, number>();
}

