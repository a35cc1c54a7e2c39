/**
 * Garbage from many source ports and addresses never floods the log: one line per (reason,
 * source IP) per interval, at most 10 lines a second in all, the rest counted.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { seededRng } from '../../src/core/rng.js';
import type { ClusterNode } from '../../src/index.js';
import { RejectionLog } from '../../src/runtime/rejection-log.js';
import { createTestNode } from './harness.js';
import { waitFor } from './wait.js';

const nodes: ClusterNode[] = [];
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.shutdown()));
});

describe('RejectionLog rate limits', () => {
  it('datagrams from 2,000 ports of one host are one source: one line, the rest counted', () => {
    const lines: string[] = [];
    const log = new RejectionLog((l) => lines.push(l), 10_000);
    for (let p = 0; p < 2000; p++) log.reject(p, 'malformed', `10.1.1.1:${20_000 + p}`, 'x');
    log.reject(10_001, 'malformed', '10.1.1.1:9', 'x');
    expect(lines).toEqual(['rejected malformed from 10.1.1.1:20000: x', 'rejected malformed from 10.1.1.1:9: x (1999 more since the last report)']);
    expect(log.total).toBe(2001);
    expect(log.lines).toBe(2);
    expect(log.suppressed).toBe(1999);
  });

  it('at most linesPerSecondMax lines a second over every source; the next line says how many were held back', () => {
    const lines: string[] = [];
    const log = new RejectionLog((l) => lines.push(l), 10_000, 1024, 'rejected', 5);
    for (let i = 0; i < 300; i++) log.reject(i, 'decrypt-failed', `10.2.${i >> 8}.${i & 255}:7946`, 'y');
    expect(lines).toHaveLength(5);
    log.reject(1000, 'decrypt-failed', '10.9.9.9:1', 'y');
    expect(lines).toHaveLength(6);
    expect(lines[5]).toMatch(/\[295 other rejection lines held back by the limit of 5 per second\]$/);
    expect(log.total).toBe(301);
    expect(log.lines + log.suppressed).toBe(301);
  });

  it('[v6]:port and host:port keep their host as the source', () => {
    const lines: string[] = [];
    const log = new RejectionLog((l) => lines.push(l));
    log.reject(0, 'malformed', '[::1]:1000', 'z');
    log.reject(1, 'malformed', '[::1]:1001', 'z');
    log.reject(2, 'malformed', '[::2]:1000', 'z');
    expect(lines).toHaveLength(2);
  });
});

describe('a node under a garbage flood', () => {
  for (const encrypted of [false, true]) {
    it(`${encrypted ? 'encrypted' : 'plaintext'}: 2,000 garbage datagrams from 400 ports and 20 addresses write a bounded number of lines, every one counted`, async () => {
      const logs: string[] = [];
      const a = await createTestNode('flooded', encrypted ? { encryptKey: Buffer.alloc(32, 3).toString('base64') } : {}, logs);
      nodes.push(a);
      const port = Number(a.addr.split(':')[1]);
      const rng = seededRng(7);
      const sockets: dgram.Socket[] = [];
      for (let i = 0; i < 400; i++) {
        const s = dgram.createSocket('udp4');
        await new Promise<void>((r) => s.bind(0, `127.0.0.${2 + (i % 20)}`, () => r()));
        sockets.push(s);
      }
      const started = performance.now();
      const sent = 2000;
      for (let i = 0; i < sent; i++) {
        const junk = Uint8Array.from({ length: 1 + rng.int(64) }, () => rng.int(256));
        (sockets[i % sockets.length] as dgram.Socket).send(junk, port, '127.0.0.1');
      }
      await waitFor('every datagram to arrive', 10_000, () => a.stats.transport.packetsIn >= sent, () => `${a.stats.transport.packetsIn} in`);
      for (const s of sockets) s.close();
      const seconds = (performance.now() - started) / 1000;
      const s = a.stats;
      // Most random bytes are rejected by the decoder; the rest are protocol errors or harmless.
      expect(s.driver.rejectedTotal).toBeGreaterThan(sent / 2);
      expect(logs.length).toBe(s.log.lines);
      expect(s.log.lines).toBeLessThanOrEqual(2 * 10 * (Math.ceil(seconds) + 1));
      expect(s.log.suppressed).toBeGreaterThan(0);
    });
  }
});
