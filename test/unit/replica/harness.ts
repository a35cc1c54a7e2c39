/**
 * Shared by the replica tests: a resolver table covering every type, random operations that fit
 * each key's type, and full-state exchange between replicas (what anti-entropy achieves).
 */
import fc from 'fast-check';
import type { Entry, Resolver, Value } from '../../../src/core/replica/index.js';
import { Replica } from '../../../src/core/replica/index.js';
import { nodeName } from '../../../src/core/ids.js';

export const RESOLVERS: Readonly<Record<string, Resolver>> = {
  'l/': { type: 'lww' },
  's/': { type: 'siblings' },
  'c/': { type: 'custom', merge: (a: Value, b: Value) => Math.max(a as number, b as number) },
  'g/': { type: 'gcounter' },
  'p/': { type: 'pncounter' },
  'o/': { type: 'orset' },
  'm/': { type: 'ormap' },
};

export const KEYS = ['l/1', 'l/2', 's/1', 's/2', 'c/1', 'g/1', 'p/1', 'o/1', 'o/2', 'm/1'] as const;

export function makeReplicas(n: number, opts: { maxDriftMs?: number } = {}): Replica[] {
  const out: Replica[] = [];
  for (let i = 0; i < n; i++) out.push(new Replica({ node: nodeName(`n${i}`), resolvers: RESOLVERS, ...opts }));
  return out;
}

/** One client operation on one replica: `variant` and `arg` pick what fits the key's type. */
export interface WriteOp {
  readonly kind: 'op';
  readonly node: number;
  readonly key: number;
  readonly variant: number;
  readonly arg: number;
  readonly withContext: boolean;
}
/** A replica merges another's current entry for one key (a rumor). */
export interface MergeOp {
  readonly kind: 'merge';
  readonly from: number;
  readonly to: number;
  readonly key: number;
}
export type Op = WriteOp | MergeOp;

export function opArb(nodes: number, keys: number = KEYS.length): fc.Arbitrary<Op> {
  return fc.oneof(
    fc.record({
      kind: fc.constant('op' as const),
      node: fc.nat({ max: nodes - 1 }),
      key: fc.nat({ max: keys - 1 }),
      variant: fc.nat({ max: 5 }),
      arg: fc.nat({ max: 3 }),
      withContext: fc.boolean(),
    }),
    fc.record({ kind: fc.constant('merge' as const), from: fc.nat({ max: nodes - 1 }), to: fc.nat({ max: nodes - 1 }), key: fc.nat({ max: keys - 1 }) }),
  );
}

/** Applies an operation; `now` must not go backwards between calls for one replica. */
export function applyOp(rs: readonly Replica[], op: Op, now: number): void {
  if (op.kind === 'merge') {
    const e = rs[op.from]?.entry(KEYS[op.key] as string);
    if (e !== undefined && op.from !== op.to) rs[op.to]?.merge(now, e);
    return;
  }
  const r = rs[op.node] as Replica;
  const key = KEYS[op.key] as string;
  const ctx = op.withContext ? r.get(key)?.context : undefined;
  const el = `e${op.arg}`;
  switch (key.slice(0, 2)) {
    case 'l/':
    case 's/':
    case 'c/':
      if (op.variant === 0) r.delete(now, key, ctx);
      else r.put(now, key, op.variant * 10 + op.arg, ctx);
      return;
    case 'g/':
      r.increment(now, key, op.arg + 1);
      return;
    case 'p/':
      if (op.variant % 2 === 0) r.increment(now, key, op.arg + 1);
      else r.decrement(now, key, op.arg + 1);
      return;
    case 'o/':
      if (op.variant === 0) r.delete(now, key, ctx);
      else if (op.variant <= 2) r.remove(now, key, el);
      else r.add(now, key, el);
      return;
    case 'm/': {
      const field = `f${op.arg % 2}`;
      if (op.variant === 0) r.mapIncrement(now, key, field, op.arg - 1);
      else if (op.variant === 1) r.mapAdd(now, key, field, el);
      else if (op.variant === 2) r.mapRemove(now, key, field, el);
      else if (op.variant === 3) r.mapSet(now, key, field, op.arg);
      else if (op.variant === 4) r.mapRemoveField(now, key, field);
      else r.delete(now, key, ctx);
      return;
    }
    default:
      throw new Error(`no type for ${key}`);
  }
}

/** Every replica merges a snapshot of every other replica's entries, in the order `order` gives. */
export function exchangeAll(rs: readonly Replica[], now: number, order: (n: number) => number[] = (n) => [...Array(n).keys()]): void {
  const snap: { to: number; e: Entry }[] = [];
  for (let i = 0; i < rs.length; i++) {
    for (const key of (rs[i] as Replica).keys()) {
      const e = (rs[i] as Replica).entry(key) as Entry;
      for (let j = 0; j < rs.length; j++) if (j !== i) snap.push({ to: j, e });
    }
  }
  for (const idx of order(snap.length)) {
    const s = snap[idx];
    if (s !== undefined) (rs[s.to] as Replica).merge(now, s.e);
  }
}

/** Key → hex entry hash ('' when absent) for every key any replica has. */
export function hashes(r: Replica, keys: Iterable<string>): string[] {
  const out: string[] = [];
  const h = new Uint32Array(2);
  for (const k of keys) out.push(r.entryHash(k, h) === undefined ? '' : `${h[0]}:${h[1]}`);
  return out;
}

export function allKeys(rs: readonly Replica[]): string[] {
  const s = new Set<string>();
  for (const r of rs) for (const k of r.keys()) s.add(k);
  return [...s].sort();
}

/** A seeded permutation of 0..n-1 (Fisher–Yates over a tiny LCG). */
export function permutation(n: number, seed: number): number[] {
  const a = [...Array(n).keys()];
  let s = seed >>> 0 || 1;
  for (let i = n - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    const t = a[i] as number;
    a[i] = a[j] as number;
    a[j] = t;
  }
  return a;
}

/**
 * A complete sync among `rs` (what anti-entropy reaches): every replica merges a snapshot of
 * every other's entries, then absorbs their summaries taken with the snapshot (the contract's
 * rule: only after every entry of the summary's owner has been merged).
 */
export function syncAll(rs: readonly Replica[], now: number, order?: (n: number) => number[]): void {
  const summaries = rs.map((r) => r.versionSummary());
  exchangeAll(rs, now, order);
  for (let i = 0; i < rs.length; i++) for (let j = 0; j < rs.length; j++) if (i !== j) (rs[i] as Replica).absorbSummary(summaries[j] as Map<string, number>);
}

/** Keys whose type can be deleted (counters cannot). */
export const DELETABLE = KEYS.filter((k) => !k.startsWith('g/') && !k.startsWith('p/'));
