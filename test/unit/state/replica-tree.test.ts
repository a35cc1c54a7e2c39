import { describe, expect, it } from 'vitest';
import { nodeName } from '../../../src/core/ids.js';
import { Cluster } from './harness.js';

describe('The replica and its Merkle tree', () => {
  it('calls the durability hook with every change before the operation returns (local, merged, collected)', () => {
    const seen: { node: string; key: string; present: boolean }[] = [];
    const c = new Cluster(['a', 'b'], { antiEntropyIntervalMs: 300, collectIntervalMs: 500, stabilityGenerationMs: 500, digestIntervalMs: 100, summaryIntervalMs: 100 });
    for (const n of ['a', 'b']) {
      // Restart on the same durable replica with the hook (what the agent does at start).
      const r = c.crash(n);
      c.boot(n, r, 1, { onEntryChange: (key, entry) => seen.push({ node: n, key, present: entry !== undefined }) }).setMembers(0, ['a', 'b'].map(nodeName));
    }
    c.run(5);
    let before = seen.length;
    c.on('a', (s, now) => {
      s.put(now, 'k', 1);
      expect(seen.slice(before)).toEqual([{ node: 'a', key: 'k', present: true }]);
    });
    c.run(1000);
    expect(seen).toContainEqual({ node: 'b', key: 'k', present: true });
    before = seen.length;
    c.on('b', (s, now) => s.delete(now, 'k'));
    expect(seen.slice(before)).toEqual([{ node: 'b', key: 'k', present: true }]);
    c.run(5000);
    expect(seen).toContainEqual({ node: 'a', key: 'k', present: false });
    expect(seen).toContainEqual({ node: 'b', key: 'k', present: false });
  });
});
