import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/clusterbench/ports.js';
import { decodeCoordinatePayload, decodeNearNames } from '../../src/wire/coordinate.js';
import { decodePacket, encodePacket } from '../../src/wire/index.js';
import { SerfAgent, serfOrWarn, wireComplaints } from './serf-agent.js';

/**
 * Issue 15, own nearest(5): our extra pings carry a field memberlist does not know (`Near`,
 * asking for the answerer's nearest names). A real serf agent must answer it as any ping: an
 * ack with its coordinate and nothing after it, and log nothing.
 */
const SUITE = 'serf answers a ping that asks for nearest names (issue 15)';
const hasSerf = serfOrWarn(SUITE);

describe.skipIf(!hasSerf)(SUITE, () => {
  let s: SerfAgent;
  beforeAll(async () => {
    s = await SerfAgent.start({ name: 's-near' });
  });
  afterAll(async () => {
    await s.stop();
  });

  it('acks with its coordinate, names nothing, and logs no complaint', async () => {
    const port = await freePort();
    const sock = createSocket('udp4');
    await new Promise<void>((resolve) => sock.bind(port, '127.0.0.1', () => resolve()));
    try {
      const [host, p] = s.addr.split(':') as [string, string];
      const ack = new Promise<Uint8Array>((resolve) => sock.on('message', (buf) => {
        const d = decodePacket(new Uint8Array(buf), { keyring: null });
        if (d.ok && d.value.type === 'ack' && d.value.seqNo === 4242) resolve(d.value.payload ?? new Uint8Array(0));
      }));
      const ping = encodePacket({ type: 'ping', seqNo: 4242, node: 's-near', sourceAddr: `127.0.0.1:${port}`, sourceNode: 'ts-asker', near: 3 }, { keyring: null });
      const timer = setInterval(() => sock.send(ping, Number(p), host), 500);
      sock.send(ping, Number(p), host);
      const payload = await Promise.race([ack, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no ack from serf')), 15_000))]).finally(() => clearInterval(timer));
      const c = decodeCoordinatePayload(payload);
      expect(c.ok).toBe(true);
      expect(decodeNearNames(payload)).toEqual({ ok: true, value: [] });
      await new Promise((r) => setTimeout(r, 500));
      expect(wireComplaints(s.log)).toEqual([]);
      expect(s.log.split('\n').filter((l) => /ping|decode/i.test(l) && /\[(ERR|WARN)/.test(l))).toEqual([]);
    } finally {
      sock.close();
    }
  });
});
