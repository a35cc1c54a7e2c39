import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../../src/core/config.js';
import { remainingSuspicionMs, Suspicion, suspicionTimeoutMs } from '../../../../src/core/membership/suspicion.js';
import type { SuspicionParams } from '../../../../src/core/membership/suspicion.js';

/**
 * Reference §6.3 (Lifeguard LHA-suspicion), LAN profile: SuspicionMult 4, SuspicionMaxTimeoutMult 6,
 * ProbeInterval 1 s.
 *
 *   min = mult × max(1, log10(max(1, n))) × interval;  max = 6 × min;  k = mult − 2 (0 if n − 2 < k)
 *   timeout(c) = max − log(c + 1) / log(k + 1) × (max − min), floored to ms, never below min,
 *   minus the time already elapsed.
 */
const lanCfg = defaultConfig('lan');
const LAN: SuspicionParams = {
  suspicionMult: lanCfg.suspicionMult,
  suspicionMaxTimeoutMult: lanCfg.suspicionMaxTimeoutMult,
  probeIntervalMs: lanCfg.probeIntervalMs,
  lifeguard: true,
};

/** One confirmation of k = 2 at n = 10: 24 s − log(2)/log(3) × 20 s, floored (≈ 11.4 s). */
const ONE_OF_TWO_AT_10 = Math.floor(24000 - (Math.log(2) / Math.log(3)) * 20000);
const ONE_OF_TWO_AT_100 = Math.floor(48000 - (Math.log(2) / Math.log(3)) * 40000);

describe('LAN profile matches the parameters of the worked values (reference §6.8)', () => {
  it('mult 4, max-mult 6, 1 s interval, Lifeguard on', () => {
    expect([LAN.suspicionMult, LAN.suspicionMaxTimeoutMult, LAN.probeIntervalMs]).toEqual([4, 6, 1000]);
    expect(lanCfg.lifeguard).toBe(true);
  });
});

describe('suspicionTimeoutMs: the minimum timeout (reference §6.3 table)', () => {
  it.each([
    // n ≤ 3 (and the degenerate n = 0): log10 clamps to 1 → 4 s
    { n: 0, min: 4000 },
    { n: 1, min: 4000 },
    { n: 2, min: 4000 },
    { n: 3, min: 4000 },
    // anything up to 10 still scales by 1
    { n: 9, min: 4000 },
    { n: 10, min: 4000 },
    { n: 100, min: 8000 },
    { n: 1000, min: 12000 },
  ])('LAN, n = $n → $min ms', ({ n, min }) => {
    expect(suspicionTimeoutMs(4, n, 1000)).toBe(min);
  });

  it.each([
    // between powers of ten the scale is log10(n), so the result lies strictly between the neighbours
    { n: 50, lo: 4000, hi: 8000 },
    { n: 500, lo: 8000, hi: 12000 },
  ])('LAN, n = $n lies strictly between $lo and $hi ms and is whole', ({ n, lo, hi }) => {
    const v = suspicionTimeoutMs(4, n, 1000);
    expect(Number.isInteger(v)).toBe(true);
    expect(v).toBeGreaterThan(lo);
    expect(v).toBeLessThan(hi);
    // whole ms, never above the real-valued formula and within a few ms below it (Go truncates
    // log10(n) × 1000 to an integer before multiplying by mult, i.e. up to mult ms lower)
    const exact = 4 * Math.log10(n) * 1000;
    expect(v).toBeLessThanOrEqual(exact);
    expect(v).toBeGreaterThan(exact - 5);
  });

  it.each([
    // WAN: SuspicionMult 6, ProbeInterval 5 s; Local: SuspicionMult 3, 1 s
    { mult: 6, n: 3, interval: 5000, min: 30000 },
    { mult: 6, n: 100, interval: 5000, min: 60000 },
    { mult: 3, n: 10, interval: 1000, min: 3000 },
    { mult: 3, n: 1000, interval: 1000, min: 9000 },
  ])('mult $mult, n = $n, interval $interval → $min ms', ({ mult, n, interval, min }) => {
    expect(suspicionTimeoutMs(mult, n, interval)).toBe(min);
  });

  it('is monotonic in n', () => {
    let prev = 0;
    for (let n = 0; n <= 3000; n += 7) {
      const v = suspicionTimeoutMs(4, n, 1000);
      expect(v).toBeGreaterThanOrEqual(prev);
      prev = v;
    }
  });
});

