import { afterEach, describe, expect, it } from 'vitest';
import type { ClusterNode } from '../../src/index.js';
import { MemoryNetwork } from '../../src/transport/memory-network.js';
import { createTestNode } from './harness.js';
import { waitFor } from './wait.js';

/** Membership views, quorum and the ring on running nodes (real time, in-memory network). */
describe('node.view(), node.hasQuorum(), node.ring() (issue 16)', () => {
  const nodes: ClusterNode[] = [];
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.shutdown()));
  });

  const start = async (net: MemoryNetwork, i: number): Promise<ClusterNode> => {
    const addr = `10.0.1.${i}:7946`;
    const n = await createTestNode(`v${i}`, { bind: addr, seed: i, views: { settleMs: 300 }, transport: (h) => Promise.resolve(net.transport(addr, h)) });
    nodes.push(n);
    return n;
  };

  it('five nodes agree on a stable view (same checksum), have quorum, route every key alike; a split-off pair loses quorum, the three keep it', async () => {
    const net = new MemoryNetwork();
    const all = await Promise.all([1, 2, 3, 4, 5].map((i) => start(net, i)));
    const stable: string[] = [];
    (all[0] as ClusterNode).on('view-stable', (e) => stable.push(e.view.checksum.toString(16)));
    await Promise.all(all.slice(1).map((n) => n.join([(all[0] as ClusterNode).addr])));
    await waitFor('one stable view of 5 alive everywhere', 15_000, () => {
      const vs = all.map((n) => n.view());
      return vs.every((v) => v.isStable && v.current.members.filter((m) => m.state === 'alive').length === 5 && v.current.checksum === vs[0]?.current.checksum);
    });
    expect(stable.length).toBeGreaterThan(0);
    for (const n of all) expect(n.hasQuorum()).toBe(true);
    const rings = all.map((n) => n.ring());
    expect(new Set(rings.map((r) => r.checksum)).size).toBe(1);
    for (const k of ['a', 'b', 'user/7']) expect(new Set(rings.map((r) => r.lookupN(k, 3).join())).size).toBe(1);
    const moved: { before: string | null; after: string | null }[][] = [];
    (all[0] as ClusterNode).on('ring-changed', (e) => moved.push(e.moved.map((r) => ({ before: r.before, after: r.after }))));
    const lost: string[] = [];
    for (const n of all.slice(3)) n.on('quorum-lost', () => lost.push(n.name));
    for (const a of all.slice(0, 3)) for (const b of all.slice(3)) net.partition(a.addr, b.addr);
    // The pair must see at least two of the three failed: each needs a probe that fails (Lifeguard
    // stretches a node's probe interval while its probes fail) and a suspicion that expires
    // without confirmations (up to 6 × 4 × log10(5) s ≈ 17 s here), so this can take over 20 s.
    await waitFor('the pair to lose quorum', 60_000, () => all.slice(3).every((n) => !n.hasQuorum()), () => JSON.stringify(all.slice(3).map((n) => ({ name: n.name, quorum: n.quorum(), view: n.view().current.members.map((m) => `${m.name}:${m.state}`) }))));
    expect(lost.sort()).toEqual(['v4', 'v5']);
    for (const n of all.slice(0, 3)) expect(n.hasQuorum()).toBe(true);
    expect(all[3]?.quorum()).toMatchObject({ total: 5, hasQuorum: false });
    // Once v1's view with the pair failed is stable, its ring moves their ranges to the three.
    await waitFor('ring-changed on v1', 30_000, () => moved.length > 0);
    const last = moved[moved.length - 1] ?? [];
    expect(last.length).toBeGreaterThan(0);
    for (const r of last) {
      expect(['v4', 'v5']).toContain(r.before);
      expect(['v1', 'v2', 'v3']).toContain(r.after);
    }
  });
});
