import type { EntryType } from './entry.js';
import { ReplicaError } from './errors.js';
import type { Value } from './value.js';

/**
 * How the keys under a prefix resolve concurrent writes (the same on every node):
 * - `lww`: LWW-Register, highest HLC wins, ties by node name (crdt/register.ts).
 * - `siblings`: MV-Register, concurrent values kept for the application (dotted version vectors).
 * - `custom`: siblings folded by `merge(a, b)` in dot order on read.
 * - `gcounter`, `pncounter`: counters; `orset`: add-wins set of strings; `ormap`: map of
 *   counter, set and LWW-register fields.
 */
export type Resolver =
  | { readonly type: 'lww' }
  | { readonly type: 'siblings' }
  | { readonly type: 'custom'; readonly merge: (a: Value, b: Value) => Value }
  | { readonly type: 'gcounter' }
  | { readonly type: 'pncounter' }
  | { readonly type: 'orset' }
  | { readonly type: 'ormap' };
export type ResolverType = Resolver['type'];

const LWW: Resolver = { type: 'lww' };

const RESOLVER_TYPES: ReadonlySet<string> = new Set<ResolverType>(['lww', 'siblings', 'custom', 'gcounter', 'pncounter', 'orset', 'ormap']);

/** The entry type a resolver's keys hold. */
export function storeType(r: Resolver): EntryType {
  switch (r.type) {
    case 'lww':
      return 'lww';
    case 'siblings':
    case 'custom':
      return 'register';
    case 'gcounter':
    case 'pncounter':
      return 'counter';
    case 'orset':
      return 'set';
    case 'ormap':
      return 'map';
  }
}

/** Resolvers by key prefix, the longest matching prefix winning, else the default (`lww`). Throws a `config` ReplicaError for an unknown resolver. */
export class ResolverTable {
  private readonly prefixes: readonly (readonly [string, Resolver])[];
  private readonly defaultResolver: Resolver;

  constructor(resolvers: Readonly<Record<string, Resolver>> | undefined, defaultResolver: Resolver | undefined) {
    this.defaultResolver = defaultResolver ?? LWW;
    const prefixes = Object.entries(resolvers ?? {});
    for (const [p, r] of prefixes) if (!isResolver(r)) throw new ReplicaError('config', `resolver for prefix "${p}" is not a known resolver`);
    if (!isResolver(this.defaultResolver)) throw new ReplicaError('config', 'defaultResolver is not a known resolver');
    this.prefixes = prefixes.sort((a, b) => b[0].length - a[0].length);
  }

  /** The resolver configured for `key`. */
  of(key: string): Resolver {
    for (let i = 0; i < this.prefixes.length; i++) {
      const p = this.prefixes[i] as readonly [string, Resolver];
      if (key.startsWith(p[0])) return p[1];
    }
    return this.defaultResolver;
  }
}

function isResolver(r: unknown): r is Resolver {
  if (typeof r !== 'object' || r === null) return false;
  const t = (r as { type?: unknown }).type;
  if (typeof t !== 'string' || !RESOLVER_TYPES.has(t)) return false;
  return t !== 'custom' || typeof (r as { merge?: unknown }).merge === 'function';
}
