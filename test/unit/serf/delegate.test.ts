import { describe, expect, it } from 'vitest';
import { deliver, ofType, trio } from './cluster.js';

describe('SerfNode delegate: user messages by type byte', () => {
  it('unknown message types and garbage are counted and reported, never thrown', () => {
    const { c, a, b } = trio();
    deliver(c, b, a, new Uint8Array([42, 1, 2]));
    deliver(c, b, a, new Uint8Array([3, 0xc1]));
    deliver(c, b, a, new Uint8Array([4]));
    expect(b.stats.unknownMessages).toBe(1);
    expect(b.stats.malformedMessages).toBe(2);
    expect(ofType(c.eventsOf(b), 'protocol-error').map((e) => e.reason)).toEqual(['unknown-message', 'malformed', 'malformed']);
    c.runFor(2000);
    expect(b.members().every((m) => m.status === 'alive')).toBe(true);
  });
});
