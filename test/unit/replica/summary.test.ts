import { describe, expect, it } from 'vitest';
import { minSummary, SeenDots, summaryCovers } from '../../../src/core/replica/index.js';

describe('SeenDots (version summary)', () => {
  it.each([
    { marks: [1, 2, 3], upTo: 3, pending: 0 },
    { marks: [2, 3], upTo: 0, pending: 2 },
    { marks: [1, 3, 4, 2], upTo: 4, pending: 0 }, // the gap filled: drains what was above
    { marks: [1, 3, 5, 2], upTo: 3, pending: 1 },
    { marks: [1, 1, 2, 2], upTo: 2, pending: 0 }, // duplicates
  ])('marks $marks → contiguous $upTo, $pending pending', ({ marks, upTo, pending }) => {
    const s = new SeenDots();
    for (const m of marks) s.mark('a', m);
    expect(s.contiguous('a')).toBe(upTo);
    expect(s.pending()).toBe(pending);
    for (const m of marks) expect(s.covers('a', m)).toBe(true);
    expect(s.covers('a', 6)).toBe(false);
    expect(s.covers('b', 1)).toBe(false);
  });

  it('notes each sampled counter once, when it first becomes covered (marked, or absorbed: the latest 256 only)', () => {
    const s = new SeenDots();
    s.sampleEvery = 10;
    for (const m of [9, 10, 20, 10, 11, 12]) s.mark('a', m);
    expect(s.sampled).toEqual([{ origin: 'a', counter: 10 }, { origin: 'a', counter: 20 }]);
    s.sampled.length = 0;
    // 10 and 20 were noted already; 30 and 40 become covered by the absorb.
    s.absorb(new Map([['a', 45]]));
    expect(s.sampled).toEqual([{ origin: 'a', counter: 30 }, { origin: 'a', counter: 40 }]);
    s.sampled.length = 0;
    // A long catch-up notes only the latest 256 sampled counters.
    s.absorb(new Map([['b', 1_000_000]]));
    expect(s.sampled.length).toBe(256);
    expect(s.sampled[0]).toEqual({ origin: 'b', counter: 1_000_000 - 255 * 10 });
    expect(s.sampled.at(-1)).toEqual({ origin: 'b', counter: 1_000_000 });
  });

  it('absorb raises origins to a peer summary, drains what was pending above it, never lowers', () => {
    const s = new SeenDots();
    for (const m of [1, 5, 7]) s.mark('a', m);
    s.mark('b', 1);
    s.absorb(new Map([['a', 4], ['b', 0], ['c', 2]]));
    expect(s.summary()).toEqual(new Map([['a', 5], ['b', 1], ['c', 2]]));
    expect(s.pending()).toBe(1); // 7
    s.absorb(new Map([['a', 6]]));
    expect(s.contiguous('a')).toBe(7);
    expect(s.pending()).toBe(0);
  });

  it('minSummary is the pointwise minimum; an origin missing anywhere is 0', () => {
    const m = minSummary([new Map([['a', 5], ['b', 2], ['c', 1]]), new Map([['a', 3], ['b', 4]]), new Map([['a', 4], ['b', 9], ['d', 1]])]);
    expect(m).toEqual(new Map([['a', 3], ['b', 2]]));
    expect(minSummary([])).toEqual(new Map());
    expect([summaryCovers(m, 'a', 3), summaryCovers(m, 'a', 4), summaryCovers(m, 'c', 1)]).toEqual([true, false, false]);
  });
});
