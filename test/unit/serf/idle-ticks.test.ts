import { describe, expect, it, vi } from 'vitest';
import { defaultConfig } from '../../../src/core/config.js';
import { SerfCluster, bytes, ofType } from './cluster.js';

/**
 * Issue 12 (CPU per idle agent): with nothing queued, a node runs no gossip rounds, so its one
 * timer wakes for probes only (memberlist's 200 ms gossip ticker would wake it five times more
 * often, each wake running the whole stack in unoptimised code); news still leaves on the next tick.
 * The agent sets `gossipIdleTicks: false`; the core's default keeps memberlist's ticker.
 */
describe('SerfNode: an idle node wakes for its probes only', () => {
  function settled(): SerfCluster {
    const c = new SerfCluster(defaultConfig('lan', { gossipIdleTicks: false })); // the agent's setting
    const a = c.add('a');
    for (const name of ['b', 'c', 'd']) {
      const n = c.add(name);
      c.runFor(5);
      n.join(c.at(), [a.addr]);
    }
    c.runFor(20_000); // joins, intents and their retransmits are over
    return c;
  }

  it('over 10 idle seconds each node wakes about once per probe interval, not every gossip interval', () => {
    const c = settled();
    const { probeIntervalMs, gossipIntervalMs } = c.config;
    const spies = [...c.nodes.values()].map((n) => vi.spyOn(n, 'handleTimeout'));
    for (const n of c.nodes.values()) expect(n.queueDepth).toBe(0);
    c.runFor(10_000);
    for (const s of spies) {
      // probes (and their acks' deadlines) only: 10 s / 1 s; the gossip ticker alone would be 10 s / 200 ms = 50
      expect(s.mock.calls.length).toBeGreaterThanOrEqual(10_000 / probeIntervalMs - 1);
      expect(s.mock.calls.length).toBeLessThan(10_000 / gossipIntervalMs / 2);
    }
  });

  it('a user event queued on an idle node is gossiped at once, and reaches everyone', () => {
    const c = settled();
    const a = [...c.nodes.values()][0];
    if (a === undefined) throw new Error('no node');
    c.runFor(3_333); // some arbitrary phase of the idle ticker
    const from = c.packets.length;
    const t0 = c.now;
    a.userEvent(c.at(), 'deploy', bytes('v1'), false);
    c.runFor(c.config.gossipIntervalMs * 5);
    const first = c.packets.slice(from).find((p) => p.from === a.addr);
    expect(first).toBeDefined();
    expect((first?.at ?? Infinity) - t0).toBeLessThanOrEqual(c.config.gossipIntervalMs);
    c.runFor(2_000);
    for (const n of c.nodes.values()) expect(ofType(c.eventsOf(n), 'user-event').map((e) => e.name)).toEqual(['deploy']);
  });
});
