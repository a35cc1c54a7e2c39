import { describe, expect, it } from 'vitest';
import type { Address } from '../../../../src/core/ids.js';
import { millis } from '../../../../src/core/ids.js';
import type { Message } from '../../../../src/core/messages.js';
import { MemberState, pushPull } from '../../../../src/core/messages.js';
import type { Transmit } from '../../../../src/core/membership/node.js';

import { LAN, parts, addrOf, Net, solo, drain, alive, A, B, C, node, rec } from './harness.js';

/** Join and push-pull (reference §4.1, §6.6): joining through a seed, merging a peer's state, the joiner's own announcement. */

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
    expect(done).toEqual([{ type: 'join-completed', joinId: 1, contacted: 1, failed: 0 }]);
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
    expect(done.map((l) => l.ev)).toEqual([{ type: 'join-completed', joinId: 1, contacted: 0, failed: 1 }]);
  });

  it('overlapping joins complete each on its own: a join to nowhere issued while another is under way reports its own failure', () => {
    const net = new Net();
    const a = net.add('a', addrOf(1), 1);
    const b = net.add('b', addrOf(2), 2);
    net.isolated.add(addrOf(9));
    const t0 = net.now;
    let first = 0;
    let second = 0;
    net.input(b.addr, (n, now) => {
      first = n.join(millis(now), [addrOf(9)]);
    });
    net.input(b.addr, (n, now) => {
      second = n.join(millis(now), [a.addr]);
    });
    expect(second).not.toBe(first);
    // The second answered at once; the first fails at its stream timeout, on its own.
    const done = () => net.log(b.addr).filter((l) => l.ev.type === 'join-completed').map((l) => l.ev);
    expect(done()).toEqual([{ type: 'join-completed', joinId: second, contacted: 1, failed: 0 }]);
    net.runUntil(t0 + LAN.streamTimeoutMs);
    expect(done()).toEqual([
      { type: 'join-completed', joinId: second, contacted: 1, failed: 0 },
      { type: 'join-completed', joinId: first, contacted: 0, failed: 1 },
    ]);
  });

  it('joining with only its own address completes at once with nothing contacted', () => {
    const me = solo();
    me.join(millis(1), [me.addr]);
    const { tx, ev } = drain(me);
    expect(tx).toEqual([]);
    expect(ev).toEqual([{ type: 'join-completed', joinId: 1, contacted: 0, failed: 0 }]);
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

describe('GossipNode: a joiner announces itself', () => {
  it('after the join push-pull, its own alive goes out in gossip (memberlist setAlive), once', () => {
    const a = node('a', A);
    a.join(millis(0), [B]);
    const join = drain(a).tx.find((t) => t.kind === 'stream') as Extract<Transmit, { kind: 'stream' }>;
    expect(join).toBeDefined();
    // The seed answers with itself and a third member.
    a.handleStreamReply(millis(5), join.streamId, pushPull(true, [
      { record: rec('b', B), incarnation: 1, state: MemberState.Alive },
      { record: rec('c', C), incarnation: 1, state: MemberState.Alive },
    ]));
    drain(a);
    const gossiped: Message[] = [];
    for (let t = 1; t <= 50; t++) {
      a.handleTimeout(millis(5 + t * 200));
      for (const x of drain(a).tx) if (x.kind === 'packet') gossiped.push(...parts(x.message));
    }
    const mine = gossiped.filter((m) => m.type === 'alive' && m.node === 'a');
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((m) => m.type === 'alive' && m.incarnation === 1)).toBe(true);
    expect(a.broadcastQueueLength).toBe(0); // sent its retransmit limit of times
    a.join(millis(20_000), [C]); // a second join does not queue it again
    expect(a.broadcastQueueLength).toBe(0);
  });
});

describe('GossipNode: periodic push-pull, as memberlist schedules it', () => {
  /** Per node, the times (from the node's start) at which it opened a periodic push-pull stream. */
  function pushPullTimes(n: number, seedBase: number, untilMs: number): number[][] {
    const net = new Net();
    const addrs = Array.from({ length: n }, (_, i) => addrOf(i + 1));
    addrs.forEach((a, i) => net.add(`n${i}`, a, seedBase + i));
    for (const a of addrs.slice(1)) net.input(a, (x, now) => x.join(millis(now), [addrs[0] as Address]));
    net.runUntil(untilMs);
    return addrs.map((a) => net.streams.filter((s) => s.from === a && s.message.type === 'push-pull' && !s.message.join).map((s) => s.t));
  }

  it('the first one comes after a random stagger plus a full interval, never within the first interval (pushPullTrigger)', () => {
    const interval = LAN.pushPullIntervalMs;
    const all = pushPullTimes(8, 1, 3 * interval);
    for (const times of all) {
      expect(times.length).toBeGreaterThan(0);
      expect(times[0]).toBeGreaterThanOrEqual(interval);
      expect(times[0]).toBeLessThan(2 * interval);
      // then one per interval (≤ 32 members: no scaling)
      for (let i = 1; i < times.length; i++) expect((times[i] as number) - (times[i - 1] as number)).toBeGreaterThanOrEqual(interval);
    }
  });

  it('pushPullScaleAtStart false (the agent): a wait that began while the cluster was small is re-scaled when it ends', () => {
    const interval = LAN.pushPullIntervalMs;
    /** n0 alone until 15 s (its stagger ends before: it waits one unscaled interval), then 39 join through it. */
    const firstOfSeed = (config: typeof LAN): number | undefined => {
      const net = new Net();
      const seed = addrOf(1);
      net.add('n0', seed, 7, config);
      net.runUntil(15_000);
      for (let i = 1; i < 40; i++) {
        const a = addrOf(i + 1);
        net.add(`n${i}`, a, 100 + i, config);
        net.input(a, (x, now) => x.join(millis(now), [seed]));
      }
      net.runUntil(4 * interval);
      return net.streams.filter((st) => st.from === seed && st.message.type === 'push-pull' && !st.message.join).map((st) => st.t)[0];
    };
    const memberlist = firstOfSeed(LAN);
    const rescaled = firstOfSeed({ ...LAN, pushPullScaleAtStart: false });
    // memberlist: stagger (under 15 s with this seed) + one interval, though 40 members were known by then.
    expect(memberlist).toBeGreaterThanOrEqual(interval);
    expect(memberlist).toBeLessThan(interval + 15_000);
    // re-scaled when the wait ends: 40 members call for two intervals from the same start.
    expect(rescaled).toBe((memberlist as number) + interval);
  });

  it('above 32 members the first wait is already scaled: 40 members wait two intervals after the stagger', () => {
    const interval = LAN.pushPullIntervalMs;
    const all = pushPullTimes(40, 50, 4 * interval);
    // the wait is scaled by the members known when the stagger ends: a node whose stagger ended
    // while the others were still spreading by gossip waits one interval, the rest two
    const firsts = all.map((times) => times[0] ?? Infinity);
    for (const f of firsts) expect(f).toBeGreaterThanOrEqual(interval);
    expect(firsts.filter((f) => f >= 2 * interval).length).toBeGreaterThanOrEqual(36);
  });
});
