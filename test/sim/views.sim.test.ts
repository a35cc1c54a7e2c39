import { describe, expect, it } from 'vitest';
import { runJoinWave } from '../../src/sim/views-join-wave.js';
import { runPartitions, runViewChanges } from '../../src/sim/views.js';

describe('agreed membership views in the simulator (issue 16)', () => {
  it('after a join, a crash and a leave every live node reports the same stable view within spread + settle (+ the notes\' spread), and no stable report is ever contradicted', () => {
    const settleMs = 2000;
    const r = runViewChanges({ nodes: 60, seed: 16, loss: 0.02, settleMs });
    expect(r.initialStableMs).not.toBeNull();
    expect(r.checker.checks).toBeGreaterThan(60 * 3);
    expect(r.checker.violations, `seed 16: ${r.checker.firstViolation}`).toBe(0);
    for (const c of r.changes) {
      expect(c.missing, c.change).toBe(0);
      expect(c.distinctStable, c.change).toBe(1);
      // The last node reports within settle + 3 s of the change having reached everyone.
      expect(c.afterSpreadMs, c.change).not.toBeNull();
      expect(c.afterSpreadMs as number, c.change).toBeLessThanOrEqual(settleMs + 3000);
    }
  });

  it('70/30 and 50/50 splits then heal: the 70 side keeps quorum, sides without a majority lose it within suspicion + settle, all regain it after the heal', () => {
    const r = runPartitions({ nodes: 60, seed: 16, loss: 0.02, settleMs: 2000 });
    expect(r.checker.violations, `seed 16: ${r.checker.firstViolation}`).toBe(0);
    for (const s of r.splits) {
      expect(s.majorityLosses, s.split).toBe(0);
      expect(s.lost.missing, s.split).toBe(0);
      expect(s.lost.maxMs as number, s.split).toBeLessThanOrEqual(s.boundMs);
      expect(s.minorityClaims, s.split).toBe(0);
      expect(s.regained.missing, s.split).toBe(0);
      expect(s.stableAfterHealMs, s.split).not.toBeNull();
    }
    expect(r.splits.map((s) => s.split)).toEqual(['70/30', '50/50']);
  });
});

describe('what view notes cost around a join wave (issue 12 vs 16)', () => {
  it('10 of 100 nodes join: one stable view everywhere, no contradicted report, and once settled the notes are a small part of the packet bytes (a note goes out only while it has something to tell)', () => {
    const r = runJoinWave({ nodes: 100, joiners: 10, seed: 16, loss: 0.02, settleMs: 2000 });
    expect(r.stableMs).not.toBeNull();
    expect(r.checker.violations, `seed 16: ${r.checker.firstViolation}`).toBe(0);
    // Before the budget (a 5 s window of one note on every packet after any progress) they were a quarter.
    expect(r.after.piggybackedBytesPerNodeS + r.after.directBytesPerNodeS).toBeLessThan(0.08 * r.after.packetBytesPerNodeS);
    // At most one note per gossip round (5/s) while the wave settles.
    expect(r.during.notesPerNodeS).toBeLessThanOrEqual(5.5);
  });
});
