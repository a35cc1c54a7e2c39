import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ViewState } from '../../src/core/views/index.js';
import { canonicalMembers, quorumStatus, ViewTracker, viewChecksum, VIEW_STATES } from '../../src/core/views/index.js';
import { propertySeed } from './seed.js';

type Op =
  | { readonly k: 'set'; readonly name: string; readonly state: ViewState; readonly inc: number }
  | { readonly k: 'gone'; readonly name: string }
  | { readonly k: 'tick'; readonly ms: number }
  | { readonly k: 'note' }
  | { readonly k: 'burst'; readonly from: number; readonly count: number; readonly state: ViewState; readonly inc: number };

const names = Array.from({ length: 40 }, (_, i) => `n${i.toString().padStart(2, '0')}`);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ k: fc.constant('set' as const), name: fc.constantFrom(...names), state: fc.constantFrom(...VIEW_STATES), inc: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('gone' as const), name: fc.constantFrom(...names) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 4000 }) }) },
  { weight: 1, arbitrary: fc.constant({ k: 'note' as const }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('burst' as const), from: fc.integer({ min: 0, max: 39 }), count: fc.integer({ min: 10, max: 40 }), state: fc.constantFrom(...VIEW_STATES), inc: fc.integer({ min: 0, max: 3 }) }) },
);

describe('view tracker: the view kept member by member equals the view rebuilt from all records', () => {
  it('property: after any sequence of record changes, forgets and timeouts, the members, checksum and quorum are those of a from-scratch computation', () => {
    let rebuilt = 0;
    let patched = 0;
    fc.assert(fc.property(fc.array(opArb, { minLength: 1, maxLength: 400 }), (ops) => {
      const t = new ViewTracker({ name: 'n00', now: 0, settleMs: 500, forgetAfterMs: 3000 });
      // Every other member's note is a copy of ours, so views become stable and a quorum basis forms.
      let now = 0;
      for (const op of ops) {
        if (op.k === 'set') t.handleMember(now, op.name, op.state, op.inc);
        else if (op.k === 'gone') t.handleMemberGone(now, op.name);
        else if (op.k === 'tick') now += op.ms;
        else if (op.k === 'burst') for (let i = 0; i < op.count; i++) t.handleMember(now, names[(op.from + i) % names.length] as string, op.state, op.inc);
        else {
          const v = t.view();
          for (const m of v.members) t.handleNote(now, { from: m.name, checksum: v.checksum, size: v.members.length, bits: new Uint8Array((v.members.length + 7) >>> 3) });
        }
        // Records fed between timeouts are one change (several at once: the view is rebuilt).
        if (op.k === 'set' || op.k === 'gone' || op.k === 'burst') continue;
        t.handleTimeout(now);
        const records = [...t.recordsView()].map(([name, r]) => ({ name, state: r.state, incarnation: r.incarnation, tags: {} }));
        const scratch = canonicalMembers(records);
        const v = t.view();
        expect(v.members.map((m) => [m.name, m.state, m.incarnation])).toEqual(scratch.map((m) => [m.name, m.state, m.incarnation]));
        expect(v.checksum).toBe(viewChecksum(scratch));
        expect(t.hasQuorum()).toBe(quorumStatus(t.quorumStatus().basis, (n) => t.recordsView().get(n)?.state).hasQuorum);
      }
      rebuilt += t.stats.viewRebuilds > 0 ? 1 : 0;
      patched += t.stats.viewChanges > t.stats.viewRebuilds ? 1 : 0;
    }), { seed: propertySeed(1616), numRuns: 200 });
    // Both ways of computing the view were exercised.
    expect(rebuilt).toBeGreaterThan(0);
    expect(patched).toBeGreaterThan(0);
  });

  it('a change of one member in a 1,000-member view patches the view (no rebuild from all records)', () => {
    const t = new ViewTracker({ name: 'm0000', now: 0 });
    for (let i = 0; i < 1000; i++) t.handleMember(0, `m${i.toString().padStart(4, '0')}`, 'alive', 1);
    t.handleTimeout(0);
    const rebuilds = t.stats.viewRebuilds;
    expect(rebuilds).toBe(1);
    for (let i = 1; i < 200; i += 2) {
      t.handleMember(i, `m${i.toString().padStart(4, '0')}`, 'suspect', 1);
      t.handleTimeout(i);
    }
    t.handleMember(500, 'zz-new', 'alive', 1);
    t.handleTimeout(500);
    expect(t.stats.viewChanges).toBe(1 + 100 + 1);
    expect(t.stats.viewRebuilds).toBe(rebuilds);
    expect(t.view().members.map((m) => m.name)).toEqual(canonicalMembers(t.view().members).map((m) => m.name));
  });
});
