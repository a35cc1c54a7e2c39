import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { resolveConfig } from '../../src/agent/config.js';
import { freePort } from '../../src/clusterbench/ports.js';
import { MemoryStore } from '../../src/store/index.js';
import type { Answer } from './http-raw.js';
import { raw } from './http-raw.js';
import { freeAddr } from './free-addr.js';

/**
 * The key-value routes beyond put/get: operations on counter, set and map keys (issue 13 item
 * 2), deleted keys (3), named limits (9) and the small holes of item 16 (dot keys, raw paths,
 * deep JSON, invalid UTF-8, HEAD). Requests go through node:http so the path and the bytes are
 * exactly what the test says (fetch would resolve `..` and re-encode).
 */
let agent: Agent;
const RESOLVERS = { 'c/': 'pncounter', 'g/': 'gcounter', 's/': 'orset', 'm/': 'ormap' } as const;

const call = (method: string, path: string, body?: unknown): Promise<Answer> => raw(agent.httpAddress, method, path, body === undefined ? undefined : JSON.stringify(body));
const error = (a: Answer): string => (a.json as { error?: string } | null)?.error ?? '';

beforeAll(async () => {
  const config = resolveConfig({ flags: { name: 'ops1', bind: await freeAddr(), http: await freeAddr(), profile: 'local' }, file: { resolvers: RESOLVERS, valueBytesMax: 16_384 } });
  agent = await Agent.start({ config, log: pino({ level: 'silent' }), store: new MemoryStore() });
});
afterAll(async () => {
  await agent.stop('test done', false);
});

