import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Entry } from '../../src/core/replica/index.js';
import { isValidEntry } from '../../src/core/replica/index.js';
import { allKeys, applyOp, hashes, makeReplicas, opArb } from '../unit/replica/harness.js';

/**
 * Bad input from a peer never throws out of `merge`, is counted, and leaves the state as it
 * was; every entry a real replica produces passes validation (so nothing real is refused).
 */
function mutate(e: Entry, path: number, junk: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(e)) as Record<string, unknown>;
  const fields = ['key', 'type', 'context', 'siblings', 'counts', 'elements', 'fields'];
  const f = fields[path % fields.length] as string;
  if (Array.isArray(copy[f]) && (copy[f] as unknown[]).length > 0 && path % 2 === 0) {
    const arr = copy[f] as unknown[];
    const i = path % arr.length;
    const item = arr[i];
    if (typeof item === 'object' && item !== null) {
      const ks = Object.keys(item);
      (item as Record<string, unknown>)[ks[path % ks.length] as string] = junk;
    } else arr[i] = junk;
  } else copy[f] = junk;
  return copy;
}

describe('replica: bad peer entries', () => {
  it('property: entries of real replicas are valid; garbage and mutated entries never throw, are counted, and change nothing', () => {
    fc.assert(
      fc.property(fc.array(opArb(3), { minLength: 5, maxLength: 40, size: 'max' }), fc.array(fc.tuple(fc.nat(), fc.anything()), { minLength: 1, maxLength: 20, size: 'max' }), (ops, junk) => {
        const rs = makeReplicas(3);
        let now = 1000;
        for (const op of ops) applyOp(rs, op, (now += 3));
        const entries: Entry[] = [];
        for (const r of rs) for (const k of r.keys()) entries.push(r.entry(k) as Entry);
        for (const e of entries) expect(isValidEntry(e)).toBe(true);
        const target = rs[0]!;
        const keys = allKeys(rs);
        const before = hashes(target, keys);
        const statsBefore = target.stats();
        let refused = 0;
        for (const [path, j] of junk) {
          const base = entries[path % Math.max(1, entries.length)];
          const bad = base === undefined ? j : mutate(base, path, j);
          let changed = false;
          expect(() => {
            changed = target.merge(now, bad as Entry);
          }).not.toThrow();
          if (!isValidEntry(bad)) {
            refused++;
            expect(changed).toBe(false);
          }
        }
        // Refused entries changed nothing (valid mutants may legitimately merge).
        const s = target.stats();
        expect(s.malformed + s.typeMismatch - statsBefore.malformed - statsBefore.typeMismatch).toBeGreaterThanOrEqual(refused);
        if (s.merged === statsBefore.merged) expect(hashes(target, keys)).toEqual(before);
      }),
      { numRuns: 300 },
    );
  });
});
