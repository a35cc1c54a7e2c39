import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { resolveConfig } from '../../src/agent/config.js';
import { main } from '../../src/cli/main.js';
import { MemoryStore } from '../../src/store/index.js';
import { capture } from '../unit/cli/capture.js';
import { waitFor } from './wait.js';

const TOKEN = 'v'.repeat(20);
let agent: Agent;
let http: string;

async function run(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const io = capture();
  const code = await main([...argv, '--http', http, '--token', TOKEN], io);
  return { code, out: io.stdout, err: io.stderr };
}

beforeAll(async () => {
  const config = resolveConfig({ flags: { name: 'view1', bind: '127.0.0.1:0', http: '127.0.0.1:0', token: TOKEN, profile: 'local', tags: { role: 'cache' } } });
  agent = await Agent.start({ config, log: pino({ level: 'silent' }), store: new MemoryStore() });
  http = agent.httpAddress;
});
afterAll(async () => {
  await agent.stop('test done', false);
});

describe('view, quorum and ring over the agent API and CLI (issue 16)', () => {
  it('gossip view --json: a lone agent settles on a stable view of itself and has quorum; the text form says so', async () => {
    await waitFor('a stable view', 10_000, async () => {
      const r = await run('view', '--json');
      return (JSON.parse(r.out[0] ?? '{}') as { view?: { stable?: boolean } }).view?.stable === true;
    });
    const r = JSON.parse((await run('view', '--json')).out[0] ?? '') as { view: { current: { checksum: string; members: unknown[] }; stableView: { checksum: string } }; quorum: { hasQuorum: boolean; total: number } };
    expect(r.view.current.members).toEqual([{ name: 'view1', state: 'alive', incarnation: expect.any(Number) as number }]);
    expect(r.view.stableView.checksum).toBe(r.view.current.checksum);
    expect(r.view.current.checksum).toMatch(/^[0-9a-f]{8}$/);
    expect(r.quorum).toMatchObject({ hasQuorum: true, total: 1, reachable: 1 });
    const text = await run('view');
    expect(text.out[0]).toMatch(/checksum [0-9a-f]{8} stable/);
    expect(text.out[1]).toMatch(/^quorum: yes/);
  });

  it('gossip ring lookup KEY [--n] [--tag]: owners, an empty ring for a tag nobody has, clear errors', async () => {
    expect((await run('ring', 'lookup', 'user/1', '--n', '3')).out).toEqual(['view1']);
    expect((await run('ring', 'lookup', 'user/1', '--tag', 'role=cache')).out).toEqual(['view1']);
    expect((await run('ring', 'lookup', 'user/1', '--tag', 'role=db')).out).toEqual(['(empty ring)']);
    const bad = await run('ring', 'lookup', 'user/1', '--n', '0');
    expect(bad.code).not.toBe(0);
    const res = await fetch(`http://${http}/v1/ring/lookup?n=2`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/key: required/);
  });
});
