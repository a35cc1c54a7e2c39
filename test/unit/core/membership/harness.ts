import type { Config } from '../../../../src/core/config.js';
import { defaultConfig } from '../../../../src/core/config.js';
import type { NodeEvent } from '../../../../src/core/events.js';
import type { Address, NodeName } from '../../../../src/core/ids.js';
import { address, incarnation, millis, nodeName } from '../../../../src/core/ids.js';
import type { AliveMsg, Message, StreamMessage } from '../../../../src/core/messages.js';
import { DEFAULT_VSN } from '../../../../src/core/messages.js';
import type { Transmit } from '../../../../src/core/membership/node.js';
import { GossipNode } from '../../../../src/core/membership/node.js';
import { seededRng } from '../../../../src/core/rng.js';
import { VirtualNet } from '../../../support/virtual-net.js';

/**
 * The in-memory network every GossipNode scenario test runs on, and the helpers to feed one
 * node by hand. Explicit virtual time: no sleeps, no real I/O.
 */

/**
 * Scenario tests for GossipNode (memberlist v0.2.2 behaviour, reference §6 and §7), driven with
 * explicit virtual time: no sleeps, no real I/O.
 */

export const LAN = defaultConfig('lan');

export type Packet = Extract<Transmit, { kind: 'packet' }>;
export interface Logged {
  readonly t: number;
  readonly ev: NodeEvent;
}
export interface SinkPacket {
  readonly t: number;
  readonly from: Address;
  readonly message: Message;
}

export const parts = (m: Message): Message[] => (m.type === 'compound' ? [...m.parts] : [m]);
export const addrOf = (i: number): Address => address(`10.0.0.${i}:7946`);

/**
 * A tiny network of GossipNodes keyed by address, on the test network
 * (test/support/virtual-net.ts) with zero latency: every input is followed by draining every
 * node's transmits (delivered at once, in order) and events (logged with the virtual time).
 * Packets to an address that is a "sink" are recorded instead of delivered. Isolated addresses
 * neither send nor receive anything (packets and streams are dropped; a stream's initiator
 * times out).
 */
export class Net {
  readonly logs = new Map<Address, Logged[]>();
  readonly sinks = new Map<Address, SinkPacket[]>();
  readonly isolated = new Set<Address>();
  /** Extra drop rule for packets (return true to drop). */
  dropPacket: (from: Address, to: Address, m: Message) => boolean = () => false;
  packetsDelivered = 0;
  /** Every stream a node opened (join, push-pull, user), with the virtual time. */
  readonly streams: { readonly t: number; readonly from: Address; readonly message: StreamMessage }[] = [];
  private streamSeq = 0;
  private readonly streamRoutes = new Map<number, { readonly initiator: Address; readonly id: number }>();
  private readonly net = new VirtualNet<Transmit, NodeEvent, GossipNode>({
    route: (_, from, t) => this.route(from as Address, t),
    onEvent: (node, ev, t) => this.logs.get(node as Address)?.push({ t, ev }),
  });

  constructor() {
    this.net.drop = (from, to, t) => this.isolated.has(from as Address) || this.isolated.has(to as Address) || (t.kind === 'packet' && this.dropPacket(from as Address, to as Address, t.message));
  }

  get now(): number {
    return this.net.now;
  }

  get nodes(): ReadonlyMap<string, GossipNode> {
    return this.net.nodes;
  }

  add(name: string, addr: Address, seed: number, config: Config = LAN): GossipNode {
    const n = new GossipNode({ name: nodeName(name), addr, config, rng: seededRng(seed), now: millis(this.now) });
    this.logs.set(addr, []);
    this.net.add(addr, n);
    this.net.flush();
    return n;
  }

  sink(addr: Address): SinkPacket[] {
    const s: SinkPacket[] = [];
    this.sinks.set(addr, s);
    return s;
  }

  node(addr: Address): GossipNode {
    const n = this.net.nodes.get(addr);
    if (n === undefined) throw new Error(`no node at ${addr}`);
    return n;
  }

  log(addr: Address): Logged[] {
    return this.logs.get(addr) ?? [];
  }

  /** Events of one node about one member (by name), with their times. */
  about(addr: Address, member: string, type: NodeEvent['type']): Logged[] {
    return this.log(addr).filter((l) => l.ev.type === type && 'member' in l.ev && l.ev.member.name === member);
  }

  /** Runs one input on one node, then delivers everything that follows from it. */
  input(addr: Address, fn: (n: GossipNode, now: number) => void): void {
    fn(this.node(addr), this.now);
    this.net.flush();
  }

  /** Advances virtual time to `end`, jumping from one pollTimeout to the next. */
  runUntil(end: number): void {
    this.net.runUntil(end);
  }

  runFor(ms: number): void {
    this.runUntil(this.now + ms);
  }

  /** Runs until `done()` or `end`; returns whether `done()` became true. */
  runUntilTrue(end: number, done: () => boolean, step = 100): boolean {
    while (this.now < end) {
      if (done()) return true;
      this.runUntil(Math.min(end, this.now + step));
    }
    return done();
  }

