import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Dot, Entry, VersionVector } from '../../src/core/replica/index.js';
import { Hasher64, hashEntry, joinEntries, vvCompare, vvDescends, vvJoin } from '../../src/core/replica/index.js';
import type { Op } from '../unit/replica/harness.js';
import { applyOp, KEYS, makeReplicas, opArb } from '../unit/replica/harness.js';

/**
 * Semilattice laws for every merge: each CRDT's join (registers for lww/siblings/custom,
 * counters, OR-Set, OR-Map, via `joinEntries`) and the version-vector join. States are not
 * arbitrary structures but what real replicas reach: random operations and partial merges on
 * four replicas, then three of them give a, b, c for the same key (so dots are unique and every
 * state satisfies the invariants a peer's state would).
 */
const h = new Hasher64();
const out = new Uint32Array(2);
function hashOf(e: Entry): string {
  hashEntry(h.reset(), e);
  h.digest(out);
  return `${out[0]}:${out[1]}`;
}

function statesFrom(ops: readonly Op[], keyIdx: number): Entry[] | undefined {
  const rs = makeReplicas(4);
  let now = 1000;
  for (const op of ops) applyOp(rs, op, (now += 7));
  const key = KEYS[keyIdx] as string;
  const es = rs.map((r) => r.entry(key)).filter((e): e is Entry => e !== undefined);
  return es.length >= 3 ? es : undefined;
}

const opsArb = fc.array(opArb(4), { minLength: 10, maxLength: 60, size: 'max' });

describe('replica merge laws (fast-check)', () => {
  for (let k = 0; k < KEYS.length; k++) {
    const key = KEYS[k] as string;
    it(`join of ${key} entries (${key.startsWith('l/') ? 'LWW-Register' : key.startsWith('s/') ? 'MV-Register' : key.startsWith('c/') ? 'custom' : key.startsWith('g/') ? 'G-Counter' : key.startsWith('p/') ? 'PN-Counter' : key.startsWith('o/') ? 'OR-Set' : 'OR-Map'}) is commutative, associative, idempotent`, () => {
      fc.assert(
        fc.property(opsArb, (ops) => {
          // Concentrate the operations on key k so states differ in interesting ways.
          const focused = ops.map((op) => ({ ...op, key: op.key % 3 === 0 ? op.key : k }));
          const es = statesFrom(focused, k);
          fc.pre(es !== undefined);
          const [a, b, c] = es as [Entry, Entry, Entry];
          const ab = joinEntries(a, b);
          const ba = joinEntries(b, a);
          expect(ab).toEqual(ba);
          expect(hashOf(ab)).toBe(hashOf(ba));
          expect(joinEntries(joinEntries(a, b), c)).toEqual(joinEntries(a, joinEntries(b, c)));
          expect(joinEntries(a, a)).toBe(a);
          expect(joinEntries(ab, a)).toBe(ab); // absorbs what it already contains
          expect(joinEntries(ab, b)).toBe(ab);
        }),
        { numRuns: 150 },
      );
    });
  }

  const vvArb: fc.Arbitrary<VersionVector> = fc
    .dictionary(fc.constantFrom('a', 'b', 'c', 'd', 'e'), fc.integer({ min: 1, max: 20 }))
    .map((d): Dot[] => Object.entries(d).sort(([x], [y]) => (x < y ? -1 : 1)).map(([origin, counter]) => ({ origin, counter })));

  it('version-vector join is commutative, associative, idempotent, and an upper bound; the order is a partial order', () => {
    fc.assert(
      fc.property(vvArb, vvArb, vvArb, (a, b, c) => {
        expect(vvJoin(a, b)).toEqual(vvJoin(b, a));
        expect(vvJoin(vvJoin(a, b), c)).toEqual(vvJoin(a, vvJoin(b, c)));
        expect(vvJoin(a, a)).toEqual(a);
        const j = vvJoin(a, b);
        expect(vvDescends(j, a) && vvDescends(j, b)).toBe(true);
        // antisymmetry and transitivity
        if (vvDescends(a, b) && vvDescends(b, a)) expect(a).toEqual(b);
        if (vvDescends(a, b) && vvDescends(b, c)) expect(vvDescends(a, c)).toBe(true);
        const ord = vvCompare(a, b);
        const rev = vvCompare(b, a);
        expect(ord === 'before' ? rev === 'after' : ord === 'after' ? rev === 'before' : rev === ord).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
