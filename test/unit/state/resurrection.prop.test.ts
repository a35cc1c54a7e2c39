import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nodeName } from '../../../src/core/ids.js';
import { lwwWinner } from '../../../src/core/replica/crdt/register.js';
import type { VersionVector } from '../../../src/core/replica/dvv.js';
import type { StateNode } from '../../../src/core/state/state-node.js';
import { StateOracle } from '../../../src/sim/state.js';
import { Cluster } from './harness.js';

type Op = { node: number; kind: 'put' | 'del' | 'inc' | 'add' | 'rm'; key: number; el: number };

const opArb: fc.Arbitrary<Op> = fc.record({
  node: fc.integer({ min: 0, max: 2 }),
  kind: fc.constantFrom<Op['kind']>('put', 'del', 'inc', 'add', 'rm'),
  key: fc.integer({ min: 0, max: 3 }),
  el: fc.integer({ min: 0, max: 2 }),
});

const NAMES = ['a', 'b', 'c'];

/** Applies an op on a node and records its acknowledgement in the oracle. */
function apply(c: Cluster, o: StateOracle, op: Op, value: string): void {
  const name = NAMES[op.node] as string;
  c.on(name, (s: StateNode, now) => {
    const ctx = (key: string): VersionVector => (s.replica.entry(key) as { context: VersionVector }).context;
    switch (op.kind) {
      case 'put':
      case 'del': {
        const key = `l/${op.key}`;
        if (op.kind === 'put') s.put(now, key, value);
        else s.delete(now, key);
        const e = s.replica.entry(key);
        const w = e !== undefined && e.type === 'lww' ? lwwWinner(e.siblings) : undefined;
        if (w === undefined) throw new Error('no winner after a write');
        o.ackLww(key, { l: w.l, c: w.c, dot: w.dot, value: w.deleted ? null : (w.value as string) });
        return;
      }
      case 'inc':
        s.increment(now, `c/${op.key}`, 1);
        o.ackCount(`c/${op.key}`, 1);
        return;
      case 'add': {
        const key = `s/${op.key}`;
        s.add(now, key, `e${op.el}`);
        const d = ctx(key).find((x) => x.origin === name);
        if (d === undefined) throw new Error('no own dot after an add');
        o.ackAdd(key, `e${op.el}`, d);
        return;
      }
      case 'rm': {
        const key = `s/${op.key}`;
        s.remove(now, key, `e${op.el}`);
        o.ackRemove(key, `e${op.el}`, ctx(key));
        return;
      }
    }
  });
}

describe('partition + deletes + tombstone collection + heal + anti-entropy (fast-check)', () => {
  it('converges with nothing lost and nothing resurrected, whatever the operations on each side', () => {
    let collectedWhileApart = 0;
    let runsWithCollection = 0;
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 12 }), fc.array(opArb, { minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: 1000 }), (before, during, seed) => {
        const c = new Cluster(NAMES, { antiEntropyIntervalMs: 300, collectIntervalMs: 400, stabilityGenerationMs: 600, goneMemberHoldMs: 1500, digestIntervalMs: 150, summaryIntervalMs: 150 }, seed);
        const o = new StateOracle();
        let n = 0;
        c.run(5);
        for (const op of before) apply(c, o, op, `v${n++}`);
        c.run(2000);
        // c is cut off and declared gone (so a and b may collect tombstones without it).
        c.partition({ a: 0, b: 0, c: 1 });
        for (const x of ['a', 'b']) c.on(x, (s, now) => s.handleMemberGone(now, nodeName('c')));
        c.on('c', (s, now) => {
          s.handleMemberGone(now, nodeName('a'));
          s.handleMemberGone(now, nodeName('b'));
        });
        for (const op of during) apply(c, o, op, `v${n++}`);
        c.run(6000);
        const collected = c.node('a').stats.tombstonesCollected + c.node('b').stats.tombstonesCollected;
        collectedWhileApart += collected;
        if (collected > 0) runsWithCollection++;
        c.heal();
        for (const x of ['a', 'b']) c.on(x, (s, now) => s.handleMemberAlive(now, nodeName('c')));
        c.on('c', (s, now) => {
          s.handleMemberAlive(now, nodeName('a'));
          s.handleMemberAlive(now, nodeName('b'));
        });
        c.run(16_000);
        expect(c.converged()).toBe(true);
        for (const x of NAMES) {
          const v = o.check(c.node(x).replica);
          expect(v.lost).toEqual({ lww: 0, counter: 0, orset: 0 });
          expect(v.resurrected).toBe(0);
        }
      }),
      { numRuns: 25, seed: 42 },
    );
    // The property is about something: a and b did collect tombstones while c was away.
    expect(collectedWhileApart).toBeGreaterThan(0);
    expect(runsWithCollection).toBeGreaterThan(5);
  });
});
