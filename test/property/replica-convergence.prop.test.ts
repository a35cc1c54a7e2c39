import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allKeys, applyOp, exchangeAll, hashes, makeReplicas, opArb, permutation } from '../unit/replica/harness.js';

/**
 * Replicas that exchange all their entries, in any order and with duplicates, converge: every
 * key has the same `entryHash` on every replica, and reads agree. Operations cover every type
 * (lww, siblings, custom, G/PN-counter, OR-Set, OR-Map), deletes and partial rumor merges.
 */
describe('replica convergence (fast-check)', () => {
  it('property: after random operations and partial merges, exchanging every entry in a random order gives equal entry hashes and reads for every key', () => {
    fc.assert(
      fc.property(fc.array(opArb(4), { minLength: 1, maxLength: 80, size: 'max' }), fc.integer({ min: 1, max: 2 ** 31 - 1 }), (ops, seed) => {
        const rs = makeReplicas(4);
        let now = 1000;
        for (const op of ops) applyOp(rs, op, (now += 5));
        exchangeAll(rs, now + 1, (n) => permutation(n, seed));
        const keys = allKeys(rs);
        const h0 = hashes(rs[0]!, keys);
        expect(h0.every((h) => h !== '')).toBe(true);
        for (const r of rs.slice(1)) expect(hashes(r, keys)).toEqual(h0);
        for (const k of keys) for (const r of rs.slice(1)) expect(r.get(k)).toEqual(rs[0]!.get(k));
        for (const r of rs.slice(1)) expect(r.list()).toEqual(rs[0]!.list());
      }),
      { numRuns: 300 },
    );
  });

  it('property: merging is order-insensitive and duplicate-insensitive (two different orders, one with every entry twice, give the same hashes)', () => {
    fc.assert(
      fc.property(fc.array(opArb(3), { minLength: 1, maxLength: 50, size: 'max' }), fc.integer({ min: 1, max: 1e9 }), (ops, seed) => {
        const a = makeReplicas(3);
        const b = makeReplicas(3);
        let now = 1000;
        for (const op of ops) {
          now += 5;
          applyOp(a, op, now);
          applyOp(b, op, now);
        }
        exchangeAll(a, now + 1, (n) => permutation(n, seed));
        exchangeAll(b, now + 1, (n) => [...permutation(n, seed + 1), ...permutation(n, seed + 2)]);
        const keys = allKeys(a);
        expect(allKeys(b)).toEqual(keys);
        expect(hashes(b[2]!, keys)).toEqual(hashes(a[0]!, keys));
      }),
      { numRuns: 200 },
    );
  });
});
