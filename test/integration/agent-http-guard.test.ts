import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { resolveConfig } from '../../src/agent/config.js';
import { MemoryStore } from '../../src/store/index.js';
import { raw } from './http-raw.js';
import { waitFor } from './wait.js';
import { freeAddr } from './free-addr.js';

/**
 * The HTTP API against browsers and proxies (issue 13 items 5, 10, 12): the token in the query
 * string only where a browser cannot send a header, a session cookie for the dashboard, the
 * Host check (DNS rebinding), cross-site writes refused, security headers, bounded streams.
 */
const TOKEN = 's'.repeat(24);
const logged: string[] = [];
let open: Agent;
let guarded: Agent;

beforeAll(async () => {
  const log = pino({ level: 'trace' }, new Writable({ write: (c: Buffer, _e, done) => { logged.push(c.toString()); done(); } }));
  const page = (): { contentType: string; body: string; csp: string } => ({ contentType: 'text/html', body: '<h1>dash</h1>', csp: "default-src 'none'" });
  open = await Agent.start({ config: resolveConfig({ flags: { name: 'g-open', bind: await freeAddr(), http: await freeAddr(), profile: 'local' }, file: { httpHosts: ['agent.example'], httpStreamsMax: 3 } }), log: pino({ level: 'silent' }), store: new MemoryStore(), dashboard: page });
  guarded = await Agent.start({ config: resolveConfig({ flags: { name: 'g-token', bind: await freeAddr(), http: await freeAddr(), profile: 'local', token: TOKEN } }), log, store: new MemoryStore(), dashboard: page });
});
afterAll(async () => {
  await open.stop('test done', false);
  await guarded.stop('test done', false);
});

const port = (a: Agent): string => a.httpAddress.slice(a.httpAddress.lastIndexOf(':') + 1);
const error = (a: { json: unknown }): string => (a.json as { error?: string } | null)?.error ?? '';

