import { describe, expect, it } from 'vitest';
import { Cluster } from './harness.js';

const names = Array.from({ length: 12 }, (_, i) => `n${i}`);
const sum = (c: Cluster, f: (s: ReturnType<Cluster['node']>['stats']) => number): number => [...c.nodes.values()].reduce((a, s) => a + f(s.stats), 0);
const bytes = (c: Cluster): number => sum(c, (s) => s.digestBytes + s.antiEntropyBytes + s.rumorBytes);

describe('StateNode at idle', () => {
  it('an idle cluster sends a digest per node per idle period and starts no anti-entropy session', () => {
    const c = new Cluster(names);
    c.on('n0', (s, now) => s.put(now, 'k', 'v'));
    c.run(20_000); // the write spreads, then every node falls idle
    expect(c.converged()).toBe(true);
    const sessions = sum(c, (s) => s.sessionsStarted);
    const before = bytes(c);
    c.run(140_000); // two minutes of idleness
    expect(sum(c, (s) => s.sessionsStarted)).toBe(sessions);
    // Each node: one root-only digest every 30 s (about 4 in two minutes), no relays, no summaries.
    const perNodePerSecond = (bytes(c) - before) / names.length / 120;
    expect(perNodePerSecond).toBeLessThan(5);
    expect(c.converged()).toBe(true);
  });

  it('with no tombstone anywhere no stability note travels; a delete starts a generation and its tombstone is collected', () => {
    const c = new Cluster(names);
    c.on('n3', (s, now) => s.put(now, 'k', 'v'));
    c.run(40_000);
    expect(sum(c, (s) => s.generationsComplete)).toBe(0);
    c.on('n3', (s, now) => s.delete(now, 'k'));
    c.run(200_000);
    expect(sum(c, (s) => s.generationsComplete)).toBeGreaterThan(0);
    for (const s of c.nodes.values()) expect(s.replica.tombstoneCount).toBe(0);
    expect(c.converged()).toBe(true);
  });

  it('a node that diverged while the cluster idles is found by the idle digests and repaired by a session', () => {
    const c = new Cluster(names, { rumors: false });
    c.run(30_000);
    const sessions = sum(c, (s) => s.sessionsStarted);
    // A write with rumors off: only anti-entropy can spread it, started by a differing idle digest.
    c.on('n5', (s, now) => s.put(now, 'lonely', 'yes'));
    c.run(150_000);
    expect(c.converged()).toBe(true);
    expect(sum(c, (s) => s.sessionsStarted)).toBeGreaterThan(sessions);
  });
});
