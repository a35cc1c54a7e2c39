import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Replica } from '../../src/core/replica/index.js';
import { minSummary } from '../../src/core/replica/index.js';
import type { Op } from '../unit/replica/harness.js';
import { allKeys, applyOp, DELETABLE, hashes, KEYS, makeReplicas, opArb, permutation, syncAll } from '../unit/replica/harness.js';

/**
 * Deletes as death certificates: partition, delete, heal, merge never resurrects a deleted key
 * (one no one wrote concurrently), tombstones are collected only when every live member has
 * seen them, and a node that was down during the collection comes back repaired.
 */
/**
 * `collectTombstones` checked against its contract: every key it drops had a context that every
 * live member's summary covered at that moment.
 */
function collect(r: Replica, live: readonly Replica[], seenByAll: ReadonlyMap<string, number>): string[] {
  const before = new Map([...r.keys()].map((k) => [k, r.entry(k)]));
  const got = r.collectTombstones(seenByAll);
  const summaries = live.map((m) => m.versionSummary());
  for (const k of got) {
    for (const d of before.get(k)?.context ?? []) for (const s of summaries) expect(d.counter).toBeLessThanOrEqual(s.get(d.origin) ?? 0);
  }
  return got;
}

function present(r: Replica, key: string): boolean {
  return r.list().includes(key);
}

const sideOps = (nodes: readonly number[]): fc.Arbitrary<Op[]> =>
  fc.array(
    opArb(4).map((op): Op => (op.kind === 'merge' ? { ...op, from: nodes[op.from % nodes.length] as number, to: nodes[op.to % nodes.length] as number } : { ...op, node: nodes[op.node % nodes.length] as number })),
    { maxLength: 40, size: 'max' },
  );

describe('tombstones (fast-check)', () => {
  it('property: partition, delete, heal, merge, collect with a member down, member returns: zero resurrection, collection only of certificates every live member has seen, everyone converges', () => {
    fc.assert(
      fc.property(
        fc.array(opArb(4), { minLength: 10, maxLength: 60, size: 'max' }),
        sideOps([2, 3]),
        fc.subarray([...DELETABLE], { minLength: 1 }),
        fc.subarray([...DELETABLE], { minLength: 1 }),
        fc.integer({ min: 1, max: 1e9 }),
        (setup, yOps, delA, delB, seed) => {
          const rs = makeReplicas(4);
          let now = 1000;
          for (const op of setup) applyOp(rs, op, (now += 5));
          syncAll(rs, (now += 5), (n) => permutation(n, seed));

          // Partition {0,1} | {2,3}. Node 0 deletes delA; side {2,3} works on other keys only.
          const deleted = new Set<string>(delA.filter((k) => present(rs[0]!, k)));
          for (const k of deleted) rs[0]!.delete((now += 5), k);
          syncAll([rs[0]!, rs[1]!], (now += 5));
          for (const op of yOps) if (op.kind === 'merge' || !deleted.has(KEYS[op.key] as string)) applyOp(rs, op, (now += 5));

          // Heal: complete exchange in a random order.
          syncAll(rs, (now += 5), (n) => permutation(n, seed + 1));
          const check = (who: readonly Replica[]): void => {
            for (const r of who) for (const k of deleted) expect(present(r, k), `${r.node} resurrected ${k}`).toBe(false);
          };
          check(rs);

          // Node 3 goes down. Node 0 deletes more; the live members sync and collect.
          const live = [rs[0]!, rs[1]!, rs[2]!];
          const deleted2 = delB.filter((k) => present(rs[0]!, k));
          for (const k of deleted2) {
            rs[0]!.delete((now += 5), k);
            deleted.add(k);
          }
          // Before the others have merged node 0's deletes, nothing of them may be collected.
          const early = minSummary(live.map((r) => r.versionSummary()));
          for (const k of deleted2) expect(collect(rs[0]!, live, early)).not.toContain(k);
          syncAll(live, (now += 5));
          const seenByLive = minSummary(live.map((r) => r.versionSummary()));
          for (const r of live) {
            const got = collect(r, live, seenByLive);
            for (const k of deleted2) expect(got, `${r.node} did not collect ${k}`).toContain(k);
          }
          check(live);

          // Node 3 returns with stale copies of deleted2. First round: the live members drop the
          // stale values and re-issue the certificates (node 3 still shows its stale copies: no
          // one had a tombstone left to send it). Second round: node 3 is repaired.
          syncAll(rs, (now += 5), (n) => permutation(n, seed + 2));
          check(live);
          if (deleted2.length > 0) expect(live.some((r) => r.stats().reactivated > 0)).toBe(true);
          syncAll(rs, (now += 5), (n) => permutation(n, seed + 3));
          check(rs);
          // Reads agree everywhere. (Node 3 may still hold tombstones the others collected and
          // ignore as already seen; it collects them at its next collection, below.)
          const visible = rs[0]!.list();
          for (const r of rs.slice(1)) expect(r.list()).toEqual(visible);
          for (const k of visible) for (const r of rs.slice(1)) expect(hashes(r, [k])).toEqual(hashes(rs[0]!, [k]));

          // Everyone has seen everything: every tombstone goes, and nothing comes back after.
          const seenByAll = minSummary(rs.map((r) => r.versionSummary()));
          for (const r of rs) collect(r, rs, seenByAll);
          for (const r of rs) expect(r.stats().tombstones).toBe(0);
          syncAll(rs, now + 5, (n) => permutation(n, seed + 4));
          check(rs);
          const after = allKeys(rs);
          for (const r of rs) expect([...r.keys()].sort()).toEqual(after);
          for (const r of rs.slice(1)) expect(hashes(r, after)).toEqual(hashes(rs[0]!, after));
          for (const k of deleted) expect(after).not.toContain(k);
        },
      ),
      { numRuns: 150 },
    );
  });
});
