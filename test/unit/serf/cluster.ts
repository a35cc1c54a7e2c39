/**
 * An in-memory network of SerfNodes on explicit time: packets and stream exchanges are
 * delivered after `latencyMs`, in order; `drop(from, to)` cuts links; every packet a node
 * sends is recorded so tests can check its size and contents. Streams are one exchange each,
 * as in memberlist: request → `handleStreamRequest`, reply → `handleStreamReply`.
 */
import { defaultConfig } from '../../../src/core/config.js';
import type { Config } from '../../../src/core/config.js';
import { address, millis } from '../../../src/core/ids.js';
import type { Address, Millis } from '../../../src/core/ids.js';
import type { Message } from '../../../src/core/messages.js';
import { messageBytes } from '../../../src/core/messages.js';
import type { Transmit } from '../../../src/core/membership/node.js';
import { seededRng } from '../../../src/core/rng.js';
import { SerfNode } from '../../../src/core/serf/serf-node.js';
import type { SerfEvent, SerfNodeOptions } from '../../../src/core/serf/index.js';
import type { SerfCodec } from '../../../src/core/serf/messages.js';
import { serfCodec } from '../../../src/wire/serf.js';

/** The wire codec is the core's SerfCodec (a compile-time check as much as a value). */
export const codec: SerfCodec = serfCodec;

export interface SentPacket {
  readonly at: number;
  readonly from: Address;
  readonly to: Address;
  readonly message: Message;
  readonly bytes: number;
}

interface Delivery {
  readonly at: number;
  readonly seq: number;
  readonly run: () => void;
}

export class SerfCluster {
  now = 0;
  readonly nodes = new Map<Address, SerfNode>();
  readonly events = new Map<Address, SerfEvent[]>();
  readonly packets: SentPacket[] = [];
  latencyMs = 1;
  drop: (from: Address, to: Address) => boolean = () => false;
  private queue: Delivery[] = [];
  private seq = 0;
  private streamSeq = 0;
  private readonly streamOrigin = new Map<number, { node: SerfNode; streamId: number }>();

  constructor(readonly config: Config = defaultConfig('lan')) {}

  add(name: string, opts: Partial<Omit<SerfNodeOptions, 'name' | 'addr' | 'now'>> = {}): SerfNode {
    const addr = address(`127.0.0.${this.nodes.size + 1}:7946`);
    const n = new SerfNode({
      name: name as SerfNodeOptions['name'], addr, config: this.config, rng: seededRng(this.nodes.size + 11), now: millis(this.now), codec, ...opts,
    });
    this.nodes.set(addr, n);
    this.events.set(addr, []);
    return n;
  }

  eventsOf(n: SerfNode): SerfEvent[] {
    return this.events.get(n.addr) ?? [];
  }

  /** Drains a node's outputs into the network and its events into `events`. */
  flush(n: SerfNode): void {
    for (let t = n.pollTransmit(); t !== undefined; t = n.pollTransmit()) this.route(n, t);
    const evs = this.events.get(n.addr);
    for (let e = n.pollEvent(); e !== undefined; e = n.pollEvent()) evs?.push(e);
  }

  flushAll(): void {
    for (const n of this.nodes.values()) this.flush(n);
  }

  private schedule(at: number, run: () => void): void {
    this.queue.push({ at, seq: this.seq++, run });
  }

  private route(n: SerfNode, t: Transmit): void {
    const at = this.now + this.latencyMs;
    switch (t.kind) {
      case 'packet': {
        this.packets.push({ at: this.now, from: n.addr, to: t.to, message: t.message, bytes: t.bytes });
        const dst = this.nodes.get(t.to);
        if (dst === undefined || this.drop(n.addr, t.to)) return;
        this.schedule(at, () => {
          dst.handlePacket(millis(this.now), n.addr, t.message);
          this.flush(dst);
        });
        return;
      }
      case 'stream': {
        const dst = this.nodes.get(t.to);
        if (dst === undefined || this.drop(n.addr, t.to)) {
          this.schedule(at, () => {
            n.handleStreamReply(millis(this.now), t.streamId, null);
            this.flush(n);
          });
          return;
        }
        const sid = ++this.streamSeq;
        this.streamOrigin.set(sid, { node: n, streamId: t.streamId });
        this.schedule(at, () => {
          dst.handleStreamRequest(millis(this.now), n.addr, sid, t.message);
          this.flush(dst);
        });
        return;
      }
      case 'stream-reply': {
        const origin = this.streamOrigin.get(t.streamId);
        if (origin === undefined) return;
        this.streamOrigin.delete(t.streamId);
        this.schedule(at, () => {
          origin.node.handleStreamReply(millis(this.now), origin.streamId, t.message);
          this.flush(origin.node);
        });
        return;
      }
    }
  }

  /** Runs deliveries and timers in time order until `untilMs` (inclusive). */
  runUntil(untilMs: number): void {
    this.flushAll();
    for (;;) {
      let next = Infinity;
      for (const d of this.queue) if (d.at < next) next = d.at;
      let timerNode: SerfNode | undefined;
      for (const n of this.nodes.values()) {
        const t = n.pollTimeout();
        if (t !== undefined && (t as number) < next) {
          next = t;
          timerNode = n;
        }
      }
      if (next > untilMs) break;
      this.now = Math.max(this.now, next);
      if (timerNode !== undefined) {
        timerNode.handleTimeout(millis(this.now));
        this.flush(timerNode);
        continue;
      }
      this.queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const due = this.queue.filter((d) => d.at <= this.now);
      this.queue = this.queue.filter((d) => d.at > this.now);
      for (const d of due) d.run();
    }
    this.now = untilMs;
  }

  runFor(ms: number): void {
    this.runUntil(this.now + ms);
  }

  at(): Millis {
    return millis(this.now);
  }

  /** Every packet's size computed independently of the sender's own count. */
  static encodedBytes(m: Message): number {
    return messageBytes(m);
  }
}

/** The user-message payloads in a packet (compound parts included). */
export function userPayloads(m: Message): Uint8Array[] {
  if (m.type === 'user') return [m.payload];
  if (m.type === 'compound') return m.parts.flatMap(userPayloads);
  return [];
}

export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
export const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** a, b, c joined through a, and settled. */
export function trio(): { c: SerfCluster; a: SerfNode; b: SerfNode; d: SerfNode } {
  const c = new SerfCluster();
  const a = c.add('a', { tags: { role: 'web' } });
  const b = c.add('b', { tags: { role: 'db' } });
  const d = c.add('c');
  c.runFor(5);
  b.join(c.at(), [a.addr]);
  d.join(c.at(), [a.addr]);
  c.runFor(3000);
  return { c, a, b, d };
}

export const ofType = <T extends SerfEvent['type']>(evs: SerfEvent[], t: T): Extract<SerfEvent, { type: T }>[] =>
  evs.filter((e): e is Extract<SerfEvent, { type: T }> => e.type === t);

/** Delivers one Serf message to `n` as a memberlist user message from `from`. */
export function deliver(c: SerfCluster, n: SerfNode, from: SerfNode, raw: Uint8Array): void {
  n.handlePacket(c.at(), from.addr, { type: 'user', payload: raw });
  c.flush(n);
}
