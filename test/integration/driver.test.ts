import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Address, Millis } from '../../src/core/ids.js';
import { address, millis } from '../../src/core/ids.js';
import type { Message, StreamMessage } from '../../src/core/messages.js';
import type { Transmit } from '../../src/core/membership/node.js';
import type { Codec } from '../../src/runtime/codec.js';
import type { DrivenNode } from '../../src/runtime/driver.js';
import { Driver } from '../../src/runtime/driver.js';
import { RejectionLog } from '../../src/runtime/rejection-log.js';
import { MemoryNetwork } from '../../src/transport/memory-network.js';

/**
 * The driver loop with a scripted node and fake timers: what it calls, in which order, and
 * when. (The real node on real sockets is in loopback.test.ts and the serf suites.)
 */

type Ev = { readonly type: 'e'; readonly n: number };

/** A node that records its inputs and hands out scripted outputs. */
class ScriptedNode implements DrivenNode<Ev> {
  readonly calls: string[] = [];
  readonly out: Transmit[] = [];
  readonly events: Ev[] = [];
  deadline: number | undefined = undefined;
  handlePacket(now: Millis, from: Address, msg: Message): void {
    this.calls.push(`packet@${now} ${from} ${msg.type}`);
  }
  handleStreamRequest(now: Millis, from: Address, streamId: number, msg: StreamMessage): void {
    this.calls.push(`stream-request@${now} ${streamId} ${msg.type}`);
    this.out.push({ kind: 'stream-reply', streamId, message: { type: 'ack', seqNo: 9, payload: null }, bytes: 0 });
  }
  handleStreamReply(now: Millis, streamId: number, msg: StreamMessage | null): void {
    this.calls.push(`stream-reply@${now} ${streamId} ${msg?.type ?? 'null'}`);
  }
  handleTimeout(now: Millis): void {
    this.calls.push(`timeout@${now}`);
    this.deadline = undefined;
  }
  pollTransmit(): Transmit | undefined {
    return this.out.shift();
  }
  pollEvent(): Ev | undefined {
    return this.events.shift();
  }
  pollTimeout(): Millis | undefined {
    return this.deadline === undefined ? undefined : millis(this.deadline);
  }
}

/** Messages as JSON; `bad` bytes fail to decode, `boom` makes the decoder throw (a decoder bug). */
const jsonCodec: Codec = {
  encodePacket: (m) => new TextEncoder().encode(JSON.stringify(m)),
  decodePacket: (b) => {
    const t = new TextDecoder().decode(b);
    if (t === 'boom') throw new Error('decoder bug');
    if (t === 'bad') return { ok: false, reason: 'malformed', detail: 'bad bytes' };
    return { ok: true, value: JSON.parse(t) as Message };
  },
  encodeStream: (m) => new TextEncoder().encode(`${JSON.stringify(m)}\n`),
  streamDecoder: () => {
    let text = '';
    return {
      push: (chunk) => {
        text += new TextDecoder().decode(chunk);
        const i = text.indexOf('\n');
        return i < 0 ? undefined : { ok: true, value: JSON.parse(text.slice(0, i)) as StreamMessage };
      },
    };
  },
};

afterEach(() => {
  vi.useRealTimers();
});

