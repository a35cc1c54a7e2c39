import { describe, expect, it } from 'vitest';
import type { StateCluster, StateScenarioOptions } from '../../src/sim/state.js';
import { stateCommand, stateScenario } from '../../src/sim/state.js';

/**
 * Issue 12, item 9: at 1,000 nodes with writes the simulator ran out of 12 GiB because every node
 * kept every member's latest version summary (O(writers) each): O(members × writers) per node.
 * A node now reads a summary as it arrives and keeps only a few to relay, so what its digests,
 * convergence tracker and stability generations hold grows with the writers, not with members ×
 * writers. Counted here as the version-summary entries (origin → counter) reachable from those
 * three parts of each node, after writes from every node, at 20 and at 60 nodes.
 */
const base: Omit<StateScenarioOptions, 'nodes'> = {
  keys: 200, writes: 600, types: ['lww', 'counter', 'orset'], partitionMs: 0, loss: 0.01, crashes: 0, writeWindowMs: 10_000, drainMaxMs: 30_000, seed: 5,
};

/** Entries of every Map reachable from `roots` (each Map counted once). */
function mapEntries(roots: readonly unknown[]): number {
  const seen = new Set<object>();
  const stack: unknown[] = [...roots];
  let n = 0;
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null || seen.has(v) || ArrayBuffer.isView(v)) continue;
    seen.add(v);
    if (v instanceof Map) {
      n += v.size;
      for (const [k, x] of v) stack.push(k, x);
    } else if (v instanceof Set || Array.isArray(v)) for (const x of v) stack.push(x);
    else for (const [k, x] of Object.entries(v)) if (k !== 'live' && k !== 'keys' && k !== 'out' && k !== 'digests' && k !== 'tracker') stack.push(x);
  }
  return n;
}

/** Mean per live node of the summary entries its digests, tracker and stability parts hold. */
function heldPerNode(c: StateCluster): number {
  let total = 0;
  let nodes = 0;
  for (const s of c.states) {
    if (s === null) continue;
    const parts = s as unknown as { digests: unknown; tracker: unknown; stability: unknown };
    total += mapEntries([parts.digests, parts.tracker, parts.stability]);
    nodes++;
  }
  return total / nodes;
}

describe('simulate state: what a node holds of others’ summaries (20 and 60 nodes, every node writing)', () => {
  const held: number[] = [];
  const runs = [20, 60].map((nodes) => {
    const o = { ...base, nodes };
    return { o, r: stateScenario({ ...o, inspect: (c) => held.push(heldPerNode(c)) }) };
  });

  it('converges and loses nothing', () => {
    for (const { o, r } of runs) {
      expect(r.converged, stateCommand(o)).toBe(true);
      expect(r.lostWrites, stateCommand(o)).toBe(0);
    }
  });

  it('grows with the writers (3× the nodes: at most 4× the entries per node), not members × writers (9×)', () => {
    const [small, large] = held as [number, number];
    expect(small).toBeGreaterThan(0);
    expect(large / small).toBeLessThanOrEqual(4);
  });
});
