import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { reconcileLocally } from '../../src/core/antientropy/exchange.js';
import { MerkleTree } from '../../src/core/antientropy/merkle.js';
import { ReconcileSession } from '../../src/core/antientropy/session.js';
import { KvHost, trueDiff } from '../unit/antientropy/kv-host.js';

const shapeArb = fc.constantFrom({ fanout: 2, depth: 6 }, { fanout: 4, depth: 4 }, { fanout: 16, depth: 2 }, { fanout: 16, depth: 3 }, { fanout: 3, depth: 5 });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const changeArb = fc.record({
  index: fc.nat({ max: 20_000 }),
  kind: fc.constantFrom('change-a', 'change-b', 'only-a', 'only-b', 'drop-a', 'drop-b'),
  hi: u32,
  lo: u32,
});

function allNodes(t: MerkleTree): number[] {
  const out: number[] = [];
  for (let l = 0; l <= t.depth; l++) for (let n = 0; n < t.levelWidth(l); n++) out.push(t.nodeHi(l, n), t.nodeLo(l, n));
  return out;
}

describe('Merkle anti-entropy laws', () => {
  it('property: the walk finds exactly the differing keys (up to 10⁴ keys, changes, one-side-only keys), and after the exchange both trees are equal', () => {
    fc.assert(
      fc.property(shapeArb, fc.integer({ min: 0, max: 10_000 }), fc.array(changeArb, { maxLength: 60 }), (shape, n, changes) => {
        const a = new KvHost(shape);
        const b = new KvHost(shape);
        for (let i = 0; i < n; i++) {
          a.set(`key/${i}`, i, 0x5bd1e995 ^ i);
          b.set(`key/${i}`, i, 0x5bd1e995 ^ i);
        }
        for (const c of changes) {
          const key = `key/${n === 0 ? c.index : c.index % n}`;
          const fresh = `new/${c.index}`;
          switch (c.kind) {
            case 'change-a': a.set(key, c.hi, c.lo); break;
            case 'change-b': b.set(key, c.hi, c.lo); break;
            case 'only-a': a.set(fresh, c.hi, c.lo); break;
            case 'only-b': b.set(fresh, c.hi, c.lo); break;
            case 'drop-a': a.delete(key); break;
            case 'drop-b': b.delete(key); break;
          }
        }
        const diff = trueDiff(a, b);
        const r = reconcileLocally(a, b, (e) => a.merge(e), (e) => b.merge(e));
        expect(r.error).toBeNull();
        expect(r.differingKeys).toEqual(diff);
        expect(r.stats.entriesSent + r.stats.entriesReceived).toBeGreaterThanOrEqual(diff.length);
        expect(trueDiff(a, b)).toEqual([]);
        expect(a.tree.root()).toBe(b.tree.root());
      }),
      { numRuns: 60 },
    );
  });

  it('property: incremental updates give the same tree (every node) as a build from scratch of the final map', () => {
    const opArb = fc.record({ key: fc.nat({ max: 300 }), del: fc.boolean(), hi: u32, lo: u32 });
    fc.assert(
      fc.property(shapeArb, fc.array(opArb, { maxLength: 800 }), (shape, ops) => {
        const t = new MerkleTree(shape);
        const final = new Map<string, [number, number]>();
        for (const op of ops) {
          const key = `k${op.key}`;
          if (op.del) {
            expect(t.delete(key)).toBe(final.delete(key));
          } else {
            t.set(key, op.hi, op.lo);
            final.set(key, [op.hi, op.lo]);
          }
        }
        const scratch = new MerkleTree(shape);
        for (const [k, [hi, lo]] of final) scratch.set(k, hi, lo);
        expect(t.size).toBe(final.size);
        expect(allNodes(t)).toEqual(allNodes(scratch));
        for (let leaf = 0; leaf < t.leafCount; leaf++) expect(t.keysOf(leaf)).toEqual(scratch.keysOf(leaf));
      }),
      { numRuns: 100 },
    );
  });

  it('property: the root does not depend on insertion order', () => {
    const entriesArb = fc.uniqueArray(fc.tuple(fc.string({ maxLength: 12 }), u32, u32), { selector: (e) => e[0], maxLength: 400 });
    fc.assert(
      fc.property(shapeArb, entriesArb, fc.integer(), (shape, entries, seed) => {
        const shuffled = [...entries];
        let s = seed >>> 0;
        for (let i = shuffled.length - 1; i > 0; i--) {
          s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
          const j = s % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j] as [string, number, number], shuffled[i] as [string, number, number]];
        }
        const x = new MerkleTree(shape);
        const y = new MerkleTree(shape);
        for (const [k, hi, lo] of entries) x.set(k, hi, lo);
        for (const [k, hi, lo] of shuffled) y.set(k, hi, lo);
        expect(y.root()).toBe(x.root());
        expect(allNodes(y)).toEqual(allNodes(x));
      }),
      { numRuns: 100 },
    );
  });

  it('property: writes on both sides during a session never break it (no error, it ends), and a second session then makes the replicas equal', () => {
    const writeArb = fc.record({ side: fc.boolean(), key: fc.nat({ max: 400 }), hi: u32, lo: u32, del: fc.boolean() });
    fc.assert(
      fc.property(shapeArb, fc.array(fc.array(writeArb, { maxLength: 5 }), { minLength: 10, maxLength: 10 }), fc.array(writeArb, { maxLength: 30 }), (shape, during, before) => {
        const a = new KvHost(shape);
        const b = new KvHost(shape);
        for (let i = 0; i < 300; i++) {
          a.set(`k${i}`, i, i);
          b.set(`k${i}`, i, i);
        }
        const write = (w: { side: boolean; key: number; hi: number; lo: number; del: boolean }): void => {
          const h = w.side ? a : b;
          if (w.del) h.delete(`k${w.key}`);
          else h.set(`k${w.key}`, w.hi, w.lo);
        };
        for (const w of before) write(w);
        const sa = new ReconcileSession(a, 'initiator');
        const sb = new ReconcileSession(b, 'responder');
        sa.start();
        for (let step = 0; step < 10 && !(sa.done && sb.done); step++) {
          for (const w of during[step] ?? []) write(w);
          const [from, to] = step % 2 === 0 ? [sa, sb] : [sb, sa];
          for (let m = from.pollMessage(); m !== undefined; m = from.pollMessage()) to.handleMessage(m);
        }
        expect(sa.done && sb.done).toBe(true);
        expect(sa.error ?? sb.error).toBeNull();
        for (let e = sa.pollEntry(); e !== undefined; e = sa.pollEntry()) a.merge(e);
        for (let e = sb.pollEntry(); e !== undefined; e = sb.pollEntry()) b.merge(e);
        const diff = trueDiff(a, b);
        const again = reconcileLocally(a, b, (e) => a.merge(e), (e) => b.merge(e));
        expect(again.differingKeys).toEqual(diff);
        expect(trueDiff(a, b)).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });
});
