import { describe, expect, it } from 'vitest';
import { SerfCluster, codec, deliver, ofType, trio, userPayloads } from './cluster.js';

describe('SerfNode: membership with tags and intents', () => {
  it('joins: every node lists every node alive with its tags (our data tag added), join intents stamped', () => {
    const { a, b, d } = trio();
    for (const n of [a, b, d]) {
      const ms = new Map(n.members().map((m) => [m.name, m]));
      expect([...ms.keys()].sort()).toEqual(['a', 'b', 'c']);
      expect(ms.get('a')?.tags).toEqual({ role: 'web', gc: '1' });
      expect(ms.get('b')?.tags).toEqual({ role: 'db', gc: '1' });
      for (const m of ms.values()) {
        expect(m.status).toBe('alive');
        expect(m.delegate).toEqual({ min: 2, max: 5, cur: 5 });
      }
      // b and c sent join intents after their push-pull succeeded; a never joined anyone.
      expect(ms.get('b')?.statusLTime).toBeGreaterThan(0);
      expect(ms.get('c')?.statusLTime).toBeGreaterThan(0);
      expect(ms.get('a')?.statusLTime).toBe(0);
    }
  });

  it('a graceful leave shows as left (leave intent first), a crash as failed', () => {
    const { c, a, b, d } = trio();
    d.leave(c.at());
    c.runFor(10_000);
    expect(ofType(c.eventsOf(d), 'left')).toHaveLength(1);
    for (const n of [a, b]) {
      expect(n.member('c')?.status).toBe('left');
      expect(ofType(c.eventsOf(n), 'member-left').map((e) => e.member.name)).toEqual(['c']);
      expect(ofType(c.eventsOf(n), 'member-failed')).toHaveLength(0);
    }
    b.shutdown();
    c.runFor(30_000);
    expect(a.member('b')?.status).toBe('failed');
    expect(ofType(c.eventsOf(a), 'member-failed').map((e) => e.member.name)).toEqual(['b']);
  });

  it('the leave intent goes out before the memberlist dead-self message', () => {
    const { c, d } = trio();
    const from = c.packets.length;
    d.leave(c.at());
    c.runFor(10_000);
    const sent = c.packets.slice(from).filter((p) => p.from === d.addr);
    const leaveAt = sent.findIndex((p) => userPayloads(p.message).some((u) => u[0] === 0));
    const deadAt = sent.findIndex((p) => (p.message.type === 'compound' ? p.message.parts : [p.message]).some((m) => m.type === 'dead'));
    expect(leaveAt).toBeGreaterThanOrEqual(0);
    expect(deadAt).toBeGreaterThan(leaveAt);
  });

  it('a leave intent about a live node is refuted with a newer join intent', () => {
    const { c, a, b } = trio();
    const before = a.member('b')?.statusLTime ?? 0;
    const lie = codec.encode({ type: 'leave', ltime: before + 5, node: 'b', prune: false });
    deliver(c, b, a, lie);
    c.runFor(3000);
    expect(b.member('b')?.status).toBe('alive');
    expect(a.member('b')?.status).toBe('alive');
    expect(a.member('b')?.statusLTime).toBeGreaterThan(before + 5);
  });

  it('an intent for a node not known yet applies when the node joins', () => {
    const c = new SerfCluster();
    const a = c.add('a');
    const x = c.add('x');
    c.runFor(5);
    deliver(c, a, x, codec.encode({ type: 'join', ltime: 42, node: 'x' }));
    x.join(c.at(), [a.addr]);
    c.runFor(3000);
    expect(a.member('x')?.statusLTime).toBeGreaterThanOrEqual(42);
    expect(a.clocks.member).toBeGreaterThan(42);
  });

  it('Lamport member clock: a received intent is witnessed (clock = ltime + 1)', () => {
    const { c, a, b } = trio();
    deliver(c, a, b, codec.encode({ type: 'join', ltime: 100, node: 'b' }));
    expect(a.clocks.member).toBe(101);
    deliver(c, a, b, codec.encode({ type: 'join', ltime: 50, node: 'b' }));
    expect(a.clocks.member).toBe(101);
  });
});

describe('SerfNode: tags', () => {
  it('setTags announces new tags: every member sees member-updated with them (our data tag kept)', () => {
    const { c, a, b, d } = trio();
    b.setTags(c.at(), { role: 'primary' });
    c.runFor(3000);
    for (const n of [a, d]) {
      expect(n.member('b')?.tags).toEqual({ role: 'primary', gc: '1' });
      expect(ofType(c.eventsOf(n), 'member-updated').map((e) => e.member.name)).toEqual(['b']);
    }
    expect(() => b.setTags(c.at(), { big: 'x'.repeat(600) })).toThrow(/over memberlist's limit of 512/);
  });
});

describe('SerfNode: force-leave (serf force-leave [-prune])', () => {
  /** trio with c crashed, and a and b seeing it failed. */
  function withFailed(): ReturnType<typeof trio> {
    const t = trio();
    t.d.shutdown();
    t.c.runFor(30_000);
    for (const n of [t.a, t.b]) expect(n.member('c')?.status).toBe('failed');
    return t;
  }

  it('moves a failed member to left on every member, as a forced leave (member-left), and it is no longer reconnected', () => {
    const { c, a, b } = withFailed();
    const before = a.member('c')?.statusLTime ?? 0;
    a.forceLeave(c.at(), 'c');
    expect(a.member('c')?.status).toBe('left');
    c.runFor(3000);
    for (const n of [a, b]) {
      expect(n.member('c')?.status).toBe('left');
      expect(n.member('c')?.statusLTime).toBeGreaterThan(before);
      expect(ofType(c.eventsOf(n), 'member-left').map((e) => e.member.name)).toEqual(['c']);
    }
    // Left, not failed: reconnect no longer tries it, and it stays left.
    c.runFor(120_000);
    for (const n of [a, b]) expect(n.member('c')?.status).toBe('left');
  });

  it('with prune, every member forgets it at once (member-reaped), failed or already left', () => {
    const { c, a, b } = withFailed();
    a.forceLeave(c.at(), 'c', { prune: true });
    expect(a.member('c')).toBeUndefined();
    c.runFor(3000);
    for (const n of [a, b]) {
      expect(n.members().map((m) => m.name).sort()).toEqual(['a', 'b']);
      expect(ofType(c.eventsOf(n), 'member-reaped').map((e) => e.member.name)).toEqual(['c']);
    }
    // A member that left gracefully: prune forgets it too.
    const t = trio();
    t.d.leave(t.c.at());
    t.c.runFor(5000);
    expect(t.a.member('c')?.status).toBe('left');
    t.b.forceLeave(t.c.at(), 'c', { prune: true });
    t.c.runFor(3000);
    for (const n of [t.a, t.b]) expect(n.member('c')).toBeUndefined();
  });

  it('refuses an unknown member, an alive one and this node itself, and changes nothing', () => {
    const { c, a, b } = trio();
    const clock = a.clocks.member;
    expect(() => a.forceLeave(c.at(), 'nobody')).toThrow(/no member named 'nobody'/);
    expect(() => a.forceLeave(c.at(), 'b')).toThrow(/'b' is alive; only a failed or left member/);
    expect(() => a.forceLeave(c.at(), 'a', { prune: true })).toThrow(/'a' is this node/);
    expect(a.clocks.member).toBe(clock);
    expect(a.queueDepth).toBe(0);
    c.runFor(3000);
    for (const n of [a, b]) expect(n.members().map((m) => `${m.name}:${m.status}`).sort()).toEqual(['a:alive', 'b:alive', 'c:alive']);
  });
});
