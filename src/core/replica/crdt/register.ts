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
 * - **LWW-Register** (`lww` resolver): the read is the sibling with the highest HLC timestamp,
 *   ties broken by origin (node) name; deletes are tombstone siblings with their own HLC, so a
 *   later delete beats an earlier write and vice versa. A write at a node supersedes every
 *   sibling that node holds (its HLC already exceeds theirs, since the clock observed them on
 *   merge), so an LWW key holds more than one sibling only between concurrent writes on
 *   different nodes and the next write that sees them. "Causality first, HLC among concurrent
 *   writes": identical to plain LWW unless a clock was refused by the drift guard.
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
