/**
 * The agent's y-websocket endpoint, in process (issue 17): the real `y-websocket` provider syncs
 * through it; the token (header or `?token=`), the cross-origin rule and the per-prefix read/write
 * configuration hold; a read-only client's edits leave no trace; malformed frames close only
 * their connection.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { Agent } from '../../src/agent/agent.js';
import { resolveConfig } from '../../src/agent/config.js';
import { MemoryStore } from '../../src/store/index.js';
import { connectClient, waitConverged } from './yjs-clients.js';
import { waitFor } from './wait.js';

const TOKEN = 'y'.repeat(24);
let agent: Agent;
let http: string;

beforeAll(async () => {
  const config = resolveConfig({ flags: { name: 'yws', bind: '127.0.0.1:0', http: '127.0.0.1:0', token: TOKEN, profile: 'local', yjs: { read: ['pub/', 'team/'], write: ['team/'] } } });
  agent = await Agent.start({ config, log: pino({ level: 'silent' }), store: new MemoryStore() });
  http = agent.httpAddress;
});
afterAll(async () => {
  await agent.stop('test done', false);
});

/** The status of an upgrade attempt (101 when accepted). */
function upgradeStatus(path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://${http}${path}`, { headers });
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('error', () => resolve(-1));
  });
}

describe('ws://HOST/v1/yjs/{doc}', () => {
  it('two y-websocket clients converge through the agent', async () => {
    const a = connectClient(http, 'team/one', { token: TOKEN });
    const b = connectClient(http, 'team/one', { token: TOKEN });
    try {
      await Promise.all([a.synced, b.synced]);
      a.doc.getText('t').insert(0, 'hello ');
      b.doc.getText('t').insert(0, 'world ');
      await waitConverged('a and b', [a.doc, b.doc]);
      expect(a.doc.getText('t').length).toBe(12);
      // A third client, later, gets everything at its sync.
      const c = connectClient(http, 'team/one', { token: TOKEN });
      await c.synced;
      await waitConverged('c too', [a.doc, c.doc]);
      c.close();
    } finally {
      a.close();
      b.close();
    }
  });

  it('needs the token (header or ?token=); a browser from another origin needs it even with a session', async () => {
    expect(await upgradeStatus('/v1/yjs/team/x')).toBe(401);
    expect(await upgradeStatus('/v1/yjs/team/x?token=wrong-token-wrong-token')).toBe(403);
    expect(await upgradeStatus('/v1/yjs/team/x', { authorization: `Bearer ${TOKEN}` })).toBe(101);
    expect(await upgradeStatus(`/v1/yjs/team/x?token=${TOKEN}`, { origin: 'http://elsewhere.example' })).toBe(101);
    expect(await upgradeStatus('/v1/yjs/team/x', { origin: 'http://elsewhere.example', cookie: 'gossip_session=forged' })).toBe(401);
    expect(await upgradeStatus(`/v1/nothing?token=${TOKEN}`)).toBe(404);
  });

  it('per-prefix access: no access is a 403, a read-only client syncs but its edits leave no trace', async () => {
    expect(await upgradeStatus(`/v1/yjs/secret/x?token=${TOKEN}`)).toBe(403);
    const writer = connectClient(http, 'pub/news', { token: TOKEN });
    await writer.synced;
    const stats = (await (await fetch(`http://${http}/v1/yjs`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { active: boolean; endpoint: { refusedWrites: number } };
    expect(stats.active).toBe(true);
    writer.doc.getText('t').insert(0, 'not allowed');
    await waitFor('the write refused', 5000, async () => ((await (await fetch(`http://${http}/v1/yjs`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as typeof stats).endpoint.refusedWrites > 0);
    const reader = connectClient(http, 'pub/news', { token: TOKEN });
    await reader.synced;
    await new Promise((r) => setTimeout(r, 200));
    expect(reader.doc.getText('t').toJSON()).toBe('');
    writer.close();
    reader.close();
  });

  it('a malformed frame closes only its own connection', async () => {
    const good = connectClient(http, 'team/m', { token: TOKEN });
    await good.synced;
    const bad = new WebSocket(`ws://${http}/v1/yjs/team/m?token=${TOKEN}`);
    await new Promise((r) => bad.once('open', r));
    const closed = new Promise<number>((r) => bad.once('close', (code) => r(code)));
    bad.send(new Uint8Array([0, 2, 200, 1, 2, 3]));
    expect(await closed).toBe(1003);
    good.doc.getText('t').insert(0, 'still fine');
    const other = connectClient(http, 'team/m', { token: TOKEN });
    await other.synced;
    await waitConverged('still served', [good.doc, other.doc]);
    good.close();
    other.close();
  });
});
