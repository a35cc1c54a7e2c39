/**
 * Yjs across real agent processes (issue 17): y-websocket clients on different agents editing
 * the same documents converge; an agent SIGKILLed while a client streams edits into it comes
 * back with every edit it had acknowledged (relayed to another client, which it does only once
 * the edit is in its store), from its store alone, then converges with the cluster again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/clusterbench/ports.js';
import type { AgentProcess } from './agent-process.js';
import { kill, killAll, startAgent } from './agent-process.js';
import type { Client } from './yjs-clients.js';
import { connectClient, waitConverged } from './yjs-clients.js';
import { waitFor } from './wait.js';

const dir = mkdtempSync(join(tmpdir(), 'gossip-yjs-'));
const clients: Client[] = [];
afterAll(() => {
  for (const c of clients) c.close();
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

const client = (a: AgentProcess, doc: string): Client => {
  const c = connectClient(a.http, doc);
  clients.push(c);
  return c;
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('Yjs documents across agent processes', () => {
  it('clients on three agents editing two documents converge; a SIGKILLed agent comes back from its store alone with every edit it acknowledged', async () => {
    const ports = { b: await freePort(), bHttp: await freePort() };
    const a = await startAgent('ya', ['--profile', 'local', '--data-dir', join(dir, 'a')]);
    const startB = (): Promise<AgentProcess> => startAgent('yb', ['--profile', 'local', '--data-dir', join(dir, 'b'), '--http', `127.0.0.1:${ports.bHttp}`, '--join', a.gossip], { bindPort: ports.b });
    let b = await startB();
    const c = await startAgent('yc', ['--profile', 'local', '--data-dir', join(dir, 'c'), '--join', a.gossip]);
    const agents = [a, b, c];
    const docs = ['notes', 'board'];
    const cs = agents.flatMap((ag) => docs.map((d) => client(ag, d)));
    await Promise.all(cs.map((x) => x.synced));
    // Concurrent edits: each client types into its document, interleaved.
    for (let i = 0; i < 20; i++) {
      cs.forEach((x, k) => x.doc.getText('t').insert(i % 3 === 0 ? 0 : x.doc.getText('t').length, `${k}.${i} `));
      await sleep(10);
    }
    for (const d of docs) await waitConverged(`${d} everywhere`, cs.filter((x) => x.provider.roomname === d).map((x) => x.doc));
    expect(cs[0]!.doc.getText('t').length).toBe(3 * (10 * 4 + 10 * 5));

    // A writer streams into b; an observer on b records what b relayed (b stores before relaying).
    const writer = connectClient(b.http, 'notes');
    const observer = connectClient(b.http, 'notes');
    await Promise.all([writer.synced, observer.synced]);
    let n = 0;
    const streaming = setInterval(() => writer.doc.getArray<string>('acked').push([`w${n++}`]), 5);
    await waitFor('some edits acknowledged', 10_000, () => observer.doc.getArray('acked').length > 50);
    await kill(b);
    clearInterval(streaming);
    const acknowledged = observer.doc.getArray<string>('acked').toArray();
    writer.close();
    observer.close();
    expect(acknowledged.length).toBeGreaterThan(50);

    // b alone (a and c stopped): what it serves comes from its store only.
    await kill(a);
    await kill(c);
    b = await startB();
    const fresh = client(b, 'notes');
    await fresh.synced;
    const back = new Set(fresh.doc.getArray<string>('acked').toArray());
    expect(acknowledged.filter((x) => !back.has(x))).toEqual([]);
    expect(fresh.doc.getText('t').toJSON()).toBe(cs[0]!.doc.getText('t').toJSON());
  });
});
