/**
 * `replicateDoc` between in-process nodes on loopback (issue 17): edits converge, a node that
 * joins late catches up with only what it lacks, a lost deletion is repaired, the store keeps a
 * bounded snapshot + tail and gives documents back after a restart, and bad messages are counted.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { applyAwarenessUpdate, Awareness, encodeAwarenessUpdate, removeAwarenessStates } from 'y-protocols/awareness';
import * as Y from 'yjs';
import { address } from '../../src/core/ids.js';
import type { ClusterNode } from '../../src/runtime/cluster-node.js';
import { MemoryStore } from '../../src/store/index.js';
import { AppDataType } from '../../src/wire/data.js';
import { replicateDoc, YjsReplicator } from '../../src/yjs/index.js';
import { createTestNode } from './harness.js';
import { waitFor } from './wait.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const nodes: ClusterNode[] = [];
afterEach(async () => {
  for (const n of nodes.splice(0)) {
    YjsReplicator.for(n).close();
    await n.shutdown();
  }
});

async function cluster(n: number): Promise<ClusterNode[]> {
  const out: ClusterNode[] = [];
  for (let i = 0; i < n; i++) {
    const node = await createTestNode(`y${i}-${nodes.length}`, { profile: 'local', seed: i + 1 });
    nodes.push(node);
    out.push(node);
    if (i > 0) await node.join([out[0]!.addr]);
  }
  await waitFor('everyone alive', 10_000, () => out.every((x) => x.members().filter((m) => m.status === 'alive').length === n));
  return out;
}

const state = (d: Y.Doc): string => Buffer.from(Y.encodeStateAsUpdate(d)).toString('base64');
const same = (docs: readonly Y.Doc[]): boolean => docs.every((d) => Y.encodeStateAsUpdate(d).length === Y.encodeStateAsUpdate(docs[0]!).length && d.getText('t').toJSON() === docs[0]!.getText('t').toJSON());

describe('replicateDoc', () => {
  it('concurrent edits on three nodes converge; each node pushed only its own updates', async () => {
    const cs = await cluster(3);
    const docs = cs.map((n) => {
      const d = new Y.Doc();
      replicateDoc(n, 'doc', d, { antiEntropyIntervalMs: 60_000 });
      return d;
    });
    for (let round = 0; round < 5; round++) docs.forEach((d, i) => d.getText('t').insert(0, `n${i}r${round} `));
    await waitFor('three copies equal', 10_000, () => same(docs));
    expect(docs[0]!.getText('t').length).toBe(15 * 5);
    expect(new Set(docs.map(state)).size).toBe(1);
    const r = YjsReplicator.for(cs[0]!);
    expect(r.stats.localUpdates).toBe(5);
    expect(r.stats.sent.update.messages).toBe(10); // 5 updates × 2 peers, no forwarding in a cluster this small
    // Larger than any datagram (64 KiB): over a stream (anti-entropy is a minute away, so only the push can bring it).
    docs[1]!.getText('t').insert(0, 'z'.repeat(70_000));
    await waitFor('the large update everywhere', 10_000, () => same(docs));
  });

  it('a document nobody holds is unloaded once idle, and loads again from the store', async () => {
    const [a] = await cluster(1);
    const store = new MemoryStore();
    const r = new YjsReplicator(a!, { store, idleMs: 200 });
    const h = r.open('idle');
    h.doc.getText('t').insert(0, 'kept in the store');
    expect(r.loaded()).toEqual(['idle']);
    await new Promise((res) => setTimeout(res, 400));
    expect(r.loaded()).toEqual(['idle']); // still held
    h.release();
    await waitFor('unloaded', 5000, () => r.loaded().length === 0);
    expect(r.open('idle').doc.getText('t').toJSON()).toBe('kept in the store');
    r.close();
  });

  it('a document opened late catches up by state vector with only what it lacks; a lost deletion is repaired', async () => {
    const [a, b] = await cluster(2);
    const da = new Y.Doc();
    replicateDoc(a!, 'late', da, { antiEntropyIntervalMs: 300 });
    da.getText('t').insert(0, 'x'.repeat(20_000));
    const db = new Y.Doc();
    // b already has most of it (as if it had been replicating before): only the rest should travel.
    Y.applyUpdate(db, Y.encodeStateAsUpdate(da));
    da.getText('t').insert(0, 'missing part ');
    replicateDoc(b!, 'late', db, { antiEntropyIntervalMs: 300 });
    await waitFor('b caught up', 10_000, () => db.getText('t').toJSON() === da.getText('t').toJSON());
    const ra = YjsReplicator.for(a!);
    expect(ra.stats.diffUpdateBytes).toBeGreaterThan(0);
    expect(ra.stats.diffUpdateBytes).toBeLessThan(Y.encodeStateAsUpdate(da).length / 20);
    // A deletion b never hears of (applied to a's doc without spreading): the delete-set hash finds it.
    const rb = YjsReplicator.for(b!);
    const before = rb.stats.received.diff.messages;
    const ghost = new Y.Doc();
    Y.applyUpdate(ghost, Y.encodeStateAsUpdate(da));
    const sv = Y.encodeStateVector(ghost);
    ghost.getText('t').delete(0, 5);
    const deletion = Y.encodeStateAsUpdate(ghost, sv);
    // Applied as a remote push would be, so a stores it but does not push it.
    ra.receive({ type: 'data-message', from: address('127.0.0.1:1'), node: 'x', dataType: AppDataType.yjs, payload: (await import('../../src/yjs/messages.js')).encodeYjsMessage({ kind: 'update', src: 'elsewhere', doc: 'late', update: deletion }) });
    expect(da.getText('t').toJSON().startsWith('ng part')).toBe(true);
    await waitFor('b repaired the deletion', 10_000, () => db.getText('t').toJSON() === da.getText('t').toJSON());
    expect(rb.stats.received.diff.messages).toBeGreaterThan(before);
  });

  it('awareness reaches the other node and leaves with its client; it is never stored', async () => {
    const [a, b] = await cluster(2);
    const store = new MemoryStore();
    const ra = new YjsReplicator(a!, { store });
    const rb = new YjsReplicator(b!, { store: new MemoryStore() });
    const [ha, hb] = [ra.open('aw'), rb.open('aw')];
    // A client of a's (as the websocket endpoint applies it): its presence, with the connection as origin.
    const clientDoc = new Y.Doc();
    const clientAwareness = new Awareness(clientDoc);
    clientAwareness.setLocalState({ user: 'ada', cursor: 3 });
    applyAwarenessUpdate(ha.awareness, encodeAwarenessUpdate(clientAwareness, [clientDoc.clientID]), 'connection');
    await waitFor('b sees ada', 5000, () => (hb.awareness.getStates().get(clientDoc.clientID) as { user?: string } | undefined)?.user === 'ada');
    removeAwarenessStates(ha.awareness, [clientDoc.clientID], 'connection');
    await waitFor('ada gone from b', 5000, () => !hb.awareness.getStates().has(clientDoc.clientID));
    expect(store.docNames()).toEqual([]);
    clientAwareness.destroy();
    ra.close();
    rb.close();
  });

  it('a local update the store refuses leaves no trace: not kept, not sent, its holders told', async () => {
    const [a, b] = await cluster(2);
    const store = new MemoryStore();
    const ra = new YjsReplicator(a!, { store });
    const rb = new YjsReplicator(b!);
    const hb = rb.open('refused');
    let evicted = '';
    const ha = ra.open('refused', { onEvict: (why) => (evicted = why) });
    ha.doc.getText('t').insert(0, 'durable ');
    await waitFor('b has the first edit', 5000, () => hb.doc.getText('t').toJSON() === 'durable ');
    const append = store.appendDocUpdates.bind(store);
    store.appendDocUpdates = () => {
      throw new Error('disk full');
    };
    const update = (() => {
      const d = new Y.Doc();
      Y.applyUpdate(d, Y.encodeStateAsUpdate(ha.doc));
      const sv = Y.encodeStateVector(d);
      d.getText('t').insert(0, 'refused ');
      return Y.encodeStateAsUpdate(d, sv);
    })();
    expect(() => Y.applyUpdate(ha.doc, update, 'a client')).toThrow('disk full');
    expect(evicted).toContain('disk full');
    expect(ra.loaded()).toEqual([]);
    store.appendDocUpdates = append;
    expect(ra.open('refused').doc.getText('t').toJSON()).toBe('durable ');
    await new Promise((r) => setTimeout(r, 300));
    expect(hb.doc.getText('t').toJSON()).toBe('durable ');
    expect(ra.stats.storeErrors).toBe(1);
    ra.close();
    rb.close();
  });

  it('a process that stops replicating and shuts its node down exits (no timer left behind)', async () => {
    const script = `
      import * as Y from 'yjs';
      import { createNode } from './src/index.ts';
      import { replicateDoc } from './src/yjs/index.ts';
      const node = await createNode({ name: 'exits', bind: '127.0.0.1:0', profile: 'local' });
      const r = replicateDoc(node, 'doc', new Y.Doc());
      r.stop();
      r.replicator.close();
      await node.shutdown();
      console.log('done');`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = await Promise.race([
      new Promise<boolean>((r) => child.once('exit', () => r(true))),
      new Promise<boolean>((r) => setTimeout(() => r(false), 30_000)),
    ]);
    child.kill('SIGKILL');
    expect(out).toContain('done');
    expect(exited).toBe(true);
  });

  it('bad messages are counted and change nothing', async () => {
    const [a] = await cluster(1);
    const d = new Y.Doc();
    replicateDoc(a!, 'doc', d);
    d.getText('t').insert(0, 'kept');
    const r = YjsReplicator.for(a!);
    const { encodeYjsMessage } = await import('../../src/yjs/messages.js');
    const bad = [new Uint8Array([]), new Uint8Array([9, 1, 65]), new Uint8Array([1, 1, 65, 3, 100, 111, 99, 200, 1]), encodeYjsMessage({ kind: 'update', src: 'p', doc: 'doc', update: new Uint8Array([1, 2, 3, 4, 5]) })];
    for (const payload of bad) r.receive({ type: 'data-message', from: address('127.0.0.1:1'), node: 'x', dataType: AppDataType.yjs, payload });
    expect(r.stats.rejected).toBe(4);
    expect(d.getText('t').toJSON()).toBe('kept');
  });

  it('the store keeps a snapshot and a bounded tail, and gives the document back to a new replicator', async () => {
    const [a] = await cluster(1);
    const store = new MemoryStore();
    const r = new YjsReplicator(a!, { store, compactBytesMin: 2000 });
    const h = r.open('stored');
    for (let i = 0; i < 500; i++) h.doc.getText('t').insert(i, 'abcdefgh'.charAt(i % 8));
    expect(r.stats.compactions).toBeGreaterThan(0);
    const stored = store.loadDoc('stored');
    expect(stored.tailBytes).toBeLessThanOrEqual(Math.max(2000, stored.snapshot?.length ?? 0) + 100);
    const text = h.doc.getText('t').toJSON();
    r.close();
    const r2 = new YjsReplicator(a!, { store });
    expect(r2.open('stored').doc.getText('t').toJSON()).toBe(text);
    r2.close();
  });
});
