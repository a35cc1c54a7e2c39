import type { Dot, DotCover, VersionVector } from '../dvv.js';
import { EMPTY_VV, joinDotted, vvCovers, vvJoin, vvWith } from '../dvv.js';
import type { Value } from '../value.js';
import type { CounterDot } from './counter.js';
import { counterValue, incrementCounter } from './counter.js';
import type { SetElement } from './orset.js';
import { addElement, joinSet, removeElements } from './orset.js';
import type { Sibling } from './register.js';
import { lwwWinner, writeRegister } from './register.js';

/**
 * OR-Map of the other types. A field is named by (name, type), as in Riak's maps, so two nodes
 * creating `likes` as a counter and as a set concurrently get two fields, never a type clash.
 * All fields share the key's causal context; each field's store is the dot store of its type
 * (counter contributions, set element dots, register siblings) and joins as that type does.
 * A field exists while it holds a dot; removing a field drops the dots the remover observed, so
 * a concurrent update to the field survives (add-wins), keeping that origin's contribution.
 * Register fields read as LWW-Registers.
 */
export type FieldType = 'counter' | 'set' | 'register';

export type MapField =
  | { readonly name: string; readonly type: 'counter'; readonly counts: readonly CounterDot[] }
  | { readonly name: string; readonly type: 'set'; readonly elements: readonly SetElement[] }
  | { readonly name: string; readonly type: 'register'; readonly siblings: readonly Sibling[] };

export interface MapState {
  readonly context: VersionVector;
  /** Sorted by (name, type); no empty field. */
  readonly fields: readonly MapField[];
}

/** What a field reads as. */
export type FieldValue = { readonly type: 'counter'; readonly value: number } | { readonly type: 'set'; readonly elements: readonly string[] } | { readonly type: 'register'; readonly value: Value };

function compareField(an: string, at: FieldType, bn: string, bt: FieldType): number {
  return an < bn ? -1 : an > bn ? 1 : at < bt ? -1 : at > bt ? 1 : 0;
}

function fieldSize(f: MapField): number {
  return f.type === 'counter' ? f.counts.length : f.type === 'set' ? f.elements.length : f.siblings.length;
}

function findField(s: MapState, name: string, type: FieldType): MapField | undefined {
  for (const f of s.fields) if (f.name === name && f.type === type) return f;
  return undefined;
}

/** `s` with field (name, type) replaced by `f` (removed when `f` is empty) and context `ctx`. */
function withField(s: MapState, name: string, type: FieldType, f: MapField, ctx: VersionVector): MapState {
  const out: MapField[] = [];
  let placed = false;
  for (const x of s.fields) {
    const cmp = compareField(x.name, x.type, name, type);
    if (cmp === 0) continue;
    if (!placed && cmp > 0) {
      if (fieldSize(f) > 0) out.push(f);
      placed = true;
    }
    out.push(x);
  }
  if (!placed && fieldSize(f) > 0) out.push(f);
  return { context: ctx, fields: out };
}

export function mapIncrement(s: MapState, dot: Dot, name: string, dp: number, dn: number): MapState {
  const f = findField(s, name, 'counter');
  const counts = f?.type === 'counter' ? f.counts : [];
  const r = incrementCounter({ context: s.context, counts }, dot, dp, dn);
  return withField(s, name, 'counter', { name, type: 'counter', counts: r.counts }, r.context);
}

export function mapAdd(s: MapState, dot: Dot, name: string, element: string): MapState {
  const f = findField(s, name, 'set');
  const elements = f?.type === 'set' ? f.elements : [];
  const r = addElement({ context: s.context, elements }, dot, element);
  return withField(s, name, 'set', { name, type: 'set', elements: r.elements }, r.context);
}

export function mapRemove(s: MapState, dot: Dot, name: string, element: string): MapState {
  const f = findField(s, name, 'set');
  const elements = f?.type === 'set' ? f.elements : [];
  const r = removeElements({ context: s.context, elements }, dot, element);
  return withField(s, name, 'set', { name, type: 'set', elements: r.elements }, r.context);
}

/** Sets a register field; supersedes every sibling of the field observed here. */
export function mapSet(s: MapState, name: string, sib: Sibling): MapState {
  const f = findField(s, name, 'register');
  const siblings = f?.type === 'register' ? f.siblings : [];
  const r = writeRegister({ context: s.context, siblings }, s.context, sib);
  return withField(s, name, 'register', { name, type: 'register', siblings: r.siblings }, r.context);
}

