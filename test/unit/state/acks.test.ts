import { describe, expect, it } from 'vitest';
import { nodeName } from '../../../src/core/ids.js';
import { Cluster } from './harness.js';

describe('Acknowledgements of sampled writes', () => {
  it('times sampled writes until every live member has them', () => {
    // Summaries are made once a minute and anti-entropy is as rare: acknowledgements settle it.
    const c = new Cluster(['a', 'b', 'c'], { sampleEvery: 1, antiEntropyIntervalMs: 60_000, digestIntervalMs: 100, summaryIntervalMs: 60_000 });
    c.run(5);
    c.on('a', (s, now) => s.put(now, 'k', 1));
    c.run(5000);
    const done = c.events.filter((x) => x.node === 'a' && x.e.type === 'update-everywhere');
    expect(done.length).toBe(1);
    const e = done[0]?.e;
    if (e?.type !== 'update-everywhere') throw new Error('unreachable');
    expect(e.update.origin).toBe('a');
    expect(e.update.elapsedMs).toBeGreaterThan(0);
    // b and c acknowledged it straight to a, stamped when their replicas first held it: the
    // rumor's first round (100 ms) and a hop, not the digest rounds that carried the acks.
    expect(c.node('a').stats.acksApplied).toBe(2);
    expect(e.update.elapsedMs).toBeLessThanOrEqual(110);
    for (const n of ['b', 'c']) expect(c.node(n).stats.acksSent).toBeGreaterThanOrEqual(1);
  });

  it('without acknowledgements (lost, or no addressOf) a sample still ends, later, by summaries', () => {
    const c = new Cluster(['a', 'b', 'c'], { sampleEvery: 1, antiEntropyIntervalMs: 300, digestIntervalMs: 100, summaryIntervalMs: 100 });
    for (const n of ['a', 'b', 'c']) c.boot(n, undefined, 0, { addressOf: () => undefined }).setMembers(0, ['a', 'b', 'c'].map(nodeName));
    c.run(5);
    c.on('a', (s, now) => s.put(now, 'k', 1));
    c.run(5000);
    const done = c.events.filter((x) => x.node === 'a' && x.e.type === 'update-everywhere');
    expect(done.length).toBe(1);
    expect(c.node('a').stats.acksApplied).toBe(0);
    for (const n of ['b', 'c']) expect(c.node(n).stats.acksSent).toBe(0);
  });

  it('a member idle when a sampled write arrives acknowledges it at the active pace, not at the idle one', () => {
    // Every node has had its first (idle) digest round, so its next one is 30 s away; the rumor
    // wakes it while the acknowledgement it owes already keeps it busy.
    const c = new Cluster(['a', 'b', 'c'], { sampleEvery: 1, antiEntropyIntervalMs: 60_000, summaryIntervalMs: 60_000 });
    c.run(3000);
    c.on('a', (s, now) => s.put(now, 'k', 1));
    c.run(6000);
    const done = c.events.filter((x) => x.node === 'a' && x.e.type === 'update-everywhere');
    expect(done.length).toBe(1);
    expect(c.node('a').stats.acksApplied).toBe(2);
  });
});
