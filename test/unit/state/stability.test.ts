import { describe, expect, it } from 'vitest';
import { nodeName } from '../../../src/core/ids.js';
import { Cluster, value } from './harness.js';

describe('Stability generations and tombstone collection', () => {
  it('partition + delete + collection + heal: the returning node is repaired and nothing deleted comes back', () => {
    const c = new Cluster(['a', 'b', 'c'], { antiEntropyIntervalMs: 300, collectIntervalMs: 500, stabilityGenerationMs: 1000, goneMemberHoldMs: 2000, digestIntervalMs: 200 });
    c.run(5);
    c.on('a', (s, now) => s.put(now, 'k', 'old'));
    c.on('a', (s, now) => s.add(now, 's/x', 'e'));
    c.on('a', (s, now) => s.put(now, 'keep', 'x'));
    c.run(2000);
    expect(c.converged()).toBe(true);
    // c is cut off, then declared gone; a and b delete while it is away.
    c.partition({ a: 0, b: 0, c: 1 });
    for (const n of ['a', 'b']) c.on(n, (s, now) => s.handleMemberGone(now, nodeName('c')));
    c.on('c', (s, now) => {
      s.handleMemberGone(now, nodeName('a'));
      s.handleMemberGone(now, nodeName('b'));
    });
    c.on('b', (s, now) => s.delete(now, 'k'));
    c.on('b', (s, now) => s.remove(now, 's/x', 'e'));
    c.run(8000);
    // Past the hold: a and b collected the tombstones (c still holds the old values).
    for (const n of ['a', 'b']) {
      expect(c.node(n).replica.entry('k')).toBeUndefined();
      expect(c.node(n).replica.entry('s/x')).toBeUndefined();
      expect(c.node(n).stats.tombstonesCollected).toBeGreaterThanOrEqual(2);
    }
    expect(value(c, 'c', 'k')).toEqual(['old']);
    expect(value(c, 'c', 's/x')).toEqual(['e']);
    // c returns: heal and membership.
    c.heal();
    for (const n of ['a', 'b']) c.on(n, (s, now) => s.handleMemberAlive(now, nodeName('c')));
    c.on('c', (s, now) => {
      s.handleMemberAlive(now, nodeName('a'));
      s.handleMemberAlive(now, nodeName('b'));
    });
    c.run(20_000);
    for (const n of ['a', 'b', 'c']) {
      expect(value(c, n, 'k') ?? []).toEqual([]);
      expect(value(c, n, 's/x') ?? []).toEqual([]);
      expect(value(c, n, 'keep')).toEqual(['x']);
      expect(c.node(n).list()).toEqual(['keep']);
    }
    expect(c.converged()).toBe(true);
  });

  it('stability generations: every node completes them and collects the same tombstones, none while a member stays silent', () => {
    const names = ['a', 'b', 'c', 'd', 'e'];
    const c = new Cluster(names, { antiEntropyIntervalMs: 400, stabilityGenerationMs: 1000, collectIntervalMs: 500, digestIntervalMs: 100 });
    c.run(5);
    for (let i = 0; i < 20; i++) c.on('a', (s, now) => s.put(now, `k${i}`, i));
    c.run(1500);
    // e is cut off (but not declared gone): no generation can complete, nothing is collected.
    c.partition({ a: 0, b: 0, c: 0, d: 0, e: 1 });
    const before = names.map((n) => c.node(n).stats.generationsComplete);
    for (let i = 0; i < 10; i++) c.on('b', (s, now) => s.delete(now, `k${i}`));
    c.run(c.now + 4000);
    for (const [i, n] of names.entries()) {
      expect(c.node(n).stats.generationsComplete).toBe(before[i]);
      expect(c.node(n).stats.tombstonesCollected).toBe(0);
    }
    expect(c.node('a').replica.stats().tombstones).toBe(10);
    c.heal();
    c.run(c.now + 4000);
    for (const n of names) {
      const s = c.node(n);
      expect(s.stats.generationsComplete).toBeGreaterThan(before[names.indexOf(n)] as number);
      expect(s.replica.stats()).toMatchObject({ keys: 10, tombstones: 0 });
      expect(s.stats.tombstonesCollected).toBe(10);
    }
    expect(c.converged()).toBe(true);
  });

  it('a member with another stability generation length is refused and counted, never merged: nothing is collected', () => {
    const names = ['a', 'b', 'c', 'd', 'e'];
    const opts = { antiEntropyIntervalMs: 400, stabilityGenerationMs: 1000, collectIntervalMs: 500, digestIntervalMs: 100 };
    const c = new Cluster(['a', 'b', 'c', 'd'], opts);
    c.boot('e', undefined, 0, { stabilityGenerationMs: 3000 });
    for (const n of names) c.node(n).setMembers(0, names.map(nodeName));
    c.run(5);
    for (let i = 0; i < 10; i++) c.on('a', (s, now) => s.put(now, `k${i}`, i));
    c.run(1500);
    for (let i = 0; i < 5; i++) c.on('b', (s, now) => s.delete(now, `k${i}`));
    c.run(c.now + 6000);
    expect(c.converged()).toBe(true);
    for (const n of names) {
      const st = c.node(n).stats;
      expect(st.stabilityMismatched).toBeGreaterThan(0);
      expect(st.malformed).toBe(0);
      // e never joins the others' generations (nor they e's): none completes, no tombstone goes.
      expect(st.generationsComplete).toBe(0);
      expect(st.tombstonesCollected).toBe(0);
    }
  });
});
