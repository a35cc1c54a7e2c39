import { counterValue, incrementCounter } from './crdt/counter.js';
import { mapAdd, mapIncrement, mapRemove, mapRemoveField, mapSet } from './crdt/ormap.js';
import { addElement, removeElements } from './crdt/orset.js';
import type { Sibling } from './crdt/register.js';
import { lwwStamp, makeSibling, makeTombstone, writeRegister } from './crdt/register.js';
import type { CausalContext, VersionVector } from './dvv.js';
import { EMPTY_VV, isVersionVector } from './dvv.js';
import type { Entry } from './entry.js';
import { emptyEntry } from './entry.js';
import { ReplicaError } from './errors.js';
import type { Keyspace } from './keyspace.js';
import type { Resolver } from './resolver.js';
import { storeType } from './resolver.js';
import type { Value } from './value.js';
import { valueBytes } from './value.js';

/*
 * Local writes: every operation is a write event named by a new dot of this node's, applied to
 * the key's causal context and dot store (crdt/), through `Keyspace.store` (the commit hook first).
 * Caller errors throw a `ReplicaError` before anything changes (see `Replica` for each operation).
 */

const NO_SIBLINGS: readonly Sibling[] = [];

export function put(ks: Keyspace, now: number, key: string, value: Value, context?: CausalContext): CausalContext {
  ks.advance(now);
  const rec = ks.records.get(key);
  const resolver = rec !== undefined ? rec.resolver : ks.resolvers.of(key);
  const type = storeType(resolver);
  if (type !== 'register' && type !== 'lww') throw wrongType(key, resolver, 'put');
  const vb = valueBytes(value);
  if (vb < 0) throw new ReplicaError('bad-value', `value for "${key}" is neither bytes nor JSON-compatible`);
  const local = rec?.entry;
  const ctx = local !== undefined ? local.context : EMPTY_VV;
  const read = type === 'lww' ? ctx : context === undefined ? EMPTY_VV : checkContext(context);
  ks.hlc.tick(now);
  const siblings = local !== undefined && (local.type === 'register' || local.type === 'lww') ? local.siblings : NO_SIBLINGS;
  const stamp = ks.hlcScratch;
  if (type === 'lww') lwwStamp(siblings, ks.hlc.l, ks.hlc.c, stamp);
  else {
    stamp.l = ks.hlc.l;
    stamp.c = ks.hlc.c;
  }
  const sib = makeSibling(ks.node, ks.nextDot(), stamp.l, stamp.c, value, vb);
  const s = writeRegister({ context: ctx, siblings }, read, sib);
  const entry: Entry = { type, key, context: s.context, siblings: s.siblings };
  ks.store(key, rec, resolver, entry, 'local');
  return entry.context;
}

export function del(ks: Keyspace, now: number, key: string, context?: CausalContext): CausalContext {
  ks.advance(now);
  const rec = ks.records.get(key);
  const resolver = rec !== undefined ? rec.resolver : ks.resolvers.of(key);
  const type = storeType(resolver);
  if (type === 'counter') throw new ReplicaError('unsupported', `"${key}" is a ${resolver.type}: counters cannot be deleted`);
  const read = context === undefined || resolver.type === 'lww' ? undefined : checkContext(context);
  const local = rec?.entry ?? emptyEntry(key, type);
  const entry = deleteOn(ks, now, local, read);
  ks.store(key, rec, resolver, entry, 'local');
  return entry.context;
}

/** Adds `dp` and subtracts `dn` (one of them 0) on a counter key; returns the new value. */
export function count(ks: Keyspace, now: number, key: string, dp: number, dn: number, op: string): number {
  ks.advance(now);
  const rec = ks.records.get(key);
  const resolver = rec !== undefined ? rec.resolver : ks.resolvers.of(key);
  if (resolver.type !== 'gcounter' && resolver.type !== 'pncounter') throw wrongType(key, resolver, op);
  if (dn > 0 && resolver.type === 'gcounter') throw new ReplicaError('unsupported', `"${key}" is a gcounter: it cannot be decremented`);
  const local = rec?.entry.type === 'counter' ? rec.entry : { context: EMPTY_VV, counts: [] };
  const s = incrementCounter(local, ks.dot(), dp, dn);
  ks.store(key, rec, resolver, { type: 'counter', key, context: s.context, counts: s.counts }, 'local');
  return counterValue(s.counts);
}

export function add(ks: Keyspace, now: number, key: string, element: string): void {
  ks.advance(now);
  const { rec, resolver, local } = setOp(ks, key, element, 'add');
  const s = addElement(local, ks.dot(), element);
  ks.store(key, rec, resolver, { type: 'set', key, context: s.context, elements: s.elements }, 'local');
}

export function remove(ks: Keyspace, now: number, key: string, element: string): void {
  ks.advance(now);
  const { rec, resolver, local } = setOp(ks, key, element, 'remove');
  const s = removeElements(local, ks.dot(), element);
  ks.store(key, rec, resolver, { type: 'set', key, context: s.context, elements: s.elements }, 'local');
}

export function mapIncrementOp(ks: Keyspace, now: number, key: string, field: string, by: number): void {
  ks.advance(now);
  if (!Number.isSafeInteger(by)) throw new ReplicaError('bad-argument', `increment must be an integer, got ${by}`);
  const { rec, resolver, local } = mapOp(ks, key, field, 'mapIncrement');
  const s = mapIncrement(local, ks.dot(), field, by > 0 ? by : 0, by < 0 ? -by : 0);
  ks.store(key, rec, resolver, { type: 'map', key, context: s.context, fields: s.fields }, 'local');
}

