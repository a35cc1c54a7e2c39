import { describe, expect, it } from 'vitest';
import type { Config } from '../../../src/core/config.js';
import { defaultConfig } from '../../../src/core/config.js';
import type { NodeEvent } from '../../../src/core/events.js';
import type { Address, NodeName } from '../../../src/core/ids.js';
import { address, incarnation, millis, nodeName } from '../../../src/core/ids.js';
import { remainingSuspicionMs, suspicionTimeoutMs } from '../../../src/core/membership/suspicion.js';
import type { AliveMsg, Message, StreamMessage } from '../../../src/core/messages.js';
import { DEFAULT_VSN, MemberState, pushPull } from '../../../src/core/messages.js';
import type { Transmit } from '../../../src/core/membership/node.js';
import { GossipNode } from '../../../src/core/membership/node.js';
import { seededRng } from '../../../src/core/rng.js';

/**
 * Scenario tests for GossipNode (memberlist v0.2.2 behaviour, reference §6 and §7), driven with
 * explicit virtual time: no sleeps, no real I/O.
 */

const LAN = defaultConfig('lan');

type Packet = Extract<Transmit, { kind: 'packet' }>;
interface Logged {
  readonly t: number;
  readonly ev: NodeEvent;
}
interface SinkPacket {
  readonly t: number;
  readonly from: Address;
  readonly message: Message;
}

const parts = (m: Message): Message[] => (m.type === 'compound' ? [...m.parts] : [m]);
const addrOf = (i: number): Address => address(`10.0.0.${i}:7946`);

/**
 * A tiny network of GossipNodes keyed by address. Every input is followed by draining every
 * node's transmits (delivered at once, in order, zero latency) and events (logged with the
 * virtual time). Packets to an address that is a "sink" are recorded instead of delivered.
 * Isolated addresses neither send nor receive anything (packets and streams are dropped).
 */
class Net {
  now = 0;
  readonly nodes = new Map<Address, GossipNode>();
  readonly logs = new Map<Address, Logged[]>();
  readonly sinks = new Map<Address, SinkPacket[]>();
  readonly isolated = new Set<Address>();
  /** Extra drop rule for packets (return true to drop). */
  dropPacket: (from: Address, to: Address, m: Message) => boolean = () => false;
  packetsDelivered = 0;
  private streamSeq = 0;
  private readonly streamRoutes = new Map<number, { readonly initiator: Address; readonly id: number }>();

  add(name: string, addr: Address, seed: number, config: Config = LAN): GossipNode {
    const n = new GossipNode({ name: nodeName(name), addr, config, rng: seededRng(seed), now: millis(this.now) });
    this.nodes.set(addr, n);
    this.logs.set(addr, []);
    this.flush();
    return n;
  }

  sink(addr: Address): SinkPacket[] {
    const s: SinkPacket[] = [];
    this.sinks.set(addr, s);
    return s;
  }

  node(addr: Address): GossipNode {
    const n = this.nodes.get(addr);
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
    this.flush();
  }

