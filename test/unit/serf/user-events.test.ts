import { describe, expect, it } from 'vitest';
import { encodeSerfMessage } from '../../../src/wire/serf.js';
import { bytes, deliver, ofType, text, trio } from './cluster.js';

describe('SerfNode: user events', () => {
  it('an event reaches every node exactly once, stamped with the event clock', () => {
    const { c, a, b, d } = trio();
    const t0 = a.clocks.event;
    a.userEvent(c.at(), 'deploy', bytes('v1'), true);
    c.runFor(5000);
    for (const n of [a, b, d]) {
      const evs = ofType(c.eventsOf(n), 'user-event');
      expect(evs).toHaveLength(1);
      expect(evs[0]).toMatchObject({ name: 'deploy', ltime: t0, coalesce: true });
      expect(text(evs[0]?.payload ?? new Uint8Array())).toBe('v1');
    }
    expect(a.clocks.event).toBe(t0 + 1);
  });

  it('an event delivered twice fires once, and only the first is re-gossiped', () => {
    const { c, a, b } = trio();
    const raw = encodeSerfMessage({ type: 'user-event', ltime: 9, name: 'dup', payload: bytes('p'), cc: false });
    deliver(c, b, a, raw);
    deliver(c, b, a, raw);
    expect(ofType(c.eventsOf(b), 'user-event').filter((e) => e.name === 'dup')).toHaveLength(1);
    expect(b.stats.duplicateMessages).toBe(1);
    // Same time, different payload: a different event.
    deliver(c, b, a, encodeSerfMessage({ type: 'user-event', ltime: 9, name: 'dup', payload: bytes('q'), cc: false }));
    expect(ofType(c.eventsOf(b), 'user-event').filter((e) => e.name === 'dup')).toHaveLength(2);
  });

  it('events older than the 512-slot window are dropped', () => {
    const { c, a, b } = trio();
    deliver(c, b, a, encodeSerfMessage({ type: 'user-event', ltime: 2000, name: 'new', payload: null, cc: false }));
    deliver(c, b, a, encodeSerfMessage({ type: 'user-event', ltime: 2001 - 512 - 2, name: 'old', payload: null, cc: false }));
    expect(ofType(c.eventsOf(b), 'user-event').map((e) => e.name)).toEqual(['new']);
    expect(b.stats.oldMessages).toBe(1);
  });

  it('an ignore-old joiner ignores the events the cluster had before (push-pull sets the minimum event time)', () => {
    const { c, a } = trio();
    a.userEvent(c.at(), 'before', bytes('x'));
    c.runFor(5000);
    const late = c.add('late');
    c.runFor(5);
    late.join(c.at(), [a.addr], { ignoreOldEvents: true });
    c.runFor(3000);
    expect(ofType(c.eventsOf(late), 'user-event')).toHaveLength(0);
    a.userEvent(c.at(), 'after', bytes('y'));
    c.runFor(5000);
    expect(ofType(c.eventsOf(late), 'user-event').map((e) => e.name)).toEqual(['after']);
  });

  it('refuses an event over the size limit', () => {
    const { c, a } = trio();
    expect(() => a.userEvent(c.at(), 'big', new Uint8Array(600))).toThrow(/limit of 512/);
  });
});