describe('remainingSuspicionMs', () => {
  it.each([
    // n = 10: min 4 s, max 24 s, k = 2
    { c: 0, k: 2, elapsed: 0, min: 4000, max: 24000, want: 24000 },
    { c: 1, k: 2, elapsed: 0, min: 4000, max: 24000, want: ONE_OF_TWO_AT_10 },
    { c: 2, k: 2, elapsed: 0, min: 4000, max: 24000, want: 4000 },
    // n = 100: min 8 s, max 48 s
    { c: 0, k: 2, elapsed: 0, min: 8000, max: 48000, want: 48000 },
    { c: 1, k: 2, elapsed: 0, min: 8000, max: 48000, want: ONE_OF_TWO_AT_100 },
    { c: 2, k: 2, elapsed: 0, min: 8000, max: 48000, want: 8000 },
    // n = 1000: min 12 s, max 72 s
    { c: 0, k: 2, elapsed: 0, min: 12000, max: 72000, want: 72000 },
    { c: 2, k: 2, elapsed: 0, min: 12000, max: 72000, want: 12000 },
    // elapsed time is subtracted (the timer counts from the start of the suspicion)
    { c: 0, k: 2, elapsed: 1000, min: 4000, max: 24000, want: 23000 },
    { c: 1, k: 2, elapsed: 5000, min: 4000, max: 24000, want: ONE_OF_TWO_AT_10 - 5000 },
    { c: 2, k: 2, elapsed: 3999, min: 4000, max: 24000, want: 1 },
    // past the deadline: zero or negative, i.e. fire now
    { c: 2, k: 2, elapsed: 4000, min: 4000, max: 24000, want: 0 },
    { c: 2, k: 2, elapsed: 10000, min: 4000, max: 24000, want: -6000 },
    // never below min: more confirmations than expected
    { c: 3, k: 2, elapsed: 0, min: 4000, max: 24000, want: 4000 },
    { c: 10, k: 2, elapsed: 0, min: 4000, max: 24000, want: 4000 },
    { c: 5, k: 2, elapsed: 1000, min: 4000, max: 24000, want: 3000 },
    // k = 3 (e.g. WAN mult 5): c = 1 → max − log 2 / log 4 × (max − min) = max − (max − min) / 2
    { c: 1, k: 3, elapsed: 0, min: 4000, max: 24000, want: 14000 },
    { c: 3, k: 3, elapsed: 0, min: 4000, max: 24000, want: 4000 },
  ])('c = $c of k = $k, elapsed $elapsed, [$min, $max] → $want', ({ c, k, elapsed, min, max, want }) => {
    expect(remainingSuspicionMs(c, k, elapsed, min, max)).toBe(want);
  });

  it('one confirmation at n = 10 leaves about 11.4 s (reference §6.3)', () => {
    const v = remainingSuspicionMs(1, 2, 0, 4000, 24000);
    expect(v).toBeGreaterThan(11_300);
    expect(v).toBeLessThan(11_500);
    expect(Number.isInteger(v)).toBe(true);
  });

  it('shrinks monotonically with confirmations and never goes below min', () => {
    for (const [min, max] of [[4000, 24000], [8000, 48000], [12000, 72000]] as const) {
      let prev = Infinity;
      for (let c = 0; c <= 6; c++) {
        const v = remainingSuspicionMs(c, 2, 0, min, max);
        expect(v).toBeLessThanOrEqual(prev);
        expect(v).toBeGreaterThanOrEqual(min);
        expect(v).toBeLessThanOrEqual(max);
        prev = v;
      }
    }
  });
});

