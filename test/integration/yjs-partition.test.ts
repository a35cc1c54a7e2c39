/**
 * A partitioned agent (issue 17), in process with real sockets: its gossip (UDP and TCP) is cut
 * while y-websocket clients keep editing on both sides (each side's clients still reach their
 * agent); after the heal every copy converges, and the catch-up (the anti-entropy diffs) carries
 * only what each side missed, against the full state's size. The partition lasts
 * YJS_PARTITION_MS (default 8 s in the suite; the figure is 30 s).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { Agent } from '../../src/agent/agent.js';
import { resolveConfig } from '../../src/agent/config.js';
import { freePort } from '../../src/clusterbench/ports.js';
import type { NodeOptions } from '../../src/runtime/cluster-node.js';
import { faultSwitch } from './fault-switch.js';
import type { Client } from './yjs-clients.js';
import { connectClient, waitConverged } from './yjs-clients.js';
import { waitFor } from './wait.js';

const PARTITION_MS = Number(process.env.YJS_PARTITION_MS ?? 8000);
const dir = mkdtempSync(join(tmpdir(), 'gossip-yjs-part-'));
const agents: Agent[] = [];
const clients: Client[] = [];
afterAll(async () => {
  for (const c of clients) c.close();
  for (const a of agents) await a.stop('test done', false);
  rmSync(dir, { recursive: true, force: true });
});

async function start(name: string, o: { join?: string[]; port?: number; transport?: NodeOptions['transport'] } = {}): Promise<Agent> {
  const port = o.port ?? await freePort();
  const config = resolveConfig({ flags: { name, bind: `127.0.0.1:${port}`, http: '127.0.0.1:0', profile: 'local', join: o.join ?? [], dataDir: join(dir, name), yjs: { antiEntropyMs: 500 } } });
  const a = await Agent.start({ config, log: pino({ level: 'silent' }), ...(o.transport !== undefined ? { transport: o.transport } : {}) });
  agents.push(a);
  return a;
}

interface YjsStats { replicator: { diffUpdateBytes: number; sent: { diff: { bytes: number } } } }
const statsOf = (a: Agent): YjsStats => a.yjs.stats() as YjsStats;
const client = (a: Agent): Client => {
  const c = connectClient(a.httpAddress, 'split');
  clients.push(c);
  return c;
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const alive = (a: Agent): number => a.node.members().filter((m) => m.status === 'alive').length;

describe('a partitioned agent', () => {
  it(`edits on both sides of a ${PARTITION_MS / 1000} s partition converge after the heal; the catch-up is only the missing part`, async () => {
    const pPort = await freePort();
    const sw = faultSwitch(`127.0.0.1:${pPort}`, 1000);
    const a = await start('pa');
    const b = await start('pb', { join: [a.node.addr] });
    const p = await start('pp', { join: [a.node.addr], port: pPort, transport: sw.transport });
    await waitFor('three alive everywhere', 10_000, () => [a, b, p].every((x) => alive(x) === 3));
    const [ca, cb, cp] = [client(a), client(b), client(p)];
    await Promise.all([ca.synced, cb.synced, cp.synced]);
    // A large shared history first: what a catch-up must not resend.
    ca.doc.getText('t').insert(0, 'history '.repeat(8000));
    await waitConverged('history everywhere', [ca.doc, cb.doc, cp.doc]);

    sw.blocked.udp = true;
    sw.blocked.tcp = true;
    const t0 = Date.now();
    let i = 0;
    while (Date.now() - t0 < PARTITION_MS) {
      ca.doc.getText('t').insert(0, `a${i} `);
      cp.doc.getText('t').insert(ca.doc.getText('t').length > 0 ? 3 : 0, `p${i} `);
      i++;
      await sleep(50);
    }
    // Both sides went on: a's side does not have p's edits, and p does not have a's.
    expect(cp.doc.getText('t').toJSON()).not.toContain(`a${i - 1} `);
    expect(ca.doc.getText('t').toJSON()).not.toContain(`p${i - 1} `);
    expect(cb.doc.getText('t').toJSON()).toContain(`a${i - 1} `);
    const before = [a, b, p].reduce((n, x) => n + statsOf(x).replicator.diffUpdateBytes, 0);
    const missingA = Y.encodeStateAsUpdate(ca.doc, Y.encodeStateVector(cp.doc)).length;
    const missingP = Y.encodeStateAsUpdate(cp.doc, Y.encodeStateVector(ca.doc)).length;

    sw.blocked.udp = false;
    sw.blocked.tcp = false;
    // Each side declared the other dead: p joins again (as an operator's or a retry join would).
    await p.node.join([a.node.addr]).catch(() => 0);
    await waitFor('three alive again', 20_000, () => [a, b, p].every((x) => alive(x) === 3));
    await waitConverged('every copy after the heal', [ca.doc, cb.doc, cp.doc], 30_000);
    const catchUp = [a, b, p].reduce((n, x) => n + statsOf(x).replicator.diffUpdateBytes, 0) - before;
    const full = Y.encodeStateAsUpdate(ca.doc).length;
    console.log(`partition ${PARTITION_MS} ms, ${i} edits per side: catch-up diffs ${catchUp} bytes in all; the least possible ${2 * missingP + missingA} (a and b each lacked p's ${missingP}, p lacked a's ${missingA}); full state ${full} bytes`);
    expect(ca.doc.getText('t').toJSON()).toContain(`p${i - 1} `);
    // The least any catch-up can send: p's part to a and to b, a's part to p. Resending full states would be 3 × full.
    const least = 2 * missingP + missingA;
    expect(catchUp).toBeGreaterThanOrEqual(least);
    expect(catchUp).toBeLessThan(2 * least);
    expect(catchUp).toBeLessThan(full);
  });
});
