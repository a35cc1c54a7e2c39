import { describe, expect, it } from 'vitest';
import { bytesPerNodePerWrite, cpuPercent, cpuSeconds, deliveryFigures, median, percentile, ratio, slope, spread, wireRates } from '../../../src/clusterbench/figures.js';
import { parseStat } from '../../../src/clusterbench/proc-stat.js';

describe('percentile (nearest rank)', () => {
  const xs = [0.4, 0.1, 0.3, 0.2, 1.5, 0.25, 0.35, 0.15, 0.05, 0.45];
  it.each([
    [0, 0.05], [10, 0.05], [50, 0.25], [90, 0.45], [99, 1.5], [100, 1.5],
  ])('p%d of 10 samples is %d', (p, want) => {
    expect(percentile(xs, p)).toBe(want);
  });
  it('of one sample is that sample; of none is NaN; p out of range throws', () => {
    expect(percentile([7], 50)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });
});

describe('slope', () => {
  it('is the least-squares slope, and 0 when every x is the same', () => {
    expect(slope([0, 1, 2, 3], [1, 3, 5, 7])).toBe(2);
    expect(slope([0, 1, 2, 3], [1, 2, 2, 3])).toBeCloseTo(0.6, 12);
    expect(slope([5, 5, 5], [1, 2, 3])).toBe(0);
  });
});

describe('median, spread, ratio', () => {
  it.each([
    [[3, 1, 2], 2], [[4, 1, 3, 2], 2.5], [[5], 5],
  ])('median(%j) = %d', (xs, want) => expect(median(xs)).toBe(want));
  it('spread ignores missing and non-finite values', () => {
    expect(spread([3, null, 1, undefined, NaN, 2])).toEqual({ median: 2, min: 1, max: 3, n: 3 });
    expect(spread([null, undefined])).toBeNull();
  });
  it('ratio is ours/serf, null when one is missing or serf is 0 and ours is not', () => {
    expect(ratio(6, 2)).toBe(3);
    expect(ratio(null, 2)).toBeNull();
    expect(ratio(1, 0)).toBeNull();
    expect(ratio(0, 0)).toBe(1);
  });
});

describe('CPU from two /proc/PID/stat readings', () => {
  // Recorded from a node process 10 s apart (utime 412 → 437, stime 51 → 56, 100 ticks/s).
  const a = parseStat('4242 (node) S 1 4242 4242 0 -1 4194560 9012 0 0 0 412 51 0 0 20 0 11 0 57540 1030000000 29000 18446744073709551615', 1_000_000);
  const b = parseStat('4242 (node) S 1 4242 4242 0 -1 4194560 9100 0 0 0 437 56 0 0 20 0 11 0 57540 1030000000 29100 18446744073709551615', 1_010_000);
  it('cpu seconds are user + system ticks over ticks per second', () => {
    expect(cpuSeconds(a, 100)).toBeCloseTo(4.63, 10);
  });
  it('30 ticks in 10 s at 100 ticks/s is 3 % of a core', () => {
    expect(cpuPercent(a, b, 100)).toBeCloseTo(3, 10);
  });
  it('refuses readings out of order', () => {
    expect(() => cpuPercent(b, a, 100)).toThrow(RangeError);
  });
});

describe('deliveryFigures', () => {
  const nodes = ['a', 'b', 'c', 'd'];
  it('times to 50, 90, 100 % of the expected nodes, duplicates counted', () => {
    const f = deliveryFigures({ sentAtMs: 1000, arrivals: new Map([['a', [1010]], ['b', [1200, 1900]], ['c', [1100]], ['d', [1500]]]) }, nodes);
    expect(f).toEqual({ p50S: 0.1, p90S: 0.5, p100S: 0.5, reached: 4, expected: 4, duplicates: 1 });
  });
  it('a node that never delivered leaves p100 null; an unexpected node does not count as reached', () => {
    const f = deliveryFigures({ sentAtMs: 0, arrivals: new Map([['a', [100]], ['b', [200]], ['x', [50]]]) }, nodes);
    expect(f.p50S).toBe(0.2);
    expect(f.p100S).toBeNull();
    expect(f.reached).toBe(2);
  });
});

describe('wireRates', () => {
  it('divides the cluster total by nodes and seconds; TCP share of the bytes', () => {
    const r = wireRates({ udpBytes: 6000, tcpBytes: 2000, udpPackets: 60, tcpPackets: 20 }, 4, 10);
    expect(r).toEqual({ udpBytesPerNodePerS: 150, tcpBytesPerNodePerS: 50, bytesPerNodePerS: 200, packetsPerNodePerS: 2, tcpShare: 0.25 });
  });
});

describe('bytesPerNodePerWrite', () => {
  it('spreads the bytes above idle over the writes sent, for the whole window, also when it outlasted the write period', () => {
    // 600 writes meant for 30 s (20/s); the last PUT answered after 94 s: the window's excess is 94 s long.
    expect(bytesPerNodePerWrite(3687, 555, 94, 600)).toBeCloseTo(((3687 - 555) * 94) / 600, 9);
    expect(bytesPerNodePerWrite(2555, 555, 30, 600)).toBeCloseTo(100, 9);
    expect(bytesPerNodePerWrite(undefined, 555, 30, 600)).toBeNull();
    expect(bytesPerNodePerWrite(2555, 555, 30, 0)).toBeNull();
  });
});
