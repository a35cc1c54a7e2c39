import { describe, expect, it } from 'vitest';
import type { RegisterState, VersionVector } from '../../../src/core/replica/index.js';
import { joinRegister, makeSibling, mvValues, vvCompare, vvCovers, vvJoin, vvWith, writeRegister } from '../../../src/core/replica/index.js';

const vv = (o: Record<string, number>): VersionVector => Object.keys(o).sort().map((origin) => ({ origin, counter: o[origin] as number }));

describe('version vectors', () => {
  it.each([
    [{}, {}, 'equal'],
    [{ a: 1 }, {}, 'after'],
    [{}, { a: 1 }, 'before'],
    [{ a: 2, b: 1 }, { a: 2, b: 1 }, 'equal'],
    [{ a: 2, b: 1 }, { a: 1, b: 1 }, 'after'],
    [{ a: 1 }, { b: 1 }, 'concurrent'],
    [{ a: 2, b: 1 }, { a: 1, b: 2 }, 'concurrent'],
    [{ a: 1, c: 5 }, { a: 1, b: 1, c: 5 }, 'before'],
  ] as const)('%j vs %j → %s', (a, b, want) => {
    expect(vvCompare(vv(a), vv(b))).toBe(want);
  });

  it('join is the pointwise max; with raises one origin; covers reads it', () => {
    expect(vvJoin(vv({ a: 3, c: 1 }), vv({ a: 1, b: 2 }))).toEqual(vv({ a: 3, b: 2, c: 1 }));
    const base = vv({ b: 2 });
    expect(vvWith(base, 'a', 4)).toEqual(vv({ a: 4, b: 2 }));
    expect(vvWith(base, 'c', 1)).toEqual(vv({ b: 2, c: 1 }));
    expect(vvWith(base, 'b', 1)).toBe(base); // already there: same array
    expect([vvCovers(base, 'b', 2), vvCovers(base, 'b', 3), vvCovers(base, 'z', 1)]).toEqual([true, false, false]);
  });
});

describe('dotted version vector register (the §8 walk-through at the CRDT level)', () => {
  it('X/Y/X at one server: [A] → [A,B] → [B,C]; a second server merging either order agrees', () => {
    const empty: RegisterState = { context: [], siblings: [] };
    const s1 = writeRegister(empty, [], makeSibling('s', 1, 1, 0, 'A', 1));
    const ctxX = s1.context; // X's context after writing A: {s:1}
    const s2 = writeRegister(s1, [], makeSibling('s', 2, 2, 0, 'B', 1));
    expect(mvValues(s2.siblings)).toEqual(['A', 'B']);
    const s3 = writeRegister(s2, ctxX, makeSibling('s', 3, 3, 0, 'C', 1));
    expect(mvValues(s3.siblings)).toEqual(['B', 'C']);
    expect(s3.context).toEqual(vv({ s: 3 }));
    // A stale copy of s2 joined with s3 does not bring A back, in either order.
    expect(joinRegister(s3, s2)).toBe(s3);
    expect(joinRegister(s2, s3)).toEqual(s3);
  });
});