describe('operations on counter, set and map keys (POST /v1/kv/{key})', () => {
  it('increments and decrements a pncounter, answering the new read', async () => {
    const up = await call('POST', '/v1/kv/c/x', { op: 'increment', by: 5 });
    expect(up.status).toBe(200);
    expect(up.json).toMatchObject({ op: 'increment', key: 'c/x', type: 'counter', value: 5 });
    expect((await call('POST', '/v1/kv/c/x', { op: 'decrement', by: 2 })).json).toMatchObject({ value: 3 });
    expect((await call('POST', '/v1/kv/c/x', { op: 'increment' })).json).toMatchObject({ value: 4 });
    expect((await call('GET', '/v1/kv/c/x')).json).toMatchObject({ type: 'counter', value: 4 });
  });

  it('adds to and removes from an orset', async () => {
    await call('POST', '/v1/kv/s/team', { op: 'add', element: 'ann' });
    await call('POST', '/v1/kv/s/team', { op: 'add', element: 'bob' });
    const r = await call('POST', '/v1/kv/s/team', { op: 'remove', element: 'ann' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ op: 'remove', type: 'set', elements: ['bob'] });
  });

  it('sets, increments, adds to and removes fields of an ormap', async () => {
    expect((await call('POST', '/v1/kv/m/user', { op: 'set', field: 'name', value: 'Ann' })).status).toBe(200);
    expect((await call('POST', '/v1/kv/m/user', { op: 'increment', field: 'visits', by: 2 })).status).toBe(200);
    expect((await call('POST', '/v1/kv/m/user', { op: 'add', field: 'tags', element: 'admin' })).status).toBe(200);
    expect((await call('POST', '/v1/kv/m/user', { op: 'set', field: 'gone', value: 1 })).status).toBe(200);
    const r = await call('POST', '/v1/kv/m/user', { op: 'removeField', field: 'gone' });
    expect(r.status).toBe(200);
    const fields = (r.json as { fields: Record<string, unknown> }).fields;
    expect(Object.keys(fields).sort()).toEqual(['name:register', 'tags:set', 'visits:counter']);
    expect(fields['visits:counter']).toMatchObject({ value: 2 });
  });

  const refused: [string, string, unknown, number, RegExp][] = [
    ['increment on a register key', '/v1/kv/plain', { op: 'increment' }, 409, /lww key: increment does not apply/],
    ['decrement on a gcounter', '/v1/kv/g/x', { op: 'decrement' }, 409, /gcounter: it cannot be decremented/],
    ['add on a counter', '/v1/kv/c/y', { op: 'add', element: 'e' }, 409, /pncounter key: add does not apply/],
    ['a field op on a set key', '/v1/kv/s/z', { op: 'set', field: 'f', value: 1 }, 409, /orset key/],
    ['an unknown op', '/v1/kv/c/y', { op: 'multiply' }, 400, /op: expected one of increment, decrement, add, remove, set, removeField/],
    ['a negative amount', '/v1/kv/c/y', { op: 'increment', by: -1 }, 400, /by: expected a positive whole number/],
    ['a fractional amount', '/v1/kv/c/y', { op: 'increment', by: 1.5 }, 400, /by: expected a positive whole number/],
    ['a field that does not apply', '/v1/kv/c/y', { op: 'increment', element: 'e' }, 400, /element does not apply to op increment/],
    ['set without a field', '/v1/kv/m/y', { op: 'set', value: 1 }, 400, /field: required for op set/],
    ['add without an element', '/v1/kv/s/y', { op: 'add' }, 400, /element: expected a string/],
    ['an element over valueBytesMax', '/v1/kv/s/y', { op: 'add', element: 'x'.repeat(20_000) }, 413, /over the limit of 16384 \(valueBytesMax\)/],
  ];
  it.each(refused)('refuses %s with a clear %s, writing nothing', async (_what, path, body, status, message) => {
    const before = agent.node.kv.list('');
    const r = await call('POST', path, body);
    expect(r.status).toBe(status);
    expect(error(r)).toMatch(message);
    expect(agent.node.kv.list('')).toEqual(before);
  });

  it('acknowledges an operation once it is stored: a restarted agent has it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gossip-kv-ops-'));
    const [port, http] = [await freePort(), await freePort()];
    const start = (): Promise<Agent> => Agent.start({
      config: resolveConfig({ flags: { name: 'dur1', bind: `127.0.0.1:${port}`, http: `127.0.0.1:${http}`, profile: 'local', dataDir: dir }, file: { resolvers: RESOLVERS } }),
      log: pino({ level: 'silent' }),
    });
    try {
      let a = await start();
      for (let i = 0; i < 3; i++) expect((await raw(a.httpAddress, 'POST', '/v1/kv/c/durable', JSON.stringify({ op: 'increment', by: 10 }))).status).toBe(200);
      expect((await raw(a.httpAddress, 'POST', '/v1/kv/s/durable', JSON.stringify({ op: 'add', element: 'kept' }))).status).toBe(200);
      await a.stop('restart', false);
      a = await start();
      expect((await raw(a.httpAddress, 'GET', '/v1/kv/c/durable')).json).toMatchObject({ value: 30 });
      expect((await raw(a.httpAddress, 'GET', '/v1/kv/s/durable')).json).toMatchObject({ elements: ['kept'] });
      await a.stop('done', false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('deleted keys', () => {
  it('a deleted key reads as absent: 404, as a key never written', async () => {
    expect((await call('PUT', '/v1/kv/del/a', { value: 1 })).status).toBe(200);
    const d = await call('DELETE', '/v1/kv/del/a');
    expect(d.status).toBe(200);
    expect(d.json).toMatchObject({ key: 'del/a', deleted: true });
    const r = await call('GET', '/v1/kv/del/a');
    expect(r.status).toBe(404);
    expect(error(r)).toBe('no such key: del/a');
  });

  it('deleting a key that never existed is a no-op that says so: no tombstone, no change event', async () => {
    const changes: string[] = [];
    const off = agent.node.kv.subscribe('', (c) => changes.push(c.key));
    try {
      const r = await call('DELETE', '/v1/kv/del/never');
      expect(r.status).toBe(200);
      expect(r.json).toEqual({ key: 'del/never', deleted: false, reason: 'no such key: nothing deleted' });
      expect(agent.node.kv.get('del/never')).toBeUndefined();
      // Already deleted: again nothing.
      await call('PUT', '/v1/kv/del/b', { value: 1 });
      await call('DELETE', '/v1/kv/del/b');
      const again = await call('DELETE', '/v1/kv/del/b');
      expect(again.json).toMatchObject({ deleted: false });
      expect(changes).toEqual(['del/b', 'del/b']);
    } finally {
      off();
    }
  });
});

describe('limits are named', () => {
  it('the 413 names valueBytesMax for a value and for the whole body', async () => {
    const value = await call('PUT', '/v1/kv/big', { value: 'x'.repeat(20_000) });
    expect(value.status).toBe(413);
    expect(error(value)).toMatch(/value is 20002 bytes, over the limit of 16384 \(valueBytesMax\)/);
    const body = await call('PUT', '/v1/kv/big', { value: 'x'.repeat(30_000) });
    expect(body.status).toBe(413);
    expect(error(body)).toMatch(/over the limit of 20480 \(valueBytesMax 16384 \+ 4096 of envelope\)/);
  });
});

describe('paths, bodies and methods at the edges', () => {
  it('a raw z/../zz path writes the key z/../zz, never zz; %2e%2e the same', async () => {
    expect((await call('PUT', '/v1/kv/z/../zz', { value: 'raw' })).json).toMatchObject({ key: 'z/../zz' });
    expect((await call('PUT', '/v1/kv/y/%2e%2e/yy', { value: 'encoded' })).json).toMatchObject({ key: 'y/../yy' });
    expect(agent.node.kv.get('zz')).toBeUndefined();
    expect(agent.node.kv.get('yy')).toBeUndefined();
    expect((await call('GET', '/v1/kv/z%2F..%2Fzz')).json).toMatchObject({ values: ['raw'] });
  });

  it.each(['/v1/kv/.', '/v1/kv/..', '/v1/kv/%2e', '/v1/kv/%2E%2E'])('key %s: a clear 400, nothing written', async (path) => {
    const r = await call('PUT', path, { value: 1 });
    expect(r.status).toBe(400);
    expect(error(r)).toMatch(/key: '\.\.?' is not allowed/);
    expect(agent.node.kv.get('.')).toBeUndefined();
    expect(agent.node.kv.get('..')).toBeUndefined();
  });

  it('a 5,000-deep JSON value: 400, and the agent keeps serving', async () => {
    const deep = `{"value":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    const r = await raw(agent.httpAddress, 'PUT', '/v1/kv/deep', deep);
    expect(r.status).toBe(400);
    expect(error(r)).toMatch(/nested 5001 levels deep, over the limit of 64/);
    expect((await call('GET', '/v1/members')).status).toBe(200);
  });

  it('invalid UTF-8 in a body: 400, nothing stored', async () => {
    const body = Buffer.concat([Buffer.from('{"value":"a'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const r = await raw(agent.httpAddress, 'PUT', '/v1/kv/utf8', body);
    expect(r.status).toBe(400);
    expect(error(r)).toBe('body: not valid UTF-8');
    expect(agent.node.kv.get('utf8')).toBeUndefined();
  });

  it('HEAD is answered as GET without a body', async () => {
    await call('PUT', '/v1/kv/head', { value: 'h' });
    const get = await call('GET', '/v1/kv/head');
    const head = await call('HEAD', '/v1/kv/head');
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    expect(head.headers['content-length']).toBe(get.headers['content-length']);
    expect((await call('HEAD', '/v1/members')).status).toBe(200);
    expect((await call('HEAD', '/v1/kv/not-there')).status).toBe(404);
    expect((await call('HEAD', '/v1/stream')).status).toBe(200);
  });
});
