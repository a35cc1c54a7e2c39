import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../../src/core/config.js';
import type { Address } from '../../../../src/core/ids.js';
import { incarnation, millis } from '../../../../src/core/ids.js';
import type { Message } from '../../../../src/core/messages.js';
import { addrOf, alive, cluster, drain, Net, nm, packets, parts, solo } from './harness.js';
import type { SinkPacket } from './harness.js';

/**
 * A live member accused on old news (state-rules' `correct`), and a declared death told to the
 * accused at once. Seen with real agents: two nodes paused and resumed together declared each
 * other dead, each just before the other's refutation reached it, and stayed split.
 */

const AGENT = defaultConfig('lan', { gossipIdleTicks: false }); // the agent's setting

describe('GossipNode: an accusation of an older life of ours', () => {
  it('is answered with our current alive, alone, straight to its sender; nothing is re-gossiped', () => {
    const me = solo('me', addrOf(1));
    me.restoreMembers(millis(0), [alive('p', addrOf(2))]);
    me.handlePacket(millis(1), addrOf(2), { type: 'suspect', incarnation: me.incarnation, node: nm('me'), from: nm('p') });
    const now = me.incarnation as number; // refuted: one above the accusation
    const queued = me.broadcastQueueLength; // the refutation
    drain(me);
    for (const m of [
      { type: 'suspect', incarnation: incarnation(now - 1), node: nm('me'), from: nm('p') },
      { type: 'dead', incarnation: incarnation(now - 1), node: nm('me'), from: nm('q') },
    ] as const) {
      me.handlePacket(millis(2), addrOf(3), m);
      const out = packets(drain(me).tx);
      expect(out.map((p) => p.to)).toEqual([addrOf(3)]);
      // Alone: nothing piggybacked (the refutation is still queued), so a forged source gains little.
      expect((out[0] as { message: Message }).message).toMatchObject({ type: 'alive', node: 'me', incarnation: now });
    }
    expect(me.incarnation).toBe(now);
    expect(me.stats.staleAccusationsCorrected).toBe(2);
    expect(me.broadcastQueueLength).toBe(queued);
  });

  it('is not answered while we leave', () => {
    const me = solo('me', addrOf(1));
    me.restoreMembers(millis(0), [alive('p', addrOf(2))]);
    me.handlePacket(millis(1), addrOf(2), { type: 'suspect', incarnation: me.incarnation, node: nm('me'), from: nm('p') });
    me.leave(millis(2));
    drain(me);
    me.handlePacket(millis(3), addrOf(2), { type: 'dead', incarnation: incarnation(1), node: nm('me'), from: nm('p') });
    expect(packets(drain(me).tx).filter((p) => parts(p.message).some((m) => m.type === 'alive'))).toEqual([]);
    expect(me.stats.staleAccusationsCorrected).toBe(0);
  });

  it('heals a peer that declared us dead just before our refutation reached it (2 nodes, the agent setting)', () => {
    const { net, addrs } = cluster(2, 30, AGENT);
    const [a0, a1] = addrs as [Address, Address];
    // n1 is cut off; an accusation reaches it all the same, and it refutes into the void. n0,
    // which never hears the refutation, declares n1 dead on the incarnation it holds.
    net.isolated.add(a1);
    net.input(a1, (n, now) => n.handlePacket(millis(now), addrOf(9), { type: 'suspect', incarnation: n.incarnation, node: nm('n1'), from: nm('x') }));
    expect(net.runUntilTrue(net.now + 30_000, () => net.node(a0).statusOf('n1') === 'dead', 1)).toBe(true);
    const failed = net.about(a0, 'n1', 'member-failed').at(-1)?.ev;
    expect(failed?.type === 'member-failed' && failed.member.incarnation < net.node(a1).incarnation).toBe(true);
    // The cut ends as n0 declares. Its gossip of the death is news of an older life at n1.
    net.isolated.delete(a1);
    expect(net.runUntilTrue(net.now + 2_000, () => net.node(a0).statusOf('n1') === 'alive', 10)).toBe(true);
    expect(net.node(a1).stats.staleAccusationsCorrected).toBeGreaterThan(0);
  });
});

describe('GossipNode: a death we declare', () => {
  it('is sent to the accused at once, beside the gossip', () => {
    const net = new Net();
    const me = net.add('me', addrOf(1), 5, AGENT);
    const sinks = new Map<Address, SinkPacket[]>();
    for (let i = 2; i <= 10; i++) sinks.set(addrOf(i), net.sink(addrOf(i)));
    net.input(me.addr, (n, now) => n.restoreMembers(millis(now), [2, 3, 4, 5, 6, 7, 8, 9, 10].map((i) => alive(`p${i}`, addrOf(i)))));
    net.input(me.addr, (n, now) => n.handlePacket(millis(now), addrOf(9), { type: 'suspect', incarnation: incarnation(1), node: nm('p2'), from: nm('p9') }));
    expect(net.runUntilTrue(net.now + 60_000, () => me.statusOf('p2') === 'dead', 1)).toBe(true);
    const declaredAt = net.now;
    const told = (sinks.get(addrOf(2)) ?? []).filter((p) => parts(p.message).some((m) => m.type === 'dead' && m.node === 'p2'));
    expect(told.map((p) => p.t)).toContain(declaredAt);
  });
});
