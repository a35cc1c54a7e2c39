import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { resolveConfig } from '../../src/agent/config.js';
import { AgentClient } from '../../src/cli/client.js';
import { main } from '../../src/cli/main.js';
import { MemoryStore } from '../../src/store/index.js';
import { capture } from '../unit/cli/capture.js';
import { waitFor } from './wait.js';
import { freeAddr } from './free-addr.js';

const TOKEN = 'k'.repeat(20);
let agent: Agent;
let http: string;

async function run(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const io = capture();
  const code = await main([...argv, '--http', http, '--token', TOKEN], io);
  return { code, out: io.stdout, err: io.stderr };
}

beforeAll(async () => {
  const config = resolveConfig({ flags: { name: 'cli1', bind: await freeAddr(), http: await freeAddr(), token: TOKEN, profile: 'local', tags: { dc: 'x' } }, file: { resolvers: { 'c/': 'pncounter', 's/': 'orset', 'm/': 'ormap' } } });
  agent = await Agent.start({ config, log: pino({ level: 'silent' }), store: new MemoryStore() });
  http = agent.httpAddress;
});
afterAll(async () => {
  await agent.stop('test done', false);
});

describe('CLI clients of the agent API', () => {
  it('members --json prints [{name, addr, port, status, tags, incarnation}]', async () => {
    const r = await run('members', '--json');
    expect(r.code).toBe(0);
    const [m] = JSON.parse(r.out[0] ?? '') as Record<string, unknown>[];
    expect(Object.keys(m ?? {}).sort()).toEqual(['addr', 'incarnation', 'name', 'port', 'status', 'tags']);
    expect(m).toMatchObject({ name: 'cli1', addr: '127.0.0.1', status: 'alive', tags: { dc: 'x' } });
    expect(typeof m?.port).toBe('number');
    const table = await run('members');
    expect(table.out[0]).toMatch(/^cli1\s+127\.0\.0\.1:\d+\s+alive\s+.*dc=x/);
  });

  it('kv put, get, list and del', async () => {
    expect((await run('kv', 'put', 'cfg/a', '{"x":1}')).code).toBe(0);
    expect((await run('kv', 'put', 'cfg/b', 'plain text')).code).toBe(0);
    expect((await run('kv', 'get', 'cfg/a')).out).toEqual(['{"x":1}']);
    expect((await run('kv', 'get', 'cfg/b')).out).toEqual(['plain text']);
    const full = JSON.parse((await run('kv', 'get', 'cfg/a', '--json')).out[0] ?? '') as { context: unknown };
    expect((await run('kv', 'put', 'cfg/a', '2', '--context', JSON.stringify(full.context))).code).toBe(0);
    expect((await run('kv', 'get', 'cfg/a')).out).toEqual(['2']);
    expect((await run('kv', 'list', 'cfg/')).out).toEqual(['cfg/a', 'cfg/b']);
    expect((await run('kv', 'del', 'cfg/b')).code).toBe(0);
    expect((await run('kv', 'list', 'cfg/')).out).toEqual(['cfg/a']);
  });

  it('kv get of a deleted key exits 1 as for a key never written; kv del of an absent key says it deleted nothing', async () => {
    expect((await run('kv', 'put', 'gone/a', '1')).code).toBe(0);
    expect((await run('kv', 'del', 'gone/a')).code).toBe(0);
    const r = await run('kv', 'get', 'gone/a');
    expect(r.code).toBe(1);
    expect(r.err).toEqual(['error: 404: no such key: gone/a']);
    const again = await run('kv', 'del', 'gone/a');
    expect(again.code).toBe(0);
    expect(again.err).toEqual(['no such key: gone/a (nothing deleted)']);
    const never = await run('kv', 'del', 'gone/never');
    expect(never.err).toEqual(['no such key: gone/never (nothing deleted)']);
    expect(agent.node.kv.get('gone/never')).toBeUndefined();
  });

  it('kv incr, decr, add, rm and the map field commands', async () => {
    expect((await run('kv', 'incr', 'c/hits')).out).toEqual(['1']);
    expect((await run('kv', 'incr', 'c/hits', '41')).out).toEqual(['42']);
    expect((await run('kv', 'decr', 'c/hits', '2')).out).toEqual(['40']);
    expect((await run('kv', 'get', 'c/hits')).out).toEqual(['40']);
    expect((await run('kv', 'add', 's/team', 'ann')).code).toBe(0);
    expect((await run('kv', 'add', 's/team', 'bob')).code).toBe(0);
    expect((await run('kv', 'rm', 's/team', 'ann')).code).toBe(0);
    expect((await run('kv', 'get', 's/team')).out).toEqual(['bob']);
    expect((await run('kv', 'field-set', 'm/u', 'name', 'Ann')).code).toBe(0);
    expect((await run('kv', 'incr', 'm/u', '3', '--field', 'visits')).code).toBe(0);
    expect((await run('kv', 'add', 'm/u', 'admin', '--field', 'roles')).code).toBe(0);
    expect((await run('kv', 'field-rm', 'm/u', 'name')).code).toBe(0);
    const fields = (JSON.parse((await run('kv', 'get', 'm/u', '--json')).out[0] ?? '') as { fields: Record<string, unknown> }).fields;
    expect(Object.keys(fields).sort()).toEqual(['roles:set', 'visits:counter']);
    const wrong = await run('kv', 'incr', 'plain');
    expect(wrong.code).toBe(1);
    expect(wrong.err[0]).toMatch(/^error: 409: "plain" is a lww key: increment does not apply/);
    expect((await run('kv', 'incr', 'c/hits', '-1')).code).toBe(2);
    expect((await run('kv', 'get', '..')).code).toBe(2);
  });

  it('takes the token from a file (--token-file, GOSSIP_HTTP_TOKEN_FILE)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gossip-cli-token-'));
    try {
      const file = join(dir, 'token');
      writeFileSync(file, `${TOKEN}\n`, { mode: 0o600 });
      const io = capture();
      expect(await main(['members', '--http', http, '--token-file', file], io)).toBe(0);
      const viaEnv = new AgentClient({ http }, { GOSSIP_HTTP_TOKEN_FILE: file });
      expect(await viaEnv.call('GET', '/v1/members')).toHaveLength(1);
      const missing = capture();
      expect(await main(['members', '--http', http, '--token-file', join(dir, 'none')], missing)).toBe(2);
      expect(missing.stderr[0]).toMatch(/tokenFile .*none: cannot read it \(ENOENT\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('prints the agent\'s error and exits 1 on a 4xx', async () => {
    const r = await run('kv', 'get', 'missing');
    expect(r.code).toBe(1);
    expect(r.err).toEqual(['error: 404: no such key: missing']);
    const io = capture();
    expect(await main(['members', '--http', http, '--token', 'wrong'], io)).toBe(1);
    expect(io.stderr).toEqual(['error: 403: wrong token']);
    expect((await run('kv', 'put', 'x', '1', '--context', 'not json')).code).toBe(2);
  });

  it('reports an unreachable agent', async () => {
    const io = capture();
    expect(await main(['members', '--http', '127.0.0.1:1'], io)).toBe(1);
    expect(io.stderr[0]).toMatch(/^error: cannot reach the agent at http:\/\/127\.0\.0\.1:1/);
  });

  it('event sends a user event the agent delivers', async () => {
    const got: string[] = [];
    agent.node.on('user-event', (e) => got.push(`${e.name}=${new TextDecoder().decode(e.payload)}`));
    expect((await run('event', 'deploy', 'v7')).code).toBe(0);
    await waitFor('the event', 5000, () => got.includes('deploy=v7'));
  });

  it('keygen prints a 32-byte base64 key; keys list answers that encryption is off and exits 1 (every member failed, as serf)', async () => {
    const io = capture();
    expect(await main(['keygen'], io)).toBe(0);
    expect(Buffer.from(io.stdout[0] ?? '', 'base64')).toHaveLength(32);
    const text = await run('keys', 'list');
    expect(text.code).toBe(1);
    expect(text.err).toContain('error: list failed on 1 of 1 members');
    const r = await run('keys', 'list', '--json');
    expect(r.code).toBe(1);
    const res = JSON.parse(r.out[0] ?? '') as { numResp: number; numErr: number; messages: Record<string, string> };
    expect(res.numResp).toBe(1);
    expect(res.numErr).toBe(1);
    expect(res.messages.cli1).toMatch(/encryption not enabled/);
  });

  it('monitor streams events until the agent stops', async () => {
    const io = capture();
    const done = main(['monitor', '--http', http, '--token', TOKEN, '--no-convergence'], io);
    await waitFor('the members snapshot on the stream', 5000, () => io.stdout.some((l) => l.startsWith('members: ')));
    await run('kv', 'put', 'mon', '1');
    await waitFor('the kv line', 5000, () => io.stdout.some((l) => l.startsWith('kv: ') && l.includes('"key":"mon"')));
    expect(io.stdout.some((l) => l.startsWith('convergence'))).toBe(false);
    const left = await run('leave');
    expect(left.out).toEqual(['Graceful leave in progress']);
    await agent.done;
    expect(await done).toBe(0);
  });
});

describe('gossip keys on an encrypted cluster', () => {
  it('installs, uses and removes a key on every member', async () => {
    const k1 = Buffer.alloc(32, 1).toString('base64');
    const k2 = Buffer.alloc(32, 2).toString('base64');
    const log = pino({ level: 'silent' });
    const a = await Agent.start({ config: resolveConfig({ flags: { name: 'ka', bind: await freeAddr(), http: await freeAddr(), profile: 'local', encrypt: k1 } }), log, store: new MemoryStore() });
    const b = await Agent.start({ config: resolveConfig({ flags: { name: 'kb', bind: await freeAddr(), http: await freeAddr(), profile: 'local', encrypt: k1, join: [a.node.addr] } }), log, store: new MemoryStore() });
    try {
      await waitFor('both members alive', 5000, () => a.node.members().filter((m) => m.status === 'alive').length === 2);
      const keys = async (...argv: string[]): Promise<{ code: number; json: { numNodes: number; numResp: number; numErr: number; keys: Record<string, number>; primaryKeys: Record<string, number> } }> => {
        const io = capture();
        const code = await main(['keys', ...argv, '--json', '--http', a.httpAddress], io);
        return { code, json: JSON.parse(io.stdout[0] ?? 'null') as never };
      };
      expect((await keys('install', k2)).json).toMatchObject({ numNodes: 2, numResp: 2, numErr: 0 });
      expect((await keys('use', k2)).json).toMatchObject({ numResp: 2, numErr: 0 });
      expect((await keys('remove', k1)).json).toMatchObject({ numResp: 2, numErr: 0 });
      const listed = await keys('list');
      expect(listed.json.keys).toEqual({ [k2]: 2 });
      expect(listed.json.primaryKeys).toEqual({ [k2]: 2 });
      // Removing the primary key is refused by every member: exit 1, with the answers printed.
      const refused = await keys('remove', k2);
      expect(refused.code).toBe(1);
      expect(refused.json.numErr).toBe(2);
    } finally {
      await b.stop('done', false);
      await a.stop('done', false);
    }
  });
});
