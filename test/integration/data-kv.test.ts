import { afterAll, describe, expect, it } from 'vitest';
import type { Resolver } from '../../src/core/replica/index.js';
import type { ClusterNode, NodeOptions } from '../../src/runtime/cluster-node.js';
import type { StateStore } from '../../src/store/state-store.js';
import { MemoryStateStore } from './memory-state-store.js';
import { DataMessageType } from '../../src/wire/data.js';
import { createTestNode } from './harness.js';
import { waitFor } from './wait.js';

/**
 * Issue 6 (data layer on the network): five of our nodes on loopback sockets replicate the
 * key-value state: writes on different nodes converge everywhere (LWW, counters, OR-Set), a
 * node restarted from its persisted entries keeps every acknowledged write, never reuses a dot,
 * and rejoins; garbage data messages are counted and crash nothing.
 */

const RESOLVERS: Record<string, Resolver> = {
  'lww/': { type: 'lww' }, 'cnt/': { type: 'pncounter' }, 'set/': { type: 'orset' }, 'mv/': { type: 'siblings' },
};
const N = 5;

function options(store: StateStore, seed: number): Partial<NodeOptions> {
  return {
    profile: 'local', seed, store,
    kv: { resolvers: RESOLVERS, digestIntervalMs: 100, antiEntropyIntervalMs: 500, dissemination: { intervalMs: 50 } },
  };
}

