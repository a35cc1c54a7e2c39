import { describe, expect, it } from 'vitest';
import { budgetForCap } from '../../../src/core/state/budget.js';
import { Cluster } from './harness.js';

const names = ['a', 'b', 'c', 'd', 'e', 'f'];
const OVERHEAD = 40;

/** The largest bytes any node sent in a window of `windowMs` (framing included), over the whole record. */
function worstWindow(sent: Map<string, number[]>, windowMs: number): number {
  let worst = 0;
  for (const perMs of sent.values()) {
    let sum = 0;
    for (let t = 0; t < perMs.length; t++) {
      sum += perMs[t] ?? 0;
      if (t >= windowMs) sum -= perMs[t - windowMs] ?? 0;
      if (sum > worst) worst = sum;
    }
  }
  return worst;
}

describe('StateNode byte budget', () => {
  it('one bucket for the node\'s life: across rumor epochs, with digests, acknowledgements and sessions charged, no window exceeds the cap; every write arrives once the load drops', () => {
    const capBytesPerSec = 12_000;
    const budget = budgetForCap(capBytesPerSec, 1400 + OVERHEAD, OVERHEAD);
    // Epochs of 400 ms: several engines live during the load, each used to have a bucket of its own.
    const c = new Cluster(names, { budget, rumorEpochMs: 400, sampleEvery: 1, digestIntervalMs: 200, antiEntropyIntervalMs: 300 });
    const sent = new Map<string, number[]>(names.map((n) => [n, []]));
    c.onSend = (node, at, bytes) => {
      const perMs = sent.get(node) as number[];
      perMs[at] = (perMs[at] ?? 0) + bytes + OVERHEAD;
    };
    // 4 s of 150 writes/s over the cluster: far above what 12 kB/s per node carries to everyone.
    let k = 0;
    for (let t = 0; t < 4000; t += 40) {
      c.run(t);
      for (const n of names.slice(0, 6)) c.on(n, (s, now) => s.put(now, `k${k++ % 400}`, `value-${k}-${'x'.repeat(20)}`));
    }
    c.run(4000);
    const loaded = [...c.nodes.values()].reduce((a, s) => a + (s.budgetStats?.deferred ?? 0), 0);
    expect(loaded).toBeGreaterThan(0); // the budget did hold things back
    // Then no writes: anti-entropy (held steps, repair class) finishes the job.
    c.run(60_000);
    expect(c.converged()).toBe(true);
    for (const s of c.nodes.values()) for (let i = 0; i < 400; i++) expect(s.get(`k${i}`)).toBeDefined();
    // burst + rate = cap: no 1 s window (and no shorter one beyond burst + rate × its length) carries more.
    expect(worstWindow(sent, 1000)).toBeLessThanOrEqual(capBytesPerSec);
    expect(worstWindow(sent, 100)).toBeLessThanOrEqual(budget.burstBytes + budget.rateBytesPerSec / 10 + 1);
    const oversize = [...c.nodes.values()].reduce((a, s) => a + (s.budgetStats?.oversize ?? 0), 0);
    expect(oversize).toBe(0);
  });
});
