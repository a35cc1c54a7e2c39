/**
 * Hocuspocus servers sharing documents through the gossip extension instead of Redis (issue 17):
 * two server processes, `@hocuspocus/provider` clients on each, edits converge; one server
 * SIGKILLed and restarted (same ports), its clients reconnect, and everything converges again.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import type { HocuspocusProviderConfiguration } from '@hocuspocus/provider';
import { HocuspocusProvider } from '@hocuspocus/provider';
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import * as Y from 'yjs';
import { freePorts } from '../../src/clusterbench/ports.js';
import { waitConverged } from './yjs-clients.js';
import { waitFor } from './wait.js';

const procs = new Set<ChildProcess>();
const providers: HocuspocusProvider[] = [];
afterAll(() => {
  for (const p of providers) p.destroy();
  for (const c of procs) c.kill('SIGKILL');
});

async function server(name: string, gossipPort: number, wsPort: number, join?: string): Promise<ChildProcess> {
  const c = spawn(process.execPath, ['--import', 'tsx', 'test/integration/hocuspocus-server.ts', name, String(gossipPort), String(wsPort), ...(join === undefined ? [] : [join])], { stdio: ['ignore', 'pipe', 'pipe'] });
  procs.add(c);
  c.on('exit', () => procs.delete(c));
  let out = '';
  let err = '';
  c.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  c.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  await waitFor(`${name} ready`, 60_000, () => {
    if (c.exitCode !== null) throw new Error(`${name} exited: ${err}`);
    return out.includes('ready');
  });
  return c;
}

function client(wsPort: number, name: string): HocuspocusProvider {
  // The provider passes its websocket options (WebSocketPolyfill: Node has no global WebSocket before 22) through.
  const p = new HocuspocusProvider({ url: `ws://127.0.0.1:${wsPort}`, name, document: new Y.Doc(), WebSocketPolyfill: WebSocket } as HocuspocusProviderConfiguration);
  providers.push(p);
  return p;
}
const synced = (p: HocuspocusProvider): Promise<void> => waitFor('provider synced', 60_000, () => p.isSynced).then(() => undefined);

describe('the Hocuspocus extension', () => {
  it('clients of two servers converge, and again after one server is SIGKILLed and restarted', async () => {
    const [g1, w1, g2, w2] = await freePorts(4);
    await server('hp1', g1!, w1!);
    let s2 = await server('hp2', g2!, w2!, `127.0.0.1:${g1}`);
    const ps = [client(w1!, 'shared'), client(w1!, 'shared'), client(w2!, 'shared'), client(w2!, 'shared')];
    await Promise.all(ps.map(synced));
    ps.forEach((p, i) => p.document.getText('t').insert(0, `client${i} `));
    await waitConverged('four clients on two servers', ps.map((p) => p.document));
    expect(ps[0]!.document.getText('t').length).toBe(4 * 8);

    const exited = new Promise((r) => s2.once('exit', r));
    s2.kill('SIGKILL');
    await exited;
    // Edits go on through hp1 while hp2 is down.
    ps[0]!.document.getText('t').insert(0, 'while hp2 was down ');
    s2 = await server('hp2', g2!, w2!, `127.0.0.1:${g1}`);
    // hp2's clients reconnect and sync; hp2 catches up from hp1 (it had nothing stored).
    ps[2]!.document.getText('t').insert(0, 'after restart ');
    await waitConverged('four clients again', ps.map((p) => p.document), 30_000);
    expect(ps[3]!.document.getText('t').toJSON()).toContain('while hp2 was down');
    expect(ps[1]!.document.getText('t').toJSON()).toContain('after restart');
  });
});
