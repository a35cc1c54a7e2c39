import type { Dot, DotCover, VersionVector } from './dvv.js';
import type { Hasher64 } from './hash.js';
import type { CounterDot, CounterState } from './crdt/counter.js';
import { joinCounter } from './crdt/counter.js';
import type { MapField, MapState } from './crdt/ormap.js';
import { joinMap } from './crdt/ormap.js';
import type { SetElement, SetState } from './crdt/orset.js';
import { joinSet } from './crdt/orset.js';
import type { RegisterState, Sibling } from './crdt/register.js';
import { joinLww, joinRegister } from './crdt/register.js';
import { hashValue } from './value.js';

/**
 * The transmissible state of one key: everything a replica knows about it, so that merging a
 * peer's entry is all anti-entropy and rumors need. `type` is the store's shape; which resolver
 * reads it (lww, siblings, custom, gcounter, …) is configuration shared by every node.
 */
export type Entry =
  | (RegisterState & { readonly type: 'register'; readonly key: string })
  | (RegisterState & { readonly type: 'lww'; readonly key: string })
  | (CounterState & { readonly type: 'counter'; readonly key: string })
  | (SetState & { readonly type: 'set'; readonly key: string })
  | (MapState & { readonly type: 'map'; readonly key: string });

export type EntryType = Entry['type'];
export const ENTRY_TYPES: readonly EntryType[] = ['register', 'lww', 'counter', 'set', 'map'];

/**
 * Join of two entries of the same key and type (a semilattice; `seenA` as in `joinDotted`).
 * Returns `a` itself when `b` adds nothing. Entries of different types do not join: `a`.
 */
export function joinEntries(a: Entry, b: Entry, seenA?: DotCover): Entry {
  switch (a.type) {
    case 'register': {
      if (b.type !== 'register') return a;
      const r = joinRegister(a, b, seenA);
      return r === a ? a : { type: 'register', key: a.key, context: r.context, siblings: r.siblings };
    }
    case 'lww': {
      if (b.type !== 'lww') return a;
      const r = joinLww(a, b, seenA);
      return r === a ? a : { type: 'lww', key: a.key, context: r.context, siblings: r.siblings };
    }
    case 'counter': {
      if (b.type !== 'counter') return a;
      const r = joinCounter(a, b, seenA);
      return r === a ? a : { type: 'counter', key: a.key, context: r.context, counts: r.counts };
    }
    case 'set': {
      if (b.type !== 'set') return a;
      const r = joinSet(a, b, seenA);
      return r === a ? a : { type: 'set', key: a.key, context: r.context, elements: r.elements };
    }
    case 'map': {
      if (b.type !== 'map') return a;
      const r = joinMap(a, b, seenA);
      return r === a ? a : { type: 'map', key: a.key, context: r.context, fields: r.fields };
    }
  }
}

/** An empty entry of a type (the bottom of its lattice). */
export function emptyEntry(key: string, type: EntryType, context: VersionVector = []): Entry {
  switch (type) {
    case 'register':
    case 'lww':
      return { type, key, context, siblings: [] };
    case 'counter':
      return { type, key, context, counts: [] };
    case 'set':
      return { type, key, context, elements: [] };
    case 'map':
      return { type, key, context, fields: [] };
  }
}

/** Does the entry hold any live (non-tombstone) dot. */
export function hasLiveData(e: Entry): boolean {
  switch (e.type) {
    case 'register':
    case 'lww':
      for (const s of e.siblings) if (!s.deleted) return true;
      return false;
    case 'counter':
      return e.counts.length > 0;
    case 'set':
      return e.elements.length > 0;
    case 'map':
      return e.fields.length > 0;
  }
}

// ---- hash --------------------------------------------------------------------------------

const TYPE_TAG: Readonly<Record<EntryType, number>> = { register: 0x52, lww: 0x4c, counter: 0x43, set: 0x53, map: 0x4d };
const FIELD_TAG: Readonly<Record<MapField['type'], number>> = { register: 1, counter: 2, set: 3 };

function hashDot(h: Hasher64, d: Dot): void {
  h.string(d.origin).number(d.counter);
}

function hashSiblings(h: Hasher64, ss: readonly Sibling[]): void {
  h.word(ss.length);
  for (const s of ss) {
    hashDot(h, s.dot);
    h.number(s.l).word(s.c).word(s.deleted ? 1 : 0);
    if (!s.deleted) hashValue(h, s.value);
  }
}

function hashCounts(h: Hasher64, cs: readonly CounterDot[]): void {
  h.word(cs.length);
  for (const c of cs) {
    hashDot(h, c.dot);
    h.number(c.p).number(c.n);
  }
}

function hashElements(h: Hasher64, es: readonly SetElement[]): void {
  h.word(es.length);
  for (const e of es) {
    h.string(e.element).word(e.dots.length);
    for (const d of e.dots) hashDot(h, d);
  }
}

/**
 * Feeds the whole entry (key, type, context, store) in its canonical order: every array is
 * sorted (dots by origin then counter, elements and fields by name), so equal states hash equal
 * on every node, whatever order the writes and merges came in.
 */
