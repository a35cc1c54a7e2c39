import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { Socket } from 'node:net';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { Agent, StoreError } from '../../src/agent/agent.js';
import { resolveConfig } from '../../src/agent/config.js';
import { freePort } from '../../src/clusterbench/ports.js';
import { waitFor } from './wait.js';

/**
 * Issue 13, items 11 and 13, with real agents on loopback sockets: a node restarted under its
 * name without its history (empty data dir; or a damaged store opened with --recover) never
 * reuses a dot, so the writes it acknowledges after the restart reach every node; and it gets
 * its old state back from its peers.
 */
const root = mkdtempSync(join(tmpdir(), 'gossip-store-restart-'));
const running: Agent[] = [];
afterAll(async () => {
  for (const a of running) await a.stop('test done', false);
  rmSync(root, { recursive: true, force: true });
});

async function start(name: string, dataDir: string, join: string[] = [], recover = false, httpPort?: number): Promise<Agent> {
  const config = resolveConfig({
    flags: { name, bind: `127.0.0.1:${await freePort()}`, http: `127.0.0.1:${httpPort ?? await freePort()}`, profile: 'local', join, dataDir, recover },
  });
  const a = await Agent.start({ config, log: pino({ level: 'silent' }) });
  running.push(a);
  return a;
}

async function stop(a: Agent): Promise<void> {
  await a.stop('restart', false);
  running.splice(running.indexOf(a), 1);
}

async function put(a: Agent, key: string, value: unknown): Promise<number> {
  const r = await fetch(`http://${a.httpAddress}/v1/kv/${key}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ value }) });
  await r.text();
  return r.status;
}

/** PUTs until acknowledged: 503 (the node is still relearning its dot counter) is retried. */
async function putAcked(a: Agent, key: string, value: unknown): Promise<void> {
  await waitFor(`${key} acknowledged`, 30_000, async () => {
    const s = await put(a, key, value);
    if (s !== 200 && s !== 503) throw new Error(`PUT ${key}: ${s}`);
    return s === 200;
  });
}

async function values(a: Agent, key: string): Promise<unknown[] | null> {
  const r = await fetch(`http://${a.httpAddress}/v1/kv/${key}`);
  if (r.status !== 200) return null;
  return ((await r.json()) as { values?: unknown[] }).values ?? null;
}

async function everyoneHas(agents: readonly Agent[], keys: Record<string, unknown>): Promise<boolean> {
  for (const a of agents) for (const [k, v] of Object.entries(keys)) if (JSON.stringify(await values(a, k)) !== JSON.stringify([v])) return false;
  return true;
}

const range = (prefix: string, n: number, tag: string): Record<string, string> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, `${tag}${i}`]));

describe('restart under the same name without history', () => {
  it('with an empty data dir: the writes acknowledged right after the restart reach every node (item 11)', async () => {
    // b's first life writes alone (a node with no data peer takes writes at once), then a joins.
    const b = await start('b', join(root, 'b1'));
    const old = range('b/old', 5, 'first-life-');
    for (const [k, v] of Object.entries(old)) await putAcked(b, k, v);
    const a = await start('a', join(root, 'a1'), [b.node.addr]);
    await waitFor('a has b\'s first-life writes', 15_000, () => everyoneHas([a], old));
    await stop(b);

    const b2 = await start('b', join(root, 'b1-empty'), [a.node.addr]);
    const fresh = range('b/new', 5, 'second-life-');
    for (const [k, v] of Object.entries(fresh)) await putAcked(b2, k, v);
    await waitFor('every node has both lives\' writes', 20_000, () => everyoneHas([a, b2], { ...old, ...fresh }), async () => JSON.stringify(await values(a, 'b/new0')));
    expect(b2.node.stats.data.node.storeErrors).toBe(0);
  });

  it('with an empty data dir: a write that arrives while the startup join is still under way waits for it, and reaches every node (item 11)', async () => {
    const b = await start('jb', join(root, 'jb'));
    const old = range('jb/k', 5, 'first-life-');
    for (const [k, v] of Object.entries(old)) await putAcked(b, k, v);
    const a = await start('ja', join(root, 'ja'), [b.node.addr]);
    await waitFor('ja has jb\'s first-life writes', 15_000, () => everyoneHas([a], old));
    await stop(b);

    // The restarted node joins through a relay that holds the connection 600 ms before passing
    // it on to a (under the local profile's 1 s stream deadline): its HTTP API listens during
    // that time, before it has heard of any peer.
    const sockets = new Set<Socket>();
    const [aHost, aPort] = [a.node.addr.split(':')[0] ?? '', Number(a.node.addr.split(':')[1])];
    const relay = createServer((s) => {
      sockets.add(s);
      setTimeout(() => {
        const up = connect(aPort, aHost);
        sockets.add(up);
        s.pipe(up).on('error', () => undefined);
        up.pipe(s).on('error', () => undefined);
      }, 600);
    });
    const relayPort = await freePort();
    await new Promise<void>((r) => relay.listen(relayPort, '127.0.0.1', r));
    try {
      const httpPort = await freePort();
      const early = range('jb/early', 3, 'second-life-');
      const writes = (async (): Promise<void> => {
        for (const [k, v] of Object.entries(early)) {
          for (;;) {
            try {
              const r = await fetch(`http://127.0.0.1:${httpPort}/v1/kv/${k}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ value: v }) });
              await r.text();
              if (r.status === 200) break;
              expect(r.status).toBe(503); // not writable yet: retry
            } catch {
              // not listening yet
            }
            await new Promise((r) => setTimeout(r, 5));
          }
        }
      })();
      const b2 = await start('jb', join(root, 'jb-empty'), [`127.0.0.1:${relayPort}`], false, httpPort);
      await writes;
      await waitFor('every node has both lives\' writes', 20_000, () => everyoneHas([a, b2], { ...old, ...early }), async () => JSON.stringify(await values(a, 'jb/early0')));
    } finally {
      for (const s of sockets) s.destroy();
      relay.close();
    }
  });

  it('with a damaged WAL: refused, then --recover starts, refills from peers and takes writes that reach everyone (item 13)', async () => {
    const dir = join(root, 'rb');
    const b = await start('rb', dir);
    const first = range('rb/k', 30, 'v');
    for (const [k, v] of Object.entries(first)) await putAcked(b, k, v);
    const a = await start('ra', join(root, 'ra'), [b.node.addr]);
    await waitFor('a has rb\'s writes', 15_000, () => everyoneHas([a], first));
    // What a SIGKILL leaves: the files copied while the agent runs (the last commits in the WAL).
    const crashed = join(root, 'rb-crashed');
    mkdirSync(crashed, { mode: 0o700 });
    for (const f of readdirSync(dir)) copyFileSync(join(dir, f), join(crashed, f));
    await stop(b);
    const wal = join(crashed, 'state.db-wal');
    truncateSync(wal, Math.max(0, statSync(wal).size - 20_000));

    await expect(start('rb', crashed, [a.node.addr])).rejects.toThrow(StoreError);
    const b2 = await start('rb', crashed, [a.node.addr], true);
    expect(b2.incarnation).toBeGreaterThan(b.incarnation);
    await waitFor('rb refilled from a', 20_000, () => everyoneHas([b2], first));
    const after = range('rb/after', 5, 'w');
    for (const [k, v] of Object.entries(after)) await putAcked(b2, k, v);
    await waitFor('every node has the writes after the recovery', 20_000, () => everyoneHas([a, b2], { ...first, ...after }));
  });
});
