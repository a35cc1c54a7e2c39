import { describe, expect, it } from 'vitest';
import { SerfCluster, ofType, trio } from './cluster.js';

describe('SerfNode: reaping', () => {
  it('failed members are reaped after reconnectTimeoutMs, left ones after tombstoneTimeoutMs', () => {
    const c = new SerfCluster();
    const serf = { reconnectTimeoutMs: 60_000, tombstoneTimeoutMs: 120_000, reconnectIntervalMs: 0 };
    const a = c.add('a', { serf });
    const b = c.add('b', { serf });
    const d = c.add('c', { serf });
    c.runFor(5);
    b.join(c.at(), [a.addr]);
    d.join(c.at(), [a.addr]);
    c.runFor(3000);
    d.leave(c.at());
    c.runFor(5000);
    b.shutdown();
    c.runFor(30_000);
    expect(a.members().map((m) => `${m.name}:${m.status}`).sort()).toEqual(['a:alive', 'b:failed', 'c:left']);
    c.runFor(60_000);
    expect(a.members().map((m) => `${m.name}:${m.status}`).sort()).toEqual(['a:alive', 'c:left']);
    c.runFor(60_000);
    expect(a.members().map((m) => m.name)).toEqual(['a']);
    expect(ofType(c.eventsOf(a), 'member-reaped').map((e) => e.member.name)).toEqual(['b', 'c']);
  });
});

describe('SerfNode: reconnect', () => {
  it('after a partition heals, reconnect brings failed members back alive on both sides', () => {
    const { c, a, b, d } = trio();
    const cut = new Set([d.addr]);
    c.drop = (from, to) => cut.has(from) !== cut.has(to);
    c.runFor(40_000);
    expect(a.member('c')?.status).toBe('failed');
    expect(d.member('a')?.status).toBe('failed');
    c.drop = () => false;
    c.runFor(240_000);
    for (const n of [a, b, d]) expect(n.members().map((m) => `${m.name}:${m.status}`).sort()).toEqual(['a:alive', 'b:alive', 'c:alive']);
    // Reconnect joins are internal: the application saw only its own joins complete.
    expect(ofType(c.eventsOf(a), 'join-completed')).toHaveLength(0);
  });
});
