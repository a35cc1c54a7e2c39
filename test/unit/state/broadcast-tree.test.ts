import { describe, expect, it } from 'vitest';
import { nodeName } from '../../../src/core/ids.js';
import { treeChildren } from '../../../src/core/state/broadcast-tree.js';
import { encodeStateFrame } from '../../../src/wire/state.js';
import { Cluster, value } from './harness.js';

const names = (n: number): string[] => Array.from({ length: n }, (_, i) => `n${String(i).padStart(2, '0')}`);

describe('treeChildren', () => {
  it('gives every member but the root exactly one parent, within ⌈log_k n⌉ hops of the root', () => {
    for (const n of [1, 2, 3, 7, 30, 31, 64]) {
      const members = names(n);
      for (const k of [1, 2, 3, 4]) {
        for (const root of [members[0] as string, members[n - 1] as string, members[Math.floor(n / 2)] as string]) {
          const parents = new Map<string, number>();
          const depth = new Map<string, number>([[root, 0]]);
          const queue = [root];
          while (queue.length > 0) {
            const p = queue.shift() as string;
            for (const c of treeChildren(members, root, p, k)) {
              parents.set(c, (parents.get(c) ?? 0) + 1);
              depth.set(c, (depth.get(p) as number) + 1);
              queue.push(c);
            }
          }
          expect(parents.has(root)).toBe(false);
          for (const m of members) if (m !== root) expect(parents.get(m)).toBe(1);
          const deepest = Math.max(...depth.values());
          // A k-ary heap over n positions: depth ⌈log_k(n(k−1)+1)⌉ − 1 (n − 1 for k = 1).
          expect(deepest).toBeLessThanOrEqual(k === 1 ? n - 1 : Math.ceil(Math.log(n * (k - 1) + 1) / Math.log(k)) - 1);
        }
      }
    }
  });

  it('is empty when the root or this node is not in the view', () => {
    expect(treeChildren(['a', 'b', 'c'], 'x', 'a', 2)).toEqual([]);
    expect(treeChildren(['a', 'b', 'c'], 'a', 'x', 2)).toEqual([]);
    expect(treeChildren(['a', 'b', 'c'], 'a', 'a', 0)).toEqual([]);
    expect(treeChildren(['a', 'b', 'c'], 'b', 'b', 2)).toEqual(['c', 'a']);
  });
});

describe('a write spread down the broadcast tree (treeFanout)', () => {
  // Anti-entropy and digests rare: what spreads the write is the tree (or the rumors) alone.
  const quiet = { antiEntropyIntervalMs: 60_000, digestIntervalMs: 60_000, summaryIntervalMs: 60_000 };

  it('reaches every member with one copy each, a few bytes above the entry; rumors send several', () => {
    const members = names(12);
    const spread = (treeFanout: number): { bytes: number; copies: number; holders: number; own: number; sentOn: number } => {
      const c = new Cluster(members, { ...quiet, treeFanout });
      c.run(10);
      let bytes = 0;
      let copies = 0;
      c.onSend = (_from, _at, b, type) => {
        if (type !== 'state-tree' && type !== 'state-rumor') return;
        bytes += b;
        copies++;
      };
      c.on('n03', (s, now) => s.put(now, 'bench/w1', 'v1'));
      c.run(3000);
      const entry = c.node('n03').replica.entry('bench/w1');
      if (entry === undefined) throw new Error('unreachable');
      // The writer's three (its name once: sender and root) and the eight sent on (both names; all as long as n03).
      const own = encodeStateFrame('n03', { type: 'state-tree', root: 'n03', entries: [entry] }).length;
      const sentOn = encodeStateFrame('n04', { type: 'state-tree', root: 'n03', entries: [entry] }).length;
      return { bytes, copies, holders: members.filter((m) => value(c, m, 'bench/w1') !== undefined).length, own, sentOn };
    };
    const tree = spread(3);
    expect(tree.holders).toBe(12);
    // One message per member but the writer, each the entry plus sender, root and count.
    expect(tree.copies).toBe(11);
    expect(tree.bytes).toBe(3 * tree.own + 8 * tree.sentOn);
    const rumors = spread(0);
    expect(rumors.holders).toBe(12);
    expect(rumors.bytes).toBeGreaterThan(2 * tree.bytes);
  });

  it('a member that missed the push (lost packet) is repaired by anti-entropy: nothing lost', () => {
    const members = names(8);
    const c = new Cluster(members, { treeFanout: 2, antiEntropyIntervalMs: 500, digestIntervalMs: 500 });
    c.run(10);
    // n01 is cut off while the write spreads: its subtree in n00's tree (n03, n04, …) misses it too.
    c.partition({ n01: 1 });
    c.on('n00', (s, now) => s.put(now, 'k', 'v'));
    c.run(50);
    expect(value(c, 'n01', 'k')).toBeUndefined();
    expect(value(c, 'n03', 'k')).toBeUndefined();
    c.heal();
    c.run(20_000);
    for (const m of members) expect(value(c, m, 'k')).toEqual(['v']);
    expect(c.converged()).toBe(true);
  });

  it('a member whose view lacks the writer sends nothing on; a rumor-mode member still merges what it is sent', () => {
    const members = names(4);
    const c = new Cluster(members, { ...quiet, treeFanout: 1 });
    // A chain n00 → n01 → n02 → n03. n01 has not heard of n00: no position in n00's tree, so it stops there.
    c.on('n01', (s, now) => s.handleMemberGone(now, nodeName('n00')));
    c.on('n00', (s, now) => s.put(now, 'k', 'v'));
    c.run(100);
    expect(value(c, 'n01', 'k')).toEqual(['v']);
    expect(value(c, 'n02', 'k')).toBeUndefined();
    // A member that spreads by rumor merges a tree push and sends it on by nothing.
    const d = new Cluster(['a', 'b'], { ...quiet, treeFanout: 1 });
    d.boot('b', undefined, 0, { ...quiet, treeFanout: 0 }).setMembers(0, ['a', 'b'].map(nodeName));
    d.on('a', (s, now) => s.put(now, 'k', 'v'));
    d.run(100);
    expect(value(d, 'b', 'k')).toEqual(['v']);
    expect(d.node('b').stats.treeApplied).toBe(1);
  });
});
