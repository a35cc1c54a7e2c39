import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HashRing, diffRings, rangeSize, ringHash } from '../../src/core/ring/index.js';
import { seededRng } from '../../src/core/rng.js';
import { propertySeed } from './seed.js';

const KEYS = 100_000;
const nameArb = fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/);
const namesArb = (min: number, max: number): fc.Arbitrary<string[]> => fc.uniqueArray(nameArb, { minLength: min, maxLength: max });

function randomKeys(seed: number): string[] {
  const rng = seededRng(seed);
  return Array.from({ length: KEYS }, (_, i) => `key-${i}-${Math.floor(rng.next() * 2 ** 32).toString(36)}`);
}

describe('consistent-hash ring laws', () => {
  it('property: a join moves at most 1.2 × 1/N of 10⁵ random keys, all of them to the new member, and the diff names exactly those ranges', () => {
    fc.assert(fc.property(namesArb(2, 40), nameArb, fc.integer(), (names, joiner, seed) => {
      fc.pre(!names.includes(joiner));
      const before = HashRing.build(names);
      const after = HashRing.build([...names, joiner]);
      const keys = randomKeys(seed);
      let moved = 0;
      let wrong = 0;
      const ranges = diffRings(before, after);
      expect(ranges.every((r) => r.after === joiner)).toBe(true);
      // A moved key's hash must fall in a moved range (checked on a sample: ranges are ~2,048).
      for (const k of keys) {
        const a = before.lookup(k);
        const b = after.lookup(k);
        if (a === b) continue;
        moved++;
        if (b !== joiner) wrong++;
        if (moved % 64 === 0) {
          const h = ringHash(k);
          if (!ranges.some((r) => (r.from < r.to ? h > r.from && h <= r.to : h > r.from || h <= r.to))) wrong++;
        }
      }
      expect(wrong).toBe(0);
      expect(moved / KEYS).toBeLessThanOrEqual(1.2 / names.length);
      // The diff's ranges add up to the joiner's share of the ring.
      const share = after.shares().get(joiner) as number;
      expect(ranges.reduce((s, r) => s + rangeSize(r), 0) / 2 ** 32).toBeCloseTo(share, 9);
    }), { seed: propertySeed(16_001), numRuns: 8 });
  });

  it('property: with the default points per member every member owns within ±10 % of the mean share (2–200 members), and of 10⁵ random keys (2–10 members)', () => {
    fc.assert(fc.property(namesArb(2, 200), (names) => {
      const ring = HashRing.build(names);
      const mean = 1 / names.length;
      for (const s of ring.shares().values()) expect(Math.abs(s - mean) / mean).toBeLessThanOrEqual(0.1);
    }), { seed: propertySeed(16_002), numRuns: 15 });
    fc.assert(fc.property(namesArb(2, 10), fc.integer(), (names, seed) => {
      const ring = HashRing.build(names);
      const counts = new Map<string, number>();
      for (const k of randomKeys(seed)) counts.set(ring.lookup(k) as string, (counts.get(ring.lookup(k) as string) ?? 0) + 1);
      const mean = KEYS / names.length;
      for (const n of names) expect(Math.abs((counts.get(n) ?? 0) - mean) / mean).toBeLessThanOrEqual(0.1);
    }), { seed: propertySeed(16_003), numRuns: 10 });
  });

  it('property: rings built from the same members in any order (duplicates too) agree on every key, every preference list and the checksum', () => {
    fc.assert(fc.property(namesArb(1, 30).chain((ns) => fc.tuple(fc.constant(ns), fc.shuffledSubarray(ns, { minLength: ns.length, maxLength: ns.length }), fc.subarray(ns))), fc.integer(), ([names, shuffled, dups], seed) => {
      const a = HashRing.build(names, { pointsPerMember: 64 });
      const b = HashRing.build([...shuffled, ...dups], { pointsPerMember: 64 });
      expect(b.checksum).toBe(a.checksum);
      expect(diffRings(a, b)).toEqual([]);
      const rng = seededRng(seed);
      let differ = 0;
      for (let i = 0; i < 2000; i++) {
        const k = `k${rng.int(1e9)}`;
        if (b.lookup(k) !== a.lookup(k) || b.lookupN(k, 3).join() !== a.lookupN(k, 3).join()) differ++;
      }
      expect(differ).toBe(0);
    }), { seed: propertySeed(16_004), numRuns: 40 });
  });

  it('property: the diff between any two rings is exactly where lookups differ (leaves, joins, tag changes)', () => {
    fc.assert(fc.property(namesArb(0, 12), namesArb(0, 12), fc.integer(), (xs, ys, seed) => {
      const a = HashRing.build(xs, { pointsPerMember: 16 });
      const b = HashRing.build(ys, { pointsPerMember: 16 });
      const ranges = diffRings(a, b);
      const rng = seededRng(seed);
      const bad: string[] = [];
      for (let i = 0; i < 3000; i++) {
        const h = Math.floor(rng.next() * 2 ** 32);
        const inRange = ranges.find((r) => (r.from < r.to ? h > r.from && h <= r.to : h > r.from || h <= r.to));
        const before = a.ownerOfHash(h) ?? null;
        const after = b.ownerOfHash(h) ?? null;
        const ok = before === after ? inRange === undefined : inRange !== undefined && inRange.before === before && inRange.after === after;
        if (!ok) bad.push(`${h}: ${before} -> ${after}, range ${JSON.stringify(inRange)}`);
      }
      expect(bad).toEqual([]);
    }), { seed: propertySeed(16_005), numRuns: 60 });
  });
});
