/**
 * The event floor (the minimum Lamport time an event must carry to be delivered): only an
 * operator's ignore-old join raises it. Any other join (a restart's, a rejoin, an automatic
 * one) replays the seeds' event buffer, so every event, including those in flight while the
 * join ran, is delivered exactly once. Every event and query dropped as old is counted by why.
 */
import { describe, expect, it } from 'vitest';
import type { SerfEvent, SerfNode } from '../../../src/core/serf/index.js';
import { encodeSerfMessage } from '../../../src/wire/serf.js';
import { SerfCluster, bytes, trio } from './cluster.js';

const userEvents = (c: SerfCluster, n: SerfNode): string[] =>
  c.eventsOf(n).filter((e): e is Extract<SerfEvent, { type: 'user-event' }> => e.type === 'user-event').map((e) => e.name);

describe('SerfNode event floor: joins never drop events in flight', () => {
  it('a node re-joining every 100 ms while 60 events stream gets every event exactly once', () => {
    const { c, a, b, d } = trio();
    const names: string[] = [];
    for (let i = 0; i < 60; i++) {
      const from = i % 2 === 0 ? a : b;
      const name = `e${i}`;
      names.push(name);
      from.userEvent(c.at(), name, bytes(String(i)), false);
      c.flush(from);
      d.join(c.at(), [i % 2 === 0 ? b.addr : a.addr]);
      c.runFor(100);
    }
    c.runFor(10_000);
    for (const n of [a, b, d]) {
      const got = userEvents(c, n);
      expect(got.slice().sort()).toEqual(names.slice().sort());
      expect(new Set(got).size).toBe(got.length);
    }
    expect(d.stats.oldDropped.event['below-floor']).toBe(0);
    expect(d.stats.oldDropped['replayed-event']['below-floor']).toBe(0);
  });

  it('an event still in flight when a node joins reaches it once (from the seed\'s buffer, its gossip copy a duplicate)', () => {
    const { c, a, b } = trio();
    const late = c.add('late');
    c.runFor(5);
    // b's event reaches a, not yet `late`; then `late` joins through a, whose clock is past it.
    b.userEvent(c.at(), 'in-flight', bytes('x'), false);
    c.flush(b);
    c.runFor(250);
    expect(userEvents(c, a)).toContain('in-flight');
    expect(a.clocks.event).toBeGreaterThan(1);
    late.join(c.at(), [a.addr]);
    c.runFor(5000);
    expect(userEvents(c, late)).toEqual(['in-flight']);
    expect(late.stats.oldMessages).toBe(0);
  });

  it('a restarted node (saved clocks) gets the events fired while it was down (from its saved clock on), once, and none from its previous life', () => {
    const c = new SerfCluster();
    const a = c.add('a');
    c.runFor(5);
    for (let i = 0; i < 8; i++) a.userEvent(c.at(), `e${i}`, bytes(String(i)), false);
    // Its previous life delivered the events up to ltime 4 and saved event clock 5.
    const b = c.add('b', { clocks: { member: 3, event: 5, query: 1 } });
    c.runFor(5);
    b.join(c.at(), [a.addr]);
    c.runFor(3000);
    b.join(c.at(), [a.addr]); // a second rejoin: still nothing twice
    c.runFor(35_000); // and a periodic push-pull or two
    // e4 carries ltime 5, the saved clock itself: stamped after the previous life stopped, so delivered.
    expect(userEvents(c, b).sort()).toEqual(['e4', 'e5', 'e6', 'e7']);
    // The previous life's events come back in every push-pull (and in gossip still running) and are counted.
    expect(b.stats.oldDropped['replayed-event']['below-floor']).toBeGreaterThanOrEqual(5);
  });

  it('only an operator\'s ignore-old join raises the floor: older events are counted as replays below it', () => {
    const { c, a } = trio();
    a.userEvent(c.at(), 'before', bytes('x'));
    c.runFor(5000);
    const replay = c.add('replay');
    const skip = c.add('skip');
    c.runFor(5);
    replay.join(c.at(), [a.addr]);
    skip.join(c.at(), [a.addr], { ignoreOldEvents: true });
    c.runFor(3000);
    expect(userEvents(c, replay)).toEqual(['before']);
    expect(userEvents(c, skip)).toEqual([]);
    expect(skip.stats.oldDropped['replayed-event']['below-floor']).toBeGreaterThanOrEqual(1);
    a.userEvent(c.at(), 'after', bytes('y'));
    c.runFor(5000);
    expect(userEvents(c, replay)).toEqual(['before', 'after']);
    expect(userEvents(c, skip)).toEqual(['after']);
  });

  it('counts gossiped events and queries dropped as old by reason', () => {
    const c = new SerfCluster();
    const a = c.add('a');
    const b = c.add('b', { clocks: { member: 1, event: 10, query: 10 } });
    c.runFor(5);
    b.join(c.at(), [a.addr]);
    c.runFor(3000);
    const send = (raw: Uint8Array): void => {
      b.handlePacket(c.at(), a.addr, { type: 'user', payload: raw });
      c.flush(b);
    };
    send(encodeSerfMessage({ type: 'user-event', ltime: 3, name: 'below', payload: null, cc: false }));
    send(encodeSerfMessage({ type: 'user-event', ltime: 2000, name: 'new', payload: null, cc: false }));
    send(encodeSerfMessage({ type: 'user-event', ltime: 1000, name: 'outside', payload: null, cc: false }));
    const q = (ltime: number) => encodeSerfMessage({
      type: 'query', ltime, id: ltime, addr: a.addr, sourceNode: 'a', filters: [], flags: 0, relayFactor: 0, timeoutMs: 1000, name: 'q', payload: null,
    });
    send(q(4));
    send(q(3000));
    send(q(2000));
    expect(b.stats.oldDropped.event).toEqual({ 'below-floor': 1, 'outside-window': 1 });
    expect(b.stats.oldDropped.query).toEqual({ 'below-floor': 1, 'outside-window': 1 });
    expect(b.stats.oldMessages).toBe(4);
    expect(userEvents(c, b)).toEqual(['new']);
  });
});

