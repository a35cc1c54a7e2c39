import { afterAll, describe, expect, it } from 'vitest';
import type { ClusterNode, NodeOptions } from '../../src/runtime/cluster-node.js';
import { QuorumError } from '../../src/runtime/quorum-error.js';
import { QuorumSizeError } from '../../src/core/state/quorum-size.js';
import { createTestNode } from './harness.js';
import { MemoryStateStore } from './memory-state-store.js';
import { waitFor } from './wait.js';
import { encodeQuorum, QUORUM_TYPE } from '../../src/wire/quorum.js';

/**
 * Issue 16, quorum writes and reads, in one process (three nodes on loopback sockets, stores
 * that can refuse): a `w` write resolves only once `w` stores hold it, a replica whose store
 * refuses is not counted and is named, a `w` above the replicas is refused before anything is
 * written, and an `r` read merges the replies. The five-agent, SIGKILL version is
 * quorum-agents.test.ts.
 */
const N = 3;
const nodes: ClusterNode[] = [];
const stores: MemoryStateStore[] = [];
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.shutdown()));
});

const options = (store: MemoryStateStore, seed: number): Partial<NodeOptions> => ({
  profile: 'local', seed, store, views: { settleMs: 300 },
  // Slow rumors and anti-entropy: what reaches a replica quickly is the quorum plane's doing.
  kv: { relearn: false, digestIntervalMs: 60_000, antiEntropyIntervalMs: 60_000, dissemination: { intervalMs: 60_000 } },
});
const big = (tag: string): string => tag + '.'.repeat(3000);
const held = (s: MemoryStateStore, key: string, v: string): boolean => {
  const e = s.entry(key);
  return e !== undefined && (e.type === 'lww' || e.type === 'register') && e.siblings.some((x) => x.value === v);
};

describe('quorum writes and reads (3 nodes in one process)', () => {
  it('start, join, a stable view of three', async () => {
    for (let i = 0; i < N; i++) {
      stores.push(new MemoryStateStore());
      nodes.push(await createTestNode(`q${i}`, options(stores[i] as MemoryStateStore, 40 + i)));
    }
    await Promise.all(nodes.slice(1).map((n) => n.join([(nodes[0] as ClusterNode).addr])));
    await waitFor('a stable view of 3 with quorum everywhere', 20_000, () => nodes.every((n) => n.quorum().total === N && n.hasQuorum()));
  });

  it('w=all resolves only once every store holds the write (a large value: not rumored)', async () => {
    const [a] = nodes as [ClusterNode];
    const v = big('all-');
    const r = await a.kv.put('k/all', v, { w: 'all' });
    // At the moment it resolved, every store has it: nothing ran in between.
    expect(stores.map((s) => held(s, 'k/all', v))).toEqual([true, true, true]);
    expect(r).toMatchObject({ need: 3, replicas: 3 });
    expect([...r.acked].sort()).toEqual(['q0', 'q1', 'q2']);
    expect(r.acked[0]).toBe('q0');
  });

  it('a replica whose store refuses is not counted: w=all fails naming it, in its timeout; w=2 succeeds', async () => {
    const [a] = nodes as [ClusterNode];
    const s2 = stores[2] as MemoryStateStore;
    s2.failAlways = true;
    try {
      const t0 = performance.now();
      const err = await a.kv.put('k/refused', 'x', { w: 'all', timeoutMs: 1500 }).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(QuorumError);
      expect(performance.now() - t0).toBeLessThan(1500 + 1000);
      const q = err as QuorumError;
      expect(q.message).toMatch(/quorum write failed: 2 of 3 needed durable acknowledgements within 1500 ms/);
      expect(q.message).toMatch(/not rolled back/);
      expect([...q.answered].sort()).toEqual(['q0', 'q1']);
      expect(q.refused.get('q2')).toMatch(/store refused/);
      expect(held(s2, 'k/refused', 'x')).toBe(false);
      const ok = await a.kv.put('k/refused2', 'y', { w: 2 });
      expect(ok.acked).toHaveLength(2);
    } finally {
      s2.failAlways = false;
    }
  });

  it('w above the replicas: a QuorumSizeError, and nothing written anywhere', async () => {
    const [a] = nodes as [ClusterNode];
    const writes = stores.map((s) => s.writes);
    await expect(a.kv.put('k/too-many', 'x', { w: 4 })).rejects.toThrow(QuorumSizeError);
    expect(a.kv.get('k/too-many')).toBeUndefined();
    expect(stores.map((s) => s.writes)).toEqual(writes);
  });

  it('r=2 reads the newest write and names the replicas that replied, the reader first', async () => {
    const [a, , c] = nodes as [ClusterNode, ClusterNode, ClusterNode];
    const s2 = stores[2] as MemoryStateStore;
    await a.kv.put('k/read', 'old', { w: 'all' });
    s2.failAlways = true;
    const v = big('new-');
    await a.kv.put('k/read', v, { w: 2 });
    s2.failAlways = false;
    // c's store refused the new value (c does not answer others' reads of the key until a retry stores it).
    const r = await c.kv.get('k/read', { r: 2 });
    expect(r.read?.type === 'register' ? r.read.values : null).toEqual([v]);
    expect(r.replied).toHaveLength(2);
    expect(r.replied[0]).toBe('q2');
  });

  it('garbage, a forged ack and an ack to no round are counted and dropped; nothing throws, the node keeps serving', async () => {
    const [a, b] = nodes as [ClusterNode, ClusterNode];
    const before = { ...b.stats.data.quorum };
    a.sendData('q1', QUORUM_TYPE, Uint8Array.of(0xff, 0x00, 0x13));
    // An ack naming another sender than the packet's (q0 pretends to be q2).
    a.sendData('q1', QUORUM_TYPE, encodeQuorum({ kind: 'ack', src: 'q2', id: 1 }));
    // An ack for a round that does not exist.
    a.sendData('q1', QUORUM_TYPE, encodeQuorum({ kind: 'ack', src: 'q0', id: 424242 }));
    await waitFor('the three counted at q1', 5000, () => b.stats.data.quorum.malformed === before.malformed + 2 && b.stats.data.quorum.late === before.late + 1,
      () => JSON.stringify(b.stats.data.quorum));
    expect((await b.kv.put('k/after', 'ok', { w: 'all' })).acked).toHaveLength(3);
  });
});
