import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QuorumRound } from '../../../src/core/state/quorum-round.js';
import { QuorumError } from '../../../src/runtime/quorum-error.js';
import { parseQuorumSize, quorumNeed, QuorumSizeError } from '../../../src/core/state/quorum-size.js';

const set = (...n: string[]): Set<string> => new Set(n);

describe('quorum sizes', () => {
  it('majority is ⌊N/2⌋ + 1, all is N, a number is itself; R + W > N for r = w = majority', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => quorumNeed('majority', n))).toEqual([1, 2, 2, 3, 3, 4]);
    expect(quorumNeed('all', 5)).toBe(5);
    expect(quorumNeed(3, 5)).toBe(3);
    fc.assert(fc.property(fc.integer({ min: 1, max: 1000 }), (n) => quorumNeed('majority', n) * 2 > n));
  });

  it('refuses more than there are replicas, 0, fractions, with a QuorumSizeError naming the count', () => {
    expect(() => quorumNeed(6, 5)).toThrow(QuorumSizeError);
    expect(() => quorumNeed(6, 5)).toThrow(/w=6: only 5 replicas/);
    expect(() => quorumNeed(0, 5, 'r')).toThrow(/r: expected a whole number/);
    expect(() => quorumNeed(1.5, 5)).toThrow(QuorumSizeError);
  });

  it('parses what people type', () => {
    expect(['3', 'majority', 'ALL', ' 2 ', '0', '-1', '1.5', 'most', ''].map(parseQuorumSize)).toEqual([3, 'majority', 'all', 2, null, null, null, null, null]);
  });
});

describe('QuorumRound', () => {
  const base = { id: 7, self: 'a', now: 1000, timeoutMs: 3000, resendMs: 500 };

  it('counts the coordinator when it is a replica, then each replica once; strangers do not count', () => {
    const r = new QuorumRound({ ...base, replicas: set('a', 'b', 'c', 'd', 'e'), need: 3 });
    expect(r.answered).toEqual(['a']);
    expect(r.handleAnswer('x')).toBe('stranger');
    expect(r.handleAnswer('b')).toBe('counted');
    expect(r.handleAnswer('b')).toBe('duplicate');
    expect(r.done).toBe(false);
    expect(r.handleAnswer('c')).toBe('counted');
    expect(r.done).toBe(true);
    expect(r.answered).toEqual(['a', 'b', 'c']);
    expect(r.expired(99_999)).toBe(false);
  });

  it('names the replicas that did not answer with how often each was asked (0: never reachable); refusals are not among them', () => {
    const r = new QuorumRound({ ...base, replicas: set('a', 'b', 'c', 'd', 'e'), need: 5 });
    const up = new Set(['b', 'c', 'd']);
    r.due(1000, (n) => up.has(n));
    r.handleAnswer('b');
    r.handleRefusal('d', 'store full');
    r.due(1500, (n) => up.has(n));
    r.due(2000, (n) => up.has(n));
    expect([...r.unanswered()]).toEqual([['c', 3], ['e', 0]]);
    const err = new QuorumError('read', [...r.answered], r.need, r.replicas.size, 3000, r.refused, r.unanswered());
    expect(err.message).toBe('quorum read failed: 2 of 5 needed replies within 3000 ms (5 replicas in the quorum basis; replied: a, b); refused by d (store full)' +
      '; asked, no answer: c (3 times); never reachable (not an alive data peer here): e');
    expect(new QuorumError('read', ['a'], 2, 2, 100, new Map(), new Map([['b', 1]])).message).toMatch(/asked, no answer: b \(1 time\)$/);
  });

  it('a coordinator outside the replicas does not count itself', () => {
    const r = new QuorumRound({ ...base, self: 'z', replicas: set('a', 'b'), need: 1 });
    expect(r.answered).toEqual([]);
    expect(r.done).toBe(false);
  });

  it('asks reachable replicas that have not answered, again after resendMs; expires at its deadline', () => {
    const r = new QuorumRound({ ...base, replicas: set('a', 'b', 'c', 'd'), need: 4 });
    const up = new Set(['b', 'c']);
    expect(r.due(1000, (n) => up.has(n))).toEqual(['b', 'c']);
    expect(r.due(1200, (n) => up.has(n))).toEqual([]);
    expect(r.nextAt()).toBe(1700);
    r.handleAnswer('b');
    up.add('d');
    expect(r.due(1700, (n) => up.has(n))).toEqual(['c', 'd']);
    r.handleRefusal('c', 'store full');
    expect(r.refused.get('c')).toBe('store full');
    expect(r.expired(3999)).toBe(false);
    expect(r.expired(4000)).toBe(true);
    expect(r.nextAt()).toBe(2200);
  });

  it('needs at least one and at most all replicas', () => {
    expect(() => new QuorumRound({ ...base, replicas: set('a'), need: 2 })).toThrow(RangeError);
    expect(() => new QuorumRound({ ...base, replicas: set('a'), need: 0 })).toThrow(RangeError);
  });
});
