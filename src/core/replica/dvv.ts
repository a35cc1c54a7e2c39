/**
 * Dots, version vectors and the dot-store joins that every replicated type is built from
 * (dotted version vectors: Preguiça et al. 2010, Almeida et al. 2014; theory.md §8).
 *
 * - A **dot** (origin, counter) names one write: the `counter`-th write coordinated by
 *   `origin`. Each replica numbers its own writes 1, 2, 3, … across all keys (one counter per
 *   node, so `versionSummary` can say "seen everything from origin up to n").
 * - A **version vector** (the causal context of a key) maps origin → the highest counter of
 *   that origin's writes *to this key* that the state reflects. A node only ever writes a key on
 *   top of its own state of the key, so its writes to one key form a chain: having seen
 *   (r, 42) on key k means having seen (the effect of) every earlier write of r to k. Coverage
 *   `counter ≤ vv[origin]` is therefore exact per key, even though r's counters on k skip the
 *   numbers r used on other keys.
 * - A **dot store** holds the live dots of a key (register siblings, set element dots, counter
 *   contributions). Join of (store A, context A) and (store B, context B): keep a dot present in
 *   both; keep a dot present in one side only unless the other side's context covers it (then
 *   the other side has seen it and removed or superseded it). Contexts join pointwise by max.
 *   This is a join-semilattice (commutative, associative, idempotent; fast-check in
 *   test/property/replica-laws.prop.test.ts), and a write that carries the context it read
 *   removes exactly the dots it read, which is why siblings equal the truly concurrent writes.
 *
 * Version vectors are arrays of dots sorted by origin, one per origin, counters ≥ 1: small
 * (one entry per node that wrote the key), canonical (equal vectors are equal arrays, so their
 * hashes match on every node) and cheap to copy.
 */
export interface Dot {
  readonly origin: string;
  readonly counter: number;
}

/** Sorted by origin (UTF-16 order), one dot per origin, counters ≥ 1. */
export type VersionVector = readonly Dot[];
/** The causal context a client reads with `get` and hands back to `put`/`delete`. */
export type CausalContext = VersionVector;

export const EMPTY_VV: VersionVector = Object.freeze([]);

/** Something that can say whether it has seen a dot (a version vector, a replica's summary). */
export interface DotCover {
  covers(origin: string, counter: number): boolean;
}

/** Total order on dots: origin, then counter. */
export function compareDots(a: Dot, b: Dot): number {
  return a.origin < b.origin ? -1 : a.origin > b.origin ? 1 : a.counter - b.counter;
}

/** The counter for `origin` (0 when absent). */
export function vvGet(vv: VersionVector, origin: string): number {
  for (let i = 0; i < vv.length; i++) {
    const d = vv[i] as Dot;
    if (d.origin === origin) return d.counter;
    if (d.origin > origin) return 0;
  }
  return 0;
}

export function vvCovers(vv: VersionVector, origin: string, counter: number): boolean {
  return vvGet(vv, origin) >= counter;
}

/** `vv` with `origin` raised to at least `counter` (a new array; `vv` when already there). */
export function vvWith(vv: VersionVector, origin: string, counter: number): VersionVector {
  const n = vv.length;
  let i = 0;
  while (i < n && (vv[i] as Dot).origin < origin) i++;
  const at = vv[i];
  if (at !== undefined && at.origin === origin) {
    if (at.counter >= counter) return vv;
    const out = vv.slice();
    out[i] = { origin, counter };
    return out;
  }
  const out = new Array<Dot>(n + 1);
  for (let k = 0; k < i; k++) out[k] = vv[k] as Dot;
  out[i] = { origin, counter };
  for (let k = i; k < n; k++) out[k + 1] = vv[k] as Dot;
  return out;
}

/** Pointwise max. Returns `a` itself when `b ≤ a` (so callers can detect "unchanged"). */
export function vvJoin(a: VersionVector, b: VersionVector): VersionVector {
  if (b.length === 0 || a === b) return a;
  if (a.length === 0) return b;
  if (vvDescends(a, b)) return a;
  const out: Dot[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    if (y === undefined || (x !== undefined && x.origin < y.origin)) {
      out.push(x as Dot);
      i++;
    } else if (x === undefined || y.origin < x.origin) {
      out.push(y);
      j++;
    } else {
      out.push(x.counter >= y.counter ? x : y);
      i++;
      j++;
    }
  }
  return out;
}

/** a ≥ b pointwise. */
export function vvDescends(a: VersionVector, b: VersionVector): boolean {
  let i = 0;
  for (let j = 0; j < b.length; j++) {
    const y = b[j] as Dot;
    while (i < a.length && (a[i] as Dot).origin < y.origin) i++;
    const x = a[i];
    if (x === undefined || x.origin !== y.origin || x.counter < y.counter) return false;
  }
  return true;
}

