import { describe, expect, it } from 'vitest';
import type { NodeEvent } from '../../../../src/core/events.js';
import type { Address } from '../../../../src/core/ids.js';
import { incarnation, millis, nodeName } from '../../../../src/core/ids.js';
import type { Message } from '../../../../src/core/messages.js';
import { DEFAULT_VSN, MemberState, pushPull } from '../../../../src/core/messages.js';
import { GossipNode } from '../../../../src/core/membership/node.js';
import { seededRng } from '../../../../src/core/rng.js';
import { LAN, parts, addrOf, solo, drain, packets, alive, nm, cluster, A, B, C, node, rec } from './harness.js';
import type { Logged } from './harness.js';

/** alive, suspect and dead as the node applies them (reference §6.4): precedence, refutation. */

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

describe('GossipNode: membership rules', () => {
  it('a remote "dead" in a push-pull only makes us suspect (reference §4.1)', () => {
    const a = node();
    a.restoreMembers(millis(0), [rec('b', B)]);
    a.handleStreamRequest(millis(5), C, 1, pushPull(false, [{ record: rec('b', B), incarnation: 1, state: MemberState.Dead }]));
    expect(a.member('b')?.status).toBe('suspect');
  });

  it('Lifeguard buddy system: probing a suspect sends ping + suspect in one packet', () => {
    const a = node();
    a.restoreMembers(millis(0), [rec('b', B)]);
    a.handlePacket(millis(1), C, { type: 'suspect', incarnation: incarnation(1), node: nodeName('b'), from: nodeName('c') });
    drain(a);
    let probe: Message | undefined;
    for (let t = 0; t < 5000 && probe === undefined; t += 50) {
      a.handleTimeout(millis(t));
      for (const x of drain(a).tx) if (x.kind === 'packet' && x.to === B && parts(x.message).some((p) => p.type === 'ping')) probe = x.message;
    }
    expect(probe?.type).toBe('compound');
    const ps = parts(probe as Message);
    expect(ps[0]?.type).toBe('ping');
    expect(ps[1]).toEqual({ type: 'suspect', incarnation: 1, node: 'b', from: 'a' });
  });

  it('a silent member is suspected after the probe, then declared dead after the suspicion timeout', () => {
    const a = node();
    a.restoreMembers(millis(0), [rec('b', B), rec('c', C)]);
    drain(a);
    const events: NodeEvent[] = [];
    let suspectedAt = -1;
    let deadAt = -1;
    for (let t = 0; t <= 40_000; t += 10) {
      a.handleTimeout(millis(t));
      const { tx, ev } = drain(a);
      events.push(...ev);
      // c answers everything (pings and indirect pings to b fail); b never answers.
      for (const x of tx) {
        if (x.kind === 'packet' && x.to === C) {
          for (const p of parts(x.message)) if (p.type === 'ping') a.handlePacket(millis(t), C, { type: 'ack', seqNo: p.seqNo, payload: null });
        }
        if (x.kind === 'packet' && x.to === C && parts(x.message).some((p) => p.type === 'indirect-ping')) {
          const req = parts(x.message).find((p) => p.type === 'indirect-ping');
          if (req?.type === 'indirect-ping') a.handlePacket(millis(t + 400), C, { type: 'nack', seqNo: req.seqNo });
        }
        if (x.kind === 'stream' && x.to === B) a.handleStreamReply(millis(t), x.streamId, null);
      }
      if (suspectedAt < 0 && a.member('b')?.status === 'suspect') suspectedAt = t;
      if (deadAt < 0 && a.member('b')?.status === 'dead') deadAt = t;
    }
    expect(suspectedAt).toBeGreaterThan(0);
    expect(events.some((e) => e.type === 'member-suspected' && e.member.name === 'b')).toBe(true);
    expect(events.some((e) => e.type === 'member-failed' && e.member.name === 'b')).toBe(true);
    // n = 3 ⇒ k = 0: the fixed minimum of 4 s (reference §6.3)
    expect(deadAt - suspectedAt).toBeGreaterThanOrEqual(4000 - 10);
    expect(deadAt - suspectedAt).toBeLessThanOrEqual(4000 + 10);
  });

  it('graceful leave: peers see "left", the leaver emits "left" and stops', () => {
    const a = node();
    const b = node('b', B);
    a.restoreMembers(millis(0), [rec('b', B)]);
    b.restoreMembers(millis(0), [rec('a', A)]);
    a.leave(millis(100));
    let leftSeen = false;
    for (let t = 100; t < 2000 && !a.isStopped; t += 10) {
      a.handleTimeout(millis(t));
      const { tx, ev } = drain(a);
      if (ev.some((e) => e.type === 'left')) leftSeen = true;
      for (const x of tx) if (x.kind === 'packet' && x.to === B) b.handlePacket(millis(t), A, x.message);
    }
    expect(leftSeen).toBe(true);
    expect(a.isStopped).toBe(true);
    expect(b.member('a')?.status).toBe('left');
    expect(drain(b).ev.some((e) => e.type === 'member-left' && e.member.name === 'a')).toBe(true);
  });
});
