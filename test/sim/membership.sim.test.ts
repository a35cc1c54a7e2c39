import { describe, expect, it } from 'vitest';
import { suspicionTimeoutMs } from '../../src/core/membership/suspicion.js';
import { defaultConfig } from '../../src/core/config.js';
import { membershipScenario, runMembership } from '../../src/sim/membership.js';
import { Simulator } from '../../src/sim/simulator.js';

/** Every failing simulation names its seed: `gossip simulate membership --seed S ...` reproduces it. */
const repro = (seed: number, args: string): string => `seed ${seed}: gossip simulate membership --seed ${seed} ${args}`;

describe('deterministic simulation', () => {
  it('same seed ⇒ identical trace and results; another seed ⇒ another trace', () => {
    const sc = membershipScenario({ nodes: 120, seed: 11, durationMs: 60_000, loss: 0.05, crash: 2, stall: 2, network: { duplicate: 0.01, reorder: 0.02 } });
    const a = runMembership(sc);
    const b = runMembership(sc);
    expect(b.traceHash).toBe(a.traceHash);
    expect({ ...b, wallMs: 0 }).toEqual({ ...a, wallMs: 0 });
    const c = runMembership({ ...sc, seed: 12 });
    expect(c.traceHash).not.toBe(a.traceHash);
  });
});

describe('SWIM + Lifeguard membership (seeded scenarios)', () => {
  it('200 nodes join within the window and all see each other alive; crashes are detected by everyone within the suspicion bounds', () => {
    const seed = 2024;
    const n = 200;
    const r = runMembership(membershipScenario({ nodes: n, seed, durationMs: 120_000, crash: 4 }));
    const why = repro(seed, `--nodes ${n} --duration 120s --crash 4`);
    expect(r.joinConvergedMs, why).not.toBeNull();
    expect(r.joinConvergedMs as number, why).toBeLessThanOrEqual(60_000);
    expect(r.crashes, why).toBe(4);
    expect(r.detection.undetected, why).toBe(0);
    // Nobody can declare a node dead before the minimum suspicion timeout has run.
    const cfg = defaultConfig('lan');
    const minMs = suspicionTimeoutMs(cfg.suspicionMult, n, cfg.probeIntervalMs);
    expect(r.detection.p50Ms as number, why).toBeGreaterThanOrEqual(minMs);
    // ...and every live node has done so well before the maximum suspicion timeout plus a probe round.
    expect(r.detection.maxMs as number, why).toBeLessThanOrEqual(cfg.suspicionMaxTimeoutMult * minMs);
    expect(r.falsePositives, why).toBe(0);
    expect(r.finalAgreement, why).toBe(1);
  });

  it('5% packet loss, no crashes: suspicions are refuted, nobody is declared dead', () => {
    for (const seed of [1, 2]) {
      const r = runMembership(membershipScenario({ nodes: 150, seed, durationMs: 120_000, loss: 0.05 }));
      const why = repro(seed, '--nodes 150 --duration 120s --loss 0.05');
      expect(r.falsePositives, why).toBe(0);
      expect(r.refutations, why).toBeGreaterThanOrEqual(r.falseSuspicions);
      expect(r.finalAgreement, why).toBe(1);
    }
  });

  it('stalled nodes: Lifeguard declares far fewer live nodes dead than plain SWIM', () => {
    const seed = 77;
    const base = membershipScenario({ nodes: 200, seed, durationMs: 240_000, stall: 8 });
    const plain = runMembership({ ...base, lifeguard: false });
    const lifeguard = runMembership(base);
    const why = `${repro(seed, '--nodes 200 --duration 240s --stall 8 [--no-lifeguard]')}: plain ${plain.falsePositives}, lifeguard ${lifeguard.falsePositives}`;
    expect(plain.falsePositivesHealthy, why).toBeGreaterThanOrEqual(20);
    expect(lifeguard.falsePositivesHealthy * 10, why).toBeLessThanOrEqual(plain.falsePositivesHealthy);
    expect(lifeguard.falsePositives * 5, why).toBeLessThanOrEqual(plain.falsePositives);
  });

  it('named scenario: a node isolated for 20 s is declared dead, then refutes and is back after the heal', () => {
    const seed = 5;
    const n = 40;
    const sim = new Simulator({ seed, nodes: n, config: defaultConfig('lan'), events: ['member-failed', 'self-refuted'] });
    let failed = 0;
    let refuted = 0;
    const isolated = 7;
    sim.observe((_now, at, e) => {
      if (e.type === 'member-failed' && e.member.name === sim.names[isolated]) failed++;
      if (e.type === 'self-refuted' && at === isolated) refuted++;
    });
    for (let i = 0; i < n; i++) sim.at(i * 50, () => sim.join(i, i === 0 ? [] : [0]));
    sim.run(30_000);
    const aliveEverywhere = (): boolean => sim.nodes.every((node) => node !== null && node.countIn('alive') === n);
    expect(aliveEverywhere(), `seed ${seed}`).toBe(true);
    sim.partition(Array.from({ length: n }, (_, i) => (i === isolated ? 1 : 0)));
    sim.run(50_000);
    expect(failed, `seed ${seed}`).toBeGreaterThan(0);
    expect(sim.nodes[0]?.statusOf(sim.names[isolated] as string), `seed ${seed}`).toBe('dead');
    sim.heal();
    sim.run(90_000);
    expect(refuted, `seed ${seed}`).toBeGreaterThan(0);
    expect(aliveEverywhere(), `seed ${seed}`).toBe(true);
  });
});

