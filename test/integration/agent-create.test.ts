import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../src/agent/index.js';
import { ConfigError, createAgent } from '../../src/agent/index.js';
import { freePorts } from '../../src/clusterbench/ports.js';
import type { TimelineEntry } from '../../src/dashboard/index.js';
import { waitFor } from './wait.js';

const started: Agent[] = [];
afterAll(async () => {
  for (const a of started.reverse()) await a.stop('test done', false);
});

async function get<T>(a: Agent, path: string): Promise<{ status: number; body: T; type: string }> {
  const res = await fetch(`http://${a.httpAddress}${path}`);
  const type = res.headers.get('content-type') ?? '';
  return { status: res.status, type, body: (type.includes('json') ? await res.json() : await res.text()) as T };
}

describe('createAgent (gossip-coordinator/agent)', () => {
  it('starts an agent from the CLI\'s settings, serving the dashboard, whose startup line names its URL', async () => {
    const [gossip, http] = await freePorts(2);
    const lines: string[] = [];
    const a = await createAgent({ name: 'emb-a', bind: `127.0.0.1:${gossip}`, http: `127.0.0.1:${http}`, profile: 'local', tags: { role: 'embedded' } }, { log: pino({ level: 'info' }, { write: (l: string) => void lines.push(l) }) });
    started.push(a);
    expect(a.node.addr).toBe(`127.0.0.1:${gossip}`);
    expect(a.node.tags).toMatchObject({ role: 'embedded' });
    const startup = lines.map((l) => JSON.parse(l) as { msg: string; dashboard?: string }).find((l) => l.msg === 'agent started');
    expect(startup?.dashboard).toBe(`http://127.0.0.1:${http}/`);
    const page = await get<string>(a, '/');
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/<title>gossip-coordinator dashboard<\/title>/);
  });

  it('warns when its HTTP API listens on a port that browsers and fetch() refuse (10080), and serves it all the same', async () => {
    const [gossip] = await freePorts(1);
    const lines: string[] = [];
    const a = await createAgent({ name: 'emb-bad-port', bind: `127.0.0.1:${gossip}`, http: '127.0.0.1:10080', profile: 'local' }, { log: pino({ level: 'info' }, { write: (l: string) => void lines.push(l) }) }).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
    if (a instanceof Error) {
      if (/EADDRINUSE/.test(a.message)) return; // 10080 taken on this machine: nothing to check
      throw a;
    }
    started.push(a);
    const warned = lines.map((l) => JSON.parse(l) as { level: number; msg: string; http?: string }).filter((l) => l.level === 40 && /browsers and fetch\(\) refuse/.test(l.msg));
    expect(warned).toEqual([expect.objectContaining({ http: '127.0.0.1:10080' })]);
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => request('http://127.0.0.1:10080/v1/health', (res) => { res.resume(); resolve(res.statusCode ?? 0); }).once('error', reject).end());
    expect(status).toBe(200);
  });

  it('does not warn on an ordinary port', async () => {
    const [gossip, http] = await freePorts(2);
    const lines: string[] = [];
    const a = await createAgent({ name: 'emb-ok-port', bind: `127.0.0.1:${gossip}`, http: `127.0.0.1:${http}`, profile: 'local' }, { log: pino({ level: 'info' }, { write: (l: string) => void lines.push(l) }) });
    started.push(a);
    expect(lines.filter((l) => /browsers and fetch\(\) refuse/.test(l))).toEqual([]);
  });

  it('refuses bad settings with a ConfigError listing each, starting nothing', async () => {
    const err = await createAgent({ name: '', bind: 'nowhere', retryJoin: ['bad name'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual(expect.arrayContaining([expect.stringMatching(/^name:/), expect.stringMatching(/^bind:/), expect.stringMatching(/^retryJoin:/)]));
  });

  it('GET /v1/timeline: the joins, leaves and rejoins the agent saw, oldest first', async () => {
    const a = started[0];
    if (a === undefined) throw new Error('agent missing');
    const silent = { log: pino({ level: 'silent' }), dashboard: false };
    const [g1, h1, g2, h2] = await freePorts(4);
    const b = await createAgent({ name: 'emb-b', bind: `127.0.0.1:${g1}`, http: `127.0.0.1:${h1}`, profile: 'local', join: [a.node.addr] }, silent);
    await waitFor('emb-b to join', 5000, () => a.node.members().some((m) => m.name === 'emb-b' && m.status === 'alive'));
    await b.stop('leaving');
    await waitFor('emb-b to have left', 5000, () => a.node.members().some((m) => m.name === 'emb-b' && m.status === 'left'));
    // Back under the same name at another address: a rejoin.
    const b2 = await createAgent({ name: 'emb-b', bind: `127.0.0.1:${g2}`, http: `127.0.0.1:${h2}`, profile: 'local', join: [a.node.addr] }, silent);
    started.push(b2);
    await waitFor('emb-b to rejoin', 10_000, () => a.node.members().some((m) => m.name === 'emb-b' && m.status === 'alive' && m.addr === b2.node.addr));
    const t = await get<{ events: TimelineEntry[] }>(a, '/v1/timeline');
    expect(t.status).toBe(200);
    const forB = t.body.events.filter((e) => e.name === 'emb-b').map((e) => e.kind);
    expect(forB[0]).toBe('joined');
    expect(forB).toContain('left');
    expect(forB[forB.length - 1]).toBe('rejoined');
    expect(t.body.events.find((e) => e.kind === 'rejoined')?.addr).toBe(b2.node.addr);
    const times = t.body.events.map((e) => e.atMs);
    expect(times).toEqual([...times].sort((x, y) => x - y));
  });
});
