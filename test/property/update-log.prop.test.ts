import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Update } from '../../src/core/dissemination/update-log.js';
import { UpdateLog } from '../../src/core/dissemination/update-log.js';
import { propertySeed } from './seed.js';

const mk = (origin: string, version: number): Update => ({ origin, version, key: `${origin}/${version}`, payload: new Uint8Array(8), critical: false, bornMs: 0 });
const size = (u: Update): number => 16 + u.payload.length;

const updatesArb = fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'd'), fc.integer({ min: 1, max: 12 })), { maxLength: 60 });

describe('UpdateLog (scuttlebutt)', () => {
  it('digests count only contiguous versions', () => {
    const log = new UpdateLog();
    for (const v of [1, 2, 4, 5]) log.apply(mk('a', v));
    expect(log.digest().get('a')).toEqual({ upTo: 2, above: [4, 5] });
    log.apply(mk('a', 3));
    expect(log.digest().get('a')).toEqual({ upTo: 5, above: [] });
    expect(log.apply(mk('a', 3))).toBe(false); // duplicate
    expect(log.apply(mk('a', 0))).toBe(false); // malformed
    expect(log.nextVersion('a')).toBe(6);
    expect(log.nextVersion('zz')).toBe(1);
  });

  it('property: one pull each way with an unlimited budget makes two logs equal, and sends nothing the receiver had contiguously', () => {
    fc.assert(
      fc.property(updatesArb, updatesArb, (xs, ys) => {
        const a = new UpdateLog();
        const b = new UpdateLog();
        for (const [o, v] of xs) a.apply(mk(o, v));
        for (const [o, v] of ys) b.apply(mk(o, v));
        const da = a.digest();
        const db = b.digest();
        const toB = a.missingFor(db, Infinity, size);
        const toA = b.missingFor(da, Infinity, size);
        // Only what the receiver lacked travels.
        for (const u of toB.updates) expect(b.has(u.origin, u.version)).toBe(false);
        for (const u of toA.updates) expect(a.has(u.origin, u.version)).toBe(false);
        toB.updates.forEach((u) => b.apply(u));
        toA.updates.forEach((u) => a.apply(u));
        expect(toB.complete && toA.complete).toBe(true);
        expect(a.size).toBe(b.size);
        expect(new Map([...a.digest()].sort())).toEqual(new Map([...b.digest()].sort()));
        for (const [o, v] of [...xs, ...ys]) expect(a.has(o, v) && b.has(o, v)).toBe(true);
      }),
      { seed: propertySeed(11), numRuns: 300 },
    );
  });

  it('a digest costs a few bytes per origin, more for versions held out of order', () => {
    const log = new UpdateLog();
    for (let v = 1; v <= 100; v++) log.apply(mk('node-1', v));
    const small = UpdateLog.digestBytes(log.digest());
    expect(small).toBe('node-1'.length + 1 + 1 + 1);
    log.apply(mk('node-1', 300));
    expect(UpdateLog.digestBytes(log.digest())).toBe(small + 2);
  });

  it('property: the budget is never exceeded, and repeated bounded pulls still converge', () => {
    fc.assert(
      fc.property(updatesArb, fc.integer({ min: 24, max: 200 }), (xs, budget) => {
        const a = new UpdateLog();
        const b = new UpdateLog();
        for (const [o, v] of xs) a.apply(mk(o, v));
        for (let round = 0; round < 200; round++) {
          const { updates, complete } = a.missingFor(b.digest(), budget, size);
          expect(updates.reduce((s, u) => s + size(u), 0)).toBeLessThanOrEqual(budget);
          updates.forEach((u) => b.apply(u));
          if (complete) break;
        }
        expect(b.size).toBe(a.size);
      }),
      { seed: propertySeed(12), numRuns: 200 },
    );
  });
});

describe('UpdateLog retention', () => {
  const born = (origin: string, version: number, bornMs: number): Update => ({ origin, version, key: `${origin}/${version}`, payload: new Uint8Array(4), critical: false, bornMs });

  it('prune forgets old contiguous updates but the digest still covers them; nothing above a gap is pruned', () => {
    const log = new UpdateLog();
    for (const v of [1, 2, 3, 5]) log.apply(born('a', v, v * 100));
    const dropped = log.prune(450);
    expect(dropped.map((u) => u.version)).toEqual([1, 2, 3]); // 5 is above the gap at 4: kept
    expect(log.size).toBe(1);
    expect(log.digest().get('a')).toEqual({ upTo: 3, above: [5] });
    expect(log.covers('a', 2)).toBe(true);
    expect(log.apply(born('a', 2, 200))).toBe(false); // a late copy of a pruned update is a duplicate
    expect(log.nextVersion('a')).toBe(6);
    expect(log.prune(10_000, (u) => u.version === 5)).toEqual([]); // vetoed (still hot), and above the gap
  });

  it('property: after a peer learns the floor, one pull makes the digests equal and later pulls send nothing', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.integer({ min: 1, max: 15 })), { maxLength: 50 }), fc.integer({ min: 0, max: 16 }), (xs, cut) => {
        const a = new UpdateLog();
        const b = new UpdateLog();
        for (const [o, v] of xs) a.apply(born(o, v, v));
        a.prune(cut);
        // b learns a's floors (as the engine's reply carries them), then pulls what is missing.
        for (const [o, f] of a.floorEntries()) b.advanceFloor(o, f);
        for (const u of a.missingFor(b.digest(), Infinity, size).updates) b.apply(u);
        const norm = (d: Map<string, { upTo: number; above: readonly number[] }>): string => JSON.stringify([...d].sort());
        expect(norm(b.digest())).toBe(norm(a.digest()));
        expect(a.missingFor(b.digest(), Infinity, size).updates).toEqual([]);
      }),
    );
  });
});
