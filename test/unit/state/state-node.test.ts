import { describe, expect, it } from 'vitest';
import type { Address, Millis } from '../../../src/core/ids.js';
import { nodeName } from '../../../src/core/ids.js';
import type { Entry } from '../../../src/core/replica/entry.js';
import { Replica } from '../../../src/core/replica/replica.js';
import type { StateMessage } from '../../../src/core/state/messages.js';
import type { StateEvent } from '../../../src/core/state/outbox.js';
import { encodeStateFrame, stateMessageBytes } from '../../../src/wire/state.js';
import { Cluster } from './harness.js';

const value = (c: Cluster, n: string, key: string): unknown => {
  const r = c.node(n).get(key);
  return r?.type === 'register' ? r.values : r?.type === 'counter' ? r.value : r?.type === 'set' ? r.elements : undefined;
};

describe('StateNode', () => {
  it('spreads a local write by rumor before any anti-entropy session could', () => {
    // Anti-entropy every 60 s: only rumors can bring the write within a second.
    const c = new Cluster(['a', 'b', 'c', 'd'], { antiEntropyIntervalMs: 60_000 });
    c.run(10);
    c.on('a', (s, now) => s.put(now, 'k', 'v1'));
    c.run(1000);
    for (const n of ['b', 'c', 'd']) expect(value(c, n, 'k')).toEqual(['v1']);
    expect(c.converged()).toBe(true);
    const a = c.node('a').stats;
    expect(a.rumorsPublished).toBe(1);
    expect(a.rumorBytes).toBeGreaterThan(0);
    expect(c.node('b').stats.repaired).toBe(0);
  });

  it('anti-entropy alone (rumors off) converges two diverged replicas, both ways, with only the differing entries', () => {
    const c = new Cluster(['a', 'b'], { rumors: false, antiEntropyIntervalMs: 500 });
    c.partition({ a: 0, b: 1 });
    c.run(5);
    for (let i = 0; i < 200; i++) c.on('a', (s, now) => s.put(now, `k${i}`, `a${i}`));
    c.on('a', (s, now) => s.put(now, 'only-a', 1));
    c.on('b', (s, now) => s.put(now, 'only-b', 2));
    c.on('b', (s, now) => s.increment(now, 'c/n', 5));
    c.on('a', (s, now) => s.increment(now, 'c/n', 7));
    c.on('a', (s, now) => s.add(now, 's/x', 'e1'));
    c.on('b', (s, now) => s.add(now, 's/x', 'e2'));
    c.run(3000);
    expect(c.converged()).toBe(false);
    c.heal();
    const before = c.node('a').stats.antiEntropyBytes + c.node('b').stats.antiEntropyBytes;
    c.run(6000);
    expect(c.converged()).toBe(true);
    for (const n of ['a', 'b']) {
      expect(value(c, n, 'only-a')).toEqual([1]);
      expect(value(c, n, 'only-b')).toEqual([2]);
      expect(value(c, n, 'c/n')).toBe(12);
      expect(value(c, n, 's/x')).toEqual(['e1', 'e2']);
      expect(value(c, n, 'k199')).toEqual(['a199']);
      expect(c.node(n).stats.rumorBytes).toBe(0);
    }
    const after = c.node('a').stats.antiEntropyBytes + c.node('b').stats.antiEntropyBytes;
    expect(after).toBeGreaterThan(before);
    expect(c.node('a').stats.sessionsComplete + c.node('b').stats.sessionsComplete).toBeGreaterThan(0);
    // Repairs went to b (it lacked 201 keys plus the merged ones) and to a (only-b, c/n, s/x).
    expect(c.node('b').stats.repaired).toBeGreaterThanOrEqual(203);
    expect(c.node('a').stats.repaired).toBeGreaterThanOrEqual(3);
    expect(c.node('a').stats.repaired).toBeLessThan(10);
  });

  it('partition + delete + collection + heal: the returning node is repaired and nothing deleted comes back', () => {
    const c = new Cluster(['a', 'b', 'c'], { antiEntropyIntervalMs: 300, collectIntervalMs: 500, stabilityGenerationMs: 1000, goneMemberHoldMs: 2000, digestIntervalMs: 200 });
    c.run(5);
    c.on('a', (s, now) => s.put(now, 'k', 'old'));
    c.on('a', (s, now) => s.add(now, 's/x', 'e'));
    c.on('a', (s, now) => s.put(now, 'keep', 'x'));
    c.run(2000);
    expect(c.converged()).toBe(true);
    // c is cut off, then declared gone; a and b delete while it is away.
    c.partition({ a: 0, b: 0, c: 1 });
    for (const n of ['a', 'b']) c.on(n, (s, now) => s.handleMemberGone(now, nodeName('c')));
    c.on('c', (s, now) => {
      s.handleMemberGone(now, nodeName('a'));
      s.handleMemberGone(now, nodeName('b'));
    });
    c.on('b', (s, now) => s.delete(now, 'k'));
    c.on('b', (s, now) => s.remove(now, 's/x', 'e'));
    c.run(8000);
    // Past the hold: a and b collected the tombstones (c still holds the old values).
    for (const n of ['a', 'b']) {
      expect(c.node(n).replica.entry('k')).toBeUndefined();
      expect(c.node(n).replica.entry('s/x')).toBeUndefined();
      expect(c.node(n).stats.tombstonesCollected).toBeGreaterThanOrEqual(2);
    }
    expect(value(c, 'c', 'k')).toEqual(['old']);
    expect(value(c, 'c', 's/x')).toEqual(['e']);
    // c returns: heal and membership.
    c.heal();
    for (const n of ['a', 'b']) c.on(n, (s, now) => s.handleMemberAlive(now, nodeName('c')));
    c.on('c', (s, now) => {
      s.handleMemberAlive(now, nodeName('a'));
      s.handleMemberAlive(now, nodeName('b'));
    });
    c.run(20_000);
    for (const n of ['a', 'b', 'c']) {
      expect(value(c, n, 'k') ?? []).toEqual([]);
      expect(value(c, n, 's/x') ?? []).toEqual([]);
      expect(value(c, n, 'keep')).toEqual(['x']);
      expect(c.node(n).list()).toEqual(['keep']);
    }
    expect(c.converged()).toBe(true);
  });

  it('a tombstone a peer collected is collected here too by anti-entropy, so the roots meet', () => {
    // b believes in a member z that a does not know (membership views differ) and that never
    // contributes: b never completes a stability generation, so it never collects by itself.
    const c = new Cluster(['a', 'b'], { antiEntropyIntervalMs: 300, collectIntervalMs: 500, stabilityGenerationMs: 1000, digestIntervalMs: 200, rumors: false });
    c.on('b', (s, now) => s.handleMemberAlive(now, nodeName('z')));
    c.run(5);
    c.on('a', (s, now) => s.put(now, 'k', 'v'));
    c.on('a', (s, now) => s.put(now, 'keep', 'x'));
    c.run(2000);
    c.on('b', (s, now) => s.delete(now, 'k'));
    c.run(5000 + c.now);
    // The delete reached a, a collected it once b's summary covered it, and b followed at its
    // next session with a.
    expect(c.node('a').replica.entry('k')).toBeUndefined();
    expect(c.node('a').stats.tombstonesCollectedFromPeers).toBe(0);
    expect(c.node('b').replica.entry('k')).toBeUndefined();
    expect(c.node('b').stats).toMatchObject({ tombstonesCollected: 1, tombstonesCollectedFromPeers: 1, generationsComplete: 0 });
    expect(c.node('a').stats.generationsComplete).toBeGreaterThan(0);
    expect(c.converged()).toBe(true);
    expect(value(c, 'b', 'keep')).toEqual(['x']);
  });

  it('stability generations: every node completes them and collects the same tombstones, none while a member stays silent', () => {
    const names = ['a', 'b', 'c', 'd', 'e'];
    const c = new Cluster(names, { antiEntropyIntervalMs: 400, stabilityGenerationMs: 1000, collectIntervalMs: 500, digestIntervalMs: 100 });
    c.run(5);
    for (let i = 0; i < 20; i++) c.on('a', (s, now) => s.put(now, `k${i}`, i));
    c.run(1500);
    // e is cut off (but not declared gone): no generation can complete, nothing is collected.
    c.partition({ a: 0, b: 0, c: 0, d: 0, e: 1 });
    const before = names.map((n) => c.node(n).stats.generationsComplete);
    for (let i = 0; i < 10; i++) c.on('b', (s, now) => s.delete(now, `k${i}`));
    c.run(c.now + 4000);
    for (const [i, n] of names.entries()) {
      expect(c.node(n).stats.generationsComplete).toBe(before[i]);
      expect(c.node(n).stats.tombstonesCollected).toBe(0);
    }
    expect(c.node('a').replica.stats().tombstones).toBe(10);
    c.heal();
    c.run(c.now + 4000);
    for (const n of names) {
      const s = c.node(n);
      expect(s.stats.generationsComplete).toBeGreaterThan(before[names.indexOf(n)] as number);
      expect(s.replica.stats()).toMatchObject({ keys: 10, tombstones: 0 });
      expect(s.stats.tombstonesCollected).toBe(10);
    }
    expect(c.converged()).toBe(true);
  });

  it('a member with another stability generation length is refused and counted, never merged: nothing is collected', () => {
    const names = ['a', 'b', 'c', 'd', 'e'];
    const opts = { antiEntropyIntervalMs: 400, stabilityGenerationMs: 1000, collectIntervalMs: 500, digestIntervalMs: 100 };
    const c = new Cluster(['a', 'b', 'c', 'd'], opts);
    c.boot('e', undefined, 0, { stabilityGenerationMs: 3000 });
    for (const n of names) c.node(n).setMembers(0, names.map(nodeName));
    c.run(5);
    for (let i = 0; i < 10; i++) c.on('a', (s, now) => s.put(now, `k${i}`, i));
    c.run(1500);
    for (let i = 0; i < 5; i++) c.on('b', (s, now) => s.delete(now, `k${i}`));
    c.run(c.now + 6000);
    expect(c.converged()).toBe(true);
    for (const n of names) {
      const st = c.node(n).stats;
      expect(st.stabilityMismatched).toBeGreaterThan(0);
      expect(st.malformed).toBe(0);
      // e never joins the others' generations (nor they e's): none completes, no tombstone goes.
      expect(st.generationsComplete).toBe(0);
      expect(st.tombstonesCollected).toBe(0);
    }
  });

  it('the agreement fraction drops below 1 during a partition with writes and reaches 1 after the heal', () => {
    const names = ['a', 'b', 'c', 'd', 'e', 'f'];
    const c = new Cluster(names, { antiEntropyIntervalMs: 400, digestIntervalMs: 200 });
    c.run(3000);
    for (const n of names) expect(c.node(n).agreement(c.now).fraction).toBe(1);
    c.partition({ a: 0, b: 0, c: 0, d: 1, e: 1, f: 1 });
    c.on('a', (s, now) => s.put(now, 'x', 1));
    c.on('d', (s, now) => s.put(now, 'y', 2));
    c.run(6000);
    const during = names.map((n) => c.node(n).agreement(c.now));
    for (const a of during) expect(a.fraction).toBeLessThanOrEqual(0.5);
    c.heal();
    c.run(12_000);
    expect(c.converged()).toBe(true);
    for (const n of names) expect(c.node(n).agreement(c.now)).toMatchObject({ live: 6, agreeing: 6, fraction: 1 });
  });

  it('times sampled writes until every live member has them', () => {
    // Summaries are made once a minute and anti-entropy is as rare: acknowledgements settle it.
    const c = new Cluster(['a', 'b', 'c'], { sampleEvery: 1, antiEntropyIntervalMs: 60_000, digestIntervalMs: 100, summaryIntervalMs: 60_000 });
    c.run(5);
    c.on('a', (s, now) => s.put(now, 'k', 1));
    c.run(5000);
    const done = c.events.filter((x) => x.node === 'a' && x.e.type === 'update-everywhere');
    expect(done.length).toBe(1);
    const e = done[0]?.e;
    if (e?.type !== 'update-everywhere') throw new Error('unreachable');
    expect(e.update.origin).toBe('a');
    expect(e.update.elapsedMs).toBeGreaterThan(0);
    // b and c acknowledged it straight to a, stamped when their replicas first held it: the
    // rumor's first round (100 ms) and a hop, not the digest rounds that carried the acks.
    expect(c.node('a').stats.acksApplied).toBe(2);
    expect(e.update.elapsedMs).toBeLessThanOrEqual(110);
    for (const n of ['b', 'c']) expect(c.node(n).stats.acksSent).toBeGreaterThanOrEqual(1);
  });

  it('without acknowledgements (lost, or no addressOf) a sample still ends, later, by summaries', () => {
    const c = new Cluster(['a', 'b', 'c'], { sampleEvery: 1, antiEntropyIntervalMs: 300, digestIntervalMs: 100, summaryIntervalMs: 100 });
    for (const n of ['a', 'b', 'c']) c.boot(n, undefined, 0, { addressOf: () => undefined }).setMembers(0, ['a', 'b', 'c'].map(nodeName));
    c.run(5);
    c.on('a', (s, now) => s.put(now, 'k', 1));
    c.run(5000);
    const done = c.events.filter((x) => x.node === 'a' && x.e.type === 'update-everywhere');
    expect(done.length).toBe(1);
    expect(c.node('a').stats.acksApplied).toBe(0);
    for (const n of ['b', 'c']) expect(c.node(n).stats.acksSent).toBe(0);
  });

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

  it('counts the bytes of every message it sends by class, each transmit carrying its encoded length', () => {
    // syncFirst: peers' roots are never known here (nothing is delivered), so sessions start
    // instead of root probes and every class of message is sent.
    const c = new Cluster(['a', 'b', 'c'], { antiEntropyIntervalMs: 200, syncFirst: true });
    c.run(5);
    const a = c.node('a');
    a.put(6, 'k', 'v');
    let sent = 0;
    for (let t = a.pollTransmit(); t !== undefined; t = a.pollTransmit()) {
      expect(t.bytes).toBe(encodeStateFrame('a', t.message).length);
      sent += t.bytes;
    }
    for (let now = 7; now < 2000; now++) {
      if ((a.pollTimeout() ?? Infinity) > now) continue;
      a.handleTimeout(now as Millis);
      for (let t = a.pollTransmit(); t !== undefined; t = a.pollTransmit()) {
        expect(t.bytes).toBe(encodeStateFrame('a', t.message).length);
        sent += t.bytes;
      }
    }
    const st = a.stats;
    expect(st.rumorBytes).toBeGreaterThan(0);
    expect(st.antiEntropyBytes).toBeGreaterThan(0);
    expect(st.digestBytes).toBeGreaterThan(0);
    expect(st.rumorBytes + st.antiEntropyBytes + st.digestBytes).toBe(sent);
    const m: StateMessage = { type: 'state-digests', roots: [{ member: 'a', atMs: 1, seq: 1, rootHi: 0, rootLo: 0 }], summaries: [], stability: null };
    // type 1 + sender (new name: 0, length, 'a') 3 + roots count 1 + member (interned: #1) 1 + time 1 + seq 1 + root 8 + summaries count 1 + no stability 1
    expect(stateMessageBytes('a', m).total).toBe(1 + 3 + 1 + 1 + 1 + 1 + 8 + 1 + 1);
  });

  it('calls the durability hook with every change before the operation returns (local, merged, collected)', () => {
    const seen: { node: string; key: string; present: boolean }[] = [];
    const c = new Cluster(['a', 'b'], { antiEntropyIntervalMs: 300, collectIntervalMs: 500, stabilityGenerationMs: 500, digestIntervalMs: 100, summaryIntervalMs: 100 });
    for (const n of ['a', 'b']) {
      // Restart on the same durable replica with the hook (what the agent does at start).
      const r = c.crash(n);
      c.boot(n, r, 1, { onEntryChange: (key, entry) => seen.push({ node: n, key, present: entry !== undefined }) }).setMembers(0, ['a', 'b'].map(nodeName));
    }
    c.run(5);
    let before = seen.length;
    c.on('a', (s, now) => {
      s.put(now, 'k', 1);
      expect(seen.slice(before)).toEqual([{ node: 'a', key: 'k', present: true }]);
    });
    c.run(1000);
    expect(seen).toContainEqual({ node: 'b', key: 'k', present: true });
    before = seen.length;
    c.on('b', (s, now) => s.delete(now, 'k'));
    expect(seen.slice(before)).toEqual([{ node: 'b', key: 'k', present: true }]);
    c.run(5000);
    expect(seen).toContainEqual({ node: 'a', key: 'k', present: false });
    expect(seen).toContainEqual({ node: 'b', key: 'k', present: false });
  });
});
