/**
 * The HTTP API against hostile clients (issue 13, "confirmed to hold"): the token on every
 * route, no CORS headers anywhere, a 2 GB body cut early, slowloris bounded, 10,000
 * concurrent requests all answered. One in-process agent with a token.
 */
import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { connect } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { resolveConfig } from '../../src/agent/config.js';
import { MemoryStore } from '../../src/store/index.js';
import { freeAddr } from './free-addr.js';
import { raw } from './http-raw.js';
import { waitFor } from './wait.js';

const TOKEN = 't'.repeat(32);
const AUTH = { authorization: `Bearer ${TOKEN}` };
const HEADERS_TIMEOUT_MS = 1000;
let agent: Agent;
let host: string;
let port: number;

beforeAll(async () => {
  const page = (): { contentType: string; body: string; csp: string } => ({ contentType: 'text/html', body: '<h1>dash</h1>', csp: "default-src 'none'" });
  agent = await Agent.start({
    config: resolveConfig({ flags: { name: 'hostile', bind: await freeAddr(), http: await freeAddr(), profile: 'local', token: TOKEN } }),
    log: pino({ level: 'silent' }), store: new MemoryStore(), dashboard: page, httpHeadersTimeoutMs: HEADERS_TIMEOUT_MS,
  });
  host = agent.httpAddress.slice(0, agent.httpAddress.lastIndexOf(':'));
  port = Number(agent.httpAddress.slice(agent.httpAddress.lastIndexOf(':') + 1));
});
afterAll(async () => {
  await agent.stop('test done', false);
});

/** Every route of the API (README, "HTTP API"), with a body that would be accepted, and paths that match none. */
const ROUTES: readonly [string, string, string?][] = [
  ['GET', '/'], ['GET', '/v1/members'], ['GET', '/v1/health'], ['GET', '/v1/info'], ['GET', '/v1/convergence'],
  ['GET', '/v1/reachability?timeoutMs=100'], ['GET', '/v1/stream'], ['GET', '/metrics'], ['GET', '/v1/keys'],
  ['GET', '/v1/kv/a'], ['HEAD', '/v1/kv/a'], ['GET', '/v1/kv?prefix='], ['PUT', '/v1/kv/a', '{"value":1}'],
  ['POST', '/v1/kv/a', '{"op":"increment"}'], ['DELETE', '/v1/kv/a'], ['POST', '/v1/event', '{"name":"e","payload":"p"}'],
  ['POST', '/v1/query', '{"name":"q","timeoutMs":100}'], ['POST', '/v1/join', '{"addrs":["127.0.0.1:1"]}'],
  ['POST', '/v1/tags', '{"set":{"a":"b"}}'], ['POST', '/v1/leave', '{}'],
  ['POST', '/v1/keys/install', `{"key":"${Buffer.alloc(32, 1).toString('base64')}"}`],
  ['POST', '/v1/keys/use', `{"key":"${Buffer.alloc(32, 1).toString('base64')}"}`],
  ['POST', '/v1/keys/remove', `{"key":"${Buffer.alloc(32, 1).toString('base64')}"}`],
  ['GET', '/nope'], ['PATCH', '/v1/members'], ['OPTIONS', '/v1/kv/a'], ['GET', '/v1/kv/a?token=x'],
];

describe('the token is required on every path', () => {
  it('every route, and paths that match none, answer 401 without the token and 403 with a wrong one (of any length); nothing is done', async () => {
    const got: string[] = [];
    for (const [method, path, body] of ROUTES) {
      for (const [what, headers, want] of [
        ['none', {}, 401],
        ['wrong', { authorization: `Bearer ${'x'.repeat(TOKEN.length)}` }, 403],
        ['short', { authorization: 'Bearer t' }, 403],
        ['forged cookie', { cookie: 'gossip_session=AAAA' }, 401],
      ] as const) {
        // `?token=` on an API route: refused before the token is even looked at.
        const expected = path.includes('token=') ? (what === 'none' || what === 'forged cookie' ? 401 : want) : want;
        const r = await raw(agent.httpAddress, method, path, body, headers);
        if (r.status !== expected) got.push(`${method} ${path} (${what}): ${r.status}`);
      }
    }
    expect(got).toEqual([]);
    // Nothing happened: still a member, no key written, no tags, no keys installed.
    const ok = (p: string): Promise<{ status: number; json: unknown }> => raw(agent.httpAddress, 'GET', p, undefined, AUTH);
    expect((await ok('/v1/kv/a')).status).toBe(404);
    expect(((await ok('/v1/info')).json as { tags: Record<string, string> }).tags).not.toHaveProperty('a');
    expect(agent.node.members().find((m) => m.name === 'hostile')?.status).toBe('alive');
  });
});

