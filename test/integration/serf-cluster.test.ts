import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/core/config.js';
import type { ClusterNode } from '../../src/index.js';
import { createNode } from '../../src/index.js';
import { SerfAgent, serfOrWarn, wireComplaints } from './serf-agent.js';
import { waitFor } from './wait.js';
import { freeAddr } from './free-addr.js';

/**
 * Issue 5, items 1–4 and 7 against Debian's serf (0.9.4, reports 0.8.2-dev): our node in a
 * cluster of serf agents, a serf agent in a cluster of ours, user events both ways, a query
 * answered, and no complaint in any serf log.
 */
const SUITE = 'serf-cluster (items 1-4, 7)';
const hasSerf = serfOrWarn(SUITE);
const LAN = defaultConfig('lan');
const TAGS = { lang: 'ts', role: 'tester' };
const dec = new TextDecoder();

describe.skipIf(!hasSerf)(SUITE, () => {
  const agents: SerfAgent[] = [];
  const ours: ClusterNode[] = [];
  const logs: string[] = [];
  const ourNode = async (name: string, tags: Record<string, string> = TAGS, seed = 1): Promise<ClusterNode> =>
    createNode({ name, bind: await freeAddr(), tags, seed, logger: (level, line) => logs.push(`${name} [${level}] ${line}`) }).then((n) => {
      ours.push(n);
      return n;
    });
  const agent = async (name: string, join: readonly string[] = []): Promise<SerfAgent> => {
    const a = await SerfAgent.start({ name, join, handler: true });
    agents.push(a);
    return a;
  };
  const statusIn = (n: ClusterNode, name: string): string => n.members().find((m) => m.name === name)?.status ?? 'absent';

  // Cluster A: three serf agents, then our node joins. Cluster B: three of ours, then a serf agent joins.
  let s1: SerfAgent, s2: SerfAgent, s3: SerfAgent, s4: SerfAgent;
  let ta: ClusterNode, b1: ClusterNode, b2: ClusterNode, b3: ClusterNode;
  beforeAll(async () => {
    s1 = await agent('s1');
    [s2, s3] = await Promise.all([agent('s2', [s1.addr]), agent('s3', [s1.addr])]);
  });
  afterAll(async () => {
    await Promise.all([...ours.map((n) => n.shutdown()), ...agents.map((a) => a.stop())]);
  });

  it('item 1: our node joins 3 serf agents; each agent lists it alive with its tags within 5 s, and it lists each agent alive', async () => {
    ta = await ourNode('ts-a');
    const t0 = performance.now();
    expect(await ta.join([s1.addr])).toBe(1);
    for (const a of [s1, s2, s3]) {
      await waitFor(`${a.name} to list ts-a alive with tags`, 5000 - (performance.now() - t0), async () => {
        const m = (await a.members()).find((x) => x.name === 'ts-a');
        return m !== undefined && m.status === 'alive' && Object.entries(TAGS).every(([k, v]) => m.tags[k] === v);
      }, async () => JSON.stringify(await a.members()));
    }
    const m = (await s3.members()).find((x) => x.name === 'ts-a');
    expect(m?.addr).toBe(ta.addr);
    expect(m?.protocol).toEqual({ min: 2, max: 5, version: 5 });
    await waitFor('ts-a to list s1..s3 alive', 5000, () => ['s1', 's2', 's3'].every((n) => statusIn(ta, n) === 'alive'));
    expect(ta.members().find((x) => x.name === 's1')?.addr).toBe(s1.addr);
  });

  it('item 2: a serf agent joins a cluster of 3 of our nodes; the same, both ways', async () => {
    [b1, b2, b3] = await Promise.all([ourNode('ts-b1', { zone: 'b1' }, 11), ourNode('ts-b2', { zone: 'b2' }, 12), ourNode('ts-b3', { zone: 'b3' }, 13)]);
    await Promise.all([b2.join([b1.addr]), b3.join([b1.addr])]);
    await waitFor('ts-b1..3 to list each other', 5000, () => [b1, b2, b3].every((n) => n.members().filter((m) => m.status === 'alive').length === 3));
    const t0 = performance.now();
    s4 = await agent('s4', [b2.addr]);
    await waitFor('s4 to list ts-b1..3 alive with their tags', 5000 - (performance.now() - t0), async () => {
      const ms = await s4.members();
      return [b1, b2, b3].every((b, i) => {
        const m = ms.find((x) => x.name === b.name);
        return m !== undefined && m.status === 'alive' && m.tags['zone'] === `b${i + 1}`;
      });
    }, async () => JSON.stringify(await s4.members()));
    await waitFor('ts-b1..3 to list s4 alive', 5000, () => [b1, b2, b3].every((n) => statusIn(n, 's4') === 'alive'));
  });

  it('item 3: serf event reaches each of our nodes exactly once; our event fires every serf agent\'s handler', async () => {
    // Two clusters, A = s1..s3 + ts-a and B = ts-b1..3 + s4 (merging them through one join
    // would leave stragglers to the next push-pull, as in memberlist: gossip about the other
    // side is sent only retransmitMult × ceil(log10(n + 1)) times in all).
    const seen = new Map<string, string[]>();
    for (const n of ours) {
      n.on('user-event', (e) => {
        const list = seen.get(n.name) ?? [];
        list.push(`${e.name}:${dec.decode(e.payload)}`);
        seen.set(n.name, list);
      });
    }
    await s2.cli('event', '-coalesce=false', 'deploy', 'v1.2.3');
    await s4.cli('event', '-coalesce=false', 'deploy', 'v4.5.6');
    await waitFor('the deploy events to reach every node of ours', 5000, () => ours.every((n) => (seen.get(n.name)?.length ?? 0) >= 1));
    // Duplicates would arrive while the agents still re-gossip the event: wait out the
    // retransmit window (retransmitMult × ceil(log10(n + 1)) gossip rounds, twice) before counting.
    const windowMs = LAN.retransmitMult * Math.ceil(Math.log10(4 + 1)) * LAN.gossipIntervalMs * 2;
    await new Promise((r) => setTimeout(r, windowMs));
    expect(seen.get('ts-a')).toEqual(['deploy:v1.2.3']);
    for (const n of [b1, b2, b3]) expect(seen.get(n.name), n.name).toEqual(['deploy:v4.5.6']);
    // Every copy beyond the first was recognised as a duplicate, not delivered.
    expect(ours.reduce((sum, n) => sum + n.stats.serf.duplicateMessages, 0)).toBeGreaterThan(0);

    ta.sendEvent('from-ts', 'hello serf', { coalesce: false });
    b2.sendEvent('from-ts', 'hello serf', { coalesce: false });
    for (const a of [s1, s2, s3, s4]) {
      await waitFor(`${a.name}'s handler to run for from-ts`, 5000, () => a.events().some((e) => e[0] === 'user' && e[1] === 'from-ts' && e[3] === 'hello serf'), () => JSON.stringify(a.events()));
    }
    // Our own nodes get our event too, once, as serf's would.
    await waitFor('from-ts to reach ts-b1 and ts-b3', 5000, () => [b1, b3].every((n) => seen.get(n.name)?.includes('from-ts:hello serf') === true));
    for (const a of [s1, s2, s3, s4]) expect(a.events().filter((e) => e[1] === 'from-ts'), a.name).toHaveLength(1);
  });

  it('item 4: serf query gets our node\'s answer', async () => {
    for (const n of ours) {
      n.on('query', (q) => {
        if (q.name === 'whoami') n.respond(q, `I am ${n.name}`);
      });
    }
    const ask = async (a: SerfAgent): Promise<{ Acks: string[]; Responses: Record<string, string> }> =>
      JSON.parse(await a.cli('query', '-format=json', '-timeout=1s', 'whoami', 'please')) as { Acks: string[]; Responses: Record<string, string> };
    const [fromA, fromB] = await Promise.all([ask(s3), ask(s4)]);
    expect(fromA.Acks).toContain('ts-a');
    expect(fromA.Responses['ts-a']).toBe('I am ts-a');
    for (const n of [b1, b2, b3]) {
      expect(fromB.Acks).toContain(n.name);
      expect(fromB.Responses[n.name]).toBe(`I am ${n.name}`);
    }
    // Relayed responses (serf protocol 5): copies of each answer also travel through 2 members.
    const relayed = JSON.parse(await s4.cli('query', '-format=json', '-timeout=1s', '-relay-factor=2', 'whoami', 'again')) as { Acks: string[]; Responses: Record<string, string> };
    for (const n of [b1, b2, b3]) expect(relayed.Responses[n.name]).toBe(`I am ${n.name}`);
    // And our node asks (relayed too): the serf agent acks (it has no handler that answers), ours answer.
    const r = await b1.query('whoami', 'please', { requestAck: true, timeoutMs: 1000, relayFactor: 2 });
    expect([...r.acks].sort()).toEqual(['s4', 'ts-b1', 'ts-b2', 'ts-b3']);
    expect(dec.decode(r.responses.get('ts-b3'))).toBe('I am ts-b3');
    expect(r.responses.has('s4')).toBe(false);
  });

  it('IPv6: our node on [::1] joins a serf agent on [::1], both list each other alive', async () => {
    const s6 = await SerfAgent.start({ name: 's6', host: '::1' });
    agents.push(s6);
    const t6 = await createNode({ name: 'ts-6', bind: await freeAddr('::1'), seed: 6, logger: (level, line) => logs.push(`ts-6 [${level}] ${line}`) });
    ours.push(t6);
    expect(t6.addr).toMatch(/^\[::1\]:\d+$/);
    await t6.join([s6.addr]);
    await waitFor('s6 to list ts-6 alive at its IPv6 address', 5000, async () => (await s6.members()).some((m) => m.name === 'ts-6' && m.status === 'alive' && m.addr === t6.addr));
    await waitFor('ts-6 to list s6 alive', 5000, () => t6.members().some((m) => m.name === 's6' && m.status === 'alive' && m.addr === s6.addr));
  });

  it('item 7: no serf agent logs a warning about unknown or undecodable messages in the mixed cluster', async () => {
    // Our data layer talks in the same clusters: gossiped and direct (packet and stream) data
    // messages among our nodes, none of them to a serf agent.
    const data: string[] = [];
    for (const n of ours) n.on('data-message', (e) => data.push(`${n.name}<-${e.node ?? '?'}:${e.dataType}:${dec.decode(e.payload)}`));
    const enc = new TextEncoder();
    b1.broadcastData(0x80, enc.encode('gossiped'));
    ta.broadcastData(0x81, enc.encode('nobody-to-tell'));
    expect(b1.sendData('ts-b2', 0x82, enc.encode('packet'))).toBe(true);
    expect(b1.sendData('ts-b3', 0x83, enc.encode('stream'), { reliable: true })).toBe(true);
    expect(b1.sendData('s4', 0x82, enc.encode('not ours'))).toBe(false);
    await waitFor('the data messages to arrive', 5000, () =>
      // (a stream arrives from an ephemeral port, so its sender has no name: `?`; gossiped data
      // may arrive more than once, the data layer's merges are idempotent)
      ['ts-b2<-ts-b1:128:gossiped', 'ts-b3<-ts-b1:128:gossiped', 'ts-b2<-ts-b1:130:packet', 'ts-b3<-?:131:stream'].every((x) => data.includes(x)),
    () => JSON.stringify(data));
    // Serf gossips on every 200 ms tick: give the agents a retransmit window to log a complaint.
    await new Promise((r) => setTimeout(r, LAN.retransmitMult * LAN.gossipIntervalMs * 2));
    expect(data.filter((x) => x.includes('nobody-to-tell'))).toEqual([]);
    for (const a of agents) expect(wireComplaints(a.log), `${a.name} log`).toEqual([]);
    for (const n of ours) expect(n.stats.driver.rejectedTotal, `${n.name} rejected`).toBe(0);
    expect(logs.filter((l) => /rejected/.test(l))).toEqual([]);
  });
});
