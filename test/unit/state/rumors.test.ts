import { describe, expect, it } from 'vitest';
import { Cluster, value } from './harness.js';

describe('Rumors', () => {
  it('spreads a local write by rumor before any anti-entropy session could', () => {
    // Anti-entropy every 60 s: only rumors can bring the write within a second.
    const c = new Cluster(['a', 'b', 'c', 'd'], { antiEntropyIntervalMs: 60_000 });
    c.run(10);
    c.on('a', (s, now) => s.put(now, 'k', 'v1'));
    c.run(1000);
    for (const n of ['b', 'c', 'd']) expect(value(c, n, 'k')).toEqual(['v1']);
    expect(c.converged()).toBe(true);
    const a = c.node('a').stats;
    expect(a.rumorsPublished).toBe(1);
    expect(a.rumorBytes).toBeGreaterThan(0);
    expect(c.node('b').stats.repaired).toBe(0);
  });
});