describe('no CORS headers', () => {
  it('no route answers with Access-Control-* headers, for a foreign Origin, a preflight or neither', async () => {
    const found: string[] = [];
    for (const [method, path] of ROUTES) {
      if (path === '/v1/stream' || path === '/v1/leave') continue; // read below / would stop the agent
      for (const headers of [{ ...AUTH, origin: 'http://evil.example' }, { ...AUTH }, { origin: 'http://evil.example' }]) {
        const r = await raw(agent.httpAddress, method, path, undefined, headers);
        for (const h of Object.keys(r.headers)) if (h.startsWith('access-control-')) found.push(`${method} ${path}: ${h}`);
      }
      const pre = await raw(agent.httpAddress, 'OPTIONS', path.split('?')[0] ?? path, undefined, { origin: 'http://evil.example', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'content-type, authorization' });
      for (const h of Object.keys(pre.headers)) if (h.startsWith('access-control-')) found.push(`preflight ${path}: ${h}`);
      expect(pre.status, `preflight ${path}`).toBeGreaterThanOrEqual(400);
    }
    const ctl = new AbortController();
    const s = await fetch(`http://${agent.httpAddress}/v1/stream`, { headers: { ...AUTH, origin: 'http://evil.example' }, signal: ctl.signal });
    expect(s.status).toBe(200);
    for (const h of s.headers.keys()) if (h.startsWith('access-control-')) found.push(`stream: ${h}`);
    ctl.abort();
    expect(found).toEqual([]);
  });
});

