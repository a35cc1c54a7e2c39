import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { resolveConfig } from '../../src/agent/config.js';
import { MemoryStore } from '../../src/store/index.js';
import { waitFor } from './wait.js';
import { freeAddr } from './free-addr.js';

const TOKEN = 't'.repeat(24);
let agent: Agent;
let base: string;
const auth = { authorization: `Bearer ${TOKEN}` };

async function call(method: string, path: string, body?: string, headers: Record<string, string> = auth): Promise<{ status: number; json: unknown; text: string }> {
  const res = await fetch(`${base}${path}`, { method, headers: { ...headers, 'content-type': 'application/json' }, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, json, text };
}

beforeAll(async () => {
  const config = resolveConfig({ flags: { name: 'h1', bind: await freeAddr(), http: await freeAddr(), token: TOKEN, profile: 'local', tags: { role: 'test' } }, file: { resolvers: { 'mv/': 'siblings', 'n/': 'pncounter' } } });
  agent = await Agent.start({ config: { ...config, valueBytesMax: 1024 }, log: pino({ level: 'silent' }), store: new MemoryStore(), dashboard: () => ({ contentType: 'text/html', body: '<h1>dash</h1>' }) });
  base = `http://${agent.httpAddress}`;
});
afterAll(async () => {
  await agent.stop('test done', false);
});

describe('agent HTTP API', () => {
  it('lists the members as {name, addr, port, status, tags, incarnation}', async () => {
    const r = await call('GET', '/v1/members');
    expect(r.status).toBe(200);
    const [self] = r.json as { name: string; addr: string; port: number; status: string; tags: Record<string, string> }[];
    expect(self).toMatchObject({ name: 'h1', addr: '127.0.0.1', status: 'alive', tags: { role: 'test' } });
    expect(`127.0.0.1:${self?.port}`).toBe(agent.node.addr);
  });

  it('puts, reads with a context, writes back with it, lists and deletes', async () => {
    const put = await call('PUT', '/v1/kv/app/a', JSON.stringify({ value: { n: 1 } }));
    expect(put.status).toBe(200);
    const got = await call('GET', '/v1/kv/app/a');
    expect(got.json).toMatchObject({ key: 'app/a', type: 'register', values: [{ n: 1 }] });
    const ctx = (got.json as { context: unknown }).context;
    expect((await call('PUT', '/v1/kv/app/a', JSON.stringify({ value: { n: 2 }, context: ctx }))).status).toBe(200);
    expect((await call('GET', '/v1/kv/app/a')).json).toMatchObject({ values: [{ n: 2 }] });
    await call('PUT', '/v1/kv/app/b', JSON.stringify({ value: 'x' }));
    expect((await call('GET', '/v1/kv?prefix=app/')).json).toEqual({ prefix: 'app/', keys: ['app/a', 'app/b'] });
    expect((await call('DELETE', '/v1/kv/app/b')).status).toBe(200);
    expect((await call('GET', '/v1/kv/app/b')).status).toBe(404);
    expect((await call('GET', '/v1/kv/never')).status).toBe(404);
  });

  it('keeps concurrent writes as siblings under a siblings prefix; a PUT with a read\'s context supersedes them', async () => {
    await call('PUT', '/v1/kv/mv/x', JSON.stringify({ value: 'a' }));
    await call('PUT', '/v1/kv/mv/x', JSON.stringify({ value: 'b' }));
    const both = (await call('GET', '/v1/kv/mv/x')).json as { values: unknown[]; context: unknown };
    expect(both.values).toEqual(['a', 'b']);
    expect((await call('PUT', '/v1/kv/mv/x', JSON.stringify({ value: 'merged', context: both.context, type: 'siblings' }))).status).toBe(200);
    expect((await call('GET', '/v1/kv/mv/x')).json).toMatchObject({ values: ['merged'] });
    const r = await call('PUT', '/v1/kv/n/count', JSON.stringify({ value: 1 }));
    expect(r.status).toBe(409);
    expect((r.json as { error: string }).error).toMatch(/pncounter/);
  });

  describe('bad input: a clear 4xx, nothing written, still serving', () => {
    const cases: [string, () => Promise<{ status: number; json: unknown }>, number, RegExp][] = [
      ['malformed JSON', () => call('PUT', '/v1/kv/bad/1', '{"value": '), 400, /malformed JSON/],
      ['a body that is not an object', () => call('PUT', '/v1/kv/bad/2', '[1,2]'), 400, /expected a JSON object/],
      ['no value', () => call('PUT', '/v1/kv/bad/3', '{}'), 400, /"value" is required/],
      ['an unknown field', () => call('PUT', '/v1/kv/bad/4', '{"value":1,"ttl":5}'), 400, /unknown field ttl/],
      ['an oversized value', () => call('PUT', '/v1/kv/bad/5', JSON.stringify({ value: 'x'.repeat(2000) })), 413, /over the limit of 1024/],
      ['an oversized body', () => call('PUT', '/v1/kv/bad/6', JSON.stringify({ value: 'x'.repeat(10_000) })), 413, /over the limit/],
      ['an unknown key type', () => call('PUT', '/v1/kv/bad/7', '{"value":1,"type":"hyperloglog"}'), 400, /unknown key type "hyperloglog"/],
      ['a key type other than the key\'s', () => call('PUT', '/v1/kv/bad/8', '{"value":1,"type":"gcounter"}'), 409, /is of type lww, not gcounter/],
      ['a malformed context', () => call('PUT', '/v1/kv/bad/9', '{"value":1,"context":"yesterday"}'), 400, /context: expected a causal context/],
      ['a key with control characters', () => call('PUT', '/v1/kv/bad%0Aten', '{"value":1}'), 400, /control characters/],
      ['no token', () => call('PUT', '/v1/kv/bad/11', '{"value":1}', {}), 401, /bearer token is required/],
      ['a wrong token', () => call('PUT', '/v1/kv/bad/12', '{"value":1}', { authorization: `Bearer ${'x'.repeat(24)}` }), 403, /wrong token/],
      ['a wrong token of another length', () => call('GET', '/v1/members', undefined, { authorization: 'Bearer short' }), 403, /wrong token/],
      ['an event without a name', () => call('POST', '/v1/event', '{"payload":"p"}'), 400, /name: expected a non-empty string/],
      ['an event over the size limit', () => call('POST', '/v1/event', JSON.stringify({ name: 'big', payload: 'x'.repeat(600) })), 400, /exceeds|limit/],
      ['an unknown endpoint', () => call('GET', '/v1/nothing'), 404, /no such endpoint/],
      ['a wrong method', () => call('POST', '/v1/members'), 405, /POST is not allowed/],
      ['a bad key for keys install', () => call('POST', '/v1/keys/install', '{"key":"abc"}'), 400, /base64 key of 16, 24 or 32 bytes/],
    ];
    it.each(cases)('%s', async (_what, run, status, message) => {
      const before = (await call('GET', '/v1/kv?prefix=bad')).json;
      const r = await run();
      expect(r.status).toBe(status);
      expect((r.json as { error: string }).error).toMatch(message);
      expect((await call('GET', '/v1/kv?prefix=bad')).json).toEqual(before);
      expect((await call('GET', '/v1/members')).status).toBe(200);
    });
  });

  it('accepts an event and streams it, with key updates, over /v1/stream', async () => {
    const ctl = new AbortController();
    const res = await fetch(`${base}/v1/stream?token=${TOKEN}`, { signal: ctl.signal });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    let seen = '';
    const reader = res.body!.getReader();
    const pump = (async () => {
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) return;
        seen += new TextDecoder().decode(value);
      }
    })();
    await waitFor('the members event', 5000, () => seen.includes('event: members'));
    expect((await call('POST', '/v1/event', JSON.stringify({ name: 'deploy', payload: 'v2' }))).status).toBe(200);
    await call('PUT', '/v1/kv/streamed', JSON.stringify({ value: 1 }));
    await waitFor('the user event and the kv change on the stream', 5000, () => seen.includes('"name":"deploy","payload":"v2"') && seen.includes('"key":"streamed"'));
    ctl.abort();
    await pump;
  });

  it('serves Prometheus metrics and the dashboard', async () => {
    const m = await fetch(`${base}/metrics`, { headers: auth });
    const text = await m.text();
    expect(m.headers.get('content-type')).toMatch(/text\/plain/);
    expect(text).toMatch(/gossip_members\{status="alive"\} 1/);
    expect(text).toMatch(/gossip_kv_keys \d+/);
    expect(text).toMatch(/# TYPE gossip_packet_bytes_total counter/);
    const d = await fetch(`${base}/`, { headers: auth });
    expect(await d.text()).toBe('<h1>dash</h1>');
  });

  it('with a peer: members carry the probe round trip; metrics split bytes by message type, with RTT and queue depths', async () => {
    const config = resolveConfig({ flags: { name: 'h2', bind: await freeAddr(), http: await freeAddr(), token: TOKEN, profile: 'local', join: [agent.node.addr] } });
    const peer = await Agent.start({ config, log: pino({ level: 'silent' }), store: new MemoryStore(), dashboard: () => ({ contentType: 'text/html', body: '' }) });
    try {
      let rtt: number | undefined;
      await waitFor('h1 has probed h2', 20_000, async () => {
        const r = await call('GET', '/v1/members');
        rtt = (r.json as { name: string; rttMs?: number }[]).find((m) => m.name === 'h2')?.rttMs;
        return rtt !== undefined;
      });
      expect(rtt).toBeGreaterThanOrEqual(0);
      expect(rtt).toBeLessThan(1000);
      const text = await (await fetch(`${base}/metrics`, { headers: auth })).text();
      const value = (re: RegExp): number => Number(re.exec(text)?.[1] ?? NaN);
      expect(value(/gossip_message_bytes_total\{type="ping",direction="out"\} (\d+)/)).toBeGreaterThan(0);
      expect(value(/gossip_message_bytes_total\{type="ack",direction="in"\} (\d+)/)).toBeGreaterThan(0);
      expect(value(/gossip_messages_by_type_total\{type="push-pull",direction="in"\} (\d+)/)).toBeGreaterThan(0);
      expect(value(/gossip_probe_rtt_ms\{member="h2"\} ([\d.]+)/)).toBeGreaterThanOrEqual(0);
      expect(value(/gossip_probe_rtt_count (\d+)/)).toBeGreaterThan(0);
      expect(text).toMatch(/gossip_queue_depth\{queue="membership"\} \d+/);
    } finally {
      await peer.stop('test done', false);
    }
  });
});
