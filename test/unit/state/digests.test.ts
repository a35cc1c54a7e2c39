import { describe, expect, it } from 'vitest';
import { nodeName } from '../../../src/core/ids.js';
import { Cluster } from './harness.js';

describe('Digests', () => {
  it('the agreement fraction drops below 1 during a partition with writes and reaches 1 after the heal', () => {
    const names = ['a', 'b', 'c', 'd', 'e', 'f'];
    const c = new Cluster(names, { antiEntropyIntervalMs: 400, digestIntervalMs: 200 });
    // A new cluster with equal (empty) roots stays idle; a write wakes it and its digests spread every root.
    c.on('a', (s, now) => s.put(now, 'w', 0));
    c.run(3000);
    for (const n of names) expect(c.node(n).agreement(c.now).fraction).toBe(1);
    c.partition({ a: 0, b: 0, c: 0, d: 1, e: 1, f: 1 });
    c.on('a', (s, now) => s.put(now, 'x', 1));
    c.on('d', (s, now) => s.put(now, 'y', 2));
    c.run(6000);
    const during = names.map((n) => c.node(n).agreement(c.now));
    for (const a of during) expect(a.fraction).toBeLessThanOrEqual(0.5);
    c.heal();
    c.run(12_000);
    expect(c.converged()).toBe(true);
    for (const n of names) expect(c.node(n).agreement(c.now)).toMatchObject({ live: 6, agreeing: 6, fraction: 1 });
  });

  // The agent-restart bug: a node restarted on its durable replica (equal data, so it stays idle
  // and no session runs) kept reporting agreement 1/live: its tracker compared peers' roots with
  // an empty root, as its own was made at construction and never given to the tracker.
  it.each([2, 3])('a node restarted with the same data reports agreement 1 within two idle periods (%i nodes)', (n) => {
    const names = ['a', 'b', 'c'].slice(0, n);
    const c = new Cluster(names);
    c.on('a', (s, now) => s.put(now, 'k', 'v'));
    c.run(40_000); // the write spread, every node idle again
    expect(c.converged()).toBe(true);
    for (const m of names) expect(c.node(m).agreement(c.now).fraction).toBe(1);
    const old = c.crash('b');
    const b = c.boot('b', old, 1);
    b.setMembers(c.now, names.map(nodeName));
    const sessions = names.reduce((t, m) => t + c.node(m).stats.sessionsStarted, 0);
    c.run(c.now + 2 * 30_000 + 1000); // two idle digest periods: every peer's idle digest reached b at least once
    expect(names.reduce((t, m) => t + c.node(m).stats.sessionsStarted, 0)).toBe(sessions); // equal roots: no session
    expect(c.converged()).toBe(true);
    for (const m of names) expect(c.node(m).agreement(c.now)).toMatchObject({ live: n, agreeing: n, unknown: 0, fraction: 1 });
  });
});

/**
 * Issue 13, item 11, in the sans-IO core: a node that restarts without its history learns how
 * far its previous life counted from the live members' summaries (`counterHeard`), and a
 * complete anti-entropy session brings its own counter up to it, so no dot is reused.
 */
describe('StateNode.counterHeard: how far a previous life under this name counted', () => {
  it('is what live members have seen of the node\'s own writes; a restarted node reaches it by anti-entropy', () => {
    const c = new Cluster(['a', 'b', 'c'], { antiEntropyIntervalMs: 300, digestIntervalMs: 100, summaryIntervalMs: 100 });
    c.run(10);
    for (let i = 0; i < 7; i++) c.on('a', (s, now) => s.put(now, `k${i}`, i));
    c.run(2000);
    // Only a node's own origin is followed (a summary is read as it arrives, not kept): b and c heard nothing of writes of theirs.
    expect(c.node('b').counterHeard()).toBe(0);
    expect(c.node('c').counterHeard()).toBe(0);

    c.crash('a');
    const a = c.boot('a', undefined, 1); // same name, no history
    a.setMembers(c.now, ['a', 'b', 'c'].map(nodeName));
    expect(a.replica.lastCounter).toBe(0);
    expect(a.counterHeard()).toBe(0); // nothing heard yet: not a reason to write
    c.run(c.now + 3000);
    expect(a.stats.sessionsComplete).toBeGreaterThan(0);
    expect(a.counterHeard()).toBe(7);
    expect(a.replica.lastCounter).toBeGreaterThanOrEqual(7);
    // Its next write takes a fresh dot, so every node keeps it.
    c.on('a', (s, now) => s.put(now, 'after', 'new'));
    c.run(c.now + 2000);
    for (const n of ['a', 'b', 'c']) expect(c.node(n).get('after')).toMatchObject({ values: ['new'] });
  });

  it('a dot reused before learning is lost on the peers that saw the old one (what the gate prevents)', () => {
    const c = new Cluster(['a', 'b'], { antiEntropyIntervalMs: 300, digestIntervalMs: 100 });
    c.run(10);
    c.on('a', (s, now) => s.put(now, 'old', 1));
    c.run(1000);
    c.crash('a');
    const a = c.boot('a', undefined, 1);
    a.setMembers(c.now, ['a', 'b'].map(nodeName));
    c.on('a', (s, now) => s.put(now, 'reused', 2)); // dot (a, 1) again
    c.run(c.now + 3000);
    const r = c.node('b').get('reused');
    expect(r === undefined || (r.type === 'register' && r.values.length === 0)).toBe(true);
    expect(c.node('b').replica.stats().staleDotsDropped).toBeGreaterThan(0);
  });
});
