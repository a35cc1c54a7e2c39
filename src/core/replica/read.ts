import { counterValue } from './crdt/counter.js';
import type { FieldValue } from './crdt/ormap.js';
import { mapValues } from './crdt/ormap.js';
import { setMembers } from './crdt/orset.js';
import type { Sibling } from './crdt/register.js';
import { hasLiveSibling, lwwWinner, mvValues } from './crdt/register.js';
import type { CausalContext } from './dvv.js';
import type { Entry } from './entry.js';
import { hasLiveData } from './entry.js';
import type { Resolver } from './resolver.js';
import type { Value } from './value.js';

/** What `get` returns; `context` is what a read-modify-write hands back to `put`/`delete`. */
export type Read =
  | {
      readonly type: 'register';
      /** lww and custom: at most one value; siblings: every concurrent value, in dot order. Empty when deleted. */
      readonly values: readonly Value[];
      readonly context: CausalContext;
    }
  | { readonly type: 'counter'; readonly value: number; readonly context: CausalContext }
  | { readonly type: 'set'; readonly elements: readonly string[]; readonly context: CausalContext }
  | { readonly type: 'map'; readonly fields: ReadonlyMap<string, FieldValue>; readonly context: CausalContext };

/** A key's value(s) as its resolver reads them, with its causal context. */
export function readEntry(resolver: Resolver, e: Entry): Read {
  switch (e.type) {
    case 'register':
    case 'lww':
      return { type: 'register', values: readRegister(resolver, e.siblings), context: e.context };
    case 'counter':
      return { type: 'counter', value: counterValue(e.counts), context: e.context };
    case 'set':
      return { type: 'set', elements: setMembers(e), context: e.context };
    case 'map':
      return { type: 'map', fields: mapValues(e), context: e.context };
  }
}

/** Does the key read as present (a tombstone-only state does not). */
export function isVisible(e: Entry): boolean {
  if (e.type === 'register' || e.type === 'lww') {
    if (e.type === 'lww') {
      const w = lwwWinner(e.siblings);
      return w !== undefined && !w.deleted;
    }
    return hasLiveSibling(e.siblings);
  }
  return e.type === 'counter' || hasLiveData(e);
}

function readRegister(resolver: Resolver, siblings: readonly Sibling[]): Value[] {
  if (resolver.type === 'lww') {
    const w = lwwWinner(siblings);
    return w === undefined || w.deleted ? [] : [w.value];
  }
  const values = mvValues(siblings);
  if (resolver.type !== 'custom' || values.length <= 1) return values;
  let acc = values[0] as Value;
  for (let i = 1; i < values.length; i++) acc = resolver.merge(acc, values[i] as Value);
  return [acc];
}
