import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { resolveConfig } from '../../src/agent/config.js';
import { main } from '../../src/cli/main.js';
import { MemoryStore } from '../../src/store/index.js';
import { packageVersion } from '../../src/version.js';
import { capture } from '../unit/cli/capture.js';
import { waitFor } from './wait.js';
import { freeAddr } from './free-addr.js';

const TOKEN = 'k'.repeat(20);
let a: Agent;
let b: Agent;
/** Agent b's log lines (JSON). */
const bLog: string[] = [];

async function start(name: string, tags: Record<string, string>, log = pino({ level: 'silent' })): Promise<Agent> {
  const config = resolveConfig({ flags: { name, bind: await freeAddr(), http: await freeAddr(), token: TOKEN, profile: 'local', tags } });
  return Agent.start({ config, log, store: new MemoryStore() });
}

async function run(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const io = capture();
  const code = await main([...argv, '--http', a.httpAddress, '--token', TOKEN], io);
  return { code, out: io.stdout, err: io.stderr };
}

beforeAll(async () => {
  a = await start('op-a', { role: 'web' });
  b = await start('op-b', { role: 'db', zone: 'z1' }, pino({ level: 'info' }, { write: (line: string) => void bLog.push(line) }));
  b.node.on('query', (q) => {
    if (q.name === 'echo') b.node.respond(q, `b got ${Buffer.from(q.payload).toString('utf8')}`);
  });
  a.node.on('query', (q) => {
    if (q.name === 'echo') a.node.respond(q, 'a here');
  });
});
afterAll(async () => {
  await b?.stop('test done', false);
  await a?.stop('test done', false);
});

