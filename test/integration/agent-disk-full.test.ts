import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { resolveConfig } from '../../src/agent/config.js';
import { freePort } from '../../src/clusterbench/ports.js';
import { MemoryStore } from '../../src/store/index.js';
import { fillDisk, mountTmpfs, noTmpfs } from './tmpfs.js';
import { waitFor } from './wait.js';

/**
 * Issue 13, item 1: a write the store refused (a real full disk: a 2 MB tmpfs) leaves no trace
 * in memory, on the wire or on disk; the agent keeps serving reads, says in /v1/health and
 * /metrics that its store is failing, and logs it once per state change.
 */
const mount = mountTmpfs(2 * 1024 * 1024);

async function startAgent(name: string, o: { dataDir?: string; join?: string[]; lines?: string[] }): Promise<Agent> {
  const [bind, http] = [await freePort(), await freePort()];
  const config = resolveConfig({
    flags: { name, bind: `127.0.0.1:${bind}`, http: `127.0.0.1:${http}`, profile: 'local', join: o.join ?? [], ...(o.dataDir !== undefined ? { dataDir: o.dataDir } : {}) },
  });
  const lines = o.lines;
  const log = lines === undefined ? pino({ level: 'silent' }) : pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
  return Agent.start({ config, log, snapshotIntervalMs: 100, ...(o.dataDir === undefined ? { store: new MemoryStore() } : {}) });
}

async function call(a: Agent, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown; text: string }> {
  const res = await fetch(`http://${a.httpAddress}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, json, text };
}

describe('a full disk: a refused write leaves no trace', () => {
  if ('reason' in mount) {
    noTmpfs(mount.reason, { skip: (n, f) => it.skip(n, f), fail: (n, f) => it(n, f) });
    return;
  }
  const agents: Agent[] = [];
  afterAll(async () => {
    for (const a of agents) await a.stop('test done', false);
    mount.unmount();
  });

  it('answers 503, shows nothing, sends nothing, stores nothing; health and metrics say so; one log line per change', async () => {
    const dataDir = join(mount.dir, 'a');
    const lines: string[] = [];
    const a = await startAgent('a', { dataDir, lines });
    agents.push(a);
    expect((await call(a, 'PUT', '/v1/kv/ok/before', { value: 'x' })).status).toBe(200);
    const b = await startAgent('b', { join: [a.node.addr] });
    agents.push(b);
    await waitFor('b has ok/before', 10_000, async () => (await call(b, 'GET', '/v1/kv/ok/before')).status === 200);

    const filler = fillDisk(mount.dir);
    const big = 'z'.repeat(30 * 1024);
    for (const k of ['failed/w1', 'failed/w2', 'failed/w3']) {
      const r = await call(a, 'PUT', `/v1/kv/${k}`, { value: big });
      expect(r.status, r.text).toBe(503);
      expect(r.text).toMatch(/disk is full/);
    }
    // No trace in memory; reads still served.
    expect((await call(a, 'GET', '/v1/kv/failed/w1')).status).toBe(404);
    expect((await call(a, 'GET', '/v1/kv?prefix=failed/')).json).toMatchObject({ keys: [] });
    expect((await call(a, 'GET', '/v1/kv/ok/before')).json).toMatchObject({ values: ['x'] });
    // Says so.
    const health = await call(a, 'GET', '/v1/health');
    expect(health.status).toBe(200);
    expect(health.json).toMatchObject({ status: 'degraded', store: { ok: false } });
    expect((health.json as { store: { error: string } }).store.error).toMatch(/disk is full/);
    const metrics = (await call(a, 'GET', '/metrics')).text;
    expect(metrics).toMatch(/^gossip_store_failing 1$/m);
    expect(metrics).toMatch(/^gossip_kv_store_errors_total [1-9]/m);
    // Several snapshot rounds fail while the disk stays full: still one line.
    await new Promise((r) => setTimeout(r, 500));

    rmSync(filler);
    await waitFor('a recovers', 10_000, async () => ((await call(a, 'GET', '/v1/health')).json as { status: string }).status === 'ok');
    expect((await call(a, 'GET', '/metrics')).text).toMatch(/^gossip_store_failing 0$/m);
    // The peer never gets it (nothing went on the wire), and a's state still agrees with b's.
    expect((await call(a, 'PUT', '/v1/kv/ok/after', { value: 'y' })).status).toBe(200);
    await waitFor('b has ok/after', 10_000, async () => (await call(b, 'GET', '/v1/kv/ok/after')).status === 200);
    await waitFor('a and b agree', 10_000, async () => ((await call(a, 'GET', '/v1/convergence')).json as { agreement: number }).agreement === 1);
    expect((await call(b, 'GET', '/v1/kv?prefix=failed/')).json).toMatchObject({ keys: [] });
    expect((await call(a, 'GET', '/v1/kv?prefix=failed/')).json).toMatchObject({ keys: [] });

    const failing = lines.filter((l) => l.includes('the store refuses writes'));
    const recovered = lines.filter((l) => l.includes('the store takes writes again'));
    expect(failing).toHaveLength(1);
    expect(recovered).toHaveLength(1);
    expect(lines.filter((l) => l.includes('"stack"'))).toEqual([]);

    // Nothing on disk either: a restart comes back without the refused writes.
    await a.stop('restart', false);
    agents.splice(agents.indexOf(a), 1);
    const a2 = await startAgent('a', { dataDir });
    agents.push(a2);
    expect((await call(a2, 'GET', '/v1/kv?prefix=failed/')).json).toMatchObject({ keys: [] });
    expect((await call(a2, 'GET', '/v1/kv/ok/after')).json).toMatchObject({ values: ['y'] });
  });
});
