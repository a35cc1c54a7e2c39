import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { resolveConfig } from '../../src/agent/config.js';
import { main } from '../../src/cli/main.js';
import { MemoryStore } from '../../src/store/index.js';
import { capture } from '../unit/cli/capture.js';
import { freePort, SerfAgent, serfOrWarn, wireComplaints } from './serf-agent.js';
import { waitFor } from './wait.js';

/**
 * Issue 14, force-leave in a mixed cluster: our agent's `gossip force-leave` of a crashed serf
 * agent moves it to `left` on the real serf agents too (our leave intent is Serf's), and
 * `serf force-leave` of a crashed agent of ours moves it to `left` on our agents.
 */
const SUITE = 'serf-force-leave';
const hasSerf = serfOrWarn(SUITE);
let ours: Agent;
let ours2: Agent;
const serfs: SerfAgent[] = [];

beforeAll(async () => {
  if (!hasSerf) return;
  const port = await freePort('127.0.0.1');
  const config = resolveConfig({ flags: { name: 'ours', bind: `127.0.0.1:${port}`, http: '127.0.0.1:0', profile: 'local' } });
  ours = await Agent.start({ config, log: pino({ level: 'silent' }), store: new MemoryStore() });
  const port2 = await freePort('127.0.0.1');
  const config2 = resolveConfig({ flags: { name: 'ours2', bind: `127.0.0.1:${port2}`, http: '127.0.0.1:0', profile: 'local', join: [ours.node.addr] } });
  ours2 = await Agent.start({ config: config2, log: pino({ level: 'silent' }), store: new MemoryStore() });
  for (const name of ['s1', 's2', 's3']) serfs.push(await SerfAgent.start({ name, join: [ours.node.addr], profile: 'local' }));
  await waitFor('every agent to see five alive members', 30_000, async () =>
    ours.node.members().filter((m) => m.status === 'alive').length === 5 &&
    (await Promise.all(serfs.map(async (s) => (await s.members()).filter((m) => m.status === 'alive').length))).every((n) => n === 5),
  async () => `ours ${ours.node.members().map((m) => `${m.name}:${m.status}`).join(',')}; serf ${(await Promise.all(serfs.map(async (s) => (await s.members()).map((m) => `${m.name}:${m.status}`).join(',')))).join(' | ')}`);
}, 60_000);
afterAll(async () => {
  await Promise.all(serfs.map((s) => s.stop()));
  await ours2?.stop('test done', false);
  await ours?.stop('test done', false);
});

describe.skipIf(!hasSerf)(SUITE, () => {
  it('our force-leave of a crashed serf agent shows it left on every serf agent; an alive one is refused (exit 1)', async () => {
    const [s1, s2, s3] = serfs as [SerfAgent, SerfAgent, SerfAgent];
    const refused = capture();
    expect(await main(['force-leave', 's1', '--http', ours.httpAddress], refused)).toBe(1);
    expect(refused.stderr[0]).toMatch(/409: force-leave: 's1' is alive/);
    await s3.stop(); // SIGTERM: serf exits without a leave intent, so it is failed, not left
    const statusOnAll = async (): Promise<string> =>
      [ours.node.members().find((m) => m.name === 's3')?.status, await s1.status('s3'), await s2.status('s3')].join(' ');
    await waitFor('every agent to mark s3 failed', 30_000, async () => (await statusOnAll()) === 'failed failed failed', statusOnAll);
    const io = capture();
    expect(await main(['force-leave', 's3', '--http', ours.httpAddress], io)).toBe(0);
    expect(io.stdout).toEqual(["Force-left node 's3' (now left)"]);
    await waitFor('every agent to show s3 left', 40_000, async () => (await statusOnAll()) === 'left left left', statusOnAll);
    for (const s of [s1, s2]) {
      expect(s.log).toMatch(/EventMemberLeave \(forced\): s3/);
      expect(wireComplaints(s.log), `${s.name} log`).toEqual([]);
    }
  }, 120_000);

  it('serf force-leave of a crashed agent of ours shows it left on our agent and on serf', async () => {
    const [s1, s2] = serfs as [SerfAgent, SerfAgent, SerfAgent];
    await ours2.stop('crash', false); // no leave intent: failed, not left
    const statusOnAll = async (): Promise<string> =>
      [ours.node.members().find((m) => m.name === 'ours2')?.status, await s1.status('ours2'), await s2.status('ours2')].join(' ');
    await waitFor('every agent to mark ours2 failed', 30_000, async () => (await statusOnAll()) === 'failed failed failed', statusOnAll);
    await s1.cli('force-leave', 'ours2');
    await waitFor('every agent to show ours2 left', 40_000, async () => (await statusOnAll()) === 'left left left', statusOnAll);
    for (const s of [s1, s2]) expect(wireComplaints(s.log), `${s.name} log`).toEqual([]);
  }, 120_000);
});
