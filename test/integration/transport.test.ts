import dgram from 'node:dgram';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { seededRng } from '../../src/core/rng.js';
import type { ClusterNode } from '../../src/index.js';
import { AddressError } from '../../src/index.js';
import { advertiseAddress, normalizeJoinAddress } from '../../src/runtime/cluster-node.js';
import { NetTransport } from '../../src/transport/net-transport.js';
import type { Stream, StreamHandlers, TransportHandlers } from '../../src/transport/transport.js';
import { wireCodec } from '../../src/runtime/wire-codec.js';
import { createTestNode } from './harness.js';
import { waitFor } from './wait.js';
import { freeAddr } from './free-addr.js';
import { freePort } from '../../src/clusterbench/ports.js';

/** The socket transport and the runtime's receive path on real loopback sockets (IPv4 and IPv6). */

const open: { close(): Promise<void> }[] = [];
const nodes: ClusterNode[] = [];
afterEach(async () => {
  await Promise.all([...open.splice(0).map((t) => t.close()), ...nodes.splice(0).map((n) => n.shutdown())]);
});

interface Inbox {
  readonly packets: { from: string; bytes: Uint8Array }[];
  readonly streams: { s: Stream; data: Uint8Array[]; closed: Error | null | undefined }[];
  readonly handlers: TransportHandlers;
}
function inbox(): Inbox {
  const packets: Inbox['packets'] = [];
  const streams: Inbox['streams'] = [];
  return {
    packets,
    streams,
    handlers: {
      packet: (from, bytes) => packets.push({ from, bytes: bytes.slice() }),
      stream: (s): StreamHandlers => {
        const rec: Inbox['streams'][number] = { s, data: [], closed: undefined };
        streams.push(rec);
        return { data: (c) => rec.data.push(c.slice()), close: (e) => (rec.closed = e) };
      },
    },
  };
}
async function listen(bind: string, h: TransportHandlers, extra: Partial<Parameters<typeof NetTransport.listen>[0]> = {}): Promise<NetTransport> {
  const t = await NetTransport.listen({ bind, streamTimeoutMs: 2000, ...extra }, h);
  open.push(t);
  return t;
}
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: readonly Uint8Array[]): string => b.map((x) => new TextDecoder().decode(x)).join('');

