import { describe, expect, it } from 'vitest';
import type { NodeEvent } from '../../../../src/core/events.js';
import type { Address } from '../../../../src/core/ids.js';
import { incarnation, millis, nodeName } from '../../../../src/core/ids.js';
import type { AliveMsg, Message } from '../../../../src/core/messages.js';
import { DEFAULT_VSN } from '../../../../src/core/messages.js';
import type { Transmit } from '../../../../src/core/membership/node.js';
import { GossipNode } from '../../../../src/core/membership/node.js';
import { LAN, parts, addrOf, Net, solo, drain, packets, alive, nm, A, B, C, node, rec, firstPart } from './harness.js';
import type { Packet, SinkPacket } from './harness.js';

/** Probing (reference §6.1, §6.2): answering pings, relaying indirect pings, one probe step by step, round trips, the Lifeguard buddy system. */

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

// ====================================================================== the observer's own lateness

describe('GossipNode: Lifeguard, a verdict this node handles late (its own loop stalled) is deferred once', () => {
  /** A node with one peer p at addrOf(2), and its first probe of p (not answered yet). */
  function probing(config = LAN): { me: GossipNode; probe: { t: number; seqNo: number } } {
    const me = solo('me', addrOf(1), config);
    me.restoreMembers(millis(0), [alive('p', addrOf(2))]);
    drain(me);
    for (let i = 0; i < 100; i++) {
      const t = me.pollTimeout() as number;
      me.handleTimeout(millis(t));
      for (const x of packets(drain(me).tx)) {
        const ping = parts(x.message).find((m) => m.type === 'ping');
        if (ping?.type === 'ping') return { me, probe: { t, seqNo: ping.seqNo } };
      }
    }
    throw new Error('no probe');
  }
  /** Far past the probe's failure deadline: the node was not running for 2 s. */
  const STALL_MS = 2000;

  it('the failure timer handled 2 s late suspects nobody yet; the ack that waited unread then counts', () => {
    const { me, probe } = probing();
    const late = probe.t + LAN.probeIntervalMs + STALL_MS;
    me.handleTimeout(millis(late)); // the stall ends: both the indirect step and the verdict are due
    const { ev } = drain(me);
    expect(ev.filter((e) => e.type === 'member-suspected')).toEqual([]);
    expect(me.statusOf('p')).toBe('alive');
    expect(me.stats.probesFailed).toBe(0);
    expect(me.stats.verdictsDeferred).toBe(1);
    expect(me.healthScore, 'the stall counts into local health').toBe(1);
    // The ack p sent in time, read only now (after the timers, as an event loop does).
    me.handlePacket(millis(late + 1), addrOf(2), { type: 'ack', seqNo: probe.seqNo, payload: null });
    for (let i = 0; i < 20; i++) {
      const t = me.pollTimeout() as number;
      if (t > late + 2 * LAN.probeTimeoutMs) break; // past the deferred verdict, before the next probe could fail
      me.handleTimeout(millis(t));
      drain(me);
    }
    expect(me.statusOf('p')).toBe('alive');
    expect(me.stats.suspicionsRaised).toBe(0);
  });

  it('deferred once only: with no answer after the wait, the probe fails and p is suspected, on time', () => {
    const { me, probe } = probing();
    const late = probe.t + LAN.probeIntervalMs + STALL_MS;
    me.handleTimeout(millis(late));
    drain(me);
    me.handleTimeout(millis(late + LAN.probeTimeoutMs - 1)); // the wait is one probe timeout
    drain(me);
    expect(me.statusOf('p')).toBe('alive');
    const verdict = late + LAN.probeTimeoutMs;
    me.handleTimeout(millis(verdict + 5 * LAN.probeTimeoutMs)); // late again: not deferred twice
    drain(me);
    expect(me.stats.probesFailed).toBe(1);
    expect(me.stats.verdictsDeferred).toBe(1);
    expect(me.statusOf('p')).toBe('suspect');
  });

  it('a timer handled within the tolerance (a fifth of the probe timeout) is judged at once', () => {
    const { me, probe } = probing();
    me.handleTimeout(millis(probe.t + LAN.probeTimeoutMs));
    drain(me);
    me.handleTimeout(millis(probe.t + LAN.probeIntervalMs + LAN.probeTimeoutMs / 5));
    drain(me);
    expect(me.stats.verdictsDeferred).toBe(0);
    expect(me.statusOf('p')).toBe('suspect');
  });

  it('without Lifeguard nothing is deferred (plain SWIM judges when it wakes)', () => {
    const { me, probe } = probing({ ...LAN, lifeguard: false });
    me.handleTimeout(millis(probe.t + LAN.probeIntervalMs + STALL_MS));
    drain(me);
    expect(me.stats.verdictsDeferred).toBe(0);
    expect(me.statusOf('p')).toBe('suspect');
  });

  it('a suspicion expiry handled late waits for the refutation that waited unread; without one, p is declared dead after the wait', () => {
    for (const refutes of [true, false]) {
      const me = solo('me', addrOf(1));
      me.restoreMembers(millis(0), [alive('p', addrOf(2)), alive('q', addrOf(3))]);
      drain(me);
      me.handlePacket(millis(10), addrOf(3), { type: 'suspect', incarnation: incarnation(1), node: nm('p'), from: nm('q') });
      drain(me);
      expect(me.statusOf('p')).toBe('suspect');
      // The node stalls past the suspicion's deadline (at most max × min, a minute is far beyond it).
      const late = 60_000;
      me.handleTimeout(millis(late));
      drain(me);
      expect(me.statusOf('p'), 'not declared dead by a late timer').toBe('suspect');
      if (refutes) me.handlePacket(millis(late + 1), addrOf(2), alive('p', addrOf(2), 2));
      for (let i = 0; i < 50; i++) {
        const t = me.pollTimeout() as number;
        if (t > late + LAN.probeTimeoutMs) break;
        me.handleTimeout(millis(t));
        drain(me);
      }
      expect(me.statusOf('p')).toBe(refutes ? 'alive' : 'dead');
    }
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

describe('GossipNode: direct answers', () => {
  it('acks a ping at the SourceAddr, with the same SeqNo', () => {
    const a = node();
    a.handlePacket(millis(10), C, { type: 'ping', seqNo: 77, node: nodeName('a'), sourceAddr: B, sourceNode: nodeName('b') });
    const { tx } = drain(a);
    expect(tx).toHaveLength(1);
    const t = tx[0] as Extract<Transmit, { kind: 'packet' }>;
    expect(t.to).toBe(B);
    expect(firstPart(t.message)).toEqual({ type: 'ack', seqNo: 77, payload: null });
  });

  it('ignores, counts and reports a ping meant for another node', () => {
    const a = node();
    a.handlePacket(millis(10), B, { type: 'ping', seqNo: 1, node: nodeName('zed'), sourceAddr: null, sourceNode: null });
    const { tx, ev } = drain(a);
    expect(tx).toHaveLength(0);
    expect(a.stats.protocolErrors).toBe(1);
    expect(ev.map((e) => e.type)).toEqual(['protocol-error']);
  });

  it('relays an indirect ping: new SeqNo to the target, ack with the ORIGINAL SeqNo to the requester', () => {
    const a = node();
    a.handlePacket(millis(10), B, { type: 'indirect-ping', seqNo: 500, target: C, node: nodeName('c'), nack: true, sourceAddr: B, sourceNode: nodeName('b') });
    const out = drain(a).tx[0] as Extract<Transmit, { kind: 'packet' }>;
    expect(out.to).toBe(C);
    const ping = firstPart(out.message);
    expect(ping.type).toBe('ping');
    if (ping.type !== 'ping') return;
    expect(ping.seqNo).not.toBe(500);
    a.handlePacket(millis(20), C, { type: 'ack', seqNo: ping.seqNo, payload: null });
    const back = drain(a).tx[0] as Extract<Transmit, { kind: 'packet' }>;
    expect(back.to).toBe(B);
    expect(firstPart(back.message)).toEqual({ type: 'ack', seqNo: 500, payload: null });
  });

  it('nacks an indirect ping whose target stays silent for probeTimeoutMs, when asked to', () => {
    const a = node();
    a.handlePacket(millis(10), B, { type: 'indirect-ping', seqNo: 9, target: C, node: nodeName('c'), nack: true, sourceAddr: null, sourceNode: null });
    drain(a);
    a.handleTimeout(millis(10 + LAN.probeTimeoutMs - 1));
    expect(drain(a).tx.filter((t) => t.kind === 'packet' && parts(t.message).some((p) => p.type === 'nack'))).toHaveLength(0);
    a.handleTimeout(millis(10 + LAN.probeTimeoutMs));
    const nacks = drain(a).tx.filter((t) => t.kind === 'packet' && parts(t.message).some((p) => p.type === 'nack'));
    expect(nacks).toHaveLength(1);
    expect((nacks[0] as Extract<Transmit, { kind: 'packet' }>).to).toBe(B);
  });
});

describe('GossipNode: a refutation during a probe', () => {
  it('makes the failed probe’s suspicion stale (memberlist suspects at the incarnation the probe started with)', () => {
    const a = node();
    a.restoreMembers(millis(0), [rec('b', B)]);
    drain(a);
    let probing = false;
    for (let t = 0; t < 3000 && !probing; t += 10) {
      a.handleTimeout(millis(t));
      probing = drain(a).tx.some((x) => x.kind === 'packet' && x.to === B && parts(x.message).some((p) => p.type === 'ping'));
      if (probing) {
        // b refutes an old accusation while the probe is out; then the probe fails.
        a.handlePacket(millis(t + 1), B, rec('b', B, 2));
        for (let u = t + 10; u <= t + LAN.probeIntervalMs; u += 10) {
          a.handleTimeout(millis(u));
          for (const x of drain(a).tx) if (x.kind === 'stream') a.handleStreamReply(millis(u), x.streamId, null);
        }
      }
    }
    expect(probing).toBe(true);
    expect(a.member('b')?.incarnation).toBe(2);
    expect(a.member('b')?.status).toBe('alive');
  });
});

describe('GossipNode: probe round trips', () => {
  it('records the round trip of an answered probe per member and in the stats', () => {
    const a = node('a', A);
    a.restoreMembers(millis(0), [rec('b', B)]);
    drain(a);
    let ping: Extract<Message, { type: 'ping' }> | undefined;
    let sentAt = 0;
    for (let t = 0; t <= 2000 && ping === undefined; t += 10) {
      a.handleTimeout(millis(t));
      for (const x of drain(a).tx) {
        if (x.kind !== 'packet') continue;
        const p = parts(x.message).find((m) => m.type === 'ping');
        if (p?.type === 'ping') {
          ping = p;
          sentAt = t;
        }
      }
    }
    expect(ping).toBeDefined();
    expect(a.probeRttMs('b')).toBeUndefined();
    a.handlePacket(millis(sentAt + 7), B, { type: 'ack', seqNo: ping?.seqNo ?? -1, payload: null });
    expect(a.probeRttMs('b')).toBe(7);
    expect(a.stats.probeRtts).toBe(1);
    expect(a.stats.probeRttSumMs).toBe(7);
    // A late duplicate ack changes nothing.
    a.handlePacket(millis(sentAt + 50), B, { type: 'ack', seqNo: ping?.seqNo ?? -1, payload: null });
    expect(a.stats.probeRtts).toBe(1);
    expect(a.probeRttMs('nobody')).toBeUndefined();
  });
});
