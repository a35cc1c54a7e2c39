import { describe, expect, it } from 'vitest';
import type { Address, Millis } from '../../../src/core/ids.js';
import { nodeName } from '../../../src/core/ids.js';
import type { Entry } from '../../../src/core/replica/entry.js';
import { Replica } from '../../../src/core/replica/replica.js';
import type { StateMessage } from '../../../src/core/state/messages.js';
import type { StateEvent } from '../../../src/core/state/outbox.js';
import { Cluster, value } from './harness.js';

describe('StateNode', () => {
  it('a restarted node keeps its durable replica, rebuilds its tree and catches up', () => {
    const c = new Cluster(['a', 'b'], { antiEntropyIntervalMs: 300 });
    c.run(5);
    c.on('a', (s, now) => s.increment(now, 'c/n', 3));
    c.run(1000);
    const root = c.node('b').root();
    const replica = c.crash('b');
    c.on('a', (s, now) => s.increment(now, 'c/n', 4));
    c.run(2000);
    const b = c.boot('b', replica, 1);
    expect(b.root()).toBe(root);
    expect(value(c, 'b', 'c/n')).toBe(3);
    c.run(5000);
    expect(value(c, 'b', 'c/n')).toBe(7);
    expect(c.converged()).toBe(true);
  });

  it('a malformed message is counted and reported, never thrown, and changes nothing', () => {
    const c = new Cluster(['a', 'b']);
    c.run(5);
    c.on('a', (s, now) => s.put(now, 'k', 1));
    const s = c.node('a');
    const root = s.root();
    const bad: unknown[] = [
      { type: 'nonsense' },
      { type: 'state-digests', roots: [{ member: 7 }], summaries: [] },
      { type: 'state-digests', roots: null, summaries: null },
      { type: 'state-reconcile', session: 'x', fromInitiator: true, rc: null, digest: null },
      { type: 'state-rumor', gossip: { type: 'gossip', id: 1, updates: [{ origin: '', version: 0 }], digest: null, feedback: true, hops: null } },
      { type: 'state-rumor', gossip: null },
      { type: 'state-digests', roots: [], summaries: [], stability: { gen: 1e6, genMs: 15_000, min: new Map(), members: ['b'], latestMs: 10 } }, // clocks far apart
      { type: 'state-digests', roots: [], summaries: [], stability: { gen: 0, genMs: 15_000, min: new Map(), members: [7], latestMs: 10 } },
      { type: 'state-digests', roots: [], summaries: [], stability: { gen: 0, genMs: 15_000, min: {}, members: ['b'], latestMs: 10 } },
      { type: 'state-acks', member: 'b', acks: [{ counter: 0, atMs: 1 }] },
      { type: 'state-acks', member: 7, acks: [] },
      { type: 'state-acks', member: 'b', acks: [null] },
    ];
    for (const m of bad) expect(() => s.handleMessage(10 as Millis, 'b' as Address, m as StateMessage)).not.toThrow();
    expect(s.stats.malformed).toBe(bad.length);
    const errors: string[] = [];
    for (let e = s.pollEvent(); e !== undefined; e = s.pollEvent()) if (e.type === 'protocol-error') errors.push(e.detail);
    expect(errors.length).toBe(bad.length);
    expect(s.root()).toBe(root);
  });

  it('a bug of ours is not blamed on the peer: it surfaces, and nothing is counted as malformed', () => {
    // The durability hook is our code (the agent's store): its failure on a merged entry must
    // reach the caller, not become "a malformed message from a" that hides it.
    const c = new Cluster(['a', 'b']);
    const bug = (): never => {
      throw new TypeError('invariant broken');
    };
    const b = c.boot('b', undefined, 0, { onEntryChange: bug });
    b.setMembers(0, ['a', 'b'].map(nodeName));
    const w = new Replica({ node: nodeName('a') });
    w.put(0, 'k', 1);
    const entry = w.entry('k') as Entry;
    const rumor: StateMessage = {
      type: 'state-rumor',
      gossip: { type: 'gossip', id: 1, updates: [{ origin: 'a~0.0', version: 1, key: 'k', payload: entry, critical: false, bornMs: 0 }], digest: null, feedback: false, hops: null },
    };
    expect(() => b.handleMessage(1 as Millis, 'a' as Address, rumor)).toThrow(/invariant broken/);
    expect(b.stats.malformed).toBe(0);
    const errors: StateEvent[] = [];
    for (let e = b.pollEvent(); e !== undefined; e = b.pollEvent()) if (e.type === 'protocol-error') errors.push(e);
    expect(errors).toEqual([]);
  });

  it('a message of an unknown kind is a peer error: counted and reported with its kind', () => {
    const c = new Cluster(['a', 'b']);
    const s = c.node('a');
    s.handleMessage(1 as Millis, 'b' as Address, { type: 'state-gossip' } as unknown as StateMessage);
    expect(s.stats.malformed).toBe(1);
    const errors: string[] = [];
    for (let e = s.pollEvent(); e !== undefined; e = s.pollEvent()) if (e.type === 'protocol-error') errors.push(`${e.from}: ${e.detail}`);
    expect(errors).toEqual(['b: unknown state message type state-gossip']);
  });
});