describe('Suspicion', () => {
  it.each([
    // n − 2 < k = 2 → k = 0 → fixed at min (a 3-node cluster goes suspect → dead in 4 s)
    { n: 1, k: 0, min: 4000, first: 4000 },
    { n: 2, k: 0, min: 4000, first: 4000 },
    { n: 3, k: 0, min: 4000, first: 4000 },
    // k = 2 expected confirmations → starts at max = 6 × min
    { n: 4, k: 2, min: 4000, first: 24000 },
    { n: 10, k: 2, min: 4000, first: 24000 },
    { n: 100, k: 2, min: 8000, first: 48000 },
    { n: 1000, k: 2, min: 12000, first: 72000 },
  ])('n = $n: k = $k, min $min ms, first deadline after $first ms', ({ n, k, min, first }) => {
    const start = 5000;
    const s = new Suspicion(LAN, n, 'accuser', start);
    expect(s.k).toBe(k);
    expect(s.minMs).toBe(min);
    expect(s.startMs).toBe(start);
    expect(s.deadlineMs).toBe(start + first);
    expect(s.confirmations).toBe(0);
    if (k > 0) expect(s.maxMs).toBe(6 * min);
  });

  it.each([
    { n: 3, min: 4000 },
    { n: 10, min: 4000 },
    { n: 100, min: 8000 },
    { n: 1000, min: 12000 },
  ])('without Lifeguard, n = $n: fixed at min = $min ms and no confirmations count', ({ n, min }) => {
    const s = new Suspicion({ ...LAN, lifeguard: false }, n, 'a', 100);
    expect(s.k).toBe(0);
    expect(s.deadlineMs).toBe(100 + min);
    expect(s.confirm('b', 200)).toBe(false);
    expect(s.confirm('c', 300)).toBe(false);
    expect(s.deadlineMs).toBe(100 + min);
    expect(s.confirmations).toBe(0);
  });

  it('n = 10: one new accuser → ≈ 11.4 s from the start, a second → min; then no more', () => {
    const start = 1000;
    const s = new Suspicion(LAN, 10, 'a', start);
    expect(s.deadlineMs).toBe(start + 24000);
    expect(s.confirm('b', start + 100)).toBe(true);
    expect(s.confirmations).toBe(1);
    expect(s.deadlineMs).toBe(start + ONE_OF_TWO_AT_10);
    expect(s.confirm('c', start + 200)).toBe(true);
    expect(s.confirmations).toBe(2);
    expect(s.deadlineMs).toBe(start + 4000);
    // k = 2 reached: further distinct accusers are not confirmations (and are not re-gossiped)
    expect(s.confirm('d', start + 300)).toBe(false);
    expect(s.confirm('e', start + 300)).toBe(false);
    expect(s.confirmations).toBe(2);
    expect(s.deadlineMs).toBe(start + 4000);
  });

  it('n = 100: confirmations move the deadline from 48 s through the formula to 8 s', () => {
    const s = new Suspicion(LAN, 100, 'a', 0);
    expect(s.deadlineMs).toBe(48000);
    expect(s.confirm('b', 10)).toBe(true);
    expect(s.deadlineMs).toBe(ONE_OF_TWO_AT_100);
    expect(s.confirm('c', 20)).toBe(true);
    expect(s.deadlineMs).toBe(8000);
  });

  it('the deadline counts from the start of the suspicion, not from the confirmation', () => {
    const start = 2000;
    const s = new Suspicion(LAN, 10, 'a', start);
    // a confirmation brings the deadline to start + timeout(c) …
    expect(s.confirm('b', start + 9000)).toBe(true);
    expect(s.deadlineMs).toBe(start + ONE_OF_TWO_AT_10);
    // … and when that has already passed, the verdict is due at once (memberlist fires its timer
    // at once), never left overdue in the past, where it would read as a stall of ours
    expect(s.confirm('c', start + 9000)).toBe(true);
    expect(s.deadlineMs).toBe(start + 9000);
  });

  it('the original accuser does not count as a confirmation', () => {
    const s = new Suspicion(LAN, 10, 'a', 0);
    expect(s.confirm('a', 10)).toBe(false);
    expect(s.confirmations).toBe(0);
    expect(s.deadlineMs).toBe(24000);
  });

  it('a repeated accuser counts once', () => {
    const s = new Suspicion(LAN, 10, 'a', 0);
    expect(s.confirm('b', 10)).toBe(true);
    expect(s.confirm('b', 20)).toBe(false);
    expect(s.confirm('b', 30)).toBe(false);
    expect(s.confirm('a', 40)).toBe(false);
    expect(s.confirmations).toBe(1);
    expect(s.deadlineMs).toBe(ONE_OF_TWO_AT_10);
  });

  it('k = 0 (small cluster): no accuser is a confirmation', () => {
    const s = new Suspicion(LAN, 3, 'a', 0);
    expect(s.confirm('b', 1)).toBe(false);
    expect(s.confirmations).toBe(0);
    expect(s.deadlineMs).toBe(4000);
  });
});

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