  /** Advances virtual time to `end`, jumping from one pollTimeout to the next. */
  runUntil(end: number): void {
    for (let guard = 0; ; guard++) {
      if (guard > 1_000_000) throw new Error('runUntil: no progress');
      let next = Infinity;
      for (const n of this.nodes.values()) {
        const t = n.pollTimeout();
        if (t !== undefined && t < next) next = t;
      }
      if (next > end) {
        this.now = Math.max(this.now, end);
        return;
      }
      this.now = Math.max(this.now, next);
      for (const n of this.nodes.values()) {
        const t = n.pollTimeout();
        if (t !== undefined && t <= this.now) n.handleTimeout(millis(this.now));
      }
      this.flush();
    }
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

  private flush(): void {
    for (let guard = 0, progressed = true; progressed; guard++) {
      if (guard > 100_000) throw new Error('flush: message storm');
      progressed = false;
      for (const [addr, n] of this.nodes) {
        for (let t = n.pollTransmit(); t !== undefined; t = n.pollTransmit()) {
          progressed = true;
          this.route(addr, t);
        }
        const log = this.logs.get(addr);
        for (let e = n.pollEvent(); e !== undefined; e = n.pollEvent()) log?.push({ t: this.now, ev: e });
      }
    }
  }

  private route(from: Address, t: Transmit): void {
    const now = millis(this.now);
    switch (t.kind) {
      case 'packet': {
        if (this.isolated.has(from) || this.isolated.has(t.to) || this.dropPacket(from, t.to, t.message)) return;
        const s = this.sinks.get(t.to);
        if (s !== undefined) {
          s.push({ t: this.now, from, message: t.message });
          return;
        }
        const target = this.nodes.get(t.to);
        if (target === undefined) return;
        this.packetsDelivered++;
        target.handlePacket(now, from, t.message);
        return;
      }
      case 'stream': {
        if (this.isolated.has(from) || this.isolated.has(t.to)) return; // silent: the initiator times out
        const target = this.nodes.get(t.to);
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
        if (this.isolated.has(from) || this.isolated.has(r.initiator)) return;
        this.node(r.initiator).handleStreamReply(now, r.id, t.message);
        return;
      }
    }
  }
}

/** A node outside any Net: inputs by hand, outputs drained by hand. */
function solo(name = 'me', addr = addrOf(1), config: Config = LAN): GossipNode {
  return new GossipNode({ name: nodeName(name), addr, config, rng: seededRng(7), now: millis(0) });
}
function drain(n: GossipNode): { tx: Transmit[]; ev: NodeEvent[] } {
  const tx: Transmit[] = [];
  const ev: NodeEvent[] = [];
  for (let t = n.pollTransmit(); t !== undefined; t = n.pollTransmit()) tx.push(t);
  for (let e = n.pollEvent(); e !== undefined; e = n.pollEvent()) ev.push(e);
  return { tx, ev };
}
function packets(tx: Transmit[]): Packet[] {
  return tx.filter((t): t is Packet => t.kind === 'packet');
}
function alive(name: string, addr: Address, inc = 1, meta: Uint8Array | null = null): AliveMsg {
  return { type: 'alive', incarnation: incarnation(inc), node: nodeName(name), addr, meta, vsn: DEFAULT_VSN };
}
const nm = (s: string): NodeName => nodeName(s);

/** Builds an n-node cluster: node i at addrOf(i + 1), all joining through node 0, converged. */
function cluster(n: number, seedBase = 100, config: Config = LAN): { net: Net; addrs: Address[] } {
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

// ====================================================================== direct answers

describe('GossipNode: answering pings (reference §6.1)', () => {
  it('answers a ping with an ack (same SeqNo) addressed to SourceAddr, not to the UDP source', () => {
    const me = solo();
    const udpSource = addrOf(50);
    const sourceAddr = addrOf(51);
    me.handlePacket(millis(10), udpSource, { type: 'ping', seqNo: 77, node: nm('me'), sourceAddr, sourceNode: nm('p') });
    const tx = packets(drain(me).tx);
    expect(tx).toHaveLength(1);
    const p = tx[0] as Packet;
    expect(p.to).toBe(sourceAddr);
    expect(parts(p.message)[0]).toEqual({ type: 'ack', seqNo: 77, payload: null });
  });

  it('without SourceAddr, answers the UDP source address', () => {
    const me = solo();
    const udpSource = addrOf(50);
    me.handlePacket(millis(10), udpSource, { type: 'ping', seqNo: 5, node: nm('me'), sourceAddr: null, sourceNode: null });
    const tx = packets(drain(me).tx);
    expect(tx.map((p) => p.to)).toEqual([udpSource]);
    expect(parts((tx[0] as Packet).message)[0]).toEqual({ type: 'ack', seqNo: 5, payload: null });
  });

  it('an empty Node name means "whoever you are": acked', () => {
    const me = solo();
    me.handlePacket(millis(10), addrOf(50), { type: 'ping', seqNo: 6, node: '', sourceAddr: null, sourceNode: null });
    expect(packets(drain(me).tx)).toHaveLength(1);
    expect(me.stats.protocolErrors).toBe(0);
  });

  it('a ping for another node name is ignored, counted and reported as a protocol error', () => {
    const me = solo();
    me.handlePacket(millis(10), addrOf(50), { type: 'ping', seqNo: 1, node: nm('someone-else'), sourceAddr: addrOf(50), sourceNode: nm('p') });
    const { tx, ev } = drain(me);
    expect(tx).toEqual([]);
    expect(me.stats.protocolErrors).toBe(1);
    expect(ev).toHaveLength(1);
    const e = ev[0] as NodeEvent;
    expect(e.type).toBe('protocol-error');
    if (e.type === 'protocol-error') {
      expect(e.reason).toBe('ping-for-other-node');
      expect(e.from).toBe(addrOf(50));
    }
  });

  it('a ping over a stream is acked on the same stream; one for another node is closed without a reply', () => {
    const me = solo();
    me.handleStreamRequest(millis(1), addrOf(50), 41, { type: 'ping', seqNo: 9, node: nm('me'), sourceAddr: null, sourceNode: null });
    me.handleStreamRequest(millis(1), addrOf(50), 42, { type: 'ping', seqNo: 10, node: nm('other'), sourceAddr: null, sourceNode: null });
    const tx = drain(me).tx;
    expect(tx).toEqual([
      { kind: 'stream-reply', streamId: 41, message: { type: 'ack', seqNo: 9, payload: null }, bytes: expect.any(Number) as number },
      { kind: 'stream-reply', streamId: 42, message: null, bytes: 0 },
    ]);
    expect(me.stats.protocolErrors).toBe(1);
  });
});

describe('GossipNode: relaying indirect pings (reference §6.1)', () => {
  it('pings the target with a new SeqNo and its own Source*, then acks the requester with the ORIGINAL SeqNo', () => {
    const net = new Net();
    const requester = addrOf(9);
    const reqPackets = net.sink(requester);
    const relay = net.add('relay', addrOf(1), 1);
    const target = net.add('target', addrOf(2), 2);
    let relayedPing: Message | undefined;
    net.dropPacket = (from, to, m) => {
      if (from === relay.addr && to === target.addr) relayedPing ??= parts(m)[0];
      return false;
    };
    net.input(relay.addr, (n, now) =>
      n.handlePacket(millis(now), requester, {
        type: 'indirect-ping', seqNo: 4242, target: target.addr, node: target.name, nack: true, sourceAddr: requester, sourceNode: nm('req'),
      }),
    );
    expect(relayedPing?.type).toBe('ping');
    if (relayedPing?.type !== 'ping') return;
    expect(relayedPing.seqNo).not.toBe(4242);
    expect(relayedPing.node).toBe('target');
    expect(relayedPing.sourceAddr).toBe(relay.addr);
    expect(relayedPing.sourceNode).toBe('relay');
    // the target acked the relay at once; the relay forwarded the ack with the original SeqNo
    const acks = reqPackets.flatMap((p) => parts(p.message)).filter((m) => m.type === 'ack');
    expect(acks).toEqual([{ type: 'ack', seqNo: 4242, payload: null }]);
    // and no nack follows later
    net.runFor(3 * LAN.probeTimeoutMs);
    expect(reqPackets.flatMap((p) => parts(p.message)).some((m) => m.type === 'nack')).toBe(false);
  });

  it('answers the UDP source when the request has no SourceAddr', () => {
    const net = new Net();
    const requester = addrOf(9);
    const reqPackets = net.sink(requester);
    const relay = net.add('relay', addrOf(1), 1);
    const target = net.add('target', addrOf(2), 2);
    net.input(relay.addr, (n, now) =>
      n.handlePacket(millis(now), requester, { type: 'indirect-ping', seqNo: 17, target: target.addr, node: target.name, nack: false, sourceAddr: null, sourceNode: null }),
    );
    expect(reqPackets.flatMap((p) => parts(p.message)).filter((m) => m.type === 'ack')).toEqual([{ type: 'ack', seqNo: 17, payload: null }]);
  });

  it('a silent target: nack (original SeqNo) after probeTimeoutMs when Nack is set, not before', () => {
    const net = new Net();
    const requester = addrOf(9);
    const reqPackets = net.sink(requester);
    const relay = net.add('relay', addrOf(1), 1);
    const silent = addrOf(2);
    net.sink(silent);
    const t0 = net.now;
    net.input(relay.addr, (n, now) =>
      n.handlePacket(millis(now), requester, { type: 'indirect-ping', seqNo: 31, target: silent, node: nm('silent'), nack: true, sourceAddr: requester, sourceNode: nm('req') }),
    );
    const nacks = (): SinkPacket[] => reqPackets.filter((p) => parts(p.message).some((m) => m.type === 'nack'));
    net.runUntil(t0 + LAN.probeTimeoutMs - 1);
    expect(nacks()).toEqual([]);
    net.runUntil(t0 + LAN.probeTimeoutMs);
    expect(nacks()).toHaveLength(1);
    const n0 = nacks()[0] as SinkPacket;
    expect(n0.t).toBe(t0 + LAN.probeTimeoutMs);
    expect(parts(n0.message).find((m) => m.type === 'nack')).toEqual({ type: 'nack', seqNo: 31 });
    expect(reqPackets.flatMap((p) => parts(p.message)).some((m) => m.type === 'ack')).toBe(false);
    net.runFor(5_000);
    expect(nacks()).toHaveLength(1);
  });

  it('a silent target with Nack unset: neither ack nor nack', () => {
    const net = new Net();
    const requester = addrOf(9);
    const reqPackets = net.sink(requester);
    const relay = net.add('relay', addrOf(1), 1);
    net.sink(addrOf(2));
    net.input(relay.addr, (n, now) =>
      n.handlePacket(millis(now), requester, { type: 'indirect-ping', seqNo: 32, target: addrOf(2), node: nm('silent'), nack: false, sourceAddr: requester, sourceNode: nm('req') }),
    );
    net.runFor(5_000);
    expect(reqPackets.flatMap((p) => parts(p.message)).filter((m) => m.type === 'ack' || m.type === 'nack')).toEqual([]);
  });
});

// ====================================================================== join

describe('GossipNode: joining through a seed', () => {
  it('two nodes: both see each other alive; the joiner gets join-completed {contacted 1, failed 0}', () => {
    const net = new Net();
    const a = net.add('a', addrOf(1), 1);
    const b = net.add('b', addrOf(2), 2);
    net.input(b.addr, (n, now) => n.join(millis(now), [a.addr]));
    // one push-pull exchange is enough
    expect(a.statusOf('b')).toBe('alive');
    expect(b.statusOf('a')).toBe('alive');
    expect(a.member('b')?.addr).toBe(b.addr);
    expect(b.member('a')?.addr).toBe(a.addr);
    const done = net.log(b.addr).filter((l) => l.ev.type === 'join-completed').map((l) => l.ev);
    expect(done).toEqual([{ type: 'join-completed', contacted: 1, failed: 0 }]);
    expect(net.about(a.addr, 'b', 'member-joined')).toHaveLength(1);
    expect(net.about(b.addr, 'a', 'member-joined')).toHaveLength(1);
    net.runFor(10_000);
    expect(a.members().map((m) => m.name).sort()).toEqual(['a', 'b']);
    expect(b.members().map((m) => m.name).sort()).toEqual(['a', 'b']);
    expect(net.log(a.addr).some((l) => l.ev.type === 'member-failed' || l.ev.type === 'member-suspected')).toBe(false);
  });

  it('three nodes through one seed: everyone sees everyone alive (the second joiner spreads by gossip)', () => {
    const net = new Net();
    const a = net.add('a', addrOf(1), 1);
    const b = net.add('b', addrOf(2), 2);
    const c = net.add('c', addrOf(3), 3);
    net.input(b.addr, (n, now) => n.join(millis(now), [a.addr]));
    net.runFor(100);
    net.input(c.addr, (n, now) => n.join(millis(now), [a.addr]));
    // c learned a and b from a's push-pull reply
    expect(c.statusOf('a')).toBe('alive');
    expect(c.statusOf('b')).toBe('alive');
    // b learns c from a's gossip, well before any periodic push-pull
    const ok = net.runUntilTrue(net.now + 5_000, () => b.statusOf('c') === 'alive');
    expect(ok).toBe(true);
    for (const x of [a, b, c]) {
      expect(x.members().map((m) => m.name).sort()).toEqual(['a', 'b', 'c']);
      expect(x.countIn('alive')).toBe(3);
      expect(x.liveCount).toBe(3);
    }
    for (const [x, others] of [[a, ['b', 'c']], [b, ['a', 'c']], [c, ['a', 'b']]] as const) {
      for (const o of others) expect(net.about(x.addr, o, 'member-joined')).toHaveLength(1);
    }
    net.runFor(20_000);
    for (const x of [a, b, c]) expect(x.countIn('alive')).toBe(3);
    for (const x of [a, b, c]) expect(net.log(x.addr).some((l) => l.ev.type === 'member-suspected' || l.ev.type === 'member-failed')).toBe(false);
  });

  it('a join through an unreachable seed completes with failed 1 after the stream timeout', () => {
    const net = new Net();
    const b = net.add('b', addrOf(2), 2);
    net.isolated.add(addrOf(1));
    const t0 = net.now;
    net.input(b.addr, (n, now) => n.join(millis(now), [addrOf(1)]));
    net.runUntil(t0 + LAN.streamTimeoutMs - 1);
    expect(net.log(b.addr).some((l) => l.ev.type === 'join-completed')).toBe(false);
    net.runUntil(t0 + LAN.streamTimeoutMs);
    const done = net.log(b.addr).filter((l) => l.ev.type === 'join-completed');
    expect(done.map((l) => l.ev)).toEqual([{ type: 'join-completed', contacted: 0, failed: 1 }]);
  });

  it('joining with only its own address completes at once with nothing contacted', () => {
    const me = solo();
    me.join(millis(1), [me.addr]);
    const { tx, ev } = drain(me);
    expect(tx).toEqual([]);
    expect(ev).toEqual([{ type: 'join-completed', contacted: 0, failed: 0 }]);
  });
});

// ====================================================================== failure detection

/** Per observer: when it first suspected `victim`, when it declared it failed, and who declared. */
function failureTimeline(net: Net, observers: Address[], victim: string): { suspectedAt: number; failedAt: number; from: string; observer: string }[] {
  return observers.map((o) => {
    const s = net.about(o, victim, 'member-suspected')[0];
    const f = net.about(o, victim, 'member-failed')[0];
    const from = f !== undefined && f.ev.type === 'member-failed' ? f.ev.from : '';
    return { suspectedAt: s?.t ?? NaN, failedAt: f?.t ?? NaN, from, observer: net.node(o).name };
  });
}

describe('GossipNode: failure detection (reference §6.1, §6.3)', () => {
  it('3 nodes: a node that stops answering is suspected, then declared dead exactly min = 4 s later (k = 0)', () => {
    const { net, addrs } = cluster(3, 10);
    const [a0, a1, victim] = addrs as [Address, Address, Address];
    const min = 4000; // reference §6.3: n ≤ 3 → fixed 4 s
    expect(suspicionTimeoutMs(LAN.suspicionMult, 3, LAN.probeIntervalMs)).toBe(min);
    const t0 = net.now;
    net.isolated.add(victim);
    net.runFor(30_000);
    const tl = failureTimeline(net, [a0, a1], 'n2');
    for (const x of tl) {
      expect(x.suspectedAt).toBeGreaterThan(t0);
      expect(x.failedAt).toBeGreaterThan(x.suspectedAt);
      // nobody waits longer than min after its own suspicion
      expect(x.failedAt - x.suspectedAt).toBeLessThanOrEqual(min + 1e-6);
      // whoever declared the death itself waited exactly min
      if (x.from === x.observer) expect(x.failedAt - x.suspectedAt).toBeCloseTo(min, 6);
    }
    expect(tl.some((x) => x.from === x.observer)).toBe(true);
    const firstSuspect = Math.min(...tl.map((x) => x.suspectedAt));
    const firstFail = Math.min(...tl.map((x) => x.failedAt));
    expect(firstFail - firstSuspect).toBeCloseTo(min, 6);
    // detection starts within a couple of probe rounds (each node probes one of 2 peers per second)
    expect(firstSuspect - t0).toBeLessThan(5 * LAN.probeIntervalMs);
    for (const o of [a0, a1]) {
      expect(net.node(o).statusOf('n2')).toBe('dead');
      expect(net.node(o).members().map((m) => m.name).sort()).toEqual(['n0', 'n1']);
      // no false positives about the healthy pair
      expect(net.log(o).some((l) => (l.ev.type === 'member-failed' || l.ev.type === 'member-suspected') && l.ev.member.name !== 'n2')).toBe(false);
    }
  });

  it('10 nodes: suspected, then dead within [min, max] = [4 s, 24 s] of the suspicion; confirmations shorten it', () => {
    const { net, addrs } = cluster(10, 200);
    const victim = addrs[7] as Address;
    const observers = addrs.filter((a) => a !== victim);
    const n = 10;
    const min = 4000;
    const max = 24000; // reference §6.3 worked values for n = 10
    expect(suspicionTimeoutMs(LAN.suspicionMult, n, LAN.probeIntervalMs)).toBe(min);
    const t0 = net.now;
    net.isolated.add(victim);
    const allFailed = net.runUntilTrue(t0 + 40_000, () => observers.every((o) => net.about(o, 'n7', 'member-failed').length > 0), 50);
    expect(allFailed).toBe(true);
    for (const o of observers) {
      expect(net.node(o).statusOf('n7')).toBe('dead');
      expect(net.node(o).members()).toHaveLength(n - 1);
    }
    const tl = failureTimeline(net, observers, 'n7');
    for (const x of tl) {
      expect(x.suspectedAt).toBeGreaterThan(t0);
      expect(x.failedAt).toBeGreaterThanOrEqual(x.suspectedAt);
      expect(x.failedAt - x.suspectedAt).toBeLessThanOrEqual(max + 1e-6);
      if (x.from === x.observer) expect(x.failedAt - x.suspectedAt).toBeGreaterThanOrEqual(min - 1e-6);
    }
    const firstSuspect = Math.min(...tl.map((x) => x.suspectedAt));
    const firstFail = Math.min(...tl.map((x) => x.failedAt));
    expect(firstFail - firstSuspect).toBeGreaterThanOrEqual(min - 1e-6);
    expect(firstFail - firstSuspect).toBeLessThanOrEqual(max + 1e-6);
    // nine independent probers accuse the victim, so the first death comes before the full max
    expect(firstFail - firstSuspect).toBeLessThan(remainingSuspicionMs(1, 2, 0, min, max) + 1e-6);
    // no false positives about the live nodes
    for (const o of observers) {
      expect(net.log(o).some((l) => (l.ev.type === 'member-failed' || l.ev.type === 'member-suspected') && l.ev.member.name !== 'n7')).toBe(false);
    }
    // reference §6.7: the dead member is reaped only after GossipToTheDeadTime
    net.runUntil(firstFail + 60_000);
    for (const o of observers) {
      const failedAt = (net.about(o, 'n7', 'member-failed')[0] as Logged).t;
      const reaped = net.log(o).filter((l) => l.ev.type === 'member-reaped' && l.ev.name === 'n7');
      expect(reaped).toHaveLength(1);
      expect((reaped[0] as Logged).t - failedAt).toBeGreaterThan(LAN.gossipToTheDeadTimeMs);
      expect(net.node(o).statusOf('n7')).toBeUndefined();
    }
  });

  it('failed probes raise the local health score (clamped to 7); successful ones bring it back to 0', () => {
    const { net, addrs } = cluster(3, 30, defaultConfig('lan', { disableStreamPings: true }));
    const [a0] = addrs as [Address, Address, Address];
    const obs = net.node(a0);
    expect(obs.healthScore).toBe(0);
    // n0 hears no acks and no nacks: every probe it makes fails (other traffic still flows, so
    // the members it wrongly suspects hear about it and refute)
    net.dropPacket = (_f, to, m) => to === a0 && parts(m).some((p) => p.type === 'ack' || p.type === 'nack');
    const failed0 = obs.stats.probesFailed;
    net.runFor(5_000);
    expect(obs.stats.probesFailed).toBeGreaterThan(failed0);
    expect(obs.healthScore).toBeGreaterThan(0);
    expect(obs.healthScore).toBeLessThanOrEqual(LAN.awarenessMaxMultiplier - 1);
    net.dropPacket = () => false;
    net.runFor(60_000); // at most 8 + 7 + … + 1 = 36 s of successful probes to get back to 0
    expect(obs.healthScore).toBe(0);
    for (const a of addrs) expect(net.node(a).countIn('alive')).toBe(3);
  });
});

// ====================================================================== probing by hand

describe('GossipNode: one probe, step by step (reference §6.1, §6.2)', () => {
  const OLD_VSN = [1, 3, 2, 2, 5, 5] as const; // PMax 3: stream ping yes, nack no
  /** A node with 5 peers p2..p6 at addrOf(2..6), all speaking protocol 5 (they all nack). */
  function prober(): GossipNode {
    const me = solo('me', addrOf(1));
    me.restoreMembers(millis(0), [2, 3, 4, 5, 6].map((i) => alive(`p${i}`, addrOf(i))));
    drain(me);
    return me;
  }
  /** Steps through the node's own timeouts until it sends a ping; returns the time and the ping. */
  function firstProbe(me: GossipNode): { t: number; to: Address; seqNo: number } {
    for (let i = 0; i < 100; i++) {
      const t = me.pollTimeout() as number;
      me.handleTimeout(millis(t));
      for (const p of packets(drain(me).tx)) {
        const ping = parts(p.message).find((m) => m.type === 'ping');
        if (ping?.type === 'ping') return { t, to: p.to, seqNo: ping.seqNo };
      }
    }
    throw new Error('no probe');
  }

  it('no ack within ProbeTimeout → IndirectChecks indirect pings (Nack for PMax ≥ 4), same SeqNo, plus a stream ping', () => {
    // 4 peers: whichever is the target, the 3 others are the relays, and p2 or p3 (PMax 3) is one
    const me = solo('me', addrOf(1));
    const vsnOf = new Map<Address, readonly number[]>();
    const recs: AliveMsg[] = [];
    for (let i = 2; i <= 5; i++) {
      const vsn = i <= 3 ? OLD_VSN : DEFAULT_VSN;
      vsnOf.set(addrOf(i), vsn);
      recs.push({ ...alive(`p${i}`, addrOf(i)), vsn });
    }
    me.restoreMembers(millis(0), recs);
    drain(me);
    const probe = firstProbe(me);
    me.handleTimeout(millis(probe.t + LAN.probeTimeoutMs - 1));
    const early = drain(me).tx;
    expect(packets(early).flatMap((p) => parts(p.message)).some((m) => m.type === 'indirect-ping')).toBe(false);
    expect(early.some((t) => t.kind === 'stream')).toBe(false);
    me.handleTimeout(millis(probe.t + LAN.probeTimeoutMs));
    const tx = drain(me).tx;
    const ind = packets(tx).flatMap((p) => parts(p.message).filter((m) => m.type === 'indirect-ping').map((m) => ({ to: p.to, m })));
    expect(ind).toHaveLength(LAN.indirectChecks);
    expect(new Set(ind.map((x) => x.to)).size).toBe(LAN.indirectChecks);
    const nacks: boolean[] = [];
    for (const { to, m } of ind) {
      if (m.type !== 'indirect-ping') continue;
      expect(to).not.toBe(probe.to);
      expect(to).not.toBe(me.addr);
      expect(m.seqNo).toBe(probe.seqNo);
      expect(m.target).toBe(probe.to);
      expect(m.nack).toBe((vsnOf.get(to)?.[1] ?? 0) >= 4);
      expect(m.sourceAddr).toBe(me.addr);
      nacks.push(m.nack);
    }
    expect(nacks).toContain(false);
    expect(nacks).toContain(true);
    const streams = tx.filter((t) => t.kind === 'stream');
    expect(streams).toHaveLength(1); // the target speaks protocol ≥ 3
    const st = streams[0] as Transmit;
    if (st.kind === 'stream') {
      expect(st.to).toBe(probe.to);
      expect(st.message).toMatchObject({ type: 'ping', seqNo: probe.seqNo });
    }
  });

  it('the probe deadline stretches with the health score: a late indirect ack within (score + 1) intervals still counts', () => {
    const me = prober();
    const p1 = firstProbe(me);
    me.handleTimeout(millis(p1.t + LAN.probeTimeoutMs));
    drain(me);
    me.handleTimeout(millis(p1.t + LAN.probeIntervalMs)); // fails, no nacks: score 3
    const score = me.healthScore;
    expect(score).toBe(LAN.indirectChecks);
    const failed = me.stats.probesFailed;
    const p2 = firstProbe(me); // the next probe (deadline p2.t + (score + 1) × interval)
    me.handleTimeout(millis(p2.t + LAN.probeTimeoutMs));
    drain(me);
    me.handleTimeout(millis(p2.t + LAN.probeIntervalMs + 1)); // past the unscaled deadline
    drain(me);
    expect(me.stats.probesFailed).toBe(failed);
    // an ack (as a relay would forward it) arrives late, but before the stretched deadline
    me.handlePacket(millis(p2.t + 2 * LAN.probeIntervalMs), p2.to, { type: 'ack', seqNo: p2.seqNo, payload: null });
    expect(me.healthScore).toBe(score - 1);
    me.handleTimeout(millis(p2.t + (score + 1) * LAN.probeIntervalMs));
    drain(me);
    expect(me.stats.probesFailed).toBe(failed);
  });

  it.each([0, 1, 2, 3])('failed probe with %i of the 3 expected nacks: awareness += expected − received', (received) => {
    const me = prober();
    const probe = firstProbe(me);
    me.handleTimeout(millis(probe.t + LAN.probeTimeoutMs));
    const ind = packets(drain(me).tx).filter((p) => parts(p.message).some((m) => m.type === 'indirect-ping'));
    const expected = LAN.indirectChecks; // every relay speaks PMax 5 ≥ 4
    expect(ind).toHaveLength(expected);
    const nackers = ind.slice(0, received);
    for (const p of nackers) me.handlePacket(millis(probe.t + 600), p.to, { type: 'nack', seqNo: probe.seqNo });
    drain(me);
    expect(me.healthScore).toBe(0);
    me.handleTimeout(millis(probe.t + LAN.probeIntervalMs)); // the probe deadline (score 0 → × 1)
    const { ev } = drain(me);
    expect(me.stats.probesFailed).toBe(1);
    expect(me.healthScore).toBe(expected - received);
    // and the target is now suspected by us
    expect(ev).toContainEqual(expect.objectContaining({ type: 'member-suspected', from: 'me' }));
  });

  it('a failed probe with nobody to ask for nacks costs +1; a successful probe −1', () => {
    const me = solo();
    me.restoreMembers(millis(0), [alive('p', addrOf(2))]);
    drain(me);
    const probe = firstProbe(me);
    me.handleTimeout(millis(probe.t + LAN.probeTimeoutMs));
    drain(me);
    me.handleTimeout(millis(probe.t + LAN.probeIntervalMs)); // the deadline: the probe fails
    drain(me);
    expect(me.stats.probesFailed).toBe(1);
    expect(me.healthScore).toBe(1);
    expect(me.statusOf('p')).toBe('suspect');
    // the next probe of p (a suspect now, so ping + suspect) is answered
    const next = firstProbe(me);
    expect(next.t).toBeGreaterThan(probe.t + LAN.probeIntervalMs - 1e-9);
    me.handlePacket(millis(next.t + 10), addrOf(2), { type: 'ack', seqNo: next.seqNo, payload: null });
    expect(me.healthScore).toBe(0);
    // an ack does not clear a suspicion (only an alive with a higher incarnation does)
    expect(me.statusOf('p')).toBe('suspect');
  });

  it('the probe interval and deadline stretch with the health score: × (score + 1)', () => {
    const me = prober();
    const probe = firstProbe(me);
    me.handleTimeout(millis(probe.t + LAN.probeTimeoutMs));
    drain(me); // no nacks come back: the failure costs +3
    const deadline = probe.t + LAN.probeIntervalMs;
    // step through every timeout up to well past the deadline, recording when pings go out
    const pingTimes: number[] = [];
    let score = -1;
    for (let i = 0; i < 1000; i++) {
      const t = me.pollTimeout() as number;
      if (t > deadline + 10 * LAN.probeIntervalMs) break;
      me.handleTimeout(millis(t));
      if (t === deadline) score = me.healthScore; // right after the failed probe
      for (const p of packets(drain(me).tx)) if (parts(p.message).some((m) => m.type === 'ping')) pingTimes.push(t);
    }
    expect(score).toBe(LAN.indirectChecks);
    // probe ticks now come every (score + 1) intervals: the one at the deadline, then (score + 1) s
    // later. (memberlist may skip a tick when the probe list wraps, so allow the second one.)
    const stretched = (score + 1) * LAN.probeIntervalMs;
    const first = pingTimes[0] as number;
    expect([deadline, deadline + stretched]).toContain(first);
    expect(pingTimes.filter((t) => t > deadline && t < deadline + stretched)).toEqual([]);
    expect(pingTimes.length).toBeGreaterThanOrEqual(2);
    expect((pingTimes[1] as number) - first).toBeGreaterThanOrEqual(stretched);
  });
});

// ====================================================================== suspicion at node level

describe('GossipNode: Lifeguard suspicion timer (reference §6.3)', () => {
  /** `me` plus 9 peers (n = 10: min 4 s, max 24 s, k = 2); `dead` of them already dead. */
  function tenNodes(dead = 0): GossipNode {
    const me = solo('me', addrOf(1));
    const recs: AliveMsg[] = [];
    for (let i = 2; i <= 10; i++) recs.push(alive(`p${i}`, addrOf(i)));
    me.restoreMembers(millis(0), recs);
    for (let i = 0; i < dead; i++) {
      me.handlePacket(millis(0), addrOf(50), { type: 'dead', incarnation: incarnation(1), node: nm(`p${10 - i}`), from: nm('x') });
    }
    drain(me);
    expect(me.knownCount).toBe(10);
    return me;
  }
  const suspect = (from: string): Message => ({ type: 'suspect', incarnation: incarnation(1), node: nm('p2'), from: nm(from) });
  const ONE = remainingSuspicionMs(1, 2, 0, 4000, 24000);

  it.each([
    { confirmations: 0, deadline: 24000 },
    { confirmations: 1, deadline: ONE },
    { confirmations: 2, deadline: 4000 },
    { confirmations: 3, deadline: 4000 }, // more than k changes nothing
  ])('n = 10, $confirmations independent confirmations → dead $deadline ms after the first suspicion', ({ confirmations, deadline }) => {
    const me = tenNodes();
    const t0 = 100;
    me.handlePacket(millis(t0), addrOf(50), suspect('x'));
    for (let i = 0; i < confirmations; i++) me.handlePacket(millis(t0 + 10 + i), addrOf(50), suspect(`c${i}`));
    expect(me.statusOf('p2')).toBe('suspect');
    // (handleTimeout is only called twice, so no probe of ours can fail and add an accusation)
    me.handleTimeout(millis(t0 + deadline - 1));
    expect(me.statusOf('p2')).toBe('suspect');
    me.handleTimeout(millis(t0 + deadline));
    expect(me.statusOf('p2')).toBe('dead');
    const failed = drain(me).ev.filter((e) => e.type === 'member-failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ from: 'me', member: { name: 'p2', status: 'dead', incarnation: 1 } });
  });

  it('the original and repeated accusers do not shorten the timer', () => {
    const me = tenNodes();
    me.handlePacket(millis(0), addrOf(50), suspect('x'));
    me.handlePacket(millis(1), addrOf(50), suspect('x'));
    me.handlePacket(millis(2), addrOf(50), suspect('y'));
    me.handlePacket(millis(3), addrOf(50), suspect('y'));
    me.handleTimeout(millis(ONE - 1));
    expect(me.statusOf('p2')).toBe('suspect');
    me.handleTimeout(millis(ONE));
    expect(me.statusOf('p2')).toBe('dead');
  });

  it('a new confirmation is re-gossiped; a repeated one is not', () => {
    const me = tenNodes();
    me.handlePacket(millis(0), addrOf(50), suspect('x'));
    const q1 = me.stats.broadcastsQueued;
    me.handlePacket(millis(1), addrOf(50), suspect('x'));
    expect(me.stats.broadcastsQueued).toBe(q1);
    me.handlePacket(millis(2), addrOf(50), suspect('y'));
    expect(me.stats.broadcastsQueued).toBe(q1 + 1);
    me.handlePacket(millis(3), addrOf(50), suspect('y'));
    expect(me.stats.broadcastsQueued).toBe(q1 + 1);
  });

  it('dead members count in n: 3 alive + 7 dead is still n = 10, so the timer starts at max (24 s)', () => {
    const me = tenNodes(7);
    expect(me.liveCount).toBe(3);
    me.handlePacket(millis(0), addrOf(50), suspect('x'));
    me.handleTimeout(millis(23_999));
    expect(me.statusOf('p2')).toBe('suspect');
    me.handleTimeout(millis(24_000));
    expect(me.statusOf('p2')).toBe('dead');
  });

  it('an alive with a higher incarnation cancels the timer', () => {
    const me = tenNodes();
    me.handlePacket(millis(0), addrOf(50), suspect('x'));
    me.handlePacket(millis(10), addrOf(2), alive('p2', addrOf(2), 2));
    me.handleTimeout(millis(30_000));
    expect(me.statusOf('p2')).toBe('alive');
  });
});

describe('GossipNode: what gets probed and gossiped', () => {
  it('dead and left members are never probed; suspect ones are (reference §6.1)', () => {
    const net = new Net();
    const me = net.add('me', addrOf(1), 5);
    const sinks = new Map<Address, SinkPacket[]>();
    for (let i = 2; i <= 5; i++) sinks.set(addrOf(i), net.sink(addrOf(i)));
    net.input(me.addr, (n, now) => n.restoreMembers(millis(now), [2, 3, 4, 5].map((i) => alive(`p${i}`, addrOf(i)))));
    net.input(me.addr, (n, now) => {
      n.handlePacket(millis(now), addrOf(9), { type: 'dead', incarnation: incarnation(1), node: nm('p2'), from: nm('x') });
      n.handlePacket(millis(now), addrOf(9), { type: 'dead', incarnation: incarnation(1), node: nm('p3'), from: nm('p3') });
      n.handlePacket(millis(now), addrOf(9), { type: 'suspect', incarnation: incarnation(1), node: nm('p4'), from: nm('x') });
    });
    // nobody answers; p4's suspicion (n = 5 → k = 2 → 24 s) outlasts the run, so it stays probe-able
    net.runFor(3_500);
    const pinged = (a: Address): number => (sinks.get(a) ?? []).filter((p) => parts(p.message).some((m) => m.type === 'ping')).length;
    expect(pinged(addrOf(2))).toBe(0);
    expect(pinged(addrOf(3))).toBe(0);
    expect(pinged(addrOf(4))).toBeGreaterThan(0);
  });

  it('a broadcast is sent retransmitLimit(4, n) times in total by the node (n = 4 → 4, reference §6.5)', () => {
    const net = new Net();
    const a = net.add('a', addrOf(1), 1);
    const b = net.add('b', addrOf(2), 2);
    const c = net.add('c', addrOf(3), 3);
    net.sink(addrOf(4));
    for (const x of [a, b, c]) {
      net.input(x.addr, (n, now) => n.restoreMembers(millis(now), [alive('a', addrOf(1)), alive('b', addrOf(2)), alive('c', addrOf(3))]));
    }
    let count = 0;
    net.dropPacket = (from, _to, m) => {
      if (from === a.addr) count += parts(m).filter((x) => x.type === 'alive' && x.node === 'z').length;
      return false;
    };
    // a hears of a new member z: a re-broadcasts it; a then knows n = 4 members
    net.input(a.addr, (n, now) => n.handlePacket(millis(now), addrOf(4), alive('z', addrOf(4), 1)));
    expect(a.knownCount).toBe(4);
    net.runFor(900); // under one probe round: z cannot have been suspected by a yet
    expect(count).toBe(4); // LAN: 4 for n = 1–9
  });

  it('an idle node with an empty broadcast queue sends no gossip', () => {
    const me = solo();
    me.restoreMembers(millis(0), [alive('p', addrOf(2))]);
    drain(me);
    expect(me.broadcastQueueLength).toBe(0);
    // step through 25 gossip intervals, p acking every probe: only pings may appear
    let pings = 0;
    for (let t = 0; t <= 25 * LAN.gossipIntervalMs; t += LAN.gossipIntervalMs / 2) {
      me.handleTimeout(millis(t));
      for (const p of packets(drain(me).tx)) {
        for (const m of parts(p.message)) {
          expect(m.type).toBe('ping');
          if (m.type === 'ping') {
            pings++;
            me.handlePacket(millis(t), addrOf(2), { type: 'ack', seqNo: m.seqNo, payload: null });
          }
        }
      }
    }
    expect(pings).toBeGreaterThan(0);
    expect(me.broadcastQueueLength).toBe(0);
  });
});

// ====================================================================== refutation

describe('GossipNode: refuting a suspicion of oneself (reference §6.4)', () => {
  it.each([
    { mine: 1, accused: 1, want: 2 },
    { mine: 1, accused: 3, want: 4 },
    { mine: 5, accused: 5, want: 6 },
    { mine: 5, accused: 9, want: 10 },
  ])('suspect at inc $accused while at $mine → alive at $want (max(mine+1, accused+1)), self-refuted event', ({ mine, accused, want }) => {
    const me = new GossipNode({ name: nm('me'), addr: addrOf(1), config: LAN, rng: seededRng(1), now: millis(0), incarnation: mine });
    me.restoreMembers(millis(0), [alive('p', addrOf(2))]);
    drain(me);
    expect(me.incarnation).toBe(mine);
    me.handlePacket(millis(10), addrOf(2), { type: 'suspect', incarnation: incarnation(accused), node: nm('me'), from: nm('p') });
    const { ev } = drain(me);
    expect(me.incarnation).toBe(want);
    expect(me.statusOf('me')).toBe('alive');
    expect(ev).toContainEqual({ type: 'self-refuted', incarnation: want, accusedAt: accused, by: 'p' });
    expect(me.stats.refutations).toBe(1);
    expect(me.healthScore).toBe(1); // Lifeguard: +1 per refutation (reference §6.2)
  });

  it('dead about oneself is refuted the same way', () => {
    const me = solo();
    me.restoreMembers(millis(0), [alive('p', addrOf(2))]);
    me.handlePacket(millis(10), addrOf(2), { type: 'dead', incarnation: incarnation(7), node: nm('me'), from: nm('p') });
    expect(me.incarnation).toBe(8);
    expect(me.statusOf('me')).toBe('alive');
    expect(drain(me).ev).toContainEqual({ type: 'self-refuted', incarnation: 8, accusedAt: 7, by: 'p' });
  });

  it('an accusation with an older incarnation is ignored', () => {
    const me = new GossipNode({ name: nm('me'), addr: addrOf(1), config: LAN, rng: seededRng(1), now: millis(0), incarnation: 4 });
    me.handlePacket(millis(10), addrOf(2), { type: 'suspect', incarnation: incarnation(3), node: nm('me'), from: nm('p') });
    me.handlePacket(millis(11), addrOf(2), { type: 'dead', incarnation: incarnation(2), node: nm('me'), from: nm('p') });
    expect(me.incarnation).toBe(4);
    expect(drain(me).ev.some((e) => e.type === 'self-refuted')).toBe(false);
  });

  it('the refutation is broadcast as an alive with the new incarnation', () => {
    const me = solo();
    me.restoreMembers(millis(0), [alive('p', addrOf(2))]);
    me.handlePacket(millis(10), addrOf(2), { type: 'suspect', incarnation: incarnation(1), node: nm('me'), from: nm('p') });
    drain(me);
    // the next ack we send piggybacks it
    me.handlePacket(millis(20), addrOf(2), { type: 'ping', seqNo: 3, node: nm('me'), sourceAddr: null, sourceNode: null });
    const sent = packets(drain(me).tx).flatMap((p) => parts(p.message));
    expect(sent).toContainEqual({ type: 'alive', incarnation: 2, node: 'me', addr: addrOf(1), meta: null, vsn: DEFAULT_VSN });
  });

  it('in a cluster: a live node wrongly suspected refutes; peers see it recover, nobody declares it dead', () => {
    const { net, addrs } = cluster(3, 40);
    const [a0, a1, a2] = addrs as [Address, Address, Address];
    const accused = net.node(a2);
    const inc0 = accused.incarnation as number;
    const t0 = net.now;
    // n0 hears a (false) suspicion about n2 from n1 at n2's current incarnation
    net.input(a0, (n, now) => n.handlePacket(millis(now), a1, { type: 'suspect', incarnation: incarnation(inc0), node: nm('n2'), from: nm('n1') }));
    expect(net.node(a0).statusOf('n2')).toBe('suspect');
    net.runFor(30_000);
    const refuted = net.log(a2).filter((l) => l.ev.type === 'self-refuted');
    expect(refuted.length).toBeGreaterThanOrEqual(1);
    const r0 = (refuted[0] as Logged).ev;
    expect(r0).toEqual({ type: 'self-refuted', incarnation: inc0 + 1, accusedAt: inc0, by: expect.any(String) as string });
    // refuted before the k = 0 suspicion timeout (min 4 s for n = 3) could fire
    expect((refuted[0] as Logged).t - t0).toBeLessThan(4000);
    for (const o of [a0, a1]) {
      expect(net.node(o).statusOf('n2')).toBe('alive');
      expect(net.node(o).member('n2')?.incarnation).toBe(accused.incarnation);
      expect(net.about(o, 'n2', 'member-failed')).toEqual([]);
    }
    expect(net.about(a0, 'n2', 'member-recovered')).toHaveLength(1);
    expect(accused.incarnation).toBeGreaterThan(inc0);
  });
});

// ====================================================================== leave

describe('GossipNode: graceful leave (reference §6.4, §7)', () => {
  it('peers see member-left (state left, not failed); the leaver emits left and stops', () => {
    const { net, addrs } = cluster(3, 50);
    const [a0, a1, a2] = addrs as [Address, Address, Address];
    const leaver = net.node(a2);
    const t0 = net.now;
    net.input(a2, (n, now) => n.leave(millis(now)));
    net.runFor(LAN.leavePropagateMs + 10);
    const left = net.log(a2).filter((l) => l.ev.type === 'left');
    expect(left).toHaveLength(1);
    expect((left[0] as Logged).t - t0).toBeLessThanOrEqual(LAN.leavePropagateMs);
    expect(leaver.isStopped).toBe(true);
    expect(leaver.pollTimeout()).toBeUndefined();
    for (const o of [a0, a1]) {
      const n = net.node(o);
      expect(n.statusOf('n2')).toBe('left');
      expect(net.about(o, 'n2', 'member-left')).toHaveLength(1);
      const ev = (net.about(o, 'n2', 'member-left')[0] as Logged).ev;
      if (ev.type === 'member-left') expect(ev.member.status).toBe('left');
      expect(n.members().map((m) => m.name).sort()).toEqual(['n0', 'n1']);
    }
    // nothing about the leaver turns into a failure later
    net.runFor(60_000);
    for (const o of [a0, a1]) {
      expect(net.about(o, 'n2', 'member-failed')).toEqual([]);
      expect(net.about(o, 'n2', 'member-suspected')).toEqual([]);
      expect(net.node(o).statusOf('n2') === 'left' || net.node(o).statusOf('n2') === undefined).toBe(true);
    }
  });

  it('a lone node leaves at once', () => {
    const me = solo();
    me.leave(millis(5));
    expect(drain(me).ev).toEqual([{ type: 'left' }]);
    expect(me.isStopped).toBe(true);
  });

  it('a leaving node does not refute its own dead, and ignores alive about itself', () => {
    const me = solo();
    me.restoreMembers(millis(0), [alive('p', addrOf(2))]);
    me.leave(millis(1));
    const inc = me.incarnation;
    me.handlePacket(millis(2), addrOf(2), { type: 'dead', incarnation: inc, node: nm('me'), from: nm('me') });
    me.handlePacket(millis(3), addrOf(2), alive('me', addrOf(1), (inc as number) + 5));
    expect(me.incarnation).toBe(inc);
    expect(drain(me).ev.some((e) => e.type === 'self-refuted')).toBe(false);
  });
});

// ====================================================================== precedence

describe('GossipNode: incarnation precedence (reference §6.4)', () => {
  function withPeer(inc: number): GossipNode {
    const me = solo();
    me.restoreMembers(millis(0), [alive('p', addrOf(2), inc)]);
    drain(me);
    return me;
  }

  it('alive with the same incarnation is ignored (even with new meta); a higher one is accepted and re-broadcast', () => {
    const me = withPeer(2);
    const q0 = me.broadcastQueueLength;
    me.handlePacket(millis(1), addrOf(2), alive('p', addrOf(2), 2, new Uint8Array([1])));
    expect(me.member('p')?.meta).toBeNull();
    expect(me.member('p')?.incarnation).toBe(2);
    expect(drain(me).ev).toEqual([]);
    expect(me.broadcastQueueLength).toBe(q0);
    me.handlePacket(millis(2), addrOf(2), alive('p', addrOf(2), 1, new Uint8Array([1])));
    expect(me.member('p')?.incarnation).toBe(2);
    expect(me.member('p')?.meta).toBeNull();
    me.handlePacket(millis(3), addrOf(2), alive('p', addrOf(2), 3, new Uint8Array([1])));
    expect(me.member('p')?.incarnation).toBe(3);
    expect(me.member('p')?.meta).toEqual(new Uint8Array([1]));
    expect(me.broadcastQueueLength).toBe(q0 + 1);
    const ev = drain(me).ev;
    expect(ev.map((e) => e.type)).toEqual(['member-updated']); // NotifyUpdate on a Meta change (§7)
  });

  it('a suspect member recovers only with an alive at a higher incarnation', () => {
    const me = withPeer(2);
    me.handlePacket(millis(1), addrOf(3), { type: 'suspect', incarnation: incarnation(2), node: nm('p'), from: nm('x') });
    expect(me.statusOf('p')).toBe('suspect');
    me.handlePacket(millis(2), addrOf(2), alive('p', addrOf(2), 2));
    expect(me.statusOf('p')).toBe('suspect');
    me.handlePacket(millis(3), addrOf(2), alive('p', addrOf(2), 3));
    expect(me.statusOf('p')).toBe('alive');
    expect(drain(me).ev.map((e) => e.type)).toEqual(['member-suspected', 'member-recovered']);
  });

  it('dead with an older incarnation is ignored; at the current one it kills (member-failed)', () => {
    const me = withPeer(3);
    me.handlePacket(millis(1), addrOf(3), { type: 'dead', incarnation: incarnation(2), node: nm('p'), from: nm('x') });
    expect(me.statusOf('p')).toBe('alive');
    expect(drain(me).ev).toEqual([]);
    me.handlePacket(millis(2), addrOf(3), { type: 'dead', incarnation: incarnation(3), node: nm('p'), from: nm('x') });
    expect(me.statusOf('p')).toBe('dead');
    const ev = drain(me).ev;
    expect(ev).toHaveLength(1);
    expect(ev[0]).toMatchObject({ type: 'member-failed', from: 'x', member: { name: 'p', status: 'dead', incarnation: 3 } });
  });

  it('suspect with an older incarnation is ignored', () => {
    const me = withPeer(3);
    me.handlePacket(millis(1), addrOf(3), { type: 'suspect', incarnation: incarnation(2), node: nm('p'), from: nm('x') });
    expect(me.statusOf('p')).toBe('alive');
    expect(drain(me).ev).toEqual([]);
  });

  it('dead from the node itself means left; an equal alive does not resurrect it, a higher one does (member-joined)', () => {
    const me = withPeer(2);
    me.handlePacket(millis(1), addrOf(2), { type: 'dead', incarnation: incarnation(2), node: nm('p'), from: nm('p') });
    expect(me.statusOf('p')).toBe('left');
    me.handlePacket(millis(2), addrOf(2), alive('p', addrOf(2), 2));
    expect(me.statusOf('p')).toBe('left');
    me.handlePacket(millis(3), addrOf(2), alive('p', addrOf(2), 3));
    expect(me.statusOf('p')).toBe('alive');
    expect(drain(me).ev.map((e) => e.type)).toEqual(['member-left', 'member-joined']);
  });

  it('a brand-new member announced with incarnation 0 is silently ignored', () => {
    const me = solo();
    me.handlePacket(millis(1), addrOf(2), alive('p', addrOf(2), 0));
    expect(me.member('p')).toBeUndefined();
    expect(me.stats.protocolErrors).toBe(0);
  });

  it('suspect and dead about unknown members are ignored', () => {
    const me = solo();
    me.handlePacket(millis(1), addrOf(2), { type: 'suspect', incarnation: incarnation(1), node: nm('ghost'), from: nm('x') });
    me.handlePacket(millis(1), addrOf(2), { type: 'dead', incarnation: incarnation(1), node: nm('ghost'), from: nm('x') });
    expect(me.member('ghost')).toBeUndefined();
    expect(drain(me).ev).toEqual([]);
  });
});

// ====================================================================== push-pull merge

describe('GossipNode: push-pull merge (reference §4.1)', () => {
  it('a remote "dead" only makes us suspect (never dead directly); the suspicion is ours', () => {
    const me = solo();
    me.restoreMembers(millis(0), [alive('p', addrOf(2), 2)]);
    drain(me);
    me.handleStreamRequest(millis(5), addrOf(3), 1, pushPull(false, [{ record: alive('p', addrOf(2), 2), incarnation: 2, state: MemberState.Dead }]));
    expect(me.statusOf('p')).toBe('suspect');
    const ev = drain(me).ev;
    expect(ev.filter((e) => e.type === 'member-failed')).toEqual([]);
    expect(ev).toContainEqual(expect.objectContaining({ type: 'member-suspected', from: 'me' }));
  });

  it('the remote death then runs out like any suspicion: dead only after the timeout (n = 2 → 4 s)', () => {
    const me = solo();
    me.restoreMembers(millis(0), [alive('p', addrOf(2), 1)]);
    drain(me);
    me.handleStreamRequest(millis(5), addrOf(3), 1, pushPull(false, [{ record: alive('p', addrOf(2), 1), incarnation: 1, state: MemberState.Dead }]));
    drain(me);
    me.handleTimeout(millis(5 + 4000 - 1));
    expect(me.statusOf('p')).toBe('suspect');
    // (the probe of p fails meanwhile too, but the death must come from the 4 s timer)
    me.handleTimeout(millis(5 + 4000));
    expect(me.statusOf('p')).toBe('dead');
  });

  it('a remote "suspect" makes us suspect; "left" means left; "alive" adds the member', () => {
    const me = solo();
    me.restoreMembers(millis(0), [alive('p', addrOf(2)), alive('q', addrOf(3))]);
    drain(me);
    me.handleStreamRequest(millis(5), addrOf(4), 1, pushPull(false, [
      { record: alive('p', addrOf(2)), incarnation: 1, state: MemberState.Suspect },
      { record: alive('q', addrOf(3)), incarnation: 1, state: MemberState.Left },
      { record: alive('r', addrOf(4)), incarnation: 1, state: MemberState.Alive },
    ]));
    expect(me.statusOf('p')).toBe('suspect');
    expect(me.statusOf('q')).toBe('left');
    expect(me.statusOf('r')).toBe('alive');
  });

  it('a dead entry about ourselves is refuted', () => {
    const me = solo();
    me.handleStreamRequest(millis(5), addrOf(4), 1, pushPull(false, [{ record: alive('me', addrOf(1)), incarnation: 1, state: MemberState.Dead }]));
    expect(me.incarnation).toBe(2);
    expect(me.statusOf('me')).toBe('alive');
  });

  it('replies with our full state (join flag echoed) on the same stream', () => {
    const me = solo();
    me.restoreMembers(millis(0), [alive('p', addrOf(2))]);
    drain(me);
    me.handleStreamRequest(millis(5), addrOf(4), 77, pushPull(true, [{ record: alive('r', addrOf(4)), incarnation: 1, state: MemberState.Alive }]));
    const tx = drain(me).tx;
    expect(tx).toHaveLength(1);
    const t = tx[0] as Transmit;
    expect(t.kind).toBe('stream-reply');
    if (t.kind !== 'stream-reply') return;
    expect(t.streamId).toBe(77);
    const m = t.message;
    expect(m?.type).toBe('push-pull');
    if (m?.type !== 'push-pull') return;
    expect(m.join).toBe(true);
    expect(m.records.map((r) => r.node).sort()).toEqual(['me', 'p']);
  });
});

// ====================================================================== bad input

describe('GossipNode: bad input never throws, is counted and reported', () => {
  type Bad = { name: string; reason: string; feed: (n: GossipNode) => void };
  const nested: Message = { type: 'compound', parts: [{ type: 'compound', parts: [{ type: 'nack', seqNo: 1 }] }] };
  const bads: Bad[] = [
    { name: 'a compound inside a compound', reason: 'compound-in-compound', feed: (n) => n.handlePacket(millis(1), addrOf(2), nested) },
    {
      name: 'a push-pull with state 7',
      reason: 'malformed',
      feed: (n) => n.handleStreamRequest(millis(1), addrOf(2), 1, pushPull(false, [{ record: alive('x', addrOf(5)), incarnation: 1, state: 7 }])),
    },
    {
      name: 'a push-pull whose arrays disagree in length',
      reason: 'malformed',
      feed: (n) => n.handleStreamRequest(millis(1), addrOf(2), 1, {
        type: 'push-pull', join: false, records: [alive('x', addrOf(5))], incarnations: new Uint32Array(0), states: new Uint8Array(1), userState: null,
      }),
    },
    { name: 'an ack as a stream request', reason: 'unexpected-message', feed: (n) => n.handleStreamRequest(millis(1), addrOf(2), 1, { type: 'ack', seqNo: 1, payload: null }) },
    { name: 'an error as a stream request', reason: 'unexpected-message', feed: (n) => n.handleStreamRequest(millis(1), addrOf(2), 1, { type: 'error', error: 'boom' }) },
    { name: 'a ping for another node', reason: 'ping-for-other-node', feed: (n) => n.handlePacket(millis(1), addrOf(2), { type: 'ping', seqNo: 1, node: nm('zz'), sourceAddr: null, sourceNode: null }) },
    {
      name: 'an alive for a known member from a conflicting address',
      reason: 'address-conflict',
      feed: (n) => n.handlePacket(millis(1), addrOf(2), alive('p', addrOf(99), 9)),
    },
    {
      name: 'a compound with a null part (a decoder bug)',
      reason: 'malformed',
      feed: (n) => n.handlePacket(millis(1), addrOf(2), { type: 'compound', parts: [null as unknown as Message] }),
    },
    {
      name: 'a push-pull with a null record (a decoder bug)',
      reason: 'malformed',
      feed: (n) => n.handleStreamRequest(millis(1), addrOf(2), 1, {
        type: 'push-pull', join: false, records: [null as unknown as AliveMsg], incarnations: new Uint32Array(1), states: new Uint8Array(1), userState: null,
      }),
    },
  ];

  it.each(bads)('$name → $reason', ({ reason, feed }) => {
    const me = solo();
    me.restoreMembers(millis(0), [alive('p', addrOf(2))]);
    drain(me);
    expect(() => feed(me)).not.toThrow();
    expect(me.stats.protocolErrors).toBe(1);
    const errs = drain(me).ev.filter((e) => e.type === 'protocol-error');
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatchObject({ type: 'protocol-error', reason });
    // nothing bogus was merged
    expect(me.member('x')).toBeUndefined();
    expect(me.member('p')?.addr).toBe(addrOf(2));
    // and the node keeps serving
    me.handlePacket(millis(2), addrOf(2), { type: 'ping', seqNo: 99, node: nm('me'), sourceAddr: null, sourceNode: null });
    expect(packets(drain(me).tx).flatMap((p) => parts(p.message))).toContainEqual({ type: 'ack', seqNo: 99, payload: null });
  });

  it('a bug of ours is not blamed on the peer: it surfaces, and nothing is counted as malformed', () => {
    // A delegate is our code (Serf's layer): its bug must reach the caller, not become a
    // "malformed message from 10.0.0.2" that hides it.
    const bug = (): never => {
      throw new TypeError('invariant broken');
    };
    const me = new GossipNode({
      name: nm('me'), addr: addrOf(1), config: LAN, rng: seededRng(7), now: millis(0),
      delegate: { notifyMsg: bug, mergeRemoteState: bug },
    });
    expect(() => me.handlePacket(millis(1), addrOf(2), { type: 'user', payload: new Uint8Array([1]) })).toThrow(/invariant broken/);
    expect(() => me.handlePacket(millis(1), addrOf(2), { type: 'compound', parts: [{ type: 'user', payload: new Uint8Array([1]) }] })).toThrow(/invariant broken/);
    expect(() => me.handleStreamRequest(millis(1), addrOf(2), 1, { type: 'user', payload: new Uint8Array([1]) })).toThrow(/invariant broken/);
    const state = pushPull(false, [{ record: alive('p', addrOf(2)), incarnation: 1, state: MemberState.Alive }], new Uint8Array([1]));
    expect(() => me.handleStreamRequest(millis(1), addrOf(2), 2, state)).toThrow(/invariant broken/);
    expect(me.stats.protocolErrors).toBe(0);
    expect(drain(me).ev.filter((e) => e.type === 'protocol-error')).toEqual([]);
  });

  it('the good parts of a compound are still handled around a nested compound', () => {
    const me = solo();
    me.handlePacket(millis(1), addrOf(2), {
      type: 'compound',
      parts: [alive('p', addrOf(2)), { type: 'compound', parts: [] }, alive('q', addrOf(3))],
    });
    expect(me.stats.protocolErrors).toBe(1);
    expect(me.statusOf('p')).toBe('alive');
    expect(me.statusOf('q')).toBe('alive');
  });

  it('a join answered with the wrong message type counts as a failed join, not a crash', () => {
    const me = solo();
    me.join(millis(1), [addrOf(2)]);
    const s = drain(me).tx[0] as Transmit;
    expect(s.kind).toBe('stream');
    if (s.kind !== 'stream') return;
    expect(() => me.handleStreamReply(millis(2), s.streamId, { type: 'ack', seqNo: 1, payload: null })).not.toThrow();
    const ev = drain(me).ev;
    expect(ev).toContainEqual(expect.objectContaining({ type: 'protocol-error', reason: 'unexpected-message' }));
    expect(ev).toContainEqual({ type: 'join-completed', contacted: 0, failed: 1 });
    expect(me.stats.protocolErrors).toBe(1);
  });

  it('a remote error reply is reported as remote-error', () => {
    const me = solo();
    me.join(millis(1), [addrOf(2)]);
    const s = drain(me).tx[0] as Transmit;
    if (s.kind !== 'stream') throw new Error('expected a stream');
    me.handleStreamReply(millis(2), s.streamId, { type: 'error', error: 'nope' } satisfies StreamMessage);
    const ev = drain(me).ev;
    expect(ev).toContainEqual(expect.objectContaining({ type: 'protocol-error', reason: 'remote-error' }));
    expect(ev).toContainEqual({ type: 'join-completed', contacted: 0, failed: 1 });
  });

  it('replies for unknown stream ids are ignored', () => {
    const me = solo();
    expect(() => me.handleStreamReply(millis(1), 12345, null)).not.toThrow();
    expect(me.stats.protocolErrors).toBe(0);
  });
});

// ====================================================================== buddy system

describe('GossipNode: Lifeguard buddy system (reference §6.1 step 2)', () => {
  it('probing a suspect member sends ping + suspect{inc, node, from: me} in one compound packet', () => {
    const net = new Net();
    const me = net.add('me', addrOf(1), 3);
    const pSink = net.sink(addrOf(2));
    net.input(me.addr, (n, now) => n.restoreMembers(millis(now), [alive('p', addrOf(2), 3)]));
    net.input(me.addr, (n, now) => n.handlePacket(millis(now), addrOf(3), { type: 'suspect', incarnation: incarnation(3), node: nm('p'), from: nm('x') }));
    expect(me.statusOf('p')).toBe('suspect');
    net.runUntilTrue(net.now + 3000, () => pSink.some((s) => parts(s.message).some((m) => m.type === 'ping')), 10);
    const probe = pSink.find((s) => parts(s.message).some((m) => m.type === 'ping'));
    expect(probe).toBeDefined();
    if (probe === undefined) return;
    expect(probe.message.type).toBe('compound');
    const ps = parts(probe.message);
    expect(ps[0]).toMatchObject({ type: 'ping', node: 'p', sourceAddr: me.addr, sourceNode: 'me' });
    expect(ps[1]).toEqual({ type: 'suspect', incarnation: 3, node: 'p', from: 'me' });
  });

  it('probing an alive member sends a plain ping (no suspect attached)', () => {
    const net = new Net();
    const me = net.add('me', addrOf(1), 3);
    const pSink = net.sink(addrOf(2));
    net.input(me.addr, (n, now) => n.restoreMembers(millis(now), [alive('p', addrOf(2), 3)]));
    net.runUntilTrue(net.now + 3000, () => pSink.some((s) => parts(s.message).some((m) => m.type === 'ping')), 10);
    const probe = pSink.find((s) => parts(s.message).some((m) => m.type === 'ping'));
    expect(probe).toBeDefined();
    expect(parts(probe?.message ?? { type: 'nack', seqNo: 0 }).some((m) => m.type === 'suspect')).toBe(false);
  });

  it('the suspect node learns of the suspicion from the probe itself and refutes', () => {
    const net = new Net();
    const a = net.add('a', addrOf(1), 1);
    const b = net.add('b', addrOf(2), 2);
    net.input(b.addr, (n, now) => n.join(millis(now), [a.addr]));
    net.runFor(5_000); // let the join gossip drain
    // drop all gossip so the buddy-system compound is the only way b can hear of it
    net.dropPacket = (_f, _t, m) => !parts(m).some((x) => x.type === 'ping' || x.type === 'ack');
    net.input(a.addr, (n, now) => n.handlePacket(millis(now), addrOf(9), { type: 'suspect', incarnation: b.incarnation, node: nm('b'), from: nm('x') }));
    const inc0 = b.incarnation as number;
    net.runFor(3_000);
    expect(b.incarnation).toBe(inc0 + 1);
    expect(net.log(b.addr).some((l) => l.ev.type === 'self-refuted')).toBe(true);
  });
});
