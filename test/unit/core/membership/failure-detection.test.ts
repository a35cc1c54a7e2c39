import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../../src/core/config.js';
import type { Address } from '../../../../src/core/ids.js';
import { incarnation, millis } from '../../../../src/core/ids.js';
import { remainingSuspicionMs, suspicionTimeoutMs } from '../../../../src/core/membership/suspicion.js';
import type { AliveMsg, Message } from '../../../../src/core/messages.js';
import { GossipNode } from '../../../../src/core/membership/node.js';
import { LAN, parts, addrOf, Net, solo, drain, packets, alive, nm, cluster, failureTimeline } from './harness.js';
import type { Logged, SinkPacket } from './harness.js';

/** Failure detection on a small cluster (reference §6.1, §6.3): who suspects and declares whom, when; the Lifeguard suspicion timer; what gets probed and gossiped. */

// ====================================================================== failure detection

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

  it('confirmations that shrink the timer below the time already elapsed: dead at once, not deferred as if this node had stalled', () => {
    const me = tenNodes();
    me.handlePacket(millis(0), addrOf(50), suspect('x'));
    // 9 s later (past min = 4 s) the second and third accusers arrive; the driver then runs the due timer
    me.handlePacket(millis(9000), addrOf(50), suspect('c0'));
    me.handlePacket(millis(9000), addrOf(50), suspect('c1'));
    // (the node's own probe timers are overdue here, so only the suspicion's verdict is looked at)
    me.handleTimeout(millis(9000));
    expect(me.statusOf('p2')).toBe('dead');
    expect(drain(me).ev.filter((e) => e.type === 'member-failed')).toHaveLength(1);
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
