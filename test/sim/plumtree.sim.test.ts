import { describe, expect, it } from 'vitest';
import type { StreamOptions } from '../../src/sim/dissemination.js';
import { streamScenario } from '../../src/sim/dissemination.js';
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
