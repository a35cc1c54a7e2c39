import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { resolveConfig } from '../../src/agent/config.js';
import { main } from '../../src/cli/main.js';
import { MemoryStore } from '../../src/store/index.js';
import { capture } from '../unit/cli/capture.js';
import { freePort, SerfAgent, serfOrWarn } from './serf-agent.js';
import { waitFor } from './wait.js';
import { freeAddr } from './free-addr.js';

const hasSerf = serfOrWarn('serf-query');
let ours: Agent;
let serf: SerfAgent;
let dir: string;

beforeAll(async () => {
  if (!hasSerf) return;
  dir = mkdtempSync(join(tmpdir(), 'serf-query-'));
  const script = join(dir, 'answer.sh');
  // Serf's query handler: its stdout is the answer.
  writeFileSync(script, '#!/bin/sh\nprintf "serf says %s to %s" "$(cat)" "$SERF_QUERY_NAME"\n');
  chmodSync(script, 0o755);
  const port = await freePort('127.0.0.1');
  const ours1 = join(dir, 'ours.sh');
  writeFileSync(ours1, '#!/bin/sh\nprintf "script on %s got %s" "$SERF_SELF_NAME" "$(cat)"\n');
  chmodSync(ours1, 0o755);
  const config = resolveConfig({ flags: { name: 'ours', bind: `127.0.0.1:${port}`, http: await freeAddr(), profile: 'local', eventHandlers: [`query:script=${ours1}`] } });
  ours = await Agent.start({ config, log: pino({ level: 'silent' }), store: new MemoryStore() });
  ours.node.on('query', (q) => {
    if (q.name === 'hello') ours.node.respond(q, `ours says ${Buffer.from(q.payload).toString('utf8')}`);
  });
  serf = await SerfAgent.start({ name: 'serf1', join: [ours.node.addr], tags: { kind: 'go' }, eventHandlers: [`query:hello=${script}`] });
  await waitFor('both to see two alive members', 10_000, async () => ours.node.members().filter((m) => m.status === 'alive').length === 2 && (await serf.members()).filter((m) => m.status === 'alive').length === 2);
}, 30_000);
afterAll(async () => {
  await serf?.stop();
  await ours?.stop('test done', false);
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!hasSerf)('queries across a mixed cluster (a real serf agent)', () => {
  it('gossip query is acked and answered by the serf agent\'s handler script, and by us', async () => {
    const io = capture();
    const code = await main(['query', 'hello', 'hi', '--timeout', '2s', '--json', '--http', ours.httpAddress], io);
    expect(code).toBe(0);
    const r = JSON.parse(io.stdout[0] ?? '') as { acks: string[]; responses: Record<string, string> };
    expect([...r.acks].sort()).toEqual(['ours', 'serf1']);
    expect(r.responses).toEqual({ serf1: 'serf says hi to hello', ours: 'ours says hi' });
    const onlyGo = capture();
    expect(await main(['query', 'hello', 'x', '--tag', 'kind=^go$', '--timeout', '2s', '--http', ours.httpAddress], onlyGo)).toBe(0);
    expect(onlyGo.stdout).toEqual(["Query 'hello' dispatched", "Ack from 'serf1'", "Response from 'serf1': serf says x to hello", 'Total Acks: 1', 'Total Responses: 1']);
  });

  it('serf query is answered by our node', async () => {
    const out = await serf.cli('query', '-format=json', '-timeout=2s', '-node=ours', 'hello', 'yo');
    const r = JSON.parse(out) as { Acks: string[]; Responses: Record<string, string> };
    expect(r.Acks).toEqual(['ours']);
    expect(r.Responses).toEqual({ ours: 'ours says yo' });
  });

  it('serf query is answered by our --event-handler script', async () => {
    const out = await serf.cli('query', '-format=json', '-timeout=2s', 'script', 'abc');
    const r = JSON.parse(out) as { Acks: string[]; Responses: Record<string, string> };
    expect([...r.Acks].sort()).toEqual(['ours', 'serf1']);
    expect(r.Responses).toEqual({ ours: 'script on ours got abc' });
  });

  it('reachability: both agents ack (ours and serf\'s)', async () => {
    const io = capture();
    expect(await main(['reachability', '--timeout', '2s', '--http', ours.httpAddress], io)).toBe(0);
    expect(io.stdout).toContain('Total members: 2, live members: 2, received 2 acks');
    const theirs = await serf.cli('reachability');
    expect(theirs).toMatch(/Successfully contacted all live nodes/);
  });
});
