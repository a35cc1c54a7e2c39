import { describe, expect, it } from 'vitest';
import { nodeName } from '../../../src/core/ids.js';
import { Cluster, value } from './harness.js';

describe('Anti-entropy', () => {
  it('anti-entropy alone (rumors off) converges two diverged replicas, both ways, with only the differing entries', () => {
    const c = new Cluster(['a', 'b'], { rumors: false, antiEntropyIntervalMs: 500 });
    c.partition({ a: 0, b: 1 });
    c.run(5);
    for (let i = 0; i < 200; i++) c.on('a', (s, now) => s.put(now, `k${i}`, `a${i}`));
    c.on('a', (s, now) => s.put(now, 'only-a', 1));
    c.on('b', (s, now) => s.put(now, 'only-b', 2));
    c.on('b', (s, now) => s.increment(now, 'c/n', 5));
    c.on('a', (s, now) => s.increment(now, 'c/n', 7));
    c.on('a', (s, now) => s.add(now, 's/x', 'e1'));
    c.on('b', (s, now) => s.add(now, 's/x', 'e2'));
    c.run(3000);
    expect(c.converged()).toBe(false);
    c.heal();
    const before = c.node('a').stats.antiEntropyBytes + c.node('b').stats.antiEntropyBytes;
    c.run(6000);
    expect(c.converged()).toBe(true);
    for (const n of ['a', 'b']) {
      expect(value(c, n, 'only-a')).toEqual([1]);
      expect(value(c, n, 'only-b')).toEqual([2]);
      expect(value(c, n, 'c/n')).toBe(12);
      expect(value(c, n, 's/x')).toEqual(['e1', 'e2']);
      expect(value(c, n, 'k199')).toEqual(['a199']);
      expect(c.node(n).stats.rumorBytes).toBe(0);
    }
    const after = c.node('a').stats.antiEntropyBytes + c.node('b').stats.antiEntropyBytes;
    expect(after).toBeGreaterThan(before);
    expect(c.node('a').stats.sessionsComplete + c.node('b').stats.sessionsComplete).toBeGreaterThan(0);
    // Repairs went to b (it lacked 201 keys plus the merged ones) and to a (only-b, c/n, s/x).
    expect(c.node('b').stats.repaired).toBeGreaterThanOrEqual(203);
    expect(c.node('a').stats.repaired).toBeGreaterThanOrEqual(3);
    expect(c.node('a').stats.repaired).toBeLessThan(10);
  });

  it('a tombstone a peer collected is collected here too by anti-entropy, so the roots meet', () => {
    // b believes in a member z that a does not know (membership views differ) and that never
    // contributes: b never completes a stability generation, so it never collects by itself.
    const c = new Cluster(['a', 'b'], { antiEntropyIntervalMs: 300, collectIntervalMs: 500, stabilityGenerationMs: 1000, digestIntervalMs: 200, rumors: false });
    c.on('b', (s, now) => s.handleMemberAlive(now, nodeName('z')));
    c.run(5);
    c.on('a', (s, now) => s.put(now, 'k', 'v'));
    c.on('a', (s, now) => s.put(now, 'keep', 'x'));
    c.run(2000);
    c.on('b', (s, now) => s.delete(now, 'k'));
    c.run(5000 + c.now);
    // The delete reached a, a collected it once b's summary covered it, and b followed at its
    // next session with a.
    expect(c.node('a').replica.entry('k')).toBeUndefined();
    expect(c.node('a').stats.tombstonesCollectedFromPeers).toBe(0);
    expect(c.node('b').replica.entry('k')).toBeUndefined();
    expect(c.node('b').stats).toMatchObject({ tombstonesCollected: 1, tombstonesCollectedFromPeers: 1, generationsComplete: 0 });
    expect(c.node('a').stats.generationsComplete).toBeGreaterThan(0);
    expect(c.converged()).toBe(true);
    expect(value(c, 'b', 'keep')).toEqual(['x']);
  });

  it('with repairGraceMs, a write stream with no loss starts sessions only for what rumors missed (far fewer), and converges', () => {
    const stream = (grace: number): { sessions: number; converged: boolean } => {
      const names = Array.from({ length: 10 }, (_, i) => `n${i}`);
      const c = new Cluster(names, { repairGraceMs: grace });
      for (let w = 0; w < 100; w++) {
        c.run(w * 50);
        c.on(names[(w * 7) % names.length] as string, (s, now) => s.put(now, `w/${w % 40}`, `v${w}`));
      }
      c.run(40_000);
      return { sessions: [...c.nodes.values()].reduce((a, s) => a + s.stats.sessionsStarted, 0), converged: c.converged() };
    };
    const eager = stream(0);
    const held = stream(1000);
    expect(eager.converged && held.converged).toBe(true);
    expect(held.sessions).toBeLessThan(eager.sessions / 2);
  });
});
