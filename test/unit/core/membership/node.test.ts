import { describe, expect, it } from 'vitest';
import type { Address } from '../../../../src/core/ids.js';
import { millis } from '../../../../src/core/ids.js';
import type { AliveMsg, Message, StreamMessage } from '../../../../src/core/messages.js';
import { MemberState, pushPull } from '../../../../src/core/messages.js';
import type { Transmit } from '../../../../src/core/membership/node.js';
import { GossipNode } from '../../../../src/core/membership/node.js';
import { seededRng } from '../../../../src/core/rng.js';
import { LAN, parts, addrOf, solo, drain, packets, alive, nm, cluster, B, node, rec } from './harness.js';
import type { Logged } from './harness.js';

/** The GossipNode surface: graceful leave, and bad input (never thrown, counted, reported) against our own bugs (surfaced). */

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
    expect(ev).toContainEqual({ type: 'join-completed', joinId: 1, contacted: 0, failed: 1 });
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
    expect(ev).toContainEqual({ type: 'join-completed', joinId: 1, contacted: 0, failed: 1 });
  });

  it('replies for unknown stream ids are ignored', () => {
    const me = solo();
    expect(() => me.handleStreamReply(millis(1), 12345, null)).not.toThrow();
    expect(me.stats.protocolErrors).toBe(0);
  });
});

describe('GossipNode: bad input never throws', () => {
  it('counts a compound inside a compound and a push-pull with an unknown state, and keeps serving', () => {
    const a = node();
    const inner: Message = { type: 'compound', parts: [{ type: 'nack', seqNo: 1 }] };
    expect(() => a.handlePacket(millis(1), B, { type: 'compound', parts: [inner] })).not.toThrow();
    const bad: StreamMessage = pushPull(false, [{ record: rec('b', B), incarnation: 1, state: 7 }]);
    expect(() => a.handleStreamRequest(millis(2), B, 1, bad)).not.toThrow();
    const ragged: StreamMessage = { type: 'push-pull', join: false, records: [rec('b', B)], incarnations: new Uint32Array(0), states: new Uint8Array(1), userState: null };
    expect(() => a.handleStreamRequest(millis(2), B, 2, ragged)).not.toThrow();
    expect(a.stats.protocolErrors).toBe(3);
    expect(a.member('b')).toBeUndefined();
    const reasons = drain(a).ev.filter((e) => e.type === 'protocol-error').map((e) => (e.type === 'protocol-error' ? e.reason : ''));
    expect(reasons).toEqual(['compound-in-compound', 'malformed', 'malformed']);
    a.handlePacket(millis(3), B, { type: 'ping', seqNo: 4, node: '', sourceAddr: null, sourceNode: null });
    expect(drain(a).tx).toHaveLength(1);
  });

  it('throws for caller misuse: using a node after it stopped', () => {
    const a = node();
    a.shutdown();
    expect(() => a.join(millis(1), [B])).toThrow(/stopped/);
  });
});