describe('the token in the query string (item 5)', () => {
  it('is refused on API routes: only / and /v1/stream take ?token=', async () => {
    const r = await raw(guarded.httpAddress, 'GET', `/v1/members?token=${TOKEN}`);
    expect(r.status).toBe(401);
    expect(error(r)).toMatch(/\?token= is accepted only on \/ and \/v1\/stream/);
    expect((await raw(guarded.httpAddress, 'GET', `/v1/kv/x?token=${TOKEN}`)).status).toBe(401);
    expect((await raw(guarded.httpAddress, 'GET', '/v1/members', undefined, { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
  });

  it('opens the dashboard: a session cookie, then a redirect that drops the token from the address', async () => {
    const login = await raw(guarded.httpAddress, 'GET', `/?token=${TOKEN}`);
    expect(login.status).toBe(303);
    expect(login.headers.location).toBe('/');
    const setCookie = String(login.headers['set-cookie']);
    expect(setCookie).toMatch(/^gossip_session=[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/);
    expect(setCookie).not.toContain(TOKEN);
    const cookie = setCookie.split(';')[0] ?? '';
    expect((await raw(guarded.httpAddress, 'GET', '/', undefined, { cookie })).text).toBe('<h1>dash</h1>');
    expect((await raw(guarded.httpAddress, 'GET', '/v1/members', undefined, { cookie })).status).toBe(200);
    expect((await raw(guarded.httpAddress, 'GET', '/v1/members', undefined, { cookie: 'gossip_session=forged' })).status).toBe(401);
    expect((await raw(guarded.httpAddress, 'GET', `/?token=${'x'.repeat(24)}`)).status).toBe(403);
  });

  it('the stream takes ?token= (EventSource cannot send a header)', async () => {
    const ctl = new AbortController();
    const res = await fetch(`http://${guarded.httpAddress}/v1/stream?token=${TOKEN}`, { signal: ctl.signal });
    expect(res.status).toBe(200);
    ctl.abort();
  });

  it('is never logged', () => {
    expect(logged.length).toBeGreaterThan(0);
    expect(logged.join('')).not.toContain(TOKEN);
  });
});

describe('cross-site requests and DNS rebinding (item 10)', () => {
  it('refuses a Host that is not one of the agent\'s names, even with no token', async () => {
    const r = await raw(open.httpAddress, 'GET', '/v1/keys', undefined, { host: `rebind.attacker.example:${port(open)}` });
    expect(r.status).toBe(403);
    expect(error(r)).toMatch(/Host 'rebind\.attacker\.example:\d+' is not a name of this agent/);
    for (const host of [`localhost:${port(open)}`, `127.0.0.1:${port(open)}`, `[::1]:${port(open)}`, `agent.example:${port(open)}`, 'LOCALHOST']) {
      expect((await raw(open.httpAddress, 'GET', '/v1/members', undefined, { host })).status, host).toBe(200);
    }
  });

  it('refuses a cross-origin write (what a no-cors fetch from another page sends): no leave, no key installed, nothing written', async () => {
    const evil = { origin: 'http://attacker.example', 'content-type': 'text/plain;charset=UTF-8' };
    const leave = await raw(open.httpAddress, 'POST', '/v1/leave', '{}', evil);
    expect(leave.status).toBe(403);
    expect(error(leave)).toBe('cross-origin request refused (Origin http://attacker.example)');
    const key = Buffer.alloc(32, 7).toString('base64');
    expect((await raw(open.httpAddress, 'POST', '/v1/keys/install', JSON.stringify({ key }), { ...evil, 'content-type': 'application/json' })).status).toBe(403);
    expect((await raw(open.httpAddress, 'PUT', '/v1/kv/csrf', '{"value":1}', { origin: 'null', 'content-type': 'application/json' })).status).toBe(403);
    expect((await raw(open.httpAddress, 'PUT', '/v1/kv/csrf', '{"value":1}', { 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' })).status).toBe(403);
    expect(open.node.kv.list('csrf')).toEqual([]);
    expect((await raw(open.httpAddress, 'GET', '/v1/members')).status).toBe(200);
    const metrics = (await raw(open.httpAddress, 'GET', '/metrics')).text;
    expect(Number(/gossip_http_responses_total\{status="403"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(4);
  });

  it('wants Content-Type: application/json on every state-changing request (a form cannot send it)', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const r = await raw(open.httpAddress, 'PUT', '/v1/kv/form', '{"value":1}', { 'content-type': type });
      expect(r.status, type).toBe(415);
      expect(error(r)).toMatch(/PUT requests need Content-Type: application\/json/);
    }
    const del = await raw(open.httpAddress, 'DELETE', '/v1/kv/form', undefined, { 'content-type': '' });
    expect(del.status).toBe(415);
    expect(open.node.kv.list('form')).toEqual([]);
    // The same origin, as the dashboard or curl: accepted.
    const ok = await raw(open.httpAddress, 'PUT', '/v1/kv/same', '{"value":1}', { origin: `http://${open.httpAddress}`, 'content-type': 'application/json; charset=utf-8' });
    expect(ok.status).toBe(200);
  });

  it('sends CSP, X-Frame-Options and nosniff with the page and the API', async () => {
    const page = await raw(open.httpAddress, 'GET', '/');
    expect(page.headers['content-security-policy']).toBe("default-src 'none'");
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    const api = await raw(open.httpAddress, 'GET', '/v1/members');
    expect(api.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(api.headers['x-content-type-options']).toBe('nosniff');
    expect(api.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('streams (item 12)', () => {
  const openStream = async (query = ''): Promise<{ status: number; text: () => string; close: () => void }> => {
    const ctl = new AbortController();
    const res = await fetch(`http://${open.httpAddress}/v1/stream${query}`, { signal: ctl.signal });
    let seen = '';
    if (res.ok) {
      const reader = res.body!.getReader();
      void (async () => {
        for (;;) {
          const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
          if (done) return;
          seen += new TextDecoder().decode(value);
        }
      })();
    } else seen = await res.text();
    return { status: res.status, text: () => seen, close: () => ctl.abort() };
  };

  it('caps the number of streams with a clear 503, and frees the slot when one closes', async () => {
    const streams = [await openStream(), await openStream(), await openStream()];
    expect(streams.map((s) => s.status)).toEqual([200, 200, 200]);
    const over = await openStream();
    expect(over.status).toBe(503);
    expect(over.text()).toMatch(/too many streams open \(3, httpStreamsMax\)/);
    streams[0]?.close();
    await waitFor('the slot freed', 5000, () => open.http.streams.size === 2);
    const again = await openStream();
    expect(again.status).toBe(200);
    const metrics = (await raw(open.httpAddress, 'GET', '/metrics')).text;
    expect(metrics).toMatch(/gossip_http_streams_refused_total 1\n/);
    expect(metrics).toMatch(/gossip_http_streams_open 3\n/);
    again.close();
    for (const s of streams) s.close();
    await waitFor('every stream closed', 5000, () => open.http.streams.size === 0);
  });

  it('computes the convergence once per interval for all streams, not once per stream', async () => {
    const spy = vi.spyOn(open.kv, 'convergence');
    const streams = [await openStream(), await openStream(), await openStream()];
    try {
      await waitFor('two convergence events on every stream', 10_000, () => streams.every((s) => s.text().split('event: convergence').length > 2));
      // Three streams over two ticks: two computations (a third at most if a tick fell in between), never six.
      expect(spy.mock.calls.length).toBeLessThanOrEqual(3);
    } finally {
      spy.mockRestore();
      for (const s of streams) s.close();
    }
  });

  it('?events= picks the events a stream gets (the first members list always); an unknown name is a 400', async () => {
    await waitFor('the streams of the tests before closed', 5000, () => open.http.streams.size === 0);
    const members = await openStream('?events=member');
    const all = await openStream();
    try {
      await open.node.kv.put('picked/a', 1);
      await waitFor('the key update on the unfiltered stream', 5000, () => all.text().includes('picked/a'));
      await waitFor('a convergence event on the unfiltered stream', 5000, () => all.text().includes('event: convergence'));
      expect(members.text()).toMatch(/^: gossip agent stream\n\nevent: members\n/);
      expect(members.text()).not.toContain('event: kv');
      expect(members.text()).not.toContain('event: convergence');
    } finally {
      members.close();
      all.close();
    }
    const bad = await raw(open.httpAddress, 'GET', '/v1/stream?events=member,nope');
    expect(bad.status).toBe(400);
    expect(error(bad)).toMatch(/events: unknown nope/);
  });
});
