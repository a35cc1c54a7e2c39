import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { resolveConfig } from '../../src/agent/config.js';
import { coordinateMeta, loadCoordinate } from '../../src/agent/coordinate-snapshot.js';
import type { CoordinateJson } from '../../src/agent/coordinate-routes.js';
import { AgentClient } from '../../src/cli/client.js';
import { main } from '../../src/cli/main.js';
import { freePort } from '../../src/clusterbench/ports.js';
import { MemoryStore } from '../../src/store/index.js';
import type { ClusterNode } from '../../src/index.js';
import { createNode } from '../../src/index.js';
import { capture } from '../unit/cli/capture.js';
import { SERF, SerfAgent, serfOrWarn, wireComplaints } from './serf-agent.js';
import { waitFor } from './wait.js';

const run = promisify(execFile);

/**
 * Issue 15, interop: our agent in a cluster of real serf agents exchanges network coordinates
 * in its acks. `serf rtt ours` and `serf rtt ours serfnode` print estimates, `gossip rtt
 * serfnode` prints one too, and no serf log complains about a coordinate.
 */
const SUITE = 'serf-coordinates (issue 15 interop)';
const hasSerf = serfOrWarn(SUITE);
const RTT_LINE = /^Estimated (\S+) <-> (\S+) rtt: (\d+\.\d{3}) ms$/;

async function serfRtt(a: SerfAgent, ...nodes: string[]): Promise<string> {
  const { stdout } = await run(SERF, ['rtt', `-rpc-addr=${a.rpcAddr}`, ...nodes], { timeout: 15_000 });
  return stdout.trim();
}

