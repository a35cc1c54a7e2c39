import { describe, expect, it } from 'vitest';
import { millis, nodeName } from '../../src/core/ids.js';
import { seededRng } from '../../src/core/rng.js';
import type { DataTransmit } from '../../src/runtime/data-layer.js';
import { NotWritableError } from '../../src/runtime/data-layer.js';
import { DurableStateNode } from '../../src/runtime/durable-state-node.js';
import type { EntryChange, StateStore, StoredEntry } from '../../src/store/state-store.js';
import { DATA_MESSAGE_KINDS, DataMessageType, DataStats, encodeDataValue } from '../../src/wire/data.js';
import { encodeStateMessage } from '../../src/wire/state.js';
import { VirtualNet } from '../support/virtual-net.js';

/**
 * The data node without sockets: several DurableStateNodes wired by hand, time explicit, messages
 * delivered (or dropped) by the test. What the loopback test shows on real sockets, here with
 * control over loss: anti-entropy repairs what rumors lost, both ways.
 */

class Store implements StateStore {
  readonly entries = new Map<string, Uint8Array>();
  readonly meta = new Map<string, Uint8Array>();
  failing = false;
  loadEntries(): StoredEntry[] {
    return [...this.entries].map(([key, entry]) => ({ key, entry }));
  }
  writeEntries(changes: readonly EntryChange[]): void {
    if (this.failing) throw new Error('disk full');
    for (const c of changes) {
      if (c.entry === null) this.entries.delete(c.key);
      else this.entries.set(c.key, c.entry);
    }
  }
  loadMeta(name: string): Uint8Array | null {
    return this.meta.get(name) ?? null;
  }
  saveMeta(name: string, value: Uint8Array): void {
    this.meta.set(name, value);
  }
}

/** Several DurableStateNodes on the test network (test/support/virtual-net.ts): delivered at once, in order. */
class Net {
  readonly net = new VirtualNet<DataTransmit, unknown, DurableStateNode>({
    route: (net, from, t) => {
      if (this.drop(t, from)) return;
      net.send(from, t.to, t, () => net.node(t.to).handleMessage(millis(net.now), from, t.dataType, t.payload));
    },
  });
  readonly nodes = this.net.nodes;
  readonly stats = new Map<string, DataStats>();
  /** Drops a transmit when it returns true. */
  drop: (t: DataTransmit, from: string) => boolean = () => false;

  get now(): number {
    return this.net.now;
  }

  /** `relearn`: false (default here) for a fresh cluster's first lives, 'auto' for the runtime's default. */
  add(name: string, store: StateStore | null = null, seed = 1, relearn: boolean | 'auto' = false): DurableStateNode {
    const stats = new DataStats();
    const n = new DurableStateNode({
      ...(relearn !== 'auto' ? { relearn } : {}),
      name: nodeName(name), incarnation: seed, rng: seededRng(seed), now: millis(this.now), wallOffsetMs: 1_700_000_000_000,
      peers: () => [...this.nodes.keys()].filter((p) => p !== name).map(nodeName), store, stats,
      replica: { resolvers: { 'cnt/': { type: 'pncounter' } } }, digestIntervalMs: 100, antiEntropyIntervalMs: 400, tombstoneGraceMs: 0,
    });
    this.net.add(name, n);
    this.stats.set(name, stats);
    return n;
  }

  /** Delivers everything queued (and what it causes), then advances time to `untilMs`, firing timers. */
  run(untilMs: number): void {
    this.net.runUntil(untilMs);
  }
}

const read = (n: DurableStateNode, key: string): string => JSON.stringify(n.get(key) ?? null);
/** What spreads a write: the broadcast tree's pushes (the agent's way) or rumors. */
const pushed = (t: DataTransmit): boolean => t.dataType === DataMessageType['state-tree'] || t.dataType === DataMessageType['state-rumor'];