describe('Driver', () => {
  it('drains transmits, then events, after every input, and arms one timer at pollTimeout', async () => {
    vi.useFakeTimers();
    let now = 1000;
    const node = new ScriptedNode();
    const delivered: string[] = [];
    const sent: string[] = [];
    const net = new MemoryNetwork();
    let packetsOut = (): number => -1;
    const driver = new Driver<Ev>({
      node, codec: jsonCodec, clock: () => now, log: () => undefined,
      deliver: (e) => delivered.push(`event ${e.n} after ${packetsOut()} packets out`),
    });
    const t = net.transport('10.0.0.1:1', driver.transportHandlers);
    packetsOut = () => t.stats.packetsOut;
    const peer = net.transport('10.0.0.2:1', { packet: (_f, b) => sent.push(new TextDecoder().decode(b)), stream: () => ({ data: () => undefined, close: () => undefined }) });
    node.out.push({ kind: 'packet', to: address(peer.localAddress), message: { type: 'nack', seqNo: 1 }, bytes: 0 });
    node.events.push({ type: 'e', n: 1 });
    node.deadline = 1500;
    driver.start(t);
    await vi.advanceTimersByTimeAsync(1); // memory delivery is one macrotask later
    expect(sent).toEqual(['{"type":"nack","seqNo":1}']);
    expect(delivered).toEqual(['event 1 after 1 packets out']); // transmits first, then events
    expect(node.calls).toEqual([]);
    now = 1499;
    await vi.advanceTimersByTimeAsync(498);
    expect(node.calls).toEqual([]);
    now = 1500;
    await vi.advanceTimersByTimeAsync(2);
    expect(node.calls).toEqual(['timeout@1500']);
    driver.stop();
  });

  it('a listener that calls back into the node while events drain gets its output sent in the same loop', () => {
    const node = new ScriptedNode();
    const net = new MemoryNetwork();
    let driver: Driver<Ev> | null = null;
    const order: string[] = [];
    driver = new Driver<Ev>({
      node, codec: jsonCodec, clock: () => 0, log: () => undefined,
      deliver: (e) => {
        order.push(`deliver ${e.n}`);
        if (e.n === 1) {
          driver?.input(() => {
            node.events.push({ type: 'e', n: 2 });
            node.out.push({ kind: 'packet', to: address('10.0.0.9:1'), message: { type: 'nack', seqNo: 2 }, bytes: 0 });
          });
          order.push('input returned');
        }
      },
    });
    const t = net.transport('10.0.0.1:1', driver.transportHandlers);
    node.events.push({ type: 'e', n: 1 });
    driver.start(t);
    expect(order).toEqual(['deliver 1', 'input returned', 'deliver 2']);
    expect(t.stats.packetsOut).toBe(1);
  });

  it('never lets a decode failure (or a throwing decoder) out; counts and logs it once per reason and peer', async () => {
    const node = new ScriptedNode();
    const lines: string[] = [];
    const net = new MemoryNetwork();
    const driver = new Driver<Ev>({ node, codec: jsonCodec, clock: () => 0, log: (l) => lines.push(l), deliver: () => undefined });
    driver.start(net.transport('10.0.0.1:1', driver.transportHandlers));
    const peer = net.transport('10.0.0.2:1', { packet: () => undefined, stream: () => ({ data: () => undefined, close: () => undefined }) });
    const enc = new TextEncoder();
    for (let i = 0; i < 5; i++) peer.sendPacket('10.0.0.1:1', enc.encode('bad'));
    peer.sendPacket('10.0.0.1:1', enc.encode('boom'));
    peer.sendPacket('10.0.0.1:1', enc.encode('{"type":"nack","seqNo":3}'));
    await new Promise((r) => setTimeout(r, 10));
    expect(driver.stats.rejectedTotal).toBe(6);
    expect(driver.stats.rejected.get('malformed')).toBe(6);
    expect(lines).toEqual(['rejected malformed from 10.0.0.2:1: bad bytes']);
    expect(node.calls).toEqual(['packet@0 10.0.0.2:1 nack']);
  });

  it('maps a stream request to handleStreamRequest and writes the node\'s reply on the same stream', async () => {
    const node = new ScriptedNode();
    const net = new MemoryNetwork();
    const driver = new Driver<Ev>({ node, codec: jsonCodec, clock: () => 7, log: () => undefined, deliver: () => undefined });
    driver.start(net.transport('10.0.0.1:1', driver.transportHandlers));
    const peer = net.transport('10.0.0.2:1', { packet: () => undefined, stream: () => ({ data: () => undefined, close: () => undefined }) });
    let reply = '';
    let closed = false;
    const s = peer.openStream('10.0.0.1:1', { data: (c) => (reply += new TextDecoder().decode(c)), close: () => (closed = true) });
    s.write(jsonCodec.encodeStream({ type: 'ping', seqNo: 9, node: '', sourceAddr: null, sourceNode: null }));
    await new Promise((r) => setTimeout(r, 10));
    expect(node.calls).toEqual(['stream-request@7 1 ping']);
    expect(reply).toBe('{"type":"ack","seqNo":9,"payload":null}\n');
    expect(closed).toBe(true);
  });
});

describe('RejectionLog', () => {
  it('logs the first rejection of each (reason, peer), then at most once per interval with the count suppressed', () => {
    const lines: string[] = [];
    const log = new RejectionLog((l) => lines.push(l), 1000);
    log.reject(0, 'crc-mismatch', 'a:1', 'x');
    log.reject(10, 'crc-mismatch', 'a:1', 'x');
    log.reject(20, 'crc-mismatch', 'b:1', 'x');
    log.reject(30, 'decrypt-failed', 'a:1', 'y');
    log.reject(999, 'crc-mismatch', 'a:1', 'x');
    log.reject(1005, 'crc-mismatch', 'a:1', 'x');
    expect(lines).toEqual([
      'rejected crc-mismatch from a:1: x',
      'rejected crc-mismatch from b:1: x',
      'rejected decrypt-failed from a:1: y',
      'rejected crc-mismatch from a:1: x (2 more since the last report)',
    ]);
    expect(log.total).toBe(6);
    expect(log.count('crc-mismatch')).toBe(5);
  });

  it('remembers at most pairsMax pairs: the oldest is forgotten first', () => {
    const lines: string[] = [];
    const log = new RejectionLog((l) => lines.push(l), 1000, 2);
    log.reject(0, 'r', 'a:1', '');
    log.reject(1, 'r', 'b:1', '');
    log.reject(2, 'r', 'c:1', ''); // evicts a:1
    log.reject(3, 'r', 'b:1', ''); // still remembered: suppressed
    log.reject(4, 'r', 'a:1', ''); // forgotten: logged again
    expect(lines.map((l) => l.split(' ')[3])).toEqual(['a:1:', 'b:1:', 'c:1:', 'a:1:']);
  });
});
