import { afterEach, describe, expect, it } from 'vitest';
import type { ClusterNode } from '../../src/index.js';
import { AddressError, MemoryNetwork, createNode } from '../../src/index.js';
import { createTestNode } from './harness.js';
import { waitFor } from './wait.js';

/** The public API's contract: misuse throws clearly, peers' events arrive typed, a throwing listener harms no one. */
describe('createNode API', () => {
  const nodes: ClusterNode[] = [];
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.shutdown()));
  });
  const mem = async (net: MemoryNetwork, i: number, logs: string[] = []): Promise<ClusterNode> => {
    const addr = `10.1.0.${i}:7946`;
    const n = await createTestNode(`api${i}`, { bind: addr, seed: i, transport: (h) => Promise.resolve(net.transport(addr, h)) }, logs);
    nodes.push(n);
    return n;
  };

  it('rejects bad options with clear errors and gives a bound port back', async () => {
    await expect(createNode({ name: '' })).rejects.toThrow(/name must be a non-empty string/);
    await expect(createNode({ name: 'x', bind: 'nowhere:1' })).rejects.toBeInstanceOf(AddressError);
    await expect(createNode({ name: 'x', bind: '127.0.0.1:0', encryptKey: 'not base64!' })).rejects.toThrow(/base64/);
    await expect(createNode({ name: 'x', bind: '127.0.0.1:0', encryptKey: Buffer.alloc(10).toString('base64') })).rejects.toThrow();
    const first = await createTestNode('probe');
    const port = first.boundAddress;
    await first.shutdown();
    await expect(createNode({ name: 'x', bind: port, advertise: '0.0.0.0:1', logger: () => undefined })).rejects.toThrow(/advertise/);
    // The failed start released the port.
    const again = await createTestNode('again', { bind: port });
    nodes.push(again);
    expect(again.boundAddress).toBe(port);
  });

  it('events, queries and a graceful leave between our nodes; misuse throws; a throwing listener harms no one', async () => {
    const net = new MemoryNetwork();
    const logs: string[] = [];
    const [a, b, c] = [await mem(net, 1, logs), await mem(net, 2), await mem(net, 3)] as [ClusterNode, ClusterNode, ClusterNode];
    await b.join(['api1/10.1.0.1:7946']);
    await c.join(['10.1.0.1']);
    await waitFor('three alive everywhere', 3000, () => [a, b, c].every((n) => n.members().filter((m) => m.status === 'alive').length === 3));
    expect(a.members().find((m) => m.name === 'api2')?.tags).toEqual(b.tags);

    const got: string[] = [];
    a.on('user-event', () => {
      throw new Error('listener bug');
    });
    const off = a.on('user-event', (e) => got.push(`${e.name}=${new TextDecoder().decode(e.payload)}`));
    b.sendEvent('deploy', 'v1', { coalesce: false });
    await waitFor('the event at a', 3000, () => got.length === 1);
    expect(got).toEqual(['deploy=v1']);
    expect(logs.some((l) => /user-event listener threw: Error: listener bug/.test(l))).toBe(true);
    off();
    b.sendEvent('deploy', 'v2', { coalesce: false });
    await waitFor('v2 at c', 3000, () => c.stats.serf.userEventsIn >= 2);
    expect(got).toEqual(['deploy=v1']);
    expect(() => b.sendEvent('big', 'x'.repeat(600))).toThrow(/limit of 512 bytes/);

    let secondAnswer: unknown = null;
    c.on('query', (q) => {
      c.respond(q, `c got ${new TextDecoder().decode(q.payload)}`);
      try {
        c.respond(q, 'again');
      } catch (e) {
        secondAnswer = e;
      }
    });
    const r = await a.query('hello', 'hi', { requestAck: true, timeoutMs: 300 });
    expect([...r.acks].sort()).toEqual(['api1', 'api2', 'api3']);
    expect(new TextDecoder().decode(r.responses.get('api3'))).toBe('c got hi');
    expect(r.responses.has('api2')).toBe(false);
    expect(String(secondAnswer)).toMatch(/already answered/);

    await b.leave();
    await waitFor('a and c to see api2 left', 3000, () => [a, c].every((n) => n.members().find((m) => m.name === 'api2')?.status === 'left'));
    await expect(b.join([a.addr])).rejects.toThrow(/stopped/);
    expect(() => b.sendEvent('x')).toThrow(/stopped/);
  });
});
