import { describe, expect, it } from 'vitest';
import type { StateScenarioOptions } from '../../src/sim/state.js';
import { StateOracle, stateCommand, stateScenario } from '../../src/sim/state.js';
import { Replica } from '../../src/core/replica/replica.js';
import { nodeName } from '../../src/core/ids.js';

const base: Omit<StateScenarioOptions, 'seed'> = {
  nodes: 24, keys: 500, writes: 2000, types: ['lww', 'counter', 'orset'], partitionMs: 10_000, loss: 0.05, crashes: 3, writeWindowMs: 40_000, drainMaxMs: 60_000,
  sampleEvery: 10,
};

describe('simulate state (small scenario: 24 nodes, 500 keys, 2,000 writes in 40 s, 10 s partition, 5 % loss, 3 crashes)', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: converges after the heal with no lost or resurrected write`, () => {
      const o = { ...base, seed };
      const r = stateScenario(o);
      const why = `seed ${seed} failed; reproduce with: ${stateCommand(o)}`;
      expect(r.converged, why).toBe(true);
      expect(r.convergedAfterHealMs, why).not.toBeNull();
      expect(r.lostWrites, why).toBe(0);
      expect(r.resurrected, why).toBe(0);
      expect(r.agreementOneAfterHealMs, why).not.toBeNull();
      expect(r.acknowledged.lww + r.acknowledged.counter + r.acknowledged.orset).toBe(2000);
      expect(r.rumorBytes).toBeGreaterThan(0);
      expect(r.antiEntropyBytes).toBeGreaterThan(0);
      // The partition and the crashes left work for anti-entropy.
      expect(r.repaired).toBeGreaterThan(0);
      expect(r.siblingsMax).toBeLessThanOrEqual(1);
      // Deletes were collected along the way (stability generations), and the nodes still met.
      expect(r.tombstonesCollected, why).toBeGreaterThan(0);
      expect(r.timeToEveryone.samples, why).toBeGreaterThan(0);
      // The simulator saw the sampled writes (every 10th of each node) reach every replica.
      expect(r.simTimeToEveryone.samples, why).toBeGreaterThan(100);
      expect(r.simTimeToEveryone.maxMs, why).toBeGreaterThan(0);
    });
  }

  it("with the agent's tuning (broadcast tree, repair grace) it converges with nothing lost, also through the partition, loss and crashes", () => {
    const o = { ...base, agentTuning: true, seed: 5 };
    const r = stateScenario(o);
    const why = `failed; reproduce with: ${stateCommand(o)}`;
    expect(stateCommand(o)).toContain('--agent-tuning');
    expect(r.converged, why).toBe(true);
    expect(r.lostWrites, why).toBe(0);
    expect(r.resurrected, why).toBe(0);
    // What the tree missed (the cut, lost packets, crashed subtrees) anti-entropy repaired.
    expect(r.repaired, why).toBeGreaterThan(0);
  });

  it("the agent's tuning spreads a write at one copy per member: a third of the rumors' bytes at 30 nodes and 20 writes/s", () => {
    const load = { nodes: 30, keys: 600, writes: 600, types: ['lww'] as const, partitionMs: 0, loss: 0, crashes: 0, writeWindowMs: 30_000, drainMaxMs: 20_000, sampleEvery: 10 };
    const rumors = stateScenario({ ...load, types: ['lww'], seed: 1 });
    const tree = stateScenario({ ...load, types: ['lww'], agentTuning: true, seed: 1 });
    expect(tree.lostWrites).toBe(0);
    // Each member gets each write once (29 copies of a message of about 58 bytes), against about three copies and feedback.
    const perNodePerWrite = (b: number): number => b / 30 / 600;
    expect(perNodePerWrite(tree.rumorBytes)).toBeLessThan(70);
    expect(perNodePerWrite(rumors.rumorBytes)).toBeGreaterThan(3 * perNodePerWrite(tree.rumorBytes));
    // And the sessions that chased rumors in flight are gone.
    expect(tree.sessions.started).toBeLessThan(rumors.sessions.started / 5);
    // Every node reports agreement 1 soon after the writes.
    expect(tree.agreementOneAfterHealMs, 'agreement 1 reported after the writes').not.toBeNull();
    expect(tree.agreementOneAfterHealMs ?? Infinity).toBeLessThanOrEqual(20_000);
    // Digests relay one summary beside their own (summaries grow with the writers): fewer digest bytes than with four.
    const four = stateScenario({ ...load, types: ['lww'], agentTuning: true, seed: 1, state: { summariesPerMessage: 4 } });
    expect(tree.digestBytes).toBeLessThan(0.95 * four.digestBytes);
    expect(four.lostWrites).toBe(0);
  });

  it('anti-entropy alone (no rumors) also converges with nothing lost', () => {
    const o = { ...base, writes: 1000, rumors: false, seed: 4 };
    const r = stateScenario(o);
    expect(r.converged, stateCommand(o)).toBe(true);
    expect(r.lostWrites).toBe(0);
    expect(r.rumorBytes).toBe(0);
  });

  it('is deterministic for a seed', () => {
    const o = { ...base, nodes: 12, writes: 500, seed: 9 };
    const a = stateScenario(o);
    const b = stateScenario(o);
    expect({ ...a, wallMs: 0 }).toEqual({ ...b, wallMs: 0 });
  });
});

describe('StateOracle (independent of any replica state)', () => {
  it('flags a missing LWW winner, a wrong counter, a missing add and a resurrected element', () => {
    const o = new StateOracle();
    const r = new Replica({ node: nodeName('n'), resolvers: { 'c/': { type: 'pncounter' }, 's/': { type: 'orset' } } });
    r.put(1, 'l/1', 'old');
    o.ackLww('l/1', { l: 5, c: 0, dot: { origin: 'x', counter: 1 }, value: 'newer' }); // never reached r
    r.increment(2, 'c/1', 3);
    o.ackCount('c/1', 3);
    o.ackCount('c/1', 2); // the second increment never reached r
    o.ackAdd('s/1', 'e1', { origin: 'x', counter: 2 }); // missing in r
    r.add(3, 's/1', 'e2');
    // e2's add is acknowledged with r's dot, then removed with a context covering it.
    const dot = { origin: 'n', counter: 3 };
    o.ackAdd('s/1', 'e2', dot);
    o.ackRemove('s/1', 'e2', [dot]);
    const v = o.check(r);
    expect(v.lost).toEqual({ lww: 1, counter: 1, orset: 1 });
    expect(v.resurrected).toBe(1);
  });

  it('an add concurrent with a remove survives (add wins); a covered one does not', () => {
    const o = new StateOracle();
    o.ackAdd('s/1', 'e', { origin: 'a', counter: 1 });
    o.ackAdd('s/1', 'e', { origin: 'b', counter: 4 });
    o.ackRemove('s/1', 'e', [{ origin: 'a', counter: 1 }]);
    expect(o.expectedSet('s/1')).toEqual(['e']);
    o.ackRemove('s/1', 'e', [{ origin: 'b', counter: 9 }]);
    expect(o.expectedSet('s/1')).toEqual([]);
  });

  it('the LWW winner is the highest (l, c), then origin, then counter', () => {
    const o = new StateOracle();
    o.ackLww('k', { l: 10, c: 1, dot: { origin: 'a', counter: 1 }, value: 'a' });
    o.ackLww('k', { l: 10, c: 1, dot: { origin: 'b', counter: 1 }, value: 'b' });
    o.ackLww('k', { l: 9, c: 7, dot: { origin: 'z', counter: 9 }, value: 'z' });
    expect(o.lww.get('k')?.value).toBe('b');
    o.ackLww('k', { l: 10, c: 2, dot: { origin: 'a', counter: 2 }, value: null });
    expect(o.lww.get('k')?.value).toBeNull();
  });
});
