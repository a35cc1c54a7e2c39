import { describe, expect, it } from 'vitest';
import { remainingSuspicionMs, Suspicion, suspicionTimeoutMs } from '../../../src/core/membership/suspicion.js';

// Reference §6.3: min = mult × max(1, log10(max(1, n))) × interval; max = maxMult × min; k = mult − 2.
describe('suspicionTimeoutMs (LAN: mult 4, 1 s probe interval)', () => {
  it.each([
    [1, 4000],
    [3, 4000],
    [10, 4000],
    [100, 8000],
    [1000, 12000],
    [10000, 16000],
  ])('n = %i → %i ms', (n, expected) => {
    expect(suspicionTimeoutMs(4, n, 1000)).toBe(expected);
  });
  it('WAN (mult 6, 5 s interval) at n = 100 is 60 s', () => {
    expect(suspicionTimeoutMs(6, 100, 5000)).toBe(60_000);
  });
});

describe('remainingSuspicionMs', () => {
  const min = 4000;
  const max = 24000;
  it.each([
    // c confirmations of k = 2 expected: max − log(c+1)/log(k+1) × (max − min), floored
    [0, 0, 24000],
    [1, 0, Math.floor(24000 - (Math.log(2) / Math.log(3)) * 20000)],
    [2, 0, 4000],
    [1, 5000, Math.floor(24000 - (Math.log(2) / Math.log(3)) * 20000) - 5000],
    [2, 10_000, -6000],
  ])('c = %i, elapsed %i ms → %i ms', (c, elapsed, expected) => {
    expect(remainingSuspicionMs(c, 2, elapsed, min, max)).toBe(expected);
  });
  it('one confirmation at n = 10 leaves about 11.4 s (reference §6.3)', () => {
    expect(remainingSuspicionMs(1, 2, 0, 4000, 24000) / 1000).toBeCloseTo(11.38, 2);
  });
  it('never goes below min, even with more confirmations than expected', () => {
    expect(remainingSuspicionMs(5, 2, 0, min, max)).toBe(min);
  });
});

describe('Suspicion', () => {
  const lan = { suspicionMult: 4, suspicionMaxTimeoutMult: 6, probeIntervalMs: 1000, lifeguard: true };
  it('starts at max when confirmations are expected, and shrinks to min after k of them', () => {
    const s = new Suspicion(lan, 10, 'a', 1000);
    expect(s.k).toBe(2);
    expect(s.deadlineMs).toBe(1000 + 24000);
    expect(s.confirm('b', 2000)).toBe(true);
    expect(s.deadlineMs).toBe(1000 + Math.floor(24000 - (Math.log(2) / Math.log(3)) * 20000));
    expect(s.confirm('c', 3000)).toBe(true);
    expect(s.deadlineMs).toBe(1000 + 4000);
    expect(s.confirm('d', 3000)).toBe(false); // enough already
  });
  it('ignores the original accuser and repeated accusers', () => {
    const s = new Suspicion(lan, 10, 'a', 0);
    expect(s.confirm('a', 10)).toBe(false);
    expect(s.confirm('b', 10)).toBe(true);
    expect(s.confirm('b', 20)).toBe(false);
    expect(s.confirmations).toBe(1);
  });
  it('uses a fixed min timeout in small clusters (n − 2 < k)', () => {
    const s = new Suspicion(lan, 3, 'a', 0);
    expect(s.k).toBe(0);
    expect(s.deadlineMs).toBe(4000);
    expect(s.confirm('b', 1)).toBe(false);
  });
  it('without Lifeguard the timeout is fixed at min whatever n', () => {
    const s = new Suspicion({ ...lan, lifeguard: false }, 1000, 'a', 0);
    expect(s.deadlineMs).toBe(12000);
    expect(s.confirm('b', 1)).toBe(false);
  });
});
