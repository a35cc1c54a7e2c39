import type { Dot, DotCover, Dotted, VersionVector } from '../dvv.js';
import { joinDotted, vvJoin, vvWith } from '../dvv.js';

/**
 * G-Counter and PN-Counter as causal counters: each origin's contribution (increments `p`,
 * decrements `n`, cumulative) is stored under the dot of that origin's latest update to the
 * key, and an origin's new update replaces its previous one. The join is the dot-store join:
 * of two contributions from one origin, the later dot wins because the other side's context
 * covers the earlier one. That is the pointwise max of the textbook G-Counter (an origin's
 * totals only grow), with dots, so every update is an event the version summary can count and
 * an OR-Map can reset a counter field by observed-remove. Value = Σ p − Σ n.
 * A G-Counter is the same state with decrements refused.
 */
export interface CounterDot extends Dotted {
  readonly dot: Dot;
  readonly p: number;
  readonly n: number;
}

export interface CounterState {
  readonly context: VersionVector;
  /** Sorted by dot, so by origin; at most one per origin. */
  readonly counts: readonly CounterDot[];
}

/** Adds `dp` increments and `dn` decrements (both ≥ 0) as origin's update `dot`. */
export function incrementCounter(s: CounterState, dot: Dot, dp: number, dn: number): CounterState {
  const old = s.counts;
  const out: CounterDot[] = [];
  let p = dp;
  let n = dn;
  let placed = false;
  for (let i = 0; i < old.length; i++) {
    const x = old[i] as CounterDot;
    if (x.dot.origin === dot.origin) {
      p += x.p;
      n += x.n;
      continue;
    }
    if (!placed && x.dot.origin > dot.origin) {
      out.push({ dot, p: 0, n: 0 });
      placed = true;
    }
    out.push(x);
  }
  if (!placed) out.push({ dot, p: 0, n: 0 });
  for (let i = 0; i < out.length; i++) if ((out[i] as CounterDot).dot === dot) out[i] = { dot, p, n };
  return { context: vvWith(s.context, dot.origin, dot.counter), counts: out };
}

export function joinCounter(a: CounterState, b: CounterState, seenA?: DotCover): CounterState {
  const counts = joinDotted(a.counts, a.context, b.counts, b.context, seenA);
  const context = vvJoin(a.context, b.context);
  if (counts === a.counts && context === a.context) return a;
  return { context, counts };
}

export function counterValue(counts: readonly CounterDot[]): number {
  let v = 0;
  for (const x of counts) v += x.p - x.n;
  return v;
}