/** Sends a `bytes`-long body (generated as it goes, never held) until the server answers or closes: what was sent, and the answer's status line. */
function hugeBody(framing: 'content-length' | 'chunked', bytes: number): Promise<{ sent: number; status: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const s = connect(port, host);
    let sent = 0;
    let answer = '';
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const framed = framing === 'chunked' ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]) : chunk;
    const done = (): void => resolve({ sent, status: answer.split('\r\n')[0] ?? '', ms: performance.now() - t0 });
    s.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    s.on('close', done);
    s.on('error', () => undefined);
    const length = framing === 'chunked' ? 'Transfer-Encoding: chunked' : `Content-Length: ${bytes}`;
    s.write(`PUT /v1/kv/huge HTTP/1.1\r\nHost: ${agent.httpAddress}\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\n${length}\r\n\r\n`);
    const pump = (): void => {
      while (sent < bytes && !s.destroyed && s.writable) {
        sent += chunk.length;
        if (!s.write(framed)) {
          s.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
}

describe('a 2 GB body', () => {
  for (const framing of ['content-length', 'chunked'] as const) {
    it(`(${framing}) is answered 413 and cut after what the socket buffers hold, not read to its end; the agent stays healthy`, async () => {
      const r = await hugeBody(framing, 2 ** 31);
      expect(r.status).toBe('HTTP/1.1 413 Payload Too Large');
      // The socket buffers on both sides hold a few MB; reading on would take all 2 GB.
      expect(r.sent, `${r.sent} bytes sent before the agent closed the connection (${Math.round(r.ms)} ms)`).toBeLessThan(64 * 2 ** 20);
      expect((await raw(agent.httpAddress, 'GET', '/v1/health', undefined, AUTH)).json).toMatchObject({ status: 'ok' });
      expect((await raw(agent.httpAddress, 'PUT', '/v1/kv/after-huge', '{"value":1}', AUTH)).status).toBe(200);
      expect((await raw(agent.httpAddress, 'GET', '/v1/kv/huge', undefined, AUTH)).status).toBe(404);
    });
  }
});

describe('slowloris', () => {
  it('200 connections sending their headers a byte at a time are cut at the headers deadline, while a normal request is served', async () => {
    const head = `GET /v1/members HTTP/1.1\r\nHost: ${agent.httpAddress}\r\nAuthorization: Bearer ${TOKEN}\r\nX-Slow: ${'a'.repeat(200)}\r\n\r\n`;
    const conns: { s: Socket; closedAt: number | null; answer: string }[] = [];
    const t0 = performance.now();
    for (let i = 0; i < 200; i++) {
      const c = { s: connect(port, host), closedAt: null as number | null, answer: '' };
      c.s.on('error', () => undefined);
      c.s.on('data', (d: Buffer) => (c.answer += d.toString()));
      c.s.on('close', () => (c.closedAt = performance.now() - t0));
      conns.push(c);
    }
    let at = 0;
    const drip = setInterval(() => {
      for (const c of conns) if (!c.s.destroyed && at < head.length - 4) c.s.write(head[at]!);
      at++;
    }, 50);
    try {
      // Served while they drip.
      await new Promise((r) => setTimeout(r, 300));
      const normal = await raw(agent.httpAddress, 'GET', '/v1/members', undefined, AUTH);
      expect(normal.status).toBe(200);
      // Cut soon after the deadline (checked every deadline/4), not when they finish (200 × 50 ms = 10 s).
      await waitFor('every slow connection to be closed by the agent', 4 * HEADERS_TIMEOUT_MS + 2000, () => conns.every((c) => c.closedAt !== null), () => `${conns.filter((c) => c.closedAt === null).length} still open after ${at} bytes`);
      expect(Math.max(...conns.map((c) => c.closedAt!))).toBeLessThan(HEADERS_TIMEOUT_MS * 2 + 2000);
      expect(conns.every((c) => c.answer === '' || c.answer.startsWith('HTTP/1.1 408'))).toBe(true);
      expect((await raw(agent.httpAddress, 'GET', '/v1/health', undefined, AUTH)).status).toBe(200);
    } finally {
      clearInterval(drip);
      for (const c of conns) c.s.destroy();
    }
  });
});

/**
 * A client process (the test process could not hold 10,000 more sockets under its descriptor
 * limit) opening `n` connections at once, one GET each, each given `deadlineMs`: counts by
 * status, errors and deadlines missed.
 */
const CLIENT = `
const net = require('node:net');
const [host, port, n, deadline, token] = process.argv.slice(1);
const out = { statuses: {}, errors: {}, hung: 0 };
let left = Number(n);
const end = () => { if (--left === 0) { process.stdout.write(JSON.stringify(out)); process.exit(0); } };
for (let i = 0; i < Number(n); i++) {
  const s = net.connect(Number(port), host);
  let buf = '', over = false;
  const timer = setTimeout(() => { if (!over) { over = true; out.hung++; s.destroy(); end(); } }, Number(deadline));
  const finish = (key, table) => { if (over) return; over = true; clearTimeout(timer); table[key] = (table[key] || 0) + 1; s.destroy(); end(); };
  s.on('connect', () => s.write('GET /v1/health HTTP/1.1\\r\\nHost: ' + host + ':' + port + '\\r\\nAuthorization: Bearer ' + token + '\\r\\nConnection: close\\r\\n\\r\\n'));
  s.on('data', (d) => { buf += d; const m = /^HTTP\\/1\\.1 (\\d+)/.exec(buf); if (m && buf.includes('\\r\\n\\r\\n')) finish(m[1], out.statuses); });
  s.on('error', (e) => finish(e.code || String(e), out.errors));
  s.on('close', () => finish('closed without an answer', out.errors));
}
`;

describe('10,000 concurrent requests', () => {
  it('are all answered, 200 or a clear 503; none hangs, and the agent keeps serving', async () => {
    // An agent of its own with the default headers deadline (10 s): under this load one 1 s
    // deadline cuts requests whose bytes the agent has not got to yet (a 408).
    const own = await Agent.start({ config: resolveConfig({ flags: { name: 'crowded', bind: await freeAddr(), http: await freeAddr(), profile: 'local', token: TOKEN } }), log: pino({ level: 'silent' }), store: new MemoryStore() });
    try {
      await crowd(own);
    } finally {
      await own.stop('test done', false);
    }
  }, 120_000);
});

async function crowd(own: Agent): Promise<void> {
    const n = 10_000;
    const at = own.httpAddress.lastIndexOf(':');
    const proc = spawn(process.execPath, ['-e', CLIENT, own.httpAddress.slice(0, at), own.httpAddress.slice(at + 1), String(n), '45000', TOKEN], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => proc.once('exit', r));
    expect(code, err).toBe(0);
    const r = JSON.parse(out) as { statuses: Record<string, number>; errors: Record<string, number>; hung: number };
    process.stderr.write(`[10k] ${out}\n`);
    expect(r.hung).toBe(0);
    expect(r.errors).toEqual({});
    expect((r.statuses['200'] ?? 0) + (r.statuses['503'] ?? 0)).toBe(n);
    expect((await raw(own.httpAddress, 'GET', '/v1/health', undefined, AUTH)).status).toBe(200);
}
