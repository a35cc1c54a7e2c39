/**
 * Idle TCP connections at a node's gossip port never lock peers out: an inbound connection that
 * sends nothing is closed at the first-byte deadline; when the slots (or one address's share)
 * are full, the oldest idle one makes room; one address never holds more than its share.
 */
import net from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { resolveConfig } from '../../src/agent/config.js';
import { freePort } from '../../src/clusterbench/ports.js';
import { MemoryStore } from '../../src/store/index.js';
import { NetTransport } from '../../src/transport/net-transport.js';
import type { StreamHandlers, TransportHandlers } from '../../src/transport/transport.js';
import { waitFor } from './wait.js';
import { freeAddr } from './free-addr.js';

const open: NetTransport[] = [];
const socks: net.Socket[] = [];
afterEach(async () => {
  for (const s of socks.splice(0)) s.destroy();
  await Promise.all(open.splice(0).map((t) => t.close()));
});

interface Rec { data: number; closed: Error | null | undefined }
function inbox(): { handlers: TransportHandlers; streams: Rec[] } {
  const streams: Rec[] = [];
  return {
    streams,
    handlers: {
      packet: () => undefined,
      stream: (): StreamHandlers => {
        const r: Rec = { data: 0, closed: undefined };
        streams.push(r);
        return { data: (c) => (r.data += c.length), close: (e) => (r.closed = e) };
      },
    },
  };
}
async function listen(h: TransportHandlers, o: Partial<Parameters<typeof NetTransport.listen>[0]>): Promise<NetTransport> {
  const t = await NetTransport.listen({ bind: await freeAddr(), streamTimeoutMs: 10_000, ...o }, h);
  open.push(t);
  return t;
}
function connect(port: number, from = '127.0.0.1'): net.Socket {
  const s = net.connect({ host: '127.0.0.1', port, localAddress: from }).on('error', () => undefined);
  socks.push(s);
  return s;
}

describe('NetTransport against idle connections', () => {
  it('closes a connection that sends nothing at the first-byte deadline, not at the stream deadline', async () => {
    const a = inbox();
    const t = await listen(a.handlers, { firstByteTimeoutMs: 200 });
    connect(t.bound.port);
    const busy = connect(t.bound.port);
    busy.write(new Uint8Array(1));
    await waitFor('the idle one closed', 3000, () => t.stats.streamsTimedOutFirstByte === 1);
    expect(t.stats.streamsTimedOut).toBe(1);
    expect(a.streams.filter((s) => s.closed === undefined)).toHaveLength(1);
    expect(a.streams.find((s) => s.data > 0)?.closed).toBeUndefined();
  });

  it('when every slot is taken, the oldest connection that sent nothing makes room; busy ones are kept', async () => {
    const a = inbox();
    const t = await listen(a.handlers, { inboundStreamsMax: 4, inboundStreamsPerIpMax: 4 });
    for (let i = 0; i < 4; i++) connect(t.bound.port);
    await waitFor('four accepted', 3000, () => t.stats.streamsIn === 4);
    const newcomer = connect(t.bound.port);
    newcomer.write(new Uint8Array(3));
    await waitFor('the newcomer\'s bytes', 3000, () => a.streams.some((s) => s.data === 3));
    expect(t.stats.streamsEvictedIdle).toBe(1);
    expect(t.stats.streamsRefused).toBe(0);
    expect(a.streams[0]?.closed?.message).toMatch(/idle connection .* closed to make room/);
  });

  it('one address holds at most its share: beyond it, that address is refused while another still gets in', async () => {
    const a = inbox();
    const t = await listen(a.handlers, { inboundStreamsMax: 8 }); // share: 4
    for (let i = 0; i < 4; i++) connect(t.bound.port, '127.0.0.7').write(new Uint8Array(1));
    await waitFor('four busy from 127.0.0.7', 3000, () => a.streams.filter((s) => s.data > 0).length === 4);
    connect(t.bound.port, '127.0.0.7');
    await waitFor('the fifth refused', 3000, () => t.stats.streamsRefusedPerIp === 1);
    connect(t.bound.port, '127.0.0.1').write(new Uint8Array(2));
    await waitFor('another address accepted', 3000, () => a.streams.some((s) => s.data === 2));
    expect(t.stats.streamsRefused).toBe(1);
  });
});

describe('agents under an idle-connection flood', () => {
  it('300 idle connections held at a node\'s gossip port: a new agent still joins through it, its watcher never suspects it, /metrics shows the flood', async () => {
    const log = pino({ level: 'silent' });
    const flags = async (name: string, join: string[] = []) => resolveConfig({ flags: { name, bind: `127.0.0.1:${await freePort()}`, http: await freeAddr(), join } });
    const agents: Agent[] = [];
    let flooding = true;
    try {
      const w = await Agent.start({ config: await flags('watched'), log, store: new MemoryStore() });
      agents.push(w);
      const p = await Agent.start({ config: await flags('watcher', [w.node.addr]), log, store: new MemoryStore() });
      agents.push(p);
      await waitFor('watcher and watched alive', 10_000, () => p.node.members().filter((m) => m.status === 'alive').length === 2);
      const suspected: string[] = [];
      p.node.on('member-suspected', (e) => suspected.push(e.member.name));
      p.node.on('member-failed', (e) => suspected.push(`${e.member.name} failed`));

      // The flood: 300 connections that never send a byte, from two addresses (one of them the
      // joiner's), each re-opened 200 ms after the node closes it.
      const port = Number(w.node.addr.split(':')[1]);
      const hold = (from: string): void => {
        if (!flooding) return;
        const s = connect(port, from);
        s.on('close', () => setTimeout(() => hold(from), 200).unref());
      };
      for (let i = 0; i < 300; i++) hold(i % 2 === 0 ? '127.0.0.1' : '127.0.0.9');
      await waitFor('the slots to fill', 10_000, () => w.node.stats.transport.streamsIn >= 128);

      const n = await Agent.start({ config: await flags('newcomer', [w.node.addr]), log, store: new MemoryStore() });
      agents.push(n);
      // Its first join went through (the push-pull with the watched node brought the watcher).
      expect(n.node.members().map((m) => m.name).sort()).toEqual(['newcomer', 'watched', 'watcher']);
      await waitFor('the newcomer to see both alive', 15_000, () => n.node.members().filter((m) => m.status === 'alive').length === 3);
      await new Promise((r) => setTimeout(r, 3000)); // the watcher keeps probing under the flood
      expect(suspected).toEqual([]);

      const text = await (await fetch(`http://${w.httpAddress}/metrics`)).text();
      const value = (re: RegExp): number => Number(re.exec(text)?.[1] ?? 'NaN');
      expect(value(/^gossip_streams_evicted_idle_total (\d+)/m) + value(/^gossip_streams_timed_out_total\{deadline="first-byte"\} (\d+)/m)).toBeGreaterThan(0);
      expect(value(/^gossip_streams_refused_total\{reason="per-address"\} (\d+)/m)).toBeGreaterThanOrEqual(0);
      expect(text).toMatch(/^process_cpu_seconds_total /m);
      expect(text).toMatch(/^nodejs_heap_size_used_bytes /m);
      expect(text).toMatch(/^gossip_dropped_old_total\{kind="event",reason="below-floor"\} 0/m);
    } finally {
      flooding = false;
      for (const s of socks.splice(0)) s.destroy();
      for (const a of agents.reverse()) await a.stop('done', false);
    }
  }, 60_000);
});