describe('SerfNode event buffer restored after a restart', () => {
  it('an event stamped below the saved clock that the previous life never got is delivered; what it delivered is not', () => {
    const c = new SerfCluster();
    const a = c.add('a');
    const b0 = c.add('b0');
    c.runFor(5);
    // a's buffer: e1..e6 at ltimes 1..6, and 'late' at ltime 4 (a concurrent event b never heard of).
    for (let i = 1; i <= 6; i++) a.handlePacket(c.at(), b0.addr, { type: 'user', payload: encodeSerfMessage({ type: 'user-event', ltime: i, name: `e${i}`, payload: null, cc: false }) });
    a.handlePacket(c.at(), b0.addr, { type: 'user', payload: encodeSerfMessage({ type: 'user-event', ltime: 4, name: 'late', payload: null, cc: false }) });
    c.flush(a);
    // The previous life delivered e1..e6 and saved clock 7 with its buffer.
    const saved = [1, 2, 3, 4, 5, 6].map((l) => ({ ltime: l, events: [{ name: `e${l}`, payload: null }] }));
    const withBuffer = c.add('b', { clocks: { member: 1, event: 7, query: 1 }, recentEvents: saved });
    const clocksOnly = c.add('b2', { clocks: { member: 1, event: 7, query: 1 } });
    expect(withBuffer.recentEvents().map((s) => s.ltime)).toEqual([1, 2, 3, 4, 5, 6]);
    c.runFor(5);
    withBuffer.join(c.at(), [a.addr]);
    clocksOnly.join(c.at(), [a.addr]);
    c.runFor(3000);
    expect(userEvents(c, withBuffer)).toEqual(['late']);
    expect(userEvents(c, clocksOnly)).toEqual([]); // the clock alone cannot tell 'late' from what was delivered
    expect(withBuffer.clocks.event).toBeGreaterThanOrEqual(7);
  });
});
