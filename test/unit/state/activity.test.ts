import { describe, expect, it } from 'vitest';
import { nodeName } from '../../../src/core/ids.js';
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

describe('StateNode when a cluster forms', () => {
  it('members joining an existing cluster do not wake it, and equal roots cost root probes, never a session', () => {
    const c = new Cluster(names.slice(0, 8));
    c.run(30_000); // idle
    const digestBytes = sum(c, (s) => s.digestBytes);
    // Four more members join (empty, like everyone): each is active itself and probes its peers.
    for (const n of names.slice(8)) c.boot(n);
    for (const s of c.nodes.values()) s.setMembers(c.now, names.map(nodeName));
    c.run(60_000);
    expect(sum(c, (s) => s.sessionsStarted)).toBe(0);
    expect(sum(c, (s) => s.rootProbes)).toBeGreaterThan(0);
    // The 8 old members stayed idle: a root-only digest each per 30 s, and whatever the 4 new ones sent.
    const perNodePerSecond = (sum(c, (s) => s.digestBytes) - digestBytes) / names.length / 30;
    expect(perNodePerSecond).toBeLessThan(60);
    expect(c.converged()).toBe(true);
  });

  it('a digest relays at most rootsPerMessage other roots, whatever the cluster size', () => {
    const many = Array.from({ length: 60 }, (_, i) => `m${i}`);
    const c = new Cluster(many, { rootsPerMessage: 16 });
    const seen: number[] = [];
    for (const s of c.nodes.values()) {
      const orig = s.pollTransmit.bind(s);
      s.pollTransmit = () => {
        const t = orig();
        if (t?.message.type === 'state-digests') seen.push(t.message.roots.length);
        return t;
      };
    }
    c.on('m0', (s, now) => s.put(now, 'k', 'v'));
    c.run(20_000);
    expect(seen.length).toBeGreaterThan(0);
    expect(Math.max(...seen)).toBeLessThanOrEqual(17);
    expect(c.converged()).toBe(true);
  });

  it('equal roots after a join: the joiner stays idle (no active window), a root probe or two, zero sessions', () => {
    const c = new Cluster(names.slice(0, 8));
    c.on('n0', (s, now) => s.put(now, 'k', 'v'));
    c.run(30_000); // the write spread, every node idle again
    const old = c.crash('n7'); // n7 restarts with the same data (its durable replica)
    c.boot('n7', old, 1);
    const probes = sum(c, (s) => s.rootProbes);
    const sessions = sum(c, (s) => s.sessionsStarted);
    c.node('n7').setMembers(c.now, names.slice(0, 8).map(nodeName));
    const joinedAt = c.now;
    c.run(joinedAt + 12_000);
    expect(sum(c, (s) => s.sessionsStarted)).toBe(sessions);
    expect(sum(c, (s) => s.rootProbes) - probes).toBeGreaterThan(0);
    // Idle: at most its probes and one idle digest in 12 s, no relayed roots or summaries every second.
    expect(c.node('n7').stats.digestBytes).toBeLessThan(150);
    expect(c.converged()).toBe(true);
  });

  it('a joiner whose root differs is found by its probe and repaired by a session', () => {
    const c = new Cluster(names.slice(0, 8));
    c.on('n0', (s, now) => s.put(now, 'k', 'v'));
    c.run(30_000);
    c.boot('n8'); // empty, while the cluster holds 'k'
    c.node('n8').setMembers(c.now, names.slice(0, 9).map(nodeName));
    for (const n of names.slice(0, 8)) c.node(n).setMembers(c.now, names.slice(0, 9).map(nodeName));
    c.run(c.now + 5000);
    expect(c.node('n8').get('k')).toBeDefined();
    expect(c.converged()).toBe(true);
  });
});
