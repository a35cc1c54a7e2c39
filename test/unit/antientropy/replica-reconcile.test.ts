import { describe, expect, it } from 'vitest';
import { reconcileLocally } from '../../../src/core/antientropy/exchange.js';
import { MerkleTree } from '../../../src/core/antientropy/merkle.js';
import type { ReconcileBytes, ReconcileMessage } from '../../../src/core/antientropy/messages.js';
import type { ReconcileHost } from '../../../src/core/antientropy/session.js';
import { stateReconcileBytes } from '../../../src/wire/state.js';
import { ConvergenceTracker } from '../../../src/core/convergence/tracker.js';
import type { Entry } from '../../../src/core/replica/index.js';
import { Replica } from '../../../src/core/replica/index.js';
import { seededRng } from '../../../src/core/rng.js';
import { nodeName } from '../../../src/core/ids.js';

/** K's Replica with a Merkle tree kept in step: the way a node wires anti-entropy. */
class Node implements ReconcileHost<Entry> {
  readonly replica: Replica;
  readonly tree = new MerkleTree({ fanout: 16, depth: 2 });

  constructor(readonly name: string) {
    this.replica = new Replica({ node: nodeName(name), resolvers: { 'c/': { type: 'pncounter' }, 's/': { type: 'orset' }, 'r/': { type: 'lww' } } });
  }

  touched(key: string): void {
    const h = this.replica.entryHash(key);
    if (h === undefined) this.tree.delete(key);
    else this.tree.setHash(key, h);
  }

  entryFor(key: string): Entry | undefined {
    return this.replica.entry(key);
  }

  messageBytes(m: ReconcileMessage<Entry>): ReconcileBytes {
    return stateReconcileBytes(m);
  }

  merge(now: number, e: Entry): void {
    if (this.replica.merge(now, e)) this.touched(e.key);
  }

  digest(): { rootHi: number; rootLo: number; summary: ReadonlyMap<string, number> } {
    return { rootHi: this.tree.rootHi(), rootLo: this.tree.rootLo(), summary: this.replica.versionSummary() };
  }
}

describe('anti-entropy over K\'s Replica (lww, pn-counter, or-set)', () => {
  it('pairwise sessions make three diverged replicas equal: same roots, same reads, counters sum every increment', () => {
    const rng = seededRng(11);
    const nodes = ['n1', 'n2', 'n3'].map((n) => new Node(n));
    const incremented = new Map<string, number>();
    let now = 1000;
    for (let i = 0; i < 600; i++) {
      const node = nodes[rng.int(3)] as Node;
      now += 1;
      const kind = rng.int(3);
      const key = `${['r/', 'c/', 's/'][kind] as string}${rng.int(40)}`;
      if (kind === 0) node.replica.put(now, key, `v${i}`);
      else if (kind === 1) {
        const by = 1 + rng.int(5);
        node.replica.increment(now, key, by);
        incremented.set(key, (incremented.get(key) ?? 0) + by);
      } else if (rng.int(4) === 0) node.replica.remove(now, key, `e${rng.int(5)}`);
      else node.replica.add(now, key, `e${rng.int(5)}`);
      node.touched(key);
    }
    const [a, b, c] = nodes as [Node, Node, Node];
    expect(a.tree.root()).not.toBe(b.tree.root());

    const trackers = nodes.map((n) => {
      const t = new ConvergenceTracker(n.name);
      for (const o of nodes) if (o !== n) t.handleMemberAlive(now, o.name);
      return t;
    });
    const gossipDigests = (at: number): void => {
      nodes.forEach((n, i) => {
        (trackers[i] as ConvergenceTracker).handleLocalDigest(at, n.digest());
        for (const [j, t] of trackers.entries()) if (j !== i) t.handleDigest(at, n.name, n.digest());
      });
    };
    gossipDigests(now);
    (trackers[0] as ConvergenceTracker).sampleUpdate(now, 'n1', a.replica.versionSummary().get('n1') ?? 0);
    expect((trackers[0] as ConvergenceTracker).agreement(now).fraction).toBeLessThan(1);

    let bytes = 0;
    for (const [x, y] of [[a, b], [b, c], [a, b]] as [Node, Node][]) {
      now += 100;
      const summaryX = x.replica.versionSummary();
      const summaryY = y.replica.versionSummary();
      const r = reconcileLocally(x, y, (e) => x.merge(now, e), (e) => y.merge(now, e));
      expect(r.error).toBeNull();
      expect(r.complete).toBe(true);
      x.replica.absorbSummary(summaryY);
      y.replica.absorbSummary(summaryX);
      bytes += r.stats.bytesSent + r.stats.bytesReceived;
      gossipDigests(now);
    }
    expect(b.tree.root()).toBe(a.tree.root());
    expect(c.tree.root()).toBe(a.tree.root());
    for (const key of a.replica.list()) {
      expect(b.replica.get(key)).toEqual(a.replica.get(key));
      expect(c.replica.get(key)).toEqual(a.replica.get(key));
    }
    for (const [key, sum] of incremented) {
      for (const n of nodes) expect(n.replica.get(key)).toMatchObject({ value: sum });
    }
    // The trees are equal to trees rebuilt from the replicas' current entry hashes.
    for (const n of nodes) {
      const fresh = new MerkleTree({ fanout: 16, depth: 2 });
      for (const key of n.replica.keys()) fresh.setHash(key, n.replica.entryHash(key) as Uint32Array);
      expect(fresh.root()).toBe(n.tree.root());
    }
    for (const t of trackers) expect(t.agreement(now).fraction).toBe(1);
    const done = (trackers[0] as ConvergenceTracker).pollConverged();
    expect(done?.origin).toBe('n1');
    expect(done?.curveMs.length).toBe(3);
    expect(bytes).toBeGreaterThan(0);
  });
});