describe('simulator bookkeeping', () => {
  it('a packet’s byte count is exactly the encoded size of what it carries, and never over the 1,400-byte budget', async () => {
    const { messageBytes } = await import('../../src/core/messages.js');
    const seed = 21;
    const n = 60;
    const sim = new Simulator({ seed, nodes: n, config: defaultConfig('lan'), network: { loss: 0.05 } });
    for (let i = 0; i < n; i++) sim.at(i * 20, () => sim.join(i, i === 0 ? [] : [0, 1]));
    sim.at(20_000, () => sim.crash(9));
    // Observe every transmit by wrapping each node's pollTransmit once it exists.
    let checked = 0;
    let overBudget = 0;
    let mismatched = 0;
    const wrap = (): void => {
      for (const node of sim.nodes) {
        if (node === null || (node as unknown as { __wrapped?: boolean }).__wrapped) continue;
        const orig = node.pollTransmit.bind(node);
        (node as unknown as { __wrapped: boolean }).__wrapped = true;
        node.pollTransmit = () => {
          const t = orig();
          if (t?.kind === 'packet') {
            checked++;
            if (messageBytes(t.message) !== t.bytes) mismatched++;
            if (t.bytes > 1400) overBudget++;
          }
          return t;
        };
      }
    };
    for (let t = 0; t <= 60_000; t += 500) sim.at(t, wrap);
    sim.run(60_000);
    expect(checked, `seed ${seed}`).toBeGreaterThan(1000);
    expect(mismatched, `seed ${seed}`).toBe(0);
    expect(overBudget, `seed ${seed}`).toBe(0);
  });

  it('a crashed node that restarts with a fresh process refutes its old death and is alive everywhere again', () => {
    const seed = 8;
    const n = 30;
    const sim = new Simulator({ seed, nodes: n, config: defaultConfig('lan'), events: ['self-refuted'] });
    let refutedAt = -1;
    sim.observe((_now, at, e) => {
      if (e.type === 'self-refuted' && at === 4) refutedAt = e.incarnation;
    });
    for (let i = 0; i < n; i++) sim.at(i * 30, () => sim.join(i, i === 0 ? [] : [0]));
    sim.at(20_000, () => sim.crash(4));
    sim.run(60_000);
    expect(sim.nodes[0]?.statusOf(sim.names[4] as string), `seed ${seed}`).toBe('dead');
    const deadAt = sim.nodes[0]?.member(sim.names[4] as string)?.incarnation as number;
    sim.at(60_001, () => sim.join(4, [0])); // a new process: incarnation starts at 1 again
    sim.run(90_000);
    expect(refutedAt, `seed ${seed}`).toBeGreaterThan(deadAt);
    for (const node of sim.nodes) expect(node?.statusOf(sim.names[4] as string), `seed ${seed}`).toBe('alive');
  });
});
