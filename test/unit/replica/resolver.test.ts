import { describe, expect, it } from 'vitest';
import { ReplicaError } from '../../../src/core/replica/errors.js';
import type { Resolver } from '../../../src/core/replica/resolver.js';
import { ResolverTable, storeType } from '../../../src/core/replica/resolver.js';

describe('ResolverTable', () => {
  const t = new ResolverTable({ 'c/': { type: 'pncounter' }, 'c/g/': { type: 'gcounter' }, 's/': { type: 'orset' } }, undefined);

  it.each<[string, Resolver['type']]>([
    ['c/x', 'pncounter'],
    ['c/g/x', 'gcounter'], // the longest matching prefix wins
    ['s/', 'orset'],
    ['x', 'lww'], // no prefix: the default, lww unless told
    ['', 'lww'],
  ])('%s → %s', (key, type) => {
    expect(t.of(key).type).toBe(type);
  });

  it('takes a default of its own', () => {
    expect(new ResolverTable(undefined, { type: 'siblings' }).of('k').type).toBe('siblings');
  });

  it('refuses an unknown resolver, or a custom one without its merge, as a config error', () => {
    for (const [r, d] of [[{ 'x/': { type: 'nope' } as never }, undefined], [{ 'x/': { type: 'custom' } as never }, undefined], [undefined, { type: 'nope' } as never]] as const) {
      let code = 'none';
      try {
        new ResolverTable(r, d);
      } catch (e) {
        code = e instanceof ReplicaError ? e.code : 'other';
      }
      expect(code).toBe('config');
    }
  });

  it('each resolver stores its own entry type', () => {
    expect((['lww', 'siblings', 'gcounter', 'pncounter', 'orset', 'ormap'] as const).map((type) => storeType({ type }))).toEqual(['lww', 'register', 'counter', 'counter', 'set', 'map']);
    expect(storeType({ type: 'custom', merge: (a) => a })).toBe('register');
  });
});