export function hashEntry(h: Hasher64, e: Entry): void {
  h.string(e.key).word(TYPE_TAG[e.type]).word(e.context.length);
  for (const d of e.context) hashDot(h, d);
  switch (e.type) {
    case 'register':
    case 'lww':
      hashSiblings(h, e.siblings);
      break;
    case 'counter':
      hashCounts(h, e.counts);
      break;
    case 'set':
      hashElements(h, e.elements);
      break;
    case 'map':
      h.word(e.fields.length);
      for (const f of e.fields) {
        h.string(f.name).word(FIELD_TAG[f.type]);
        if (f.type === 'counter') hashCounts(h, f.counts);
        else if (f.type === 'set') hashElements(h, f.elements);
        else hashSiblings(h, f.siblings);
      }
      break;
  }
}

/** The highest HLC among the entry's register siblings (for the receiver's clock), or l = -1. */
export function maxEntryHlc(e: Entry, out: { l: number; c: number }): void {
  out.l = -1;
  out.c = 0;
  if (e.type === 'register' || e.type === 'lww') maxSiblingHlc(e.siblings, out);
  else if (e.type === 'map') for (const f of e.fields) if (f.type === 'register') maxSiblingHlc(f.siblings, out);
}

function maxSiblingHlc(ss: readonly Sibling[], out: { l: number; c: number }): void {
  for (const s of ss) if (s.l > out.l || (s.l === out.l && s.c > out.c)) {
    out.l = s.l;
    out.c = s.c;
  }
}

// ---- validation of a peer's entry ----------------------------------------------------------

function isObj(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null;
}

function isDot(x: unknown): x is Dot {
  return isObj(x) && typeof x.origin === 'string' && typeof x.counter === 'number' && Number.isSafeInteger(x.counter) && x.counter >= 1;
}

/** A sorted (strictly increasing), covered list of dotted items or dots. */
function validDots(items: unknown, ctx: VersionVector, dotted: boolean, check: ((x: Record<string, unknown>) => boolean) | undefined): boolean {
  if (!Array.isArray(items)) return false;
  let prev: Dot | undefined;
  for (const it of items as unknown[]) {
    if (!isObj(it)) return false;
    const d = dotted ? it.dot : it;
    if (!isDot(d)) return false;
    if (prev !== undefined && !(prev.origin < d.origin || (prev.origin === d.origin && prev.counter < d.counter))) return false;
    if (!(d.counter <= vvGetCounter(ctx, d.origin))) return false;
    if (check !== undefined && !check(it)) return false;
    prev = d;
  }
  return true;
}

function vvGetCounter(vv: VersionVector, origin: string): number {
  for (const d of vv) if (d.origin === origin) return d.counter;
  return 0;
}

const isCount = (n: unknown): boolean => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

function validSibling(s: Record<string, unknown>): boolean {
  if (!isCount(s.l) || !isCount(s.c) || typeof s.deleted !== 'boolean' || !isCount(s.valueBytes)) return false;
  return s.deleted ? s.value === null : s.value !== undefined;
}

function validCount(c: Record<string, unknown>): boolean {
  return isCount(c.p) && isCount(c.n);
}

function validElements(es: unknown, ctx: VersionVector): boolean {
  if (!Array.isArray(es)) return false;
  let prev: string | undefined;
  for (const e of es as unknown[]) {
    if (!isObj(e) || typeof e.element !== 'string') return false;
    if (prev !== undefined && !(prev < e.element)) return false;
    if (!validDots(e.dots, ctx, false, undefined) || (e.dots as unknown[]).length === 0) return false;
    prev = e.element;
  }
  return true;
}

const FIELD_TYPES: ReadonlySet<unknown> = new Set(['counter', 'set', 'register']);

/**
 * Checks a peer's entry against the invariants every real state has (shapes, canonical order,
 * every stored dot covered by the entry's own context), in one linear pass, so a bad entry is
 * refused instead of breaking a join or a hash. Values themselves are not inspected.
 */
export function isValidEntry(e: unknown): e is Entry {
  if (!isObj(e) || typeof e.key !== 'string' || !Array.isArray(e.context)) return false;
  const ctx = e.context as unknown[];
  let prev: string | undefined;
  for (const d of ctx) {
    if (!isDot(d) || (prev !== undefined && !(prev < d.origin))) return false;
    prev = d.origin;
  }
  const vv = ctx as VersionVector;
  switch (e.type) {
    case 'register':
      return validDots(e.siblings, vv, true, validSibling);
    case 'lww':
      return validDots(e.siblings, vv, true, validSibling) && (e.siblings as unknown[]).length <= 1;
    case 'counter':
      return validDots(e.counts, vv, true, validCount);
    case 'set':
      return validElements(e.elements, vv);
    case 'map': {
      if (!Array.isArray(e.fields)) return false;
      let pn: string | undefined;
      let pt: string | undefined;
      for (const f of e.fields as unknown[]) {
        if (!isObj(f) || typeof f.name !== 'string' || !FIELD_TYPES.has(f.type)) return false;
        const t = f.type as string;
        if (pn !== undefined && !(pn < f.name || (pn === f.name && (pt as string) < t))) return false;
        const ok = t === 'counter' ? validDots(f.counts, vv, true, validCount) && (f.counts as unknown[]).length > 0 : t === 'set' ? validElements(f.elements, vv) && (f.elements as unknown[]).length > 0 : validDots(f.siblings, vv, true, validSibling) && (f.siblings as unknown[]).length > 0;
        if (!ok) return false;
        pn = f.name;
        pt = t;
      }
      return true;
    }
    default:
      return false;
  }
}
