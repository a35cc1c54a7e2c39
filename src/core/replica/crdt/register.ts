import type { Dot, DotCover, Dotted, VersionVector } from '../dvv.js';
import { compareDots, insertDotted, joinDotted, vvCovers, vvJoin, vvWith } from '../dvv.js';
import type { Value } from '../value.js';

/**
 * Registers over a dotted version vector: the state is the causal context plus the siblings,
 * one per write not superseded by a later write that saw it. A write carrying the context it
 * read replaces exactly the siblings that context covers; concurrent writes stay side by side.
 *
 * - **MV-Register** (`siblings` resolver): the read is every live sibling's value, in dot
 *   order; a delete is a tombstone sibling that the read hides (a concurrent write survives a
 *   delete: add-wins, as Riak with `allow_mult`).
 * - **LWW-Register** (`lww` resolver, entry type `lww`): one sibling, the write (or tombstone)
 *   with the highest HLC timestamp, ties broken by origin (node) name then counter. The join is
 *   the dot-store join reduced to its LWW winner (`joinLww`); the losers' dots stay in the
 *   context, so a loser never comes back from a stale copy, and a delete that won keeps every
 *   concurrent write it beat dead (which tombstone collection relies on). The reduction is
 *   a join because timestamps respect causality: a write is stamped above every sibling it
 *   supersedes (`lwwStamp`), even when the drift guard kept the clock itself behind.
 * - `custom`: siblings as MV; the read folds the application's merge over live values in dot
 *   order (the same order on every node, so the merge need not even be commutative).
 *
 * The join is `joinDotted` under the two contexts: a semilattice.
 */
export interface Sibling extends Dotted {
  readonly dot: Dot;
  /** HLC of the write: logical ms. */
  readonly l: number;
  /** HLC of the write: counter. */
  readonly c: number;
  /** A tombstone (death certificate of the values it superseded). */
  readonly deleted: boolean;
  /** The value (`null` for a tombstone). */
  readonly value: Value;
  /** Encoded size of `value` (0 for a tombstone). */
  readonly valueBytes: number;
}

export interface RegisterState {
  readonly context: VersionVector;
  /** Sorted by dot. */
  readonly siblings: readonly Sibling[];
}

const NONE: readonly Sibling[] = [];

export function makeSibling(origin: string, counter: number, l: number, c: number, value: Value, valueBytes: number): Sibling {
  return { dot: { origin, counter }, l, c, deleted: false, value, valueBytes };
}

export function makeTombstone(origin: string, counter: number, l: number, c: number): Sibling {
  return { dot: { origin, counter }, l, c, deleted: true, value: null, valueBytes: 0 };
}

/**
 * A write (or tombstone) that read `read`: siblings covered by `read` are superseded, the new
 * sibling joins the rest, the context becomes context ⊔ read ⊔ {dot}.
 */
export function writeRegister(s: RegisterState, read: VersionVector, sib: Sibling): RegisterState {
  const old = s.siblings;
  let kept: Sibling[] | readonly Sibling[] = old;
  if (read === s.context) {
    // Reading the whole local state (lww, deletes): every sibling is covered.
    kept = NONE;
  } else if (read.length > 0 && old.length > 0) {
    const out: Sibling[] = [];
    for (let i = 0; i < old.length; i++) {
      const x = old[i] as Sibling;
      if (!vvCovers(read, x.dot.origin, x.dot.counter)) out.push(x);
    }
    kept = out;
  }
  const siblings = kept.length === 0 ? [sib] : insertDotted(kept, sib);
  const context = vvWith(vvJoin(s.context, read), sib.dot.origin, sib.dot.counter);
  return { context, siblings };
}

/** Join (least upper bound). Returns `a` itself when `b` adds nothing. */
export function joinRegister(a: RegisterState, b: RegisterState, seenA?: DotCover): RegisterState {
  const siblings = joinDotted(a.siblings, a.context, b.siblings, b.context, seenA);
  const context = vvJoin(a.context, b.context);
  if (siblings === a.siblings && context === a.context) return a;
  return { context, siblings };
}

/**
 * LWW-Register join: the dot-store join, then only the highest (HLC, origin, counter) sibling
 * is kept. Returns `a` itself when `b` adds nothing.
 */
export function joinLww(a: RegisterState, b: RegisterState, seenA?: DotCover): RegisterState {
  const r = joinRegister(a, b, seenA);
  if (r === a || r.siblings.length <= 1) return r;
  const w = lwwWinner(r.siblings) as Sibling;
  if (r.context === a.context && a.siblings.length === 1 && a.siblings[0] === w) return a;
  return { context: r.context, siblings: [w] };
}

/**
 * The timestamp for an LWW write on top of `siblings` at clock (l, c): (l, c) itself when it
 * is above every sibling, else just above the highest sibling, so a write always outranks what
 * it supersedes. Written into `out`.
 */
export function lwwStamp(siblings: readonly Sibling[], l: number, c: number, out: { l: number; c: number }): void {
  out.l = l;
  out.c = c;
  for (const s of siblings) {
    if (s.l > out.l || (s.l === out.l && s.c >= out.c)) {
      out.l = s.c >= 0xffff ? s.l + 1 : s.l;
      out.c = s.c >= 0xffff ? 0 : s.c + 1;
    }
  }
}

/** LWW order on siblings: HLC (l, c), then origin name, then counter. */
export function compareLww(a: Sibling, b: Sibling): number {
  if (a.l !== b.l) return a.l - b.l;
  if (a.c !== b.c) return a.c - b.c;
  return compareDots(a.dot, b.dot);
}

/** The LWW-Register's winner (possibly a tombstone), undefined when there are no siblings. */
export function lwwWinner(siblings: readonly Sibling[]): Sibling | undefined {
  let best: Sibling | undefined;
  for (let i = 0; i < siblings.length; i++) {
    const s = siblings[i] as Sibling;
    if (best === undefined || compareLww(s, best) > 0) best = s;
  }
  return best;
}

/** The MV-Register's read: live values in dot order. */
export function mvValues(siblings: readonly Sibling[]): Value[] {
  const out: Value[] = [];
  for (const s of siblings) if (!s.deleted) out.push(s.value);
  return out;
}

/** True when some sibling is not a tombstone. */
export function hasLiveSibling(siblings: readonly Sibling[]): boolean {
  for (const s of siblings) if (!s.deleted) return true;
  return false;
}