describe('DurableStateNode (sans-IO, hand-wired)', () => {
  it('a rumor reaches every node within a few rounds, with no loss', () => {
    const net = new Net();
    const nodes = ['a', 'b', 'c', 'd'].map((x, i) => net.add(x, null, i + 1));
    net.run(50);
    nodes[0]?.apply(millis(net.now), { op: 'put', key: 'k', value: 'v1' });
    net.run(net.now + 1000);
    for (const n of nodes) expect(read(n, 'k')).toBe(read(nodes[0] as DurableStateNode, 'k'));
    expect(nodes[3]?.get('k')).toMatchObject({ values: ['v1'] });
  });

  it('pushed writes are packed to a datagram, never sent over a stream, however many there are', () => {
    const net = new Net();
    const nodes = ['a', 'b', 'c'].map((x, i) => net.add(x, null, i + 1));
    net.run(50);
    const rumors: DataTransmit[] = [];
    net.drop = (t) => {
      if (pushed(t)) rumors.push(t);
      return false;
    };
    for (let i = 0; i < 60; i++) nodes[0]?.apply(millis(net.now), { op: 'put', key: `big/${i}`, value: 'x'.repeat(150) });
    net.run(net.now + 2000);
    expect(rumors.some((t) => t.payload.length > 1000)).toBe(true); // packed, not one write a message
    expect(rumors.filter((t) => t.reliable || t.payload.length > 1200)).toEqual([]);
    for (const n of nodes) expect(n.list('big/')).toHaveLength(60);
  });

  it('when every push is lost, anti-entropy (Merkle walk) still converges both sides', () => {
    const net = new Net();
    const a = net.add('a', null, 1);
    const b = net.add('b', null, 2);
    net.run(10);
    // Only anti-entropy states and digests get through.
    net.drop = pushed;
    a.apply(millis(net.now), { op: 'put', key: 'x', value: 'from a' });
    b.apply(millis(net.now), { op: 'put', key: 'y', value: 'from b' });
    b.apply(millis(net.now), { op: 'increment', key: 'cnt/n', by: 2 });
    a.apply(millis(net.now), { op: 'increment', key: 'cnt/n', by: 3 });
    net.run(net.now + 3000);
    expect(a.get('y')).toMatchObject({ values: ['from b'] });
    expect(b.get('x')).toMatchObject({ values: ['from a'] });
    expect(a.get('cnt/n')).toMatchObject({ value: 5 });
    expect(b.get('cnt/n')).toMatchObject({ value: 5 });
    expect(a.node.root()).toBe(b.node.root());
    expect(a.stats.sessionsComplete + b.stats.sessionsComplete, JSON.stringify([a.stats, b.stats])).toBeGreaterThan(0);
    // After a complete session each absorbed the other's summary: everyone's writes are covered.
    expect(a.replica.versionSummary().get('b')).toBe(b.replica.versionSummary().get('b'));
    expect(a.convergence(millis(net.now)).agreement.fraction).toBe(1);
  });

  it('after a partition, the Merkle walk sends only the differing entries (not the whole state), both ways', () => {
    const net = new Net();
    const a = net.add('a', null, 3);
    const b = net.add('b', null, 4);
    net.run(10);
    for (let i = 0; i < 300; i++) a.apply(millis(net.now), { op: 'put', key: `shared/${i}`, value: i });
    net.run(net.now + 3000);
    expect(b.node.root()).toBe(a.node.root());
    const full = [...a.replica.keys()].reduce((n, k) => n + encodeDataValue(a.replica.entry(k)).length, 0);
    const before = a.stats.antiEntropyBytes + b.stats.antiEntropyBytes;
    // Partition for rumors: only reconciliation and digests get through.
    net.drop = pushed;
    for (let i = 0; i < 3; i++) {
      a.apply(millis(net.now), { op: 'put', key: `a/${i}`, value: i });
      b.apply(millis(net.now), { op: 'put', key: `b/${i}`, value: i });
    }
    net.run(net.now + 3000);
    expect(a.get('b/2')).toMatchObject({ values: [2] });
    expect(b.get('a/2')).toMatchObject({ values: [2] });
    expect(a.node.root()).toBe(b.node.root());
    // Sessions walked the tree to the 6 differing keys: far less than the 300 entries' bytes.
    const walked = a.stats.antiEntropyBytes + b.stats.antiEntropyBytes - before;
    expect(walked).toBeGreaterThan(0);
    expect(walked).toBeLessThan(full / 2);
  });

  it('a message over a stream (no member address) is accepted by its src only when that names a live peer', () => {
    const net = new Net();
    const a = net.add('a', null, 30);
    net.add('b', null, 31);
    net.run(10);
    const digest = (src: string) => encodeStateMessage(src, { type: 'state-digests', roots: [], summaries: [], stability: null });
    const ok = digest('b');
    a.handleMessage(millis(net.now), null, ok.dataType, ok.payload, '127.0.0.1:20000');
    expect(a.stats.rejected).toBe(0);
    // From an address with a src that is no peer of ours, or an empty one: refused, counted.
    for (const m of [digest('mallory'), digest('')]) a.handleMessage(millis(net.now), null, m.dataType, m.payload, '127.0.0.1:20001');
    expect(a.stats.rejected).toBe(2);
  });

  it('garbage in every kind is counted, reported, and changes nothing', () => {
    const net = new Net();
    const a = net.add('a', null, 5);
    net.add('b', null, 6);
    net.run(10);
    const before = a.node.root();
    for (let t = 0x80; t <= 0xbf; t++) a.handleMessage(millis(net.now), 'b', t, new Uint8Array([0x93, 1, 2]));
    for (let t = 0x80; t <= 0xbf; t++) a.handleMessage(millis(net.now), 'b', t, new Uint8Array([0x81, 0xa7, 0x65, 0x6e, 0x74, 0x72, 0x69, 0x65, 0x73]));
    expect(a.stats.rejected).toBe(2 * 64);
    const s = net.stats.get('a') as DataStats;
    const ours = DATA_MESSAGE_KINDS.length;
    expect(s.rejected['unknown-type']).toBe(2 * (64 - ours));
    expect(s.rejected.malformed + s.rejected.truncated).toBe(2 * ours);
    expect(a.node.root()).toBe(before);
    expect(a.handleRemoteState(millis(net.now), 'push-pull', new Uint8Array([0xbf, 0xc1]))).toBeUndefined();
    expect(a.stats.rejected).toBe(2 * 64 + 1);
  });

  it('restarted from its store: same state, and dots above the reservation', () => {
    const store = new Store();
    const net = new Net();
    const a = net.add('a', store, 7);
    for (let i = 0; i < 5; i++) a.apply(millis(net.now), { op: 'put', key: `k${i}`, value: i });
    const reserved = Number(new TextDecoder().decode(store.meta.get('dot-counter')));
    expect(reserved).toBeGreaterThanOrEqual(5);
    const again = new Net().add('a', store, 8);
    for (let i = 0; i < 5; i++) expect(read(again, `k${i}`)).toBe(read(a, `k${i}`));
    expect(again.node.root()).toBe(a.node.root());
    const ctx = again.apply(millis(0), { op: 'put', key: 'k9', value: 9 });
    expect(ctx[0]?.counter).toBe(reserved + 1);
    expect(Number(new TextDecoder().decode(store.meta.get('dot-counter')))).toBeGreaterThan(reserved + 1);
  });

  it('a tombstone is collected (store entry forgotten) only once every live member has seen the delete', () => {
    const net = new Net();
    const stores = [new Store(), new Store(), new Store()];
    const [a, b, c] = ['a', 'b', 'c'].map((x, i) => net.add(x, stores[i] as Store, 20 + i)) as [DurableStateNode, DurableStateNode, DurableStateNode];
    net.run(10);
    a.apply(millis(net.now), { op: 'put', key: 'gone', value: 'soon' });
    net.run(net.now + 1000);
    expect(c.get('gone')).toMatchObject({ values: ['soon'] });
    // c hears nothing more from anyone, and says nothing: its summary goes stale at a and b.
    net.drop = (t, from) => from === 'c' || t.to === 'c';
    b.apply(millis(net.now), { op: 'delete', key: 'gone' });
    net.run(net.now + 3000);
    expect(a.get('gone')).toMatchObject({ values: [] });
    expect(a.replica.stats().tombstones).toBe(1); // c has not seen the delete: kept
    expect(stores[0]?.entries.has('gone')).toBe(true);
    net.drop = () => false;
    // The StateNode collects when a stability generation (15 s by default) completes with every
    // live member's contribution: within two generations.
    net.run(net.now + 30_000);
    for (const n of [a, b, c]) {
      expect(n.replica.stats().tombstones).toBe(0);
      expect(n.get('gone')).toBeUndefined();
    }
    for (const s of stores) expect(s.entries.has('gone')).toBe(false);
    expect(a.node.root()).toBe(c.node.root());
  });

  it('a write the store refused leaves no trace: not acknowledged, not held, never sent, not retried', () => {
    const net = new Net();
    const store = new Store();
    const a = net.add('a', store, 40);
    const b = net.add('b', null, 41);
    net.run(10);
    a.apply(millis(net.now), { op: 'put', key: 'before', value: 1 });
    const summary = a.replica.versionSummary();
    const root = a.node.root();
    store.failing = true;
    expect(() => a.apply(millis(net.now), { op: 'put', key: 'k', value: 'not durable' })).toThrow(/disk full/);
    expect(a.stats.storeErrors).toBe(1);
    expect(a.get('k')).toBeUndefined();
    expect(a.list('')).toEqual(['before']);
    expect(a.replica.versionSummary()).toEqual(summary);
    expect(a.node.root()).toBe(root);
    expect(a.unsavedKeys).toBe(0);
    net.run(net.now + 3000); // rounds, digests, sessions: none of a's messages may carry it
    expect(b.get('k')).toBeUndefined();
    store.failing = false;
    net.run(net.now + 3000);
    expect(store.entries.has('k')).toBe(false);
    expect(a.get('k')).toBeUndefined();
    expect(b.get('k')).toBeUndefined();
    expect(b.get('before')).toMatchObject({ values: [1] });
    // The next write takes the dot the refused one gave back: no gap in a's summary anywhere.
    a.apply(millis(net.now), { op: 'put', key: 'after', value: 2 });
    net.run(net.now + 3000);
    expect(b.replica.versionSummary().get('a')).toBe(a.replica.lastCounter);
    expect(a.node.root()).toBe(b.node.root());
  });

  it('a node restarted under its name with no history takes no write until it has relearned its dot counter (issue 13, item 11)', () => {
    const net = new Net();
    const a = net.add('a', null, 50);
    const b = net.add('b', null, 51);
    const c = net.add('c', null, 52);
    net.run(10);
    for (let i = 0; i < 5; i++) a.apply(millis(net.now), { op: 'put', key: `old/${i}`, value: i });
    net.run(net.now + 2000);
    expect(c.get('old/4')).toMatchObject({ values: [4] });
    // Restart: same name, empty store (default relearn: nothing was restored).
    net.nodes.delete('a');
    const a2 = net.add('a', new Store(), 53, 'auto');
    expect(a2.writable).toBe(false);
    expect(() => a2.apply(millis(net.now), { op: 'put', key: 'new/0', value: 'lost?' })).toThrow(NotWritableError);
    net.run(net.now + 2000); // an anti-entropy session with b or c
    expect(a2.writable).toBe(true);
    expect(a2.replica.lastCounter).toBeGreaterThanOrEqual(5);
    for (let i = 0; i < 3; i++) a2.apply(millis(net.now), { op: 'put', key: `new/${i}`, value: i });
    net.run(net.now + 3000);
    for (const n of [a2, b, c]) {
      for (let i = 0; i < 3; i++) expect(n.get(`new/${i}`)).toMatchObject({ values: [i] });
      for (let i = 0; i < 5; i++) expect(n.get(`old/${i}`)).toMatchObject({ values: [i] });
    }
    expect(a2.node.root()).toBe(b.node.root());
    expect(a2.node.root()).toBe(c.node.root());
  });

  it('a node alone (no data peer) takes writes at once; one restored from its store does not wait either', () => {
    const net = new Net();
    const store = new Store();
    const a = net.add('a', store, 60, 'auto');
    expect(a.writable).toBe(true);
    a.apply(millis(net.now), { op: 'put', key: 'k', value: 1 });
    net.add('b', null, 61);
    net.nodes.delete('a');
    const a2 = net.add('a', store, 62, 'auto');
    expect(a2.writable).toBe(true);
  });
});
