import { describe, expect, it } from 'vitest';
import { MerkleTree } from '../../../src/core/antientropy/merkle.js';
import { expectedWalkHashes, merkleCostHashes } from '../../../src/core/antientropy/cost.js';

describe('MerkleTree', () => {
  it('has B^depth leaves and (B^(depth+1) − 1)/(B − 1) nodes', () => {
    const t = new MerkleTree({ fanout: 4, depth: 3 });
    expect(t.leafCount).toBe(64);
    expect(t.nodeCount).toBe(85);
    expect(t.levelWidth(0)).toBe(1);
    expect(t.levelWidth(3)).toBe(64);
    expect(() => new MerkleTree({ fanout: 1 })).toThrow(/fanout/);
    expect(() => new MerkleTree({ fanout: 16, depth: 7 })).toThrow(/exceeds/);
    expect(MerkleTree.depthFor(1_000_000, 16)).toBe(5);
    expect(MerkleTree.depthFor(10, 16)).toBe(1);
  });

  it('an empty tree and a tree whose keys were all deleted have root 0', () => {
    const t = new MerkleTree({ fanout: 16, depth: 2 });
    expect(t.root()).toBe('0000000000000000');
    t.set('a', 1, 2);
    t.set('b', 3, 4);
    expect(t.root()).not.toBe('0000000000000000');
    expect(t.delete('a')).toBe(true);
    expect(t.delete('a')).toBe(false);
    t.delete('b');
    expect(t.root()).toBe('0000000000000000');
    expect(t.size).toBe(0);
  });

  it('every node hash is the XOR of its children; a leaf holds exactly its keys', () => {
    const t = new MerkleTree({ fanout: 4, depth: 3 });
    for (let i = 0; i < 300; i++) t.set(`k${i}`, i * 7919, i);
    for (let i = 0; i < 300; i += 3) t.set(`k${i}`, i, i * 31);
    for (let i = 0; i < 300; i += 5) t.delete(`k${i}`);
    for (let l = 0; l < t.depth; l++) {
      for (let n = 0; n < t.levelWidth(l); n++) {
        let hi = 0;
        let lo = 0;
        for (let c = 0; c < t.fanout; c++) {
          hi ^= t.nodeHi(l + 1, n * t.fanout + c);
          lo ^= t.nodeLo(l + 1, n * t.fanout + c);
        }
        expect([hi >>> 0, lo >>> 0]).toEqual([t.nodeHi(l, n), t.nodeLo(l, n)]);
      }
    }
    const seen: string[] = [];
    for (let leaf = 0; leaf < t.leafCount; leaf++) {
      const keys = t.keysOf(leaf);
      expect(keys.length).toBe(t.leafKeyCount(leaf));
      for (const k of keys) expect(t.leafOf(k)).toBe(leaf);
      seen.push(...keys);
    }
    expect(seen.sort()).toEqual([...Array(300).keys()].filter((i) => i % 5 !== 0).map((i) => `k${i}`).sort());
  });

  it('setting the same hash again changes nothing; changing it back restores the root', () => {
    const t = new MerkleTree({ fanout: 16, depth: 2 });
    t.set('x', 10, 20);
    t.set('y', 11, 21);
    const r = t.root();
    t.set('x', 10, 20);
    expect(t.root()).toBe(r);
    t.set('x', 99, 98);
    expect(t.root()).not.toBe(r);
    t.set('x', 10, 20);
    expect(t.root()).toBe(r);
    const out = new Uint32Array(2);
    expect(t.entryHashOf('x', out)).toBe(true);
    expect([...out]).toEqual([10, 20]);
    expect(t.entryHashOf('nope', out)).toBe(false);
  });

  it('setHash (hash in a Uint32Array) and set (two numbers) build the same tree', () => {
    const x = new MerkleTree({ fanout: 16, depth: 2 });
    const y = new MerkleTree({ fanout: 16, depth: 2 });
    const h = new Uint32Array(2);
    for (let i = 0; i < 500; i++) {
      const hi = Math.imul(i, 0x9e3779b1) >>> 0;
      const lo = (0xffffffff - i) >>> 0;
      x.set(`k${i % 300}`, hi, lo);
      h[0] = hi;
      h[1] = lo;
      y.setHash(`k${i % 300}`, h);
    }
    expect(y.root()).toBe(x.root());
    expect(x.root()).not.toBe('0000000000000000');
  });

  it('the key of an entry matters, not only its hash: swapping two keys\' hashes changes the root', () => {
    const a = new MerkleTree({ fanout: 2, depth: 1 });
    const b = new MerkleTree({ fanout: 2, depth: 1 });
    a.set('p', 1, 1);
    a.set('q', 2, 2);
    b.set('p', 2, 2);
    b.set('q', 1, 1);
    expect(a.root()).not.toBe(b.root());
  });

  it('keys spread over the leaves (chi-square of 64 leaves, 64,000 keys, below the 0.1% critical value)', () => {
    const t = new MerkleTree({ fanout: 4, depth: 3 });
    for (let i = 0; i < 64_000; i++) t.set(`user:${i}`, i, 0);
    let chi = 0;
    for (let leaf = 0; leaf < 64; leaf++) chi += (t.leafKeyCount(leaf) - 1000) ** 2 / 1000;
    expect(chi).toBeLessThan(103.4); // χ²(63) at p = 0.001
  });
});

describe('Merkle cost model (theory.md §7.1)', () => {
  it('reproduces the table rows within 1% (its figures are simulated; ours is the exact expectation)', () => {
    const rows: [number, number, number, number][] = [
      // leaves, d, B, theory.md's hashes
      [2 ** 20, 100, 16, 4780], [2 ** 20, 10, 16, 611], [2 ** 20, 1000, 16, 34382],
      [2 ** 20, 100, 2, 2684], [2 ** 20, 10, 2, 336], [2 ** 15, 100, 2, 1699],
    ];
    for (const [leaves, d, b, table] of rows) {
      const depth = Math.round(Math.log(leaves) / Math.log(b));
      expect(Math.abs(expectedWalkHashes(d, b, depth) / table - 1)).toBeLessThan(0.01);
    }
    expect(merkleCostHashes(2 ** 20, 100, 2)).toBeCloseTo(2 * 100 * Math.log2(2 ** 20 / 100), 6);
  });
});