describe('operator commands against a running agent', () => {
  it('join ADDR joins the agent to another (exit 0); an address nobody answers exits 1', async () => {
    const r = await run('join', b.node.addr);
    expect(r).toMatchObject({ code: 0, out: ['Successfully joined cluster by contacting 1 nodes.'] });
    await waitFor('a and b to see each other', 5000, () => a.node.members().length === 2 && b.node.members().length === 2);
    const bad = await run('join', '127.0.0.1:9');
    expect(bad.code).toBe(1);
    expect(bad.err[0]).toMatch(/^error: 502: could not contact any of 127\.0\.0\.1:9/);
    expect((await run('join')).code).toBe(2);
  });

  it('query NAME PAYLOAD prints every ack and answer; --json; --node and --tag filter who processes it', async () => {
    const r = await run('query', 'echo', 'ping', '--timeout', '1s');
    expect(r.code).toBe(0);
    expect(r.out[0]).toBe("Query 'echo' dispatched");
    expect(r.out).toContain("Ack from 'op-a'");
    expect(r.out).toContain("Ack from 'op-b'");
    expect(r.out).toContain("Response from 'op-b': b got ping");
    expect(r.out).toContain("Response from 'op-a': a here");
    expect(r.out.slice(-2)).toEqual(['Total Acks: 2', 'Total Responses: 2']);
    const byNode = JSON.parse((await run('query', 'echo', 'x', '--node', 'op-b', '--timeout', '1s', '--json')).out[0] ?? '') as { acks: string[]; responses: Record<string, string> };
    expect(byNode).toEqual({ name: 'echo', acks: ['op-b'], responses: { 'op-b': 'b got x' } });
    const byTag = JSON.parse((await run('query', 'echo', 'y', '--tag', 'role=^w', '--timeout', '1s', '--json', '--no-ack')).out[0] ?? '') as { acks: string[]; responses: Record<string, string> };
    expect(byTag).toEqual({ name: 'echo', acks: [], responses: { 'op-a': 'a here' } });
    // Received queries are logged at info (Serf's internal ones are not).
    const logged = bLog.map((l) => JSON.parse(l) as { msg: string; query?: string; from?: string }).filter((l) => l.msg === 'query');
    expect(logged.some((l) => l.query === 'echo' && l.from === 'op-a')).toBe(true);
    const relayed = await run('query', 'echo', 'z', '--relay-factor', '1', '--timeout', '1s', '--json');
    expect(Object.keys((JSON.parse(relayed.out[0] ?? '') as { responses: object }).responses).sort()).toEqual(['op-a', 'op-b']);
  });

  it('query usage errors exit 2 and send nothing; a refused query exits 1', async () => {
    expect((await run('query', 'echo', '--timeout', 'soon')).code).toBe(2);
    expect((await run('query', 'echo', '--tag', 'role')).code).toBe(2);
    expect((await run('query', 'echo', '--tag', 'role=(')).code).toBe(2);
    expect((await run('query', 'echo', '--relay-factor', '9')).code).toBe(2);
    const big = await run('query', 'echo', 'x'.repeat(2000), '--timeout', '1s');
    expect(big.code).toBe(1);
    expect(big.err[0]).toMatch(/^error: 400: query exceeds the limit/);
  });

  it('tags --set/--delete change the tags the cluster sees', async () => {
    const r = await run('tags', '--set', 'rack=r7', '--set', 'role=api', '--delete', 'nope');
    expect(r).toMatchObject({ code: 0, out: ['Successfully updated agent tags'] });
    await waitFor('b to see the new tags', 5000, () => b.node.members().find((m) => m.name === 'op-a')?.tags.rack === 'r7');
    expect(b.node.members().find((m) => m.name === 'op-a')?.tags.role).toBe('api');
    expect((await run('tags', '--delete', 'rack')).code).toBe(0);
    expect(a.node.tags.rack).toBeUndefined();
    expect((await run('tags')).code).toBe(2);
    expect((await run('tags', '--set', 'novalue')).code).toBe(2);
  });

  it('info prints protocol, members, clocks and queue depths; --json', async () => {
    const j = JSON.parse((await run('info', '--json')).out[0] ?? '') as Record<string, Record<string, unknown>>;
    expect(j.agent).toMatchObject({ name: 'op-a', version: packageVersion() });
    expect(j.members).toMatchObject({ total: 2, alive: 2, failed: 0 });
    expect(j.protocol).toMatchObject({ cur: expect.any(Number) as number });
    expect(Object.keys(j.clocks ?? {}).sort()).toEqual(['event', 'member', 'query']);
    expect(j.clocks?.query).toBeGreaterThan(0);
    expect(Object.keys(j.queues ?? {}).sort()).toEqual(['membership', 'serf']);
    const text = await run('info');
    expect(text.code).toBe(0);
    expect(text.out).toContain('agent:');
    expect(text.out).toContain('\tname = op-a');
    expect(text.out.some((l) => /^\tquery_time = \d+$/.test(l))).toBe(true);
    expect(text.out).toContain('\tmembers = 2');
  });

  it('members --status --name --tag --detailed filter and detail the table', async () => {
    const names = async (...f: string[]): Promise<string[]> => (JSON.parse((await run('members', '--json', ...f)).out[0] ?? '') as { name: string }[]).map((m) => m.name).sort();
    expect(await names('--name', 'op-.')).toEqual(['op-a', 'op-b']);
    expect(await names('--name', 'op')).toEqual([]);
    expect(await names('--tag', 'role=db')).toEqual(['op-b']);
    expect(await names('--tag', 'zone=z.*', '--tag', 'role=db')).toEqual(['op-b']);
    expect(await names('--tag', 'zone=.*', '--name', 'op-a')).toEqual([]);
    expect(await names('--status', 'alive|failed')).toEqual(['op-a', 'op-b']);
    expect(await names('--status', 'failed')).toEqual([]);
    const d = await run('members', '--detailed', '--name', 'op-b');
    expect(d.out).toHaveLength(1);
    expect(d.out[0]).toMatch(/^op-b\s+127\.0\.0\.1:\d+\s+alive\s+incarnation=\d+\s+rtt=(\d+(\.\d+)?ms|-)\s+.*role=db/);
    expect((await run('members', '--status', '(')).code).toBe(2);
  });

  it('reachability: every alive member acks (exit 0)', async () => {
    const r = await run('reachability', '--timeout', '1s');
    expect(r.code).toBe(0);
    expect(r.out).toContain('Total members: 2, live members: 2, received 2 acks');
    expect(r.out.at(-1)).toBe('Successfully contacted all live nodes');
    // b answered a _serf_ping: not logged at info.
    expect(bLog.some((l) => l.includes('_serf_ping'))).toBe(false);
  });

  it('version prints the package version (exit 0, no agent needed)', async () => {
    const io = capture();
    expect(await main(['version'], io)).toBe(0);
    expect(packageVersion()).toMatch(/^\d+\.\d+\.\d+/);
    expect(io.stdout).toEqual([`gossip-coordinator v${packageVersion()}`]);
  });

  it('force-leave NODE moves a failed member to left everywhere; --prune forgets it; unknown or alive members exit 1', async () => {
    const c = await start('op-c', {});
    try {
      expect((await run('join', c.node.addr)).code).toBe(0);
      await waitFor('a and b to see op-c alive', 15_000, () => [a, b].every((n) => n.node.members().some((m) => m.name === 'op-c' && m.status === 'alive')));
      const alive = await run('force-leave', 'op-b');
      expect(alive.code).toBe(1);
      expect(alive.err[0]).toMatch(/^error: 409: force-leave: 'op-b' is alive/);
      const unknown = await run('force-leave', 'nobody');
      expect(unknown.code).toBe(1);
      expect(unknown.err[0]).toMatch(/^error: 404: force-leave: no member named 'nobody'/);
      expect((await run('force-leave')).code).toBe(2);
      await c.stop('crash', false);
      const statusOn = (n: Agent): string | undefined => n.node.members().find((m) => m.name === 'op-c')?.status;
      await waitFor('a and b to see op-c failed', 15_000, () => statusOn(a) === 'failed' && statusOn(b) === 'failed');
      expect(await run('force-leave', 'op-c')).toMatchObject({ code: 0, out: ["Force-left node 'op-c' (now left)"] });
      await waitFor('b to see op-c left', 20_000, () => statusOn(b) === 'left');
      expect(await run('force-leave', 'op-c', '--prune')).toMatchObject({ code: 0, out: ["Force-left and pruned node 'op-c'"] });
      await waitFor('a and b to forget op-c', 20_000, () => statusOn(a) === undefined && statusOn(b) === undefined);
    } finally {
      await c.stop('test done', false);
    }
  });

  it('the HTTP routes refuse bad bodies with a 400', async () => {
    const post = (path: string, body: unknown): Promise<Response> => fetch(`http://${a.httpAddress}${path}`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post('/v1/query', { name: '' })).status).toBe(400);
    expect((await post('/v1/query', { name: '_serf_ping' })).status).toBe(400);
    expect((await post('/v1/query', { name: 'q', timeoutMs: -1 })).status).toBe(400);
    expect((await post('/v1/query', { name: 'q', nodes: 'op-a' })).status).toBe(400);
    expect((await post('/v1/join', { addrs: [] })).status).toBe(400);
    expect((await post('/v1/force-leave', { node: '' })).status).toBe(400);
    expect((await post('/v1/force-leave', { node: 'op-b', prune: 'yes' })).status).toBe(400);
    expect((await post('/v1/tags', { set: { a: 1 } })).status).toBe(400);
    expect(a.node.tags.a).toBeUndefined();
  });
});
