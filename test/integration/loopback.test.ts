import { afterAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/core/config.js';
import { suspicionTimeoutMs } from '../../src/core/membership/suspicion.js';
import type { ClusterNode } from '../../src/runtime/cluster-node.js';
import { createTestNode } from './harness.js';
import { waitFor } from './wait.js';

/**
 * Issue 5, item 9: 20 of our nodes over real loopback sockets in one process, lan profile:
 * join, failure of one, recovery, each within memberlist's bounds for that profile.
 */
const N = 20;
const LAN = defaultConfig('lan');

describe('20 nodes on loopback sockets (lan profile)', () => {
  const nodes: (ClusterNode | null)[] = [];
  const live = (): ClusterNode[] => nodes.filter((n): n is ClusterNode => n !== null);
  afterAll(async () => {
    await Promise.all(live().map((n) => n.shutdown()));
  });

  const statusAt = (n: ClusterNode, name: string): string => n.members().find((m) => m.name === name)?.status ?? 'absent';
  const view = (): string => live().map((n) => `${n.name}:${n.members().length}`).join(' ');

  it('join, failure of one, recovery', async () => {
    for (let i = 0; i < N; i++) nodes.push(await createTestNode(`n${i}`, { seed: i + 1 }));
    const first = nodes[0] as ClusterNode;

    // Join: every node joins through n0. Bound: the join push-pull teaches each joiner the
    // whole list known to n0; the others learn each joiner from gossip, which reaches all of n
    // within retransmitMult × ceil(log10(n + 1)) gossip rounds of gossipIntervalMs to gossipNodes peers.
    const t0 = performance.now();
    await Promise.all(live().slice(1).map((n) => n.join([first.addr])));
    const gossipRoundsBound = LAN.retransmitMult * Math.ceil(Math.log10(N + 1));
    const joinBoundMs = gossipRoundsBound * LAN.gossipIntervalMs + 2 * LAN.probeIntervalMs + 1000;
    await waitFor('every node to list all 20 alive', joinBoundMs, () =>
      live().every((n) => n.members().filter((m) => m.status === 'alive').length === N), view);
    const joinMs = performance.now() - t0;
    console.log(`loopback: 20 nodes joined in ${joinMs.toFixed(0)} ms (bound ${joinBoundMs} ms)`);

    // Failure: n7 stops without a word. Bound: someone probes it within one probe round of
    // the survivors (each probes one member per probeIntervalMs), then suspicion runs at most
    // its maximum, suspicionMaxTimeoutMult × suspicionMult × log10(n) × probeIntervalMs, then
    // the death is gossiped.
    const victim = nodes[7] as ClusterNode;
    const victimAddr = victim.addr;
    await victim.shutdown();
    nodes[7] = null;
    const t1 = performance.now();
    const minMs = suspicionTimeoutMs(LAN.suspicionMult, N, LAN.probeIntervalMs);
    const maxMs = LAN.suspicionMaxTimeoutMult * minMs;
    const detectBoundMs = 2 * LAN.probeIntervalMs + maxMs + joinBoundMs;
    await waitFor('every survivor to mark n7 failed', detectBoundMs, () =>
      live().every((n) => statusAt(n, 'n7') === 'failed'), () => live().map((n) => `${n.name}:${statusAt(n, 'n7')}`).join(' '));
    const detectMs = performance.now() - t1;
    console.log(`loopback: failure detected by all 19 in ${detectMs.toFixed(0)} ms (suspicion min ${minMs} ms, max ${maxMs} ms, bound ${detectBoundMs} ms)`);
    expect(detectMs).toBeGreaterThanOrEqual(minMs - 50);
    for (const n of live()) expect(n.members().some((m) => m.name === 'n7' && m.status === 'alive')).toBe(false);

    // Recovery: n7 restarts on its old address and rejoins; it refutes its death with a new
    // incarnation (the push-pull tells it it is dead) and everyone lists it alive again within the join bound.
    const back = await createTestNode('n7', { seed: 99, bind: victimAddr });
    nodes[7] = back;
    const t2 = performance.now();
    await back.join([first.addr]);
    await waitFor('every node to list n7 alive again', joinBoundMs, () =>
      live().every((n) => n.members().filter((m) => m.status === 'alive').length === N), view);
    const recoverMs = performance.now() - t2;
    console.log(`loopback: n7 back in every list in ${recoverMs.toFixed(0)} ms`);
    for (const n of live()) expect(n.stats.driver.rejectedTotal).toBe(0);
  });
});