describe.skipIf(!hasSerf)(SUITE, () => {
  let s1: SerfAgent, s2: SerfAgent;
  let agent: Agent;
  const gossip = async (...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> => {
    const io = capture();
    const code = await main([...argv, '--http', agent.httpAddress], io);
    return { code, out: io.stdout, err: io.stderr };
  };

  beforeAll(async () => {
    s1 = await SerfAgent.start({ name: 's1' });
    s2 = await SerfAgent.start({ name: 's2', join: [s1.addr] });
    const config = resolveConfig({ flags: { name: 'ts-c', bind: `127.0.0.1:${await freePort()}`, http: '127.0.0.1:0', profile: 'lan', join: [s1.addr] } });
    agent = await Agent.start({ config, log: pino({ level: 'silent' }), store: new MemoryStore() });
  });
  afterAll(async () => {
    await agent.stop('test done', false);
    await Promise.all([s1.stop(), s2.stop()]);
  });

  it('serf rtt ours, and serf rtt ours serfnode, print estimates', async () => {
    // A serf agent caches our coordinate from the ack to its first probe of us (one member a second).
    let line = '';
    await waitFor('serf rtt ts-c to find our coordinate', 30_000, async () => {
      line = await serfRtt(s1, 'ts-c').catch(() => '');
      return RTT_LINE.test(line);
    }, () => line);
    expect(line).toMatch(/^Estimated ts-c <-> s1 rtt: \d+\.\d{3} ms$/);
    let pair = '';
    await waitFor('s2 to know ts-c\'s coordinate too', 30_000, async () => {
      pair = await serfRtt(s2, 'ts-c', 's2').catch(() => '');
      return RTT_LINE.test(pair);
    }, () => pair);
    const ms = Number(RTT_LINE.exec(pair)?.[3]);
    // Loopback: well under 50 ms (Vivaldi starts far off, but it is an estimate, not garbage).
    expect(ms).toBeGreaterThan(0);
    expect(ms).toBeLessThan(50);
    // s1 estimates ts-c <-> s2 once it has probed s2 as well.
    let third = '';
    await waitFor('s1 to know s2\'s coordinate', 30_000, async () => {
      third = await serfRtt(s1, 'ts-c', 's2').catch(() => '');
      return RTT_LINE.test(third);
    }, () => third);
    expect(third).toMatch(/^Estimated ts-c <-> s2 rtt: \d+\.\d{3} ms$/);
  });

  it('gossip rtt serfnode [serfnode2] prints an estimate as serf rtt does', async () => {
    let r = await gossip('rtt', 's1');
    await waitFor('our agent to hear s1 and s2\'s coordinates', 30_000, async () => {
      r = await gossip('rtt', 's1');
      return r.code === 0 && (await gossip('rtt', 's2')).code === 0;
    }, () => JSON.stringify(r));
    expect(r.out).toHaveLength(1);
    expect(r.out[0]).toMatch(/^Estimated s1 <-> ts-c rtt: \d+\.\d{3} ms$/);
    const both = await gossip('rtt', 's1', 's2');
    expect(both.code).toBe(0);
    expect(both.out[0]).toMatch(/^Estimated s1 <-> s2 rtt: \d+\.\d{3} ms$/);
    const json = await gossip('rtt', 's2', '--json');
    expect(JSON.parse(json.out[0] ?? '')).toMatchObject({ a: 's2', b: 'ts-c', rttMs: expect.any(Number) as number });
    const missing = await gossip('rtt', 'nobody');
    expect(missing.code).toBe(1);
    expect(missing.err.join('\n')).toMatch(/404: Could not find a coordinate for node "nobody"/);
  });

  it('the HTTP API lists every coordinate, and the node counts the acks it used and refused none', async () => {
    const c = new AgentClient({ http: agent.httpAddress });
    const all = await c.call<CoordinateJson[]>('GET', '/v1/coordinates');
    expect(all.map((x) => x.node).sort()).toEqual(['s1', 's2', 'ts-c']);
    for (const x of all) expect(x.coordinate.vec).toHaveLength(8);
    const own = await c.call<CoordinateJson>('GET', '/v1/coordinate');
    expect(own.node).toBe('ts-c');
    expect(own.coordinate.error).toBeLessThan(1.5);
    const t = agent.node.stats.topology;
    expect(t?.updates).toBeGreaterThan(0);
    expect(t?.rejected).toEqual({ undecodable: 0, version: 0, dimensions: 0, invalid: 0, 'rtt-range': 0 });
    expect(agent.node.nearest(1)).toHaveLength(1);
    expect(agent.node.nearest(5).map((e) => e.name).sort()).toEqual(['s1', 's2']);
  });

  it('no serf log complains about a coordinate or a ping version', () => {
    for (const a of [s1, s2]) {
      expect(a.log.split('\n').filter((l) => /coordinate|ping version/i.test(l))).toEqual([]);
      expect(wireComplaints(a.log)).toEqual([]);
    }
  });
});

describe.skipIf(!hasSerf)(`${SUITE}: our local-space coordinate rides after Serf's in the ack`, () => {
  let s3: SerfAgent;
  const ours: ClusterNode[] = [];

  beforeAll(async () => {
    s3 = await SerfAgent.start({ name: 's3' });
    // On loopback no round trip is wide, so 'auto' would keep acks exactly Serf's: pin the local space on.
    for (const name of ['ts-e', 'ts-f']) {
      const node = await createNode({ name, bind: `127.0.0.1:${await freePort()}`, profile: 'lan', localCoordinate: 'always' });
      await node.join([s3.addr]);
      ours.push(node);
    }
  });
  afterAll(async () => {
    await Promise.all(ours.map((n) => n.shutdown()));
    await s3.stop();
  });

  it('serf reads our extended acks (serf rtt works on both of ours), ours move their local coordinates from each other, and serf logs nothing', async () => {
    const [e, f] = ours as [ClusterNode, ClusterNode];
    await waitFor('our two nodes to move their local coordinates from each other\'s acks', 30_000, () => Promise.resolve(
      (e.stats.topology?.localUpdates ?? 0) > 0 && (f.stats.topology?.localUpdates ?? 0) > 0,
    ), () => JSON.stringify([e.stats.topology, f.stats.topology]));
    let line = '';
    await waitFor('serf rtt ts-e ts-f from s3', 30_000, async () => {
      line = await serfRtt(s3, 'ts-e', 'ts-f').catch(() => '');
      return RTT_LINE.test(line);
    }, () => line);
    expect(line).toMatch(/^Estimated ts-e <-> ts-f rtt: \d+\.\d{3} ms$/);
    for (const a of ours) {
      expect(a.stats.topology?.localRejected).toBe(0);
      expect(a.stats.topology?.rejected).toEqual({ undecodable: 0, version: 0, dimensions: 0, invalid: 0, 'rtt-range': 0 });
    }
    expect(s3.log.split('\n').filter((l) => /coordinate|ping version|decode/i.test(l))).toEqual([]);
    expect(wireComplaints(s3.log)).toEqual([]);
  });
});

describe('the agent keeps its coordinate across a restart', () => {
  it('starts from the stored coordinate, and stores it again when it stops', async () => {
    const store = new MemoryStore();
    const saved = { vec: [0.001, -0.002, 0, 0, 0, 0, 0, 0.0005], error: 0.4, adjustment: -0.0001, height: 0.0002 };
    store.saveMeta(...coordinateMeta(saved));
    const config = resolveConfig({ flags: { name: 'ts-r', bind: `127.0.0.1:${await freePort()}`, http: '127.0.0.1:0', profile: 'local' } });
    const a = await Agent.start({ config, log: pino({ level: 'silent' }), store });
    expect(a.node.coordinate()).toEqual(saved);
    expect(await new AgentClient({ http: a.httpAddress }).call('GET', '/v1/coordinate')).toEqual({ node: 'ts-r', coordinate: saved });
    store.saveMeta(...coordinateMeta({ ...saved, error: 1 })); // the agent overwrites this when it stops
    const written: Uint8Array[] = [];
    const save = store.saveSnapshot.bind(store);
    store.saveSnapshot = (s) => {
      for (const [name, value] of s.meta ?? []) if (name === 'agent.coordinate') written.push(value);
      save(s);
    };
    await a.stop('test', false);
    expect(written).toHaveLength(1);
    const reopened = new MemoryStore();
    reopened.saveMeta('agent.coordinate', written[0] as Uint8Array);
    expect(loadCoordinate(reopened)).toEqual(saved);
  });
});