describe('NetTransport', () => {
  for (const host of ['127.0.0.1', '::1']) {
    it(`binds UDP and TCP on one free port and carries packets and streams (${host})`, async () => {
      const a = inbox();
      const b = inbox();
      const ta = await listen(host.includes(':') ? `[${host}]:0` : `${host}:0`, a.handlers);
      const tb = await listen(host.includes(':') ? `[${host}]:0` : `${host}:0`, b.handlers);
      expect(ta.bound.port).toBeGreaterThan(0);
      expect(ta.localAddress).toBe(host.includes(':') ? `[${host}]:${ta.bound.port}` : `${host}:${ta.bound.port}`);
      tb.sendPacket(ta.localAddress, bytes('ping'));
      await waitFor('the datagram', 2000, () => a.packets.length === 1);
      expect(a.packets[0]?.from).toBe(tb.localAddress);
      expect(text([a.packets[0]?.bytes as Uint8Array])).toBe('ping');

      const reply: Uint8Array[] = [];
      let closed: Error | null | undefined;
      const s = tb.openStream(ta.localAddress, { data: (c) => reply.push(c.slice()), close: (e) => (closed = e) });
      s.write(bytes('request'));
      await waitFor('the inbound stream', 2000, () => text(a.streams[0]?.data ?? []) === 'request');
      const inbound = a.streams[0]?.s as Stream;
      inbound.write(bytes('reply'));
      inbound.end();
      await waitFor('the reply and the close', 2000, () => closed !== undefined);
      expect(closed).toBeNull();
      expect(text(reply)).toBe('reply');
      expect(ta.stats.streamsIn).toBe(1);
      expect(tb.stats.streamsOut).toBe(1);
    });
  }

  it('rejects bad bind addresses with a clear error', async () => {
    await expect(NetTransport.listen({ bind: 'localhost:0', streamTimeoutMs: 1000 }, inbox().handlers)).rejects.toBeInstanceOf(AddressError);
    const t = await listen(await freeAddr(), inbox().handlers);
    await expect(NetTransport.listen({ bind: t.localAddress, streamTimeoutMs: 1000 }, inbox().handlers)).rejects.toThrow(/cannot listen/);
  });

  it('a stream that never finishes is cut at its deadline and counted', async () => {
    const a = inbox();
    const ta = await listen(await freeAddr(), a.handlers, { streamTimeoutMs: 300 });
    const tb = await listen(await freeAddr(), inbox().handlers, { streamTimeoutMs: 300 });
    let closed: Error | null | undefined;
    const t0 = performance.now();
    tb.openStream(ta.localAddress, { data: () => undefined, close: (e) => (closed = e) }).write(bytes('hello'));
    await waitFor('the deadline', 3000, () => closed !== undefined);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    expect(closed?.message).toMatch(/timed out/);
    expect(tb.stats.streamsTimedOut).toBe(1);
    await waitFor('the accepting side to time out too', 3000, () => a.streams[0]?.closed !== undefined);
  });

  it('a stream over its byte limit is cut and counted; streams beyond the accept limit are refused', async () => {
    const a = inbox();
    const ta = await listen(await freeAddr(), a.handlers, { streamBytesMax: 1000, inboundStreamsMax: 2, inboundStreamsPerIpMax: 2 });
    const sock = net.connect({ host: '127.0.0.1', port: ta.bound.port });
    sock.on('error', () => undefined);
    sock.write(new Uint8Array(5000));
    await waitFor('the cut', 2000, () => a.streams[0]?.closed instanceof Error);
    expect(a.streams[0]?.closed?.message).toMatch(/exceeded 1000 bytes/);
    expect(ta.stats.streamsOverLimit).toBe(1);
    sock.destroy();

    // Two connections busy with an exchange (they sent a byte): a third is refused.
    const busy = [0, 1].map(() => net.connect({ host: '127.0.0.1', port: ta.bound.port }).on('error', () => undefined));
    for (const b of busy) b.write(new Uint8Array(1));
    await waitFor('two busy streams', 2000, () => a.streams.filter((x) => x.data.length > 0 && x.closed === undefined).length === 2);
    const third = net.connect({ host: '127.0.0.1', port: ta.bound.port }).on('error', () => undefined);
    await waitFor('the third refused', 2000, () => ta.stats.streamsRefused === 1);
    for (const s of [...busy, third]) s.destroy();
  });

  it('counts a packet to an address of the other IP family as a send error instead of throwing', async () => {
    const t = await listen(await freeAddr(), inbox().handlers);
    t.sendPacket('[::1]:9', bytes('x'));
    t.sendPacket('not an address', bytes('x'));
    expect(t.stats.packetSendErrors).toBe(2);
  });
});