/**
 * Removes fields named `name` (every type; all fields when undefined): drops the dots `read`
 * covers (default: the local context), as operation `dot`.
 */
export function mapRemoveField(s: MapState, dot: Dot, name: string | undefined, read?: VersionVector): MapState {
  const ctx = read ?? s.context;
  const out: MapField[] = [];
  for (const f of s.fields) {
    if (name !== undefined && f.name !== name) {
      out.push(f);
      continue;
    }
    const g = pruneField(f, ctx);
    if (fieldSize(g) > 0) out.push(g);
  }
  return { context: vvWith(vvJoin(s.context, ctx), dot.origin, dot.counter), fields: out };
}

function pruneField(f: MapField, ctx: VersionVector): MapField {
  switch (f.type) {
    case 'counter':
      return { name: f.name, type: 'counter', counts: f.counts.filter((x) => !vvCovers(ctx, x.dot.origin, x.dot.counter)) };
    case 'register':
      return { name: f.name, type: 'register', siblings: f.siblings.filter((x) => !vvCovers(ctx, x.dot.origin, x.dot.counter)) };
    case 'set':
      return { name: f.name, type: 'set', elements: removeElements({ context: EMPTY_VV, elements: f.elements }, { origin: '', counter: 1 }, undefined, ctx).elements };
  }
}

const EMPTY_COUNTS: readonly CounterDot[] = [];
const EMPTY_ELEMENTS: readonly SetElement[] = [];
const EMPTY_SIBLINGS: readonly Sibling[] = [];

/** Joins one field's stores; `x` or `y` may be missing (an empty store). */
function joinField(name: string, type: FieldType, x: MapField | undefined, ca: VersionVector, y: MapField | undefined, cb: VersionVector, seenA: DotCover | undefined): MapField {
  switch (type) {
    case 'counter': {
      const a = x?.type === 'counter' ? x.counts : EMPTY_COUNTS;
      const b = y?.type === 'counter' ? y.counts : EMPTY_COUNTS;
      const counts = joinDotted(a, ca, b, cb, seenA);
      return counts === a && x !== undefined ? x : { name, type, counts };
    }
    case 'register': {
      const a = x?.type === 'register' ? x.siblings : EMPTY_SIBLINGS;
      const b = y?.type === 'register' ? y.siblings : EMPTY_SIBLINGS;
      const siblings = joinDotted(a, ca, b, cb, seenA);
      return siblings === a && x !== undefined ? x : { name, type, siblings };
    }
    case 'set': {
      const a = x?.type === 'set' ? x.elements : EMPTY_ELEMENTS;
      const b = y?.type === 'set' ? y.elements : EMPTY_ELEMENTS;
      const elements = joinSet({ context: ca, elements: a }, { context: cb, elements: b }, seenA).elements;
      return elements === a && x !== undefined ? x : { name, type, elements };
    }
  }
}

export function joinMap(a: MapState, b: MapState, seenA?: DotCover): MapState {
  const context = vvJoin(a.context, b.context);
  const fa = a.fields;
  const fb = b.fields;
  const out: MapField[] = [];
  let changed = false;
  let i = 0;
  let j = 0;
  while (i < fa.length || j < fb.length) {
    const x = fa[i];
    const y = fb[j];
    const cmp = x === undefined ? 1 : y === undefined ? -1 : compareField(x.name, x.type, y.name, y.type);
    const f = cmp < 0 ? (x as MapField) : (y as MapField);
    const g = joinField(f.name, f.type, cmp <= 0 ? x : undefined, a.context, cmp >= 0 ? y : undefined, b.context, seenA);
    if (cmp <= 0) i++;
    if (cmp >= 0) j++;
    if (cmp <= 0 && g === x) {
      out.push(g);
      continue;
    }
    if (fieldSize(g) > 0) {
      out.push(g);
      changed = true;
    } else if (cmp <= 0) changed = true; // a's field emptied
  }
  if (!changed && context === a.context) return a;
  return { context, fields: changed ? out : a.fields };
}

/** Reads every field. */
export function mapValues(s: MapState): Map<string, FieldValue> {
  const out = new Map<string, FieldValue>();
  for (const f of s.fields) {
    const id = `${f.name}:${f.type}`;
    if (f.type === 'counter') out.set(id, { type: 'counter', value: counterValue(f.counts) });
    else if (f.type === 'set') out.set(id, { type: 'set', elements: f.elements.map((e) => e.element) });
    else {
      const w = lwwWinner(f.siblings);
      if (w !== undefined && !w.deleted) out.set(id, { type: 'register', value: w.value });
    }
  }
  return out;
}
