import { describe, expect, it } from 'vitest';
import type { ConvergenceDigest } from '../../../src/core/convergence/digest.js';
import { ConvergenceTracker } from '../../../src/core/convergence/tracker.js';
import { seededRng } from '../../../src/core/rng.js';

const dg = (root: number, summary: Record<string, number> = {}): ConvergenceDigest => ({ rootHi: root, rootLo: root * 3, summary: new Map(Object.entries(summary)) });

function cluster(self: string, peers: string[]): ConvergenceTracker {
  const t = new ConvergenceTracker(self);
  for (const p of peers) t.handleMemberAlive(0, p);
  return t;
}

describe('ConvergenceTracker.agreement', () => {
  it('counts this node and the live peers whose latest root equals its own', () => {
    const t = cluster('a', ['b', 'c', 'd', 'e']);
    t.handleLocalDigest(0, dg(7));
    expect(t.agreement(0)).toEqual({ live: 5, agreeing: 1, unknown: 4, fraction: 0.2 });
    t.handleDigest(10, 'b', dg(7));
    t.handleDigest(10, 'c', dg(7));
    t.handleDigest(10, 'd', dg(8));
    expect(t.agreement(10)).toEqual({ live: 5, agreeing: 3, unknown: 1, fraction: 0.6 });
    // d catches up; e is declared dead: all 4 live members agree.
    t.handleDigest(20, 'd', dg(7));
    t.handleMemberGone(20, 'e');
    expect(t.agreement(20)).toEqual({ live: 4, agreeing: 4, unknown: 0, fraction: 1 });
    // This node changes: now it is the odd one out.
    t.handleLocalDigest(30, dg(9));
    expect(t.agreement(30).fraction).toBe(0.25);
  });

  it('ignores digests from members it does not know alive, and forgets the dead one\'s digest', () => {
    const t = cluster('a', ['b']);
    t.handleLocalDigest(0, dg(1));
    t.handleDigest(0, 'stranger', dg(1));
    expect(t.stats().ignoredDigests).toBe(1);
    t.handleDigest(0, 'b', dg(1));
    t.handleMemberGone(5, 'b');
    t.handleMemberAlive(6, 'b'); // restarted: its old digest must not count
    expect(t.agreement(6)).toEqual({ live: 2, agreeing: 1, unknown: 1, fraction: 0.5 });
  });

  it('treats digests older than digestMaxAgeMs as unknown', () => {
    const t = new ConvergenceTracker('a', { digestMaxAgeMs: 1000 });
    t.handleMemberAlive(0, 'b');
    t.handleLocalDigest(0, dg(1));
    t.handleDigest(100, 'b', dg(1));
    expect(t.agreement(1100).agreeing).toBe(2);
    expect(t.agreement(1101)).toEqual({ live: 2, agreeing: 1, unknown: 1, fraction: 0.5 });
  });
});

