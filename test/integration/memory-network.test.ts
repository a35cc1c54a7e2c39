import { afterEach, describe, expect, it } from 'vitest';
import type { ClusterNode } from '../../src/index.js';
import { JoinError } from '../../src/index.js';
import { MemoryNetwork } from '../../src/transport/memory-network.js';
import { createTestNode } from './harness.js';
import { waitFor } from './wait.js';

/** The same runtime and wire codec over the in-memory transport: no sockets, real time. */
describe('runtime over MemoryNetwork', () => {
  const nodes: ClusterNode[] = [];
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.shutdown()));
  });

  const start = async (net: MemoryNetwork, i: number): Promise<ClusterNode> => {
    const addr = `10.0.0.${i}:7946`;
    const n = await createTestNode(`m${i}`, { bind: addr, seed: i, transport: (h) => Promise.resolve(net.transport(addr, h)) });
    nodes.push(n);
    return n;
  };

  it('five nodes join through one and list each other alive; a join to nowhere fails', async () => {
    const net = new MemoryNetwork();
    const all = await Promise.all([1, 2, 3, 4, 5].map((i) => start(net, i)));
    const [first, ...rest] = all as [ClusterNode, ...ClusterNode[]];
    expect(first.addr).toBe('10.0.0.1:7946');
    await Promise.all(rest.map((n) => n.join([first.addr])));
    await waitFor('everyone to list 5 alive', 3000, () => all.every((n) => n.members().filter((m) => m.status === 'alive').length === 5));
    await expect((rest[0] as ClusterNode).join(['10.0.0.99:7946'])).rejects.toBeInstanceOf(JoinError);
    for (const n of all) expect(n.stats.driver.rejectedTotal).toBe(0);
  });

  it('a partitioned node is suspected and declared dead by the others', async () => {
    const net = new MemoryNetwork();
    const all = await Promise.all([1, 2, 3].map((i) => start(net, i)));
    await Promise.all(all.slice(1).map((n) => n.join(['10.0.0.1:7946'])));
    await waitFor('everyone to list 3 alive', 3000, () => all.every((n) => n.members().length === 3));
    net.partition('10.0.0.3:7946', '10.0.0.1:7946');
    net.partition('10.0.0.3:7946', '10.0.0.2:7946');
    // n = 3: suspicion is fixed at its minimum, suspicionMult × probeIntervalMs = 4 s (lan).
    await waitFor('m1 and m2 to declare m3 dead', 8000, () =>
      all.slice(0, 2).every((n) => n.members().find((m) => m.name === 'm3')?.status === 'failed'));
  });
});
