import { describe, expect, it } from 'vitest';
import { Awareness } from '../../../src/core/membership/awareness.js';

describe('Awareness (Lifeguard local health)', () => {
  it.each([
    [[1], 1],
    [[3, 3], 6],
    [[5, 5], 7], // clamped to max − 1
    [[-1], 0], // never below 0
    [[7, -2, -1], 4],
  ])('deltas %j → score %i', (deltas, score) => {
    const a = new Awareness(8);
    for (const d of deltas) a.apply(d);
    expect(a.healthScore).toBe(score);
  });
  it('scales timeouts by (score + 1)', () => {
    const a = new Awareness(8);
    expect(a.scale(1000)).toBe(1000);
    a.apply(3);
    expect(a.scale(1000)).toBe(4000);
    a.apply(100);
    expect(a.scale(500)).toBe(4000);
  });
});
