import { describe, expect, it } from 'vitest';
import type { StateScenarioOptions } from '../../src/sim/state.js';
import { stateCommand, stateScenario } from '../../src/sim/state.js';

/**
 * The idle window of `simulate state` (issue 12, item 9): once the cluster has converged and
 * settled, an idle node costs the data layer one root-only digest per idle period, whatever the
 * cluster's size, and equal roots never start an anti-entropy session.
 */
const base: Omit<StateScenarioOptions, 'nodes'> = {
  keys: 200, writes: 400, types: ['lww', 'counter', 'orset'], partitionMs: 0, loss: 0.01, crashes: 0, writeWindowMs: 10_000, drainMaxMs: 60_000,
  seed: 3, idleMs: 90_000,
};

describe('simulate state --idle (after writes, 20 and 60 nodes)', () => {
  const small = { ...base, nodes: 20 };
  const large = { ...base, nodes: 60 };
  const a = stateScenario(small);
  const b = stateScenario(large);

  it('converges, settles, loses nothing, and starts no session in the idle window', () => {
    for (const [o, r] of [[small, a], [large, b]] as const) {
      const why = stateCommand(o);
      expect(r.converged, why).toBe(true);
      expect(r.lostWrites, why).toBe(0);
      expect(r.resurrected, why).toBe(0);
      const w = r.idle;
      expect(w, why).not.toBeNull();
      if (w === null) return;
      expect(w.settle.settled, why).toBe(true);
      expect(w.nodes).toBe(o.nodes);
      expect(w.sessionsStarted, why).toBe(0);
      // Idle: digests only, no rumor and no anti-entropy byte; every tombstone was collected.
      expect(w.bytesPerNodePerSecond.data.rumor, why).toBe(0);
      expect(w.bytesPerNodePerSecond.data.antiEntropy, why).toBe(0);
      expect(w.bytesPerNodePerSecond.data.digest, why).toBeGreaterThan(0);
      expect(w.tombstones.atEnd, why).toBe(0);
      // Membership ran beside it (probes every second at least).
      expect(w.bytesPerNodePerSecond.membership.packets, why).toBeGreaterThan(0);
    }
  });

  it('costs the data layer the same bytes per node per second at 20 and 60 nodes (within 1.15×), a few bytes', () => {
    const x = a.idle?.bytesPerNodePerSecond.data.total ?? NaN;
    const y = b.idle?.bytesPerNodePerSecond.data.total ?? NaN;
    expect(Math.max(x, y) / Math.min(x, y)).toBeLessThanOrEqual(1.15);
    expect(y).toBeLessThan(5);
  });

  it('keeps the scenario’s own byte totals out of the window, and reproduces the run', () => {
    const again = stateScenario(small);
    expect({ ...again, wallMs: 0 }).toEqual({ ...a, wallMs: 0 });
    expect(stateCommand(small)).toContain('--idle 90s');
    const none = stateScenario({ ...small, idleMs: 0 });
    expect(none.idle).toBeNull();
    expect([none.rumorBytes, none.antiEntropyBytes, none.digestBytes, none.sessions]).toEqual([a.rumorBytes, a.antiEntropyBytes, a.digestBytes, a.sessions]);
  });
});
