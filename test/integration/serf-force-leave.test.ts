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
 * agent moves it to `left` on the real serf agents too (our leave intent is Serf's).
 */
const SUITE = 'serf-force-leave';
const hasSerf = serfOrWarn(SUITE);
let ours: Agent;
const serfs: SerfAgent[] = [];

beforeAll(async () => {
  if (!hasSerf) return;
  const port = await freePort('127.0.0.1');
  const config = resolveConfig({ flags: { name: 'ours', bind: `127.0.0.1:${port}`, http: '127.0.0.1:0', profile: 'local' } });
  ours = await Agent.start({ config, log: pino({ level: 'silent' }), store: new MemoryStore() });
  for (const name of ['s1', 's2', 's3']) serfs.push(await SerfAgent.start({ name, join: [ours.node.addr], profile: 'local' }));
  await waitFor('every agent to see four alive members', 15_000, async () =>
    ours.node.members().filter((m) => m.status === 'alive').length === 4 &&
    (await Promise.all(serfs.map(async (s) => (await s.members()).filter((m) => m.status === 'alive').length))).every((n) => n === 4));
}, 60_000);
afterAll(async () => {
  await Promise.all(serfs.map((s) => s.stop()));
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
    await waitFor('every agent to show s3 left', 10_000, async () => (await statusOnAll()) === 'left left left', statusOnAll);
    for (const s of [s1, s2]) {
      expect(s.log).toMatch(/EventMemberLeave \(forced\): s3/);
      expect(wireComplaints(s.log), `${s.name} log`).toEqual([]);
    }
  }, 60_000);
});