describe('runtime receive path', () => {
  it('garbage datagrams and streams are counted by reason, logged once per reason and peer, and crash nothing', async () => {
    const logs: string[] = [];
    const a = await createTestNode('a', {}, logs);
    const b = await createTestNode('b');
    nodes.push(a, b);
    const rng = seededRng(5);
    const udp = dgram.createSocket('udp4');
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
    const port = Number(a.addr.split(':')[1]);
    const sent = 200;
    for (let i = 0; i < sent; i++) {
      const junk = Uint8Array.from({ length: 1 + rng.int(64) }, () => rng.int(256));
      udp.send(junk, port, '127.0.0.1');
    }
    await waitFor('every datagram to arrive', 3000, () => a.stats.transport.packetsIn >= sent);
    udp.close();
    // Random bytes are mostly rejected by the decoder (some happen to be a valid user message);
    // the log has one line per (reason, peer), however many arrived.
    expect(a.stats.driver.rejectedTotal).toBeGreaterThan(sent / 2);
    expect(a.stats.driver.rejectedTotal).toBeLessThanOrEqual(sent);
    const rejectLines = logs.filter((l) => l.includes('rejected'));
    expect(rejectLines.length).toBe(a.stats.driver.rejected.size);

    const sock = net.connect({ host: '127.0.0.1', port });
    const answer: Buffer[] = [];
    sock.on('data', (d: Buffer) => answer.push(d));
    sock.write(Uint8Array.from([0xff, 1, 2, 3]));
    await new Promise<void>((r) => sock.on('close', () => r()));
    // memberlist's errMsg (Go peers see "remote error"), compressed as every stream we send.
    const reply = wireCodec({ keyring: null }).streamDecoder();
    const got = reply.push(new Uint8Array(Buffer.concat(answer))) ?? reply.end?.();
    expect(got?.ok === true ? got.value.type : got).toBe('error');

    // A stream cut in the middle of a message: counted as truncated when the peer closes.
    const cut = net.connect({ host: '127.0.0.1', port }).on('error', () => undefined);
    cut.write(Uint8Array.from([6, 0x83, 0xa4]));
    cut.end();
    await waitFor('the truncated stream to be counted', 3000, () => a.stats.driver.rejected.get('truncated') === 1);
    expect(a.stats.wire.rejected.truncated).toBeGreaterThanOrEqual(1);
    // Every datagram went through the wire decoder, counted in this node's own wire stats.
    expect(a.stats.wire.packetsDecoded + a.stats.wire.packetsRejected).toBe(sent);

    // Still a working node.
    await b.join([a.addr]);
    await waitFor('a and b to see each other', 3000, () => a.members().length === 2 && b.members().length === 2);
  });

  it('normalizes join addresses and picks the advertise address', () => {
    expect(normalizeJoinAddress('127.0.0.1')).toBe('127.0.0.1:7946');
    expect(normalizeJoinAddress('s1/127.0.0.1:8000')).toBe('127.0.0.1:8000');
    expect(normalizeJoinAddress('[::1]:8000')).toBe('[::1]:8000');
    expect(normalizeJoinAddress('::1')).toBe('[::1]:7946');
    expect(() => normalizeJoinAddress('example.com:80')).toThrow(AddressError);
    expect(advertiseAddress('127.0.0.1:0', undefined, 4000)).toBe('127.0.0.1:4000');
    expect(advertiseAddress('127.0.0.1:0', '127.0.0.9:5000', 4000)).toBe('127.0.0.9:5000');
    expect(advertiseAddress('127.0.0.1:0', '127.0.0.9', 4000)).toBe('127.0.0.9:4000');
    expect(() => advertiseAddress('127.0.0.1:0', '0.0.0.0:1', 4000)).toThrow(/advertise/);
  });

  it('advertises an address other than the one it binds: peers reach it there (through a port forwarder)', async () => {
    // A NAT stand-in on loopback: UDP and TCP on port F forwarded to the node's bound port P.
    const fwd = await forwarder();
    open.push(fwd);
    const x = await createTestNode('x', { advertise: `127.0.0.1:${fwd.port}` });
    nodes.push(x);
    fwd.target = Number(/:(\d+)$/.exec(x.boundAddress)?.[1]);
    expect(x.addr).toBe(`127.0.0.1:${fwd.port}`);
    const y = await createTestNode('y');
    nodes.push(y);
    await y.join([x.addr]);
    await waitFor('y to list x alive at its advertised address, x to list y', 3000, () =>
      y.members().some((m) => m.name === 'x' && m.status === 'alive' && m.addr === x.addr) && x.members().some((m) => m.name === 'y'));
    // Probes from y reach x only through the forwarder; x stays alive through several rounds.
    await waitFor('y to probe x through the forwarder', 5000, () => fwd.packets >= 3);
    expect(y.members().find((m) => m.name === 'x')?.status).toBe('alive');
  });
});

/** Forwards UDP datagrams and TCP connections from 127.0.0.1:port to 127.0.0.1:target. */
async function forwarder(): Promise<{ port: number; target: number; packets: number; close(): Promise<void> }> {
  const server = net.createServer((c) => {
    const up = net.connect({ host: '127.0.0.1', port: f.target });
    c.pipe(up).pipe(c);
    c.on('error', () => up.destroy());
    up.on('error', () => c.destroy());
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  const udp = dgram.createSocket('udp4');
  await new Promise<void>((r) => udp.bind(port, '127.0.0.1', () => r()));
  const out = dgram.createSocket('udp4');
  const f = {
    port,
    target: 0,
    packets: 0,
    close: async () => {
      await Promise.all([new Promise<void>((r) => server.close(() => r())), new Promise<void>((r) => udp.close(() => r())), new Promise<void>((r) => out.close(() => r()))]);
    },
  };
  udp.on('message', (m) => {
    f.packets++;
    out.send(m, f.target, '127.0.0.1');
  });
  return f;
}