export function mapAddOp(ks: Keyspace, now: number, key: string, field: string, element: string): void {
  ks.advance(now);
  if (typeof element !== 'string') throw new ReplicaError('bad-argument', 'set elements are strings');
  const { rec, resolver, local } = mapOp(ks, key, field, 'mapAdd');
  const s = mapAdd(local, ks.dot(), field, element);
  ks.store(key, rec, resolver, { type: 'map', key, context: s.context, fields: s.fields }, 'local');
}

export function mapRemoveOp(ks: Keyspace, now: number, key: string, field: string, element: string): void {
  ks.advance(now);
  const { rec, resolver, local } = mapOp(ks, key, field, 'mapRemove');
  const s = mapRemove(local, ks.dot(), field, element);
  ks.store(key, rec, resolver, { type: 'map', key, context: s.context, fields: s.fields }, 'local');
}

export function mapSetOp(ks: Keyspace, now: number, key: string, field: string, value: Value): void {
  ks.advance(now);
  const vb = valueBytes(value);
  if (vb < 0) throw new ReplicaError('bad-value', `value for "${key}".${field} is neither bytes nor JSON-compatible`);
  const { rec, resolver, local } = mapOp(ks, key, field, 'mapSet');
  ks.hlc.tick(now);
  const sib = makeSibling(ks.node, ks.nextDot(), ks.hlc.l, ks.hlc.c, value, vb);
  const s = mapSet(local, field, sib);
  ks.store(key, rec, resolver, { type: 'map', key, context: s.context, fields: s.fields }, 'local');
}

export function mapRemoveFieldOp(ks: Keyspace, now: number, key: string, field: string): void {
  ks.advance(now);
  const { rec, resolver, local } = mapOp(ks, key, field, 'mapRemoveField');
  const s = mapRemoveField(local, ks.dot(), field);
  ks.store(key, rec, resolver, { type: 'map', key, context: s.context, fields: s.fields }, 'local');
}

/**
 * A delete event over `local`, superseding what `read` covers (default: all held); register
 * tombstones take the HLC `stamp` when given (just above it), else a fresh one.
 */
export function deleteOn(ks: Keyspace, now: number, local: Entry, read: VersionVector | undefined, stamp?: { readonly l: number; readonly c: number }): Entry {
  const key = local.key;
  switch (local.type) {
    case 'register':
    case 'lww': {
      const t = ks.hlcScratch;
      if (stamp !== undefined) {
        // Just above the stale copy's highest timestamp.
        const l = stamp.l;
        const c = stamp.c;
        t.l = c >= 0xffff ? l + 1 : l;
        t.c = c >= 0xffff ? 0 : c + 1;
      } else {
        ks.hlc.tick(now);
        if (local.type === 'lww') lwwStamp(local.siblings, ks.hlc.l, ks.hlc.c, t);
        else lwwStamp(NO_SIBLINGS, ks.hlc.l, ks.hlc.c, t);
      }
      const tomb = makeTombstone(ks.node, ks.nextDot(), t.l, t.c);
      const s = writeRegister(local, read ?? local.context, tomb);
      return { type: local.type, key, context: s.context, siblings: s.siblings };
    }
    case 'set': {
      const s = removeElements(local, ks.dot(), undefined, read);
      return { type: 'set', key, context: s.context, elements: s.elements };
    }
    case 'map': {
      const s = mapRemoveField(local, ks.dot(), undefined, read);
      return { type: 'map', key, context: s.context, fields: s.fields };
    }
    case 'counter':
      return local;
  }
}

/** A non-negative whole amount, else a `bad-argument` error. */
export function checkAmount(by: number): number {
  if (!Number.isSafeInteger(by) || by < 0) throw new ReplicaError('bad-argument', `amount must be a non-negative integer, got ${by}`);
  return by;
}

function setOp(ks: Keyspace, key: string, element: string, op: string) {
  if (typeof element !== 'string') throw new ReplicaError('bad-argument', 'set elements are strings');
  const rec = ks.records.get(key);
  const resolver = rec !== undefined ? rec.resolver : ks.resolvers.of(key);
  if (resolver.type !== 'orset') throw wrongType(key, resolver, op);
  const local = rec?.entry.type === 'set' ? rec.entry : { context: EMPTY_VV, elements: [] };
  return { rec, resolver, local };
}

function mapOp(ks: Keyspace, key: string, field: string, op: string) {
  if (typeof field !== 'string') throw new ReplicaError('bad-argument', 'map field names are strings');
  const rec = ks.records.get(key);
  const resolver = rec !== undefined ? rec.resolver : ks.resolvers.of(key);
  if (resolver.type !== 'ormap') throw wrongType(key, resolver, op);
  const local = rec?.entry.type === 'map' ? rec.entry : { context: EMPTY_VV, fields: [] };
  return { rec, resolver, local };
}

function wrongType(key: string, resolver: Resolver, op: string): ReplicaError {
  return new ReplicaError('wrong-type', `"${key}" is a ${resolver.type} key: ${op} does not apply`);
}

function checkContext(c: CausalContext): CausalContext {
  if (!isVersionVector(c)) throw new ReplicaError('bad-context', 'context must be the causal context returned by get or put');
  return c;
}
