/**
 * User events between real agents (in-process, real sockets): every event reaches every live
 * node exactly once, through a UDP outage with a rejoin in the middle (the push-pull repairs
 * what gossip missed), and through a restart and a new member joining while events stream.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { resolveConfig } from '../../src/agent/config.js';
import { freePort } from '../../src/clusterbench/ports.js';
import type { NodeOptions } from '../../src/runtime/cluster-node.js';
import { MemoryStore } from '../../src/store/index.js';
import { faultSwitch } from './fault-switch.js';
import { waitFor } from './wait.js';
import { freeAddr } from './free-addr.js';

const dir = mkdtempSync(join(tmpdir(), 'gossip-events-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An agent whose log lines are kept: `events()` lists the user events it delivered, in order. */
interface Started { readonly agent: Agent; readonly events: () => string[] }
async function start(name: string, o: { join?: string[]; port?: number; dataDir?: string; transport?: NodeOptions['transport'] } = {}): Promise<Started> {
  const lines: string[] = [];
  const log = pino({ level: 'info' }, { write: (l: string) => lines.push(l) });
  const port = o.port ?? await freePort();
  const config = resolveConfig({
    flags: { name, bind: `127.0.0.1:${port}`, http: await freeAddr(), profile: 'local', join: o.join ?? [], ...(o.dataDir !== undefined ? { dataDir: o.dataDir } : {}) },
  });
  const agent = await Agent.start({
    config, log, ...(o.dataDir === undefined ? { store: new MemoryStore() } : {}), ...(o.transport !== undefined ? { transport: o.transport } : {}),
  });
  const events = (): string[] => lines.map((l) => JSON.parse(l) as { msg: string; event?: string }).filter((l) => l.msg === 'user event').map((l) => l.event ?? '');
  return { agent, events };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const sorted = (xs: readonly string[]): string[] => [...xs].sort();
const alive = (a: Agent): number => a.node.members().filter((m) => m.status === 'alive').length;

describe('user events between agents', () => {
  it('events sent while a node\'s UDP is blocked (and it rejoins meanwhile) reach it after, exactly once, as they reach everyone', async () => {
    const cPort = await freePort();
    const sw = faultSwitch(`127.0.0.1:${cPort}`, 1000);
    const a = await start('ea');
    const b = await start('eb', { join: [a.agent.node.addr] });
    const c = await start('ec', { join: [a.agent.node.addr], port: cPort, transport: sw.transport });
    const all = [a, b, c];
    try {
      await waitFor('three alive everywhere', 10_000, () => all.every((x) => alive(x.agent) === 3));
      const names: string[] = [];
      const fire = async (n: number): Promise<void> => {
        for (let i = 0; i < n; i++) {
          const name = `u${names.length}`;
          names.push(name);
          (names.length % 2 === 0 ? a : b).agent.node.sendEvent(name, 'x', { coalesce: false });
          await sleep(100);
        }
      };
      // Cut off for half a second (no push-pull may repair it yet), then only UDP.
      sw.blocked.udp = true;
      sw.blocked.tcp = true;
      await fire(5);
      await sleep(300); // (gossip with a retransmit limit may miss b too: the push-pull repairs that as well)
      expect(c.events()).toEqual([]);
      sw.blocked.tcp = false;
      // A rejoin while UDP is still cut (the agent rejoins after refuting an accuser, or when it
      // retries a join): its push-pull must not raise the event floor over what c has not received.
      await c.agent.joinCluster();
      await fire(5);
      await sleep(1000);
      sw.blocked.udp = false;
      await waitFor('every event at every node', 45_000, () => all.every((x) => x.events().length >= names.length), () => JSON.stringify(all.map((x) => x.events())));
      await sleep(500);
      for (const x of all) expect(sorted(x.events())).toEqual(sorted(names));
      expect(c.agent.node.stats.serf.oldDropped.event['below-floor'] + c.agent.node.stats.serf.oldDropped['replayed-event']['below-floor']).toBe(0);
    } finally {
      for (const x of all.reverse()) await x.agent.stop('done', false);
    }
  }, 90_000);

  it('while 40 events stream, a node restarts and another joins: every live node gets each event once (across the restarted node\'s two lives)', async () => {
    const cPort = await freePort();
    const cDir = join(dir, 'rc');
    const a = await start('ra');
    const b = await start('rb', { join: [a.agent.node.addr] });
    let c = await start('rc', { join: [a.agent.node.addr], port: cPort, dataDir: cDir });
    const c1 = c;
    let d: Started | null = null;
    const names: string[] = [];
    try {
      await waitFor('three alive everywhere', 10_000, () => [a, b, c].every((x) => alive(x.agent) === 3));
      for (let i = 0; i < 40; i++) {
        const name = `r${i}`;
        names.push(name);
        (i % 2 === 0 ? a : b).agent.node.sendEvent(name, String(i), { coalesce: false });
        if (i === 10) await c.agent.stop('restart', false);
        if (i === 18) c = await start('rc', { join: [a.agent.node.addr], port: cPort, dataDir: cDir });
        if (i === 25) d = await start('rd', { join: [b.agent.node.addr] });
        await sleep(100);
      }
      const live = (): Started[] => [a, b, c, ...(d !== null ? [d] : [])];
      const cAll = (): string[] => [...c1.events(), ...c.events()];
      await waitFor('every event at every live node', 45_000, () => [a, b, d].every((x) => (x?.events().length ?? 0) >= 40) && cAll().length >= 40,
        () => JSON.stringify({ a: a.events().length, b: b.events().length, c1: c1.events(), c2: c.events(), d: d?.events().length }));
      await sleep(500);
      for (const x of [a, b, d]) expect(sorted(x?.events() ?? [])).toEqual(sorted(names));
      expect(sorted(cAll())).toEqual(sorted(names));
      // The second life de-duplicated against the first's saved event buffer (store meta agent.events).
      expect(c.agent.node.recentEvents().flatMap((x) => x.events.map((e) => e.name))).toEqual(expect.arrayContaining(c1.events()));
      expect(live()).toHaveLength(4);
    } finally {
      for (const x of [d, c, b, a]) if (x !== null) await x.agent.stop('done', false);
    }
  }, 90_000);
});
