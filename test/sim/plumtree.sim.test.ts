import { describe, expect, it } from 'vitest';
import type { StreamOptions } from '../../src/sim/dissemination.js';
import { DisseminationCluster, streamScenario } from '../../src/sim/dissemination.js';
import { LATENCY_PRESETS } from '../../src/sim/latency-model.js';

/** Plumtree on the full engine: 200 nodes on the geo model, a stream of updates, loss and churn. */
const base: StreamOptions = {
  nodes: 200, seed: 3, writers: 10, updatesPerSec: 5, durationMs: 10_000, drainMs: 10_000, latency: LATENCY_PRESETS.geo,
  dissemination: { mode: 'plumtree' },
};

describe('plumtree (full engine, 200 nodes, geo)', () => {
  it('with 1 % loss and 5 % of nodes crashing and restarting, every node up at the end has every update, at ≤ 1.2 payloads per node per update', () => {
    const r = streamScenario({ ...base, network: { loss: 0.01 }, churn: { share: 0.05, downMs: 3000 } });
    expect(r.restarted).toBe(10);
    expect(r.updates).toBeGreaterThanOrEqual(45);
    expect(r.missingAtEnd).toBe(0);
    expect(r.reachedEveryone).toBe(r.updates);
    expect(r.payloadsPerNodePerUpdate).toBeLessThanOrEqual(1.2);
  });
});

describe('plumtree with SWIM membership (full engine, 40 nodes)', () => {
  it('once SWIM declares a crashed node failed, no data message goes to it, and updates still reach every live node', () => {
    const cluster = new DisseminationCluster({ nodes: 40, seed: 5, membership: 'swim', latency: LATENCY_PRESETS.lan, dissemination: { mode: 'plumtree' } });
    const { sim } = cluster;
    const victim = 7;
    const dead = sim.addrs[victim];
    let lateSends = 0;
    let judgedAt = Infinity;
    let judges = 0;
    sim.observe((now, _i, e) => {
      if (e.type !== 'member-failed' || e.member.addr !== dead) return;
      if (++judges === cluster.live) judgedAt = now; // every live node has heard
    });
    sim.observeDataSends((now, _i, t) => {
      if (t.to === dead && now > judgedAt) lateSends++;
    });
    sim.run(2000);
    cluster.crash(victim);
    const writers = [0, 13, 26, 39];
    for (let k = 0; k < 40; k++) sim.at(2000 + 1000 * k, () => cluster.publish(writers[k % 4] as number, `k${k}`, new Uint8Array(32)));
    sim.run(46_000);
    expect(judgedAt).toBeLessThan(30_000);
    expect(lateSends).toBe(0);
    let missing = 0;
    for (let i = 0; i < 40; i++) {
      if (!cluster.isUp(i)) continue;
      const d = cluster.engines[i];
      for (const w of writers) for (let v = 1; v <= 10; v++) if (d?.has(cluster.engines[w]?.origin ?? '', v) !== true) missing++;
    }
    expect(missing).toBe(0);
  });
});