  private route(from: Address, t: Transmit): void {
    const now = millis(this.now);
    switch (t.kind) {
      case 'packet': {
        if (!this.net.passes(from, t.to, t)) return;
        const s = this.sinks.get(t.to);
        if (s !== undefined) {
          s.push({ t: this.now, from, message: t.message });
          return;
        }
        const target = this.net.nodes.get(t.to);
        if (target === undefined) return;
        this.packetsDelivered++;
        target.handlePacket(now, from, t.message);
        return;
      }
      case 'stream': {
        this.streams.push({ t: this.now, from, message: t.message });
        if (!this.net.passes(from, t.to, t)) return; // silent: the initiator times out
        const target = this.net.nodes.get(t.to);
        if (target === undefined || target.isStopped) {
          // connection refused
          this.node(from).handleStreamReply(now, t.streamId, null);
          return;
        }
        const id = ++this.streamSeq;
        this.streamRoutes.set(id, { initiator: from, id: t.streamId });
        target.handleStreamRequest(now, from, id, t.message);
        return;
      }
      case 'stream-reply': {
        const r = this.streamRoutes.get(t.streamId);
        if (r === undefined) throw new Error(`stream-reply for unknown stream ${t.streamId}`);
        this.streamRoutes.delete(t.streamId);
        if (!this.net.passes(from, r.initiator, t)) return;
        this.node(r.initiator).handleStreamReply(now, r.id, t.message);
        return;
      }
    }
  }
}

/** A node outside any Net: inputs by hand, outputs drained by hand. */
export function solo(name = 'me', addr = addrOf(1), config: Config = LAN): GossipNode {
  return new GossipNode({ name: nodeName(name), addr, config, rng: seededRng(7), now: millis(0) });
}
export function drain(n: GossipNode): { tx: Transmit[]; ev: NodeEvent[] } {
  const tx: Transmit[] = [];
  const ev: NodeEvent[] = [];
  for (let t = n.pollTransmit(); t !== undefined; t = n.pollTransmit()) tx.push(t);
  for (let e = n.pollEvent(); e !== undefined; e = n.pollEvent()) ev.push(e);
  return { tx, ev };
}
export function packets(tx: Transmit[]): Packet[] {
  return tx.filter((t): t is Packet => t.kind === 'packet');
}
export function alive(name: string, addr: Address, inc = 1, meta: Uint8Array | null = null): AliveMsg {
  return { type: 'alive', incarnation: incarnation(inc), node: nodeName(name), addr, meta, vsn: DEFAULT_VSN };
}
export const nm = (s: string): NodeName => nodeName(s);

/** Builds an n-node cluster: node i at addrOf(i + 1), all joining through node 0, converged. */
export function cluster(n: number, seedBase = 100, config: Config = LAN): { net: Net; addrs: Address[] } {
  const net = new Net();
  const addrs: Address[] = [];
  for (let i = 0; i < n; i++) {
    const a = addrOf(i + 1);
    addrs.push(a);
    net.add(`n${i}`, a, seedBase + i, config);
  }
  const seed = addrs[0] as Address;
  for (let i = 1; i < n; i++) {
    net.input(addrs[i] as Address, (x, now) => x.join(millis(now), [seed]));
    net.runFor(50);
  }
  const converged = net.runUntilTrue(net.now + 60_000, () =>
    addrs.every((a) => {
      const x = net.node(a);
      return x.members().length === n && x.countIn('alive') === n;
    }),
  );
  if (!converged) throw new Error(`cluster of ${n} did not converge`);
  // let the join chatter settle (queues drain), so later scenarios start clean
  net.runFor(5_000);
  return { net, addrs };
}

/** Per observer: when it first suspected `victim`, when it declared it failed, and who declared. */
export function failureTimeline(net: Net, observers: Address[], victim: string): { suspectedAt: number; failedAt: number; from: string; observer: string }[] {
  return observers.map((o) => {
    const s = net.about(o, victim, 'member-suspected')[0];
    const f = net.about(o, victim, 'member-failed')[0];
    const from = f !== undefined && f.ev.type === 'member-failed' ? f.ev.from : '';
    return { suspectedAt: s?.t ?? NaN, failedAt: f?.t ?? NaN, from, observer: net.node(o).name };
  });
}

// Single-node helpers (one node fed by hand).
export const A = address('127.0.0.1:7001');
export const B = address('127.0.0.2:7001');
export const C = address('127.0.0.3:7001');

export function node(name = 'a', addr = A): GossipNode {
  return new GossipNode({ name: nodeName(name), addr, config: LAN, rng: seededRng(3), now: millis(0) });
}
export function rec(name: string, addr: typeof A, inc = 1): AliveMsg {
  return { type: 'alive', incarnation: incarnation(inc), node: nodeName(name), addr, meta: null, vsn: DEFAULT_VSN };
}
export const firstPart = (m: Message): Message => (m.type === 'compound' ? (m.parts[0] as Message) : m);