describe('ConvergenceTracker sampled updates', () => {
  it('reports the time from sampling until the last live member covered the update', () => {
    const t = cluster('a', ['b', 'c']);
    t.handleLocalDigest(0, dg(1, { a: 4 }));
    expect(t.sampleUpdate(100, 'a', 4)).toBe(true); // a has it already
    t.handleDigest(250, 'b', dg(1, { a: 3 })); // not yet
    expect(t.pollConverged()).toBeUndefined();
    t.handleDigest(400, 'c', dg(1, { a: 9 }));
    expect(t.pollConverged()).toBeUndefined();
    t.handleDigest(700, 'b', dg(1, { a: 4 }));
    expect(t.pollConverged()).toEqual({ origin: 'a', counter: 4, sampledAtMs: 100, everyoneAtMs: 700, elapsedMs: 600, members: 3, curveMs: [0, 300, 600] });
    expect(t.pollConverged()).toBeUndefined();
    expect(t.pendingSamples).toBe(0);
  });

  it('a member that dies stops holding an update up; one that joins must receive it', () => {
    const t = cluster('a', ['b', 'c']);
    t.handleLocalDigest(0, dg(1, { x: 1 }));
    t.sampleUpdate(0, 'x', 1);
    t.handleDigest(50, 'b', dg(1, { x: 1 }));
    t.handleMemberAlive(60, 'd');
    t.handleMemberGone(80, 'c');
    expect(t.pollConverged()).toBeUndefined(); // d still lacks it
    t.handleDigest(90, 'd', dg(1, { x: 0 }));
    expect(t.pollConverged()).toBeUndefined();
    t.handleMemberGone(120, 'd');
    // The curve holds a (0) and b (50); c and d died without being seen covering it.
    expect(t.pollConverged()).toMatchObject({ origin: 'x', counter: 1, elapsedMs: 120, members: 2, curveMs: [0, 50] });
  });

  it("a member's acknowledgement settles it at the time it gives; a repeat, a stranger's or an unknown sample's changes nothing", () => {
    const t = cluster('a', ['b', 'c']);
    t.handleLocalDigest(0, dg(1, { a: 3 }));
    t.sampleUpdate(100, 'a', 3);
    expect(t.handleAck(400, 'b', 'a', 3, 180)).toBe(true);
    expect(t.handleAck(500, 'b', 'a', 3, 180)).toBe(false); // a repeat
    expect(t.handleAck(500, 'z', 'a', 3, 120)).toBe(false); // not a member
    expect(t.handleAck(500, 'c', 'a', 4, 120)).toBe(false); // not sampled
    expect(t.pollConverged()).toBeUndefined();
    expect(t.handleAck(900, 'c', 'a', 3, 260)).toBe(true);
    expect(t.pollConverged()).toMatchObject({ origin: 'a', counter: 3, elapsedMs: 160, everyoneAtMs: 260, curveMs: [0, 80, 160] });
  });

  it('a digest made earlier than it arrived settles a sample at the time it was made (never before the sample)', () => {
    const t = cluster('a', ['b', 'c']);
    t.handleLocalDigest(0, dg(1, { x: 1 }));
    t.sampleUpdate(100, 'x', 1);
    t.handleDigest(900, 'b', dg(1, { x: 1 }), 250); // b's summary, made at 250, relayed to us by 900
    t.handleDigest(1000, 'c', dg(1, { x: 1 }), 40); // made before the sample (clock skew): counts as the sample time
    expect(t.pollConverged()).toMatchObject({ elapsedMs: 150, everyoneAtMs: 250, curveMs: [0, 0, 150] });
  });

  it('an aggregate bound (stability generation) settles the members it names, at the time it gives', () => {
    const t = cluster('a', ['b', 'c', 'd']);
    t.handleLocalDigest(0, dg(1, { x: 1 }));
    t.sampleUpdate(100, 'x', 1);
    t.handleDigest(300, 'b', dg(1, { x: 1 }));
    // A bound that does not cover the update settles nothing.
    t.handleStable(4000, new Map([['x', 0]]), new Set(['a', 'b', 'c', 'd']), 2000);
    expect(t.pendingSamples).toBe(1);
    // One that covers it but lacks d's contribution settles c only.
    t.handleStable(4100, new Map([['x', 3]]), new Set(['a', 'b', 'c']), 2000);
    expect(t.pollConverged()).toBeUndefined();
    // d's own summary arrives: done, when d was seen (the curve holds a 0, b 200, c 1900, d 4100).
    t.handleDigest(4200, 'd', dg(1, { x: 1 }));
    expect(t.pollConverged()).toMatchObject({ origin: 'x', counter: 1, elapsedMs: 4100, everyoneAtMs: 4200, curveMs: [0, 200, 1900, 4100] });
    // A sample the next bound covers for everyone ends at that bound's time.
    t.sampleUpdate(5000, 'x', 2);
    t.handleStable(9000, new Map([['x', 2]]), new Set(['a', 'b', 'c', 'd']), 6500);
    expect(t.pollConverged()).toMatchObject({ counter: 2, elapsedMs: 1500, everyoneAtMs: 6500 });
  });

  it('an update everyone already has converges at once; several complete in completion order', () => {
    const t = cluster('a', ['b']);
    t.handleLocalDigest(0, dg(1, { o: 5 }));
    t.handleDigest(0, 'b', dg(1, { o: 5 }));
    t.sampleUpdate(10, 'o', 5);
    expect(t.pollConverged()?.elapsedMs).toBe(0);
    t.sampleUpdate(20, 'o', 6);
    t.sampleUpdate(30, 'o', 7);
    t.handleLocalDigest(40, dg(2, { o: 7 }));
    t.handleDigest(55, 'b', dg(2, { o: 6 }));
    expect(t.pollConverged()).toMatchObject({ counter: 6, elapsedMs: 35 });
    t.handleDigest(90, 'b', dg(2, { o: 7 }));
    expect(t.pollConverged()).toMatchObject({ counter: 7, elapsedMs: 60 });
  });

  it('samplesMax bounds pending samples; handleUpdate samples at sampleRate through the rng', () => {
    const t = new ConvergenceTracker('a', { samplesMax: 2 });
    t.handleMemberAlive(0, 'b');
    expect([t.sampleUpdate(0, 'a', 1), t.sampleUpdate(0, 'a', 2), t.sampleUpdate(0, 'a', 3)]).toEqual([true, true, false]);
    expect(t.stats()).toMatchObject({ refusedSamples: 1, pendingSamples: 2 });
    const s = new ConvergenceTracker('a', { sampleRate: 0.25, rng: seededRng(3), samplesMax: 100_000 });
    s.handleMemberAlive(0, 'b');
    let sampled = 0;
    for (let i = 1; i <= 4000; i++) if (s.handleUpdate(0, 'a', i)) sampled++;
    expect(sampled).toBeGreaterThan(900);
    expect(sampled).toBeLessThan(1100);
    expect(() => new ConvergenceTracker('a', { sampleRate: 0.5 })).toThrow(/needs an rng/);
  });
});


describe('ConvergenceTracker.handleSummary', () => {
  it('settles the sampled updates a peer summary covers, from live members only, and keeps nothing of it', () => {
    const t = cluster('a', ['b', 'c']);
    t.handleLocalDigest(0, dg(1, { a: 1 }));
    expect(t.sampleUpdate(0, 'a', 1)).toBe(true);
    t.handleSummary(50, 'stranger', new Map([['a', 1]]), 40);
    expect(t.stats().ignoredDigests).toBe(1);
    t.handleSummary(50, 'b', new Map([['a', 1]]), 40);
    t.handleSummary(60, 'c', new Map([['a', 1]]), 55);
    const done = t.pollConverged();
    expect(done?.elapsedMs).toBe(55);
    expect(done?.curveMs).toEqual([0, 40, 55]);
    // Not kept: a later sample of a write the summaries covered is not counted as held by b or c.
    expect(t.sampleUpdate(70, 'a', 1)).toBe(true);
    expect(t.pollConverged()).toBeUndefined();
    expect(t.pendingSamples).toBe(1);
  });
});
