/**
 * SerfNodes on the test network (test/support/virtual-net.ts), keyed by address: packets and
 * stream exchanges are delivered after `latencyMs`, in order; `drop(from, to)` cuts links;
 * every packet a node sends is recorded so tests can check its size and contents. Streams are
 * one exchange each, as in memberlist: request → `handleStreamRequest`, reply →
 * `handleStreamReply` (null when the peer is unreachable).
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
import { VirtualNet } from '../../support/virtual-net.js';

/** The wire codec is the core's SerfCodec (a compile-time check as much as a value). */
export const codec: SerfCodec = serfCodec;

export interface SentPacket {
  readonly at: number;
  readonly from: Address;
  readonly to: Address;
  readonly message: Message;
  readonly bytes: number;
}

export class SerfCluster {
  readonly events = new Map<Address, SerfEvent[]>();
  readonly packets: SentPacket[] = [];
  /** Every stream opened (a push-pull, a reliable message), when and between whom. */
  readonly streams: { readonly at: number; readonly from: Address; readonly to: Address; readonly type: string }[] = [];
  drop: (from: Address, to: Address) => boolean = () => false;
  private readonly net: VirtualNet<Transmit, SerfEvent, SerfNode>;
  private streamSeq = 0;
  private readonly streamOrigin = new Map<number, { node: SerfNode; streamId: number }>();

  constructor(readonly config: Config = defaultConfig('lan')) {
    this.net = new VirtualNet<Transmit, SerfEvent, SerfNode>({
      latencyMs: 1,
      route: (_, from, t) => this.route(this.node(from), t),
      onEvent: (node, e) => this.events.get(node as Address)?.push(e),
    });
    this.net.drop = (from, to) => this.drop(from as Address, to as Address);
  }

  get now(): number {
    return this.net.now;
  }

  get latencyMs(): number {
    return this.net.latencyMs;
  }

  set latencyMs(ms: number) {
    this.net.latencyMs = ms;
  }

  get nodes(): ReadonlyMap<string, SerfNode> {
    return this.net.nodes;
  }

  add(name: string, opts: Partial<Omit<SerfNodeOptions, 'name' | 'addr' | 'now'>> = {}): SerfNode {
    const addr = address(`127.0.0.${this.net.nodes.size + 1}:7946`);
    const n = new SerfNode({
      name: name as SerfNodeOptions['name'], addr, config: this.config, rng: seededRng(this.net.nodes.size + 11), now: millis(this.now), codec, ...opts,
    });
    this.events.set(addr, []);
    return this.net.add(addr, n);
  }

  eventsOf(n: SerfNode): SerfEvent[] {
    return this.events.get(n.addr) ?? [];
  }

  /** Drains a node's outputs into the network and its events into `events`. */
  flush(n: SerfNode): void {
    this.net.drain(n.addr);
  }

  flushAll(): void {
    this.net.flush();
  }

  private node(addr: string): SerfNode {
    return this.net.node(addr);
  }

  private route(n: SerfNode, t: Transmit): void {
    const net = this.net;
    switch (t.kind) {
      case 'packet':
        this.packets.push({ at: this.now, from: n.addr, to: t.to, message: t.message, bytes: t.bytes });
        if (!net.nodes.has(t.to)) return;
        net.send(n.addr, t.to, t, () => {
          this.node(t.to).handlePacket(this.at(), n.addr, t.message);
        });
        return;
      case 'stream': {
        this.streams.push({ at: this.now, from: n.addr, to: t.to, type: t.message.type });
        if (!net.nodes.has(t.to) || !net.passes(n.addr, t.to, t)) {
          net.after(n.addr, () => n.handleStreamReply(this.at(), t.streamId, null));
          return;
        }
        const sid = ++this.streamSeq;
        this.streamOrigin.set(sid, { node: n, streamId: t.streamId });
        net.after(t.to, () => this.node(t.to).handleStreamRequest(this.at(), n.addr, sid, t.message));
        return;
      }
      case 'stream-reply': {
        const origin = this.streamOrigin.get(t.streamId);
        if (origin === undefined) return;
        this.streamOrigin.delete(t.streamId);
        net.after(origin.node.addr, () => origin.node.handleStreamReply(this.at(), origin.streamId, t.message));
        return;
      }
    }
  }

  /** Runs deliveries and timers in time order until `untilMs` (inclusive). */
  runUntil(untilMs: number): void {
    this.net.runUntil(untilMs);
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