export type Causality = 'equal' | 'before' | 'after' | 'concurrent';

/** The partial order of version vectors: a before b when a < b pointwise. */
export function vvCompare(a: VersionVector, b: VersionVector): Causality {
  const ab = vvDescends(a, b);
  const ba = vvDescends(b, a);
  return ab && ba ? 'equal' : ab ? 'after' : ba ? 'before' : 'concurrent';
}

export function vvEquals(a: VersionVector, b: VersionVector): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as Dot;
    const y = b[i] as Dot;
    if (x.origin !== y.origin || x.counter !== y.counter) return false;
  }
  return true;
}

/** Is `vv` well formed: origins strictly increasing, counters positive safe integers. */
export function isVersionVector(vv: unknown): vv is VersionVector {
  if (!Array.isArray(vv)) return false;
  let prev: string | undefined;
  for (const d of vv as unknown[]) {
    if (typeof d !== 'object' || d === null) return false;
    const { origin, counter } = d as { origin: unknown; counter: unknown };
    if (typeof origin !== 'string' || typeof counter !== 'number' || !Number.isSafeInteger(counter) || counter < 1) return false;
    if (prev !== undefined && !(prev < origin)) return false;
    prev = origin;
  }
  return true;
}

/** A stored item named by the write that created it. */
export interface Dotted {
  readonly dot: Dot;
}

/**
 * Side outputs of the joins (no allocation per call): `changed` is set when a result differs
 * from its left operand; `filteredBySeen` counts right-operand dots dropped only because
 * `seenA` covered them. Reset with `resetJoinStats()` before a merge.
 */
export const joinStats = { changed: false, filteredBySeen: 0 };

export function resetJoinStats(): void {
  joinStats.changed = false;
  joinStats.filteredBySeen = 0;
}

function keepFromB(ca: VersionVector, seenA: DotCover | undefined, d: Dot): boolean {
  if (vvCovers(ca, d.origin, d.counter)) return false;
  if (seenA !== undefined && seenA.covers(d.origin, d.counter)) {
    joinStats.filteredBySeen++;
    return false;
  }
  return true;
}

/**
 * Join of two dot stores of dotted items (sorted by dot) under their contexts. `seenA`, when
 * given, also counts as A's context for dots only B holds (the replica passes its version
 * summary: a dot it has seen but no longer holds was deleted, even if the key's state was
 * collected since). Returns `a` itself when the result equals `a`; sets `joinStats.changed` if not.
 */
export function joinDotted<T extends Dotted>(a: readonly T[], ca: VersionVector, b: readonly T[], cb: VersionVector, seenA?: DotCover): readonly T[] {
  return joinBy(a, ca, b, cb, seenA, dotOfDotted);
}

/** `joinDotted` for plain dot sets (OR-Set element dots). */
export function joinDotSet(a: readonly Dot[], ca: VersionVector, b: readonly Dot[], cb: VersionVector, seenA?: DotCover): readonly Dot[] {
  return joinBy(a, ca, b, cb, seenA, dotOfDot);
}

const dotOfDotted = (x: Dotted): Dot => x.dot;
const dotOfDot = (d: Dot): Dot => d;

/** The join of `joinDotted` over items sorted by `dotOf(item)`. */
function joinBy<T>(a: readonly T[], ca: VersionVector, b: readonly T[], cb: VersionVector, seenA: DotCover | undefined, dotOf: (x: T) => Dot): readonly T[] {
  if (a === b) return a;
  const out: T[] = [];
  let changed = false;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    const cmp = x === undefined ? 1 : y === undefined ? -1 : compareDots(dotOf(x), dotOf(y));
    if (cmp === 0) {
      out.push(x as T);
      i++;
      j++;
    } else if (cmp < 0) {
      const d = dotOf(x as T);
      if (vvCovers(cb, d.origin, d.counter)) changed = true;
      else out.push(x as T);
      i++;
    } else {
      if (keepFromB(ca, seenA, dotOf(y as T))) {
        out.push(y as T);
        changed = true;
      }
      j++;
    }
  }
  if (!changed) return a;
  joinStats.changed = true;
  return out;
}

/** Inserts `item` at its dot's position (a new array). */
export function insertDotted<T extends Dotted>(items: readonly T[], item: T): T[] {
  const out: T[] = [];
  let placed = false;
  for (const x of items) {
    if (!placed && compareDots(item.dot, x.dot) < 0) {
      out.push(item);
      placed = true;
    }
    out.push(x);
  }
  if (!placed) out.push(item);
  return out;
}
