import { describe, expect, it } from 'vitest';
import { duplicateShare, fanoutForShare, generationShare } from '../../../src/core/control/adaptive-fanout.js';

const a = { minFanout: 2, maxFanout: 8, stopAtDuplicateShare: 0.5, pullContacts: 3 };

describe('adaptive fanout estimates', () => {
  it.each([
    // pushes, dups, received, share
    [0, 0, 1, null],
    [1, 0, 1, null],
    [2, 0, 1, 0],
    [4, 2, 1, 0.5],
    [0, 0, 3, 1],
    [6, 3, 3, 5 / 8],
  ])('duplicateShare(%i pushes, %i dups, %i received) = %s', (p, d, r, want) => {
    const got = duplicateShare(p, d, r);
    if (want === null) expect(got).toBeNull();
    else expect(got).toBeCloseTo(want, 12);
  });

  it.each([
    [0, 10_000, 1 / 10_000],
    [2, 10_000, 81 / 10_000],
    [4, 10_000, 0.6561],
    [5, 10_000, 1],
    [3, 1, 1],
  ])('generationShare(%i hops, n = %i) = %f with fanout 8', (h, n, want) => {
    expect(generationShare(h, n, 8)).toBeCloseTo(want, 12);
  });

  it.each([
    [0, 8], [0.1, 7], [0.5, 4], [0.8, 2], [1, 2],
  ])('fanoutForShare(%f) = %i within [2, 8]', (share, want) => {
    expect(fanoutForShare(share, a)).toBe(want);
  });
});