describe('replicated KV over loopback sockets (5 nodes)', () => {
  const nodes: ClusterNode[] = [];
  const stores: MemoryStateStore[] = [];
  const logs: string[] = [];
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.shutdown()));
  });

  const value = (n: ClusterNode, key: string): string => JSON.stringify(n.kv.get(key) ?? null, (_k, v: unknown) => (v instanceof Map ? [...v] : v));
  const agree = (key: string): boolean => nodes.every((n) => value(n, key) === value(nodes[0] as ClusterNode, key));
  /** A register's values or a set's elements, as JSON ('' when the key is absent or of another type). */
  const shown = (n: ClusterNode, key: string): string => {
    const r = n.kv.get(key);
    return r === undefined ? '' : r.type === 'register' ? JSON.stringify(r.values) : r.type === 'set' ? JSON.stringify(r.elements) : '';
  };
  const describeKey = (key: string) => () => nodes.map((n) => `${n.name}=${value(n, key)}`).join(' ');

  it('start, join: every node sees the others as data peers', async () => {
    for (let i = 0; i < N; i++) {
      stores.push(new MemoryStateStore());
      nodes.push(await createTestNode(`d${i}`, options(stores[i] as MemoryStateStore, i + 11), logs));
    }
    const first = nodes[0] as ClusterNode;
    await Promise.all(nodes.slice(1).map((n) => n.join([first.addr])));
    await waitFor('everyone alive with the data tag everywhere', 10_000, () =>
      nodes.every((n) => n.members().filter((m) => m.status === 'alive' && m.tags.gc !== undefined).length === N));
  });

  it('writes on different nodes converge on all: LWW, PN-counter, OR-Set, siblings', async () => {
    const [a, b, c, d, e] = nodes as [ClusterNode, ClusterNode, ClusterNode, ClusterNode, ClusterNode];
    const ctx = await a.kv.put('lww/color', 'red');
    expect(ctx).toEqual([{ origin: 'd0', counter: expect.any(Number) as number }]);
    // Acknowledged means durable: the entry is in d0's store before put resolved.
    expect(stores[0]?.entry('lww/color')?.type).toBe('lww');
    await waitFor('lww/color=red everywhere', 10_000, () => nodes.every((n) => shown(n, 'lww/color') === '["red"]'), describeKey('lww/color'));
    // A later write on another node wins everywhere (its HLC is above the one it saw).
    await b.kv.put('lww/color', 'blue');
    for (let i = 0; i < N; i++) await (nodes[i] as ClusterNode).kv.increment('cnt/hits', i + 1);
    await e.kv.decrement('cnt/hits', 5);
    for (let i = 0; i < N; i++) await (nodes[i] as ClusterNode).kv.add('set/tags', `t${i}`);
    await c.kv.put('mv/doc', 'from c');
    await d.kv.put('mv/doc', 'from d'); // concurrent with c's unless d saw it: siblings or one, the same everywhere
    await waitFor('all keys agree', 15_000, () => ['lww/color', 'cnt/hits', 'set/tags', 'mv/doc'].every(agree), () => ['lww/color', 'cnt/hits', 'set/tags', 'mv/doc'].map((k) => describeKey(k)()).join('\n'));
    expect(a.kv.get('lww/color')).toMatchObject({ values: ['blue'] });
    expect(a.kv.get('cnt/hits')).toMatchObject({ value: 1 + 2 + 3 + 4 + 5 - 5 });
    expect(a.kv.get('set/tags')).toMatchObject({ elements: ['t0', 't1', 't2', 't3', 't4'] });
    expect(a.kv.list('')).toEqual(['cnt/hits', 'lww/color', 'mv/doc', 'set/tags']);
    // A value too large for a rumor packet (60 KB) travels over streams and converges too.
    const big = 'x'.repeat(60_000);
    await c.kv.put('lww/big', big);
    expect(c.stats.data.node.largeEntriesPushed).toBe(1);
    await waitFor('the large value everywhere', 10_000, () => nodes.every((n) => shown(n, 'lww/big') === JSON.stringify([big])), () => nodes.map((n) => `${n.name} has=${shown(n, 'lww/big').length} ${JSON.stringify(n.stats.data)}`).join('\n'));
    // A remove on one node after it saw every add removes the element everywhere.
    await c.kv.remove('set/tags', 't0');
    await waitFor('t0 removed everywhere', 10_000, () => agree('set/tags') && shown(a, 'set/tags') === '["t1","t2","t3","t4"]', describeKey('set/tags'));
    // The convergence tracker sees everyone agreeing, and d0's sampled writes reached all.
    await waitFor('agreement 1 on d0', 10_000, () => a.kv.convergence().agreement.fraction === 1, () => JSON.stringify(a.kv.convergence().agreement));
    await waitFor('a sampled write of d0 reached everyone', 10_000, () => a.kv.convergence().recent.length > 0);
    const r = a.kv.convergence().recent[0];
    expect(r?.origin).toBe('d0');
    expect(r?.members).toBe(N);
    // Merged entries were written through to every store.
    for (const s of stores) expect(s.entry('cnt/hits')?.type).toBe('counter');
  }, 40_000);

  it('a node restarted from its store keeps every acknowledged write, never reuses a dot, and rejoins', async () => {
    const i = 3;
    const old = nodes[i] as ClusterNode;
    const acked: string[] = [];
    for (let k = 0; k < 20; k++) {
      await old.kv.put(`lww/r${k}`, k);
      acked.push(`lww/r${k}`);
    }
    const ownDots = (n: ClusterNode): number[] => n.kv.list('').flatMap((k) => (n.kv.get(k)?.context ?? []).filter((dd) => dd.origin === old.name).map((dd) => dd.counter));
    const highestBefore = Math.max(...ownDots(old));
    const incarnation = old.incarnation;
    // The store holds a reservation at or above every dot the old life issued.
    const reserved = Number(new TextDecoder().decode(stores[i]?.meta.get('dot-counter')));
    expect(reserved).toBeGreaterThanOrEqual(highestBefore);
    await old.shutdown();
    // While it is down, the others keep writing.
    await (nodes[0] as ClusterNode).kv.put('lww/while-down', 'yes');

    const store = stores[i] as MemoryStateStore;
    // Same address (as an agent restarted from its config); a new port under the same name is
    // the membership layer's business (memberlist's dead-node reclaim), not the data layer's.
    const back = await createTestNode(old.name, { ...options(store, 99), incarnation: incarnation + 1, bind: old.boundAddress }, logs);
    nodes[i] = back;
    // Before any network contact: every acknowledged write is there, from the store.
    for (const [k, key] of acked.entries()) expect(back.kv.get(key)).toMatchObject({ values: [k] });
    expect(back.kv.get('cnt/hits')).toMatchObject({ value: 10 });
    // A new write takes a dot above everything the previous life issued (and reserved).
    const ctx = await back.kv.put('lww/after-restart', 'new');
    const mine = ctx.find((dd) => dd.origin === old.name);
    expect(mine?.counter).toBeGreaterThan(highestBefore);
    // Above the whole reservation: a write in flight at a crash (issued, not yet durable) may have used any dot up to it.
    expect(mine?.counter).toBeGreaterThan(reserved);
    await back.join([(nodes[0] as ClusterNode).addr]);
    await waitFor('the restarted node has the write made while it was down, and everyone has its new one', 15_000, () =>
      shown(back, 'lww/while-down') === '["yes"]' && nodes.every((n) => shown(n, 'lww/after-restart') === '["new"]'));
    await waitFor('all keys agree after the restart', 15_000, () => [...acked, 'cnt/hits', 'set/tags', 'lww/while-down'].every(agree), describeKey('cnt/hits'));
    await waitFor('everyone sees the restarted node alive again', 15_000, () => nodes.every((n) => n.members().some((m) => m.name === old.name && m.status === 'alive' && m.addr === back.addr)));
  }, 40_000);

  it('a store failure fails the write (not acknowledged, no trace anywhere), and the node keeps working', async () => {
    const n = nodes[1] as ClusterNode;
    const s = stores[1] as MemoryStateStore;
    s.failNext = true;
    await expect(n.kv.put('lww/unlucky', 1)).rejects.toThrow(/disk full/);
    expect(n.stats.data.node.storeErrors).toBe(1);
    expect(n.kv.get('lww/unlucky')).toBeUndefined();
    await n.kv.put('lww/lucky', 2);
    expect(s.entry('lww/lucky')?.type).toBe('lww');
    await waitFor('every node has lww/lucky', 5_000, () => nodes.every((m) => m.kv.get('lww/lucky') !== undefined));
    // The refused write is not retried behind the caller's back, and reached no peer.
    expect(s.entry('lww/unlucky')).toBeUndefined();
    for (const m of nodes) expect(m.kv.get('lww/unlucky')).toBeUndefined();
  }, 20_000);

  it('garbage data messages are counted and crash nothing', async () => {
    const [a, b] = nodes as [ClusterNode, ClusterNode];
    const before = a.stats.data;
    const enc = (s: string): number[] => [...new TextEncoder().encode(s)];
    const garbage = [
      [DataMessageType['state-rumor'], new Uint8Array([0xff, 0x00, 0x13])], // bad MessagePack
      [DataMessageType['state-reconcile'], new Uint8Array([0x81])], // truncated map
      [DataMessageType['state-digests'], new Uint8Array([0x90])], // a list, not a record
      [DataMessageType['state-digests'], new Uint8Array([0x82, 0xa5, ...enc('roots'), 0x91, 0x01, 0xa9, ...enc('summaries'), 0x90])], // a root note that is a number
      [DataMessageType['state-rumor'], new Uint8Array([0x81, 0xa6, ...enc('gossip'), 0x83, 0xa4, ...enc('type'), 0xa6, ...enc('gossip'), 0xa2, ...enc('id'), 0x01, 0xa7, ...enc('updates'), 0x91, 0x01])], // a rumor with a bad update
      [DataMessageType['state-reconcile'], new Uint8Array([0x84, 0xa7, ...enc('session'), 0x01, 0xac, ...enc('fromInitiator'), 0xc3, 0xa2, ...enc('rc'), 0x81, 0xa4, ...enc('type'), 0xa7, ...enc('rc-open'), 0xa6, ...enc('digest'), 0xc0])], // rc-open without its fields
] as const;
    for (const [t, p] of garbage) expect(b.sendData(a.name, t, p)).toBe(true);
    for (const [t, p] of garbage) expect(b.sendData(a.name, t, p, { reliable: true })).toBe(true);
    await waitFor('every garbage message rejected on d0', 5_000, () => a.stats.data.node.rejected - before.node.rejected >= 2 * garbage.length, () => JSON.stringify(a.stats.data));
    const after = a.stats.data;
    expect(after.rejected.malformed + after.rejected.truncated - before.rejected.malformed - before.rejected.truncated).toBeGreaterThan(0);
    // Type bytes 0x80–0x9f are the application's: they pass through as data-message events, untouched.
    const raw: string[] = [];
    const off = a.on('data-message', (e) => raw.push(`${e.dataType}:${new TextDecoder().decode(e.payload)}`));
    expect(b.sendData(a.name, 0x85, new TextEncoder().encode('app'))).toBe(true);
    await waitFor('the application message', 5_000, () => raw.includes('133:app'));
    off();
    // Still serving: a write on the garbage receiver spreads to all.
    await a.kv.put('lww/after-garbage', 'ok');
    await waitFor('write after garbage everywhere', 10_000, () => agree('lww/after-garbage') && b.kv.get('lww/after-garbage') !== undefined, () => `${describeKey('lww/after-garbage')()}\n${nodes.map((n) => `${n.name}: ${n.members().map((m) => `${m.name}@${m.addr}:${m.status}`).join(',')}`).join('\n')} d3 is ${nodes[3]?.addr}`);
    expect(logs.filter((l) => l.startsWith('d0 ') && l.includes('data malformed')).length).toBeGreaterThan(0);
  }, 20_000);
});
