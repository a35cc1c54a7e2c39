import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../../src/core/config.js';
import { Awareness } from '../../../../src/core/membership/awareness.js';

/** Reference §6.2: the score is clamped to [0, AwarenessMaxMultiplier − 1]; timeouts scale by (score + 1). */
const LAN_MAX = defaultConfig('lan').awarenessMaxMultiplier;

describe('Awareness: clamping to [0, max − 1]', () => {
  it('LAN profile uses AwarenessMaxMultiplier 8 (score range 0..7)', () => {
    expect(LAN_MAX).toBe(8);
  });

  it.each([
    { max: 8, deltas: [] as number[], score: 0 },
    { max: 8, deltas: [1], score: 1 },
    { max: 8, deltas: [1, 1, 1], score: 3 },
    { max: 8, deltas: [3], score: 3 },
    { max: 8, deltas: [-1], score: 0 },
    { max: 8, deltas: [-5, 2], score: 2 },
    { max: 8, deltas: [3, -1], score: 2 },
    { max: 8, deltas: [7], score: 7 },
    { max: 8, deltas: [8], score: 7 },
    { max: 8, deltas: [100], score: 7 },
    { max: 8, deltas: [7, 1], score: 7 },
    { max: 8, deltas: [7, 1, -1], score: 6 },
    { max: 8, deltas: [20, -3], score: 4 },
    { max: 8, deltas: [5, -10], score: 0 },
    { max: 8, deltas: [0], score: 0 },
    { max: 8, deltas: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1], score: 7 },
    { max: 4, deltas: [10], score: 3 },
    { max: 4, deltas: [2, 2, -1], score: 2 },
    { max: 2, deltas: [5], score: 1 },
    { max: 1, deltas: [5], score: 0 },
  ])('max $max, deltas $deltas → score $score', ({ max, deltas, score }) => {
    const a = new Awareness(max);
    for (const d of deltas) a.apply(d);
    expect(a.healthScore).toBe(score);
  });

  it('stays within [0, max − 1] over any long walk', () => {
    const a = new Awareness(LAN_MAX);
    const deltas = [3, 4, 2, -1, -1, 5, -9, 1, 1, 1, 1, 1, 1, 1, 1, 1, -2, -2, -2, -2, -2];
    let model = 0;
    for (const d of deltas) {
      a.apply(d);
      model = Math.min(LAN_MAX - 1, Math.max(0, model + d));
      expect(a.healthScore).toBe(model);
      expect(a.healthScore).toBeGreaterThanOrEqual(0);
      expect(a.healthScore).toBeLessThanOrEqual(LAN_MAX - 1);
    }
  });
});

describe('Awareness.scale(timeout) = timeout × (score + 1)', () => {
  it.each([
    { score: 0, timeout: 1000, want: 1000 },
    { score: 1, timeout: 1000, want: 2000 },
    { score: 3, timeout: 500, want: 2000 },
    { score: 7, timeout: 1000, want: 8000 },
    { score: 7, timeout: 5000, want: 40000 },
    { score: 2, timeout: 0, want: 0 },
    { score: 4, timeout: 250, want: 1250 },
  ])('score $score, timeout $timeout → $want', ({ score, timeout, want }) => {
    const a = new Awareness(LAN_MAX);
    a.apply(score);
    expect(a.healthScore).toBe(score);
    expect(a.scale(timeout)).toBe(want);
  });

  it('a clamped score scales by at most AwarenessMaxMultiplier', () => {
    const a = new Awareness(LAN_MAX);
    a.apply(1000);
    expect(a.scale(1000)).toBe(LAN_MAX * 1000);
    a.apply(-1000);
    expect(a.scale(1000)).toBe(1000);
  });
});

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
