import { describe, expect, it } from 'vitest';
import { DEFAULT_DISSEMINATION } from '../../../src/core/dissemination/config.js';
import type { DisseminationTransmit, PeerSampler } from '../../../src/core/dissemination/disseminator.js';
import { Disseminator } from '../../../src/core/dissemination/disseminator.js';
import type { DisseminationMessage, GossipRequest } from '../../../src/core/dissemination/messages.js';
import { DEFAULT_PLUMTREE, Plumtree } from '../../../src/core/dissemination/plumtree.js';
import type { Update } from '../../../src/core/dissemination/update-log.js';
import type { Address } from '../../../src/core/ids.js';
import { address, millis } from '../../../src/core/ids.js';
import { seededRng } from '../../../src/core/rng.js';

const A = address('127.0.0.1:7001');
const B = address('127.0.0.1:7002');
const C = address('127.0.0.1:7003');
const D = address('127.0.0.1:7004');

function fixedPeers(addrs: readonly Address[]): PeerSampler {
  return { size: () => addrs.length, sample: (k) => addrs.slice(0, k) };
}

const NEAR = new Map<Address, number>([[A, 1], [B, 2], [C, 50], [D, 60]]);

/** One plumtree engine whose peers are A..D; eager links: the nearest `eagerPeers` (A, then B by default). */
function engine(eagerPeers = 2, rtt: (p: Address) => number | undefined = (p) => NEAR.get(p), repairEveryRounds = 0) {
  const d = new Disseminator({
    origin: 'me', rng: seededRng(7), now: millis(0), peers: fixedPeers([A, B, C, D]),
    config: { ...DEFAULT_DISSEMINATION, mode: 'plumtree', alignedRounds: true, repairEveryRounds, plumtree: { ...DEFAULT_PLUMTREE, eagerPeers, randomEager: 0, lazyPeers: 0, candidates: 4 } },
    rtt,
  });
  const out = (): DisseminationTransmit[] => {
    const xs: DisseminationTransmit[] = [];
    for (let t = d.pollTransmit(); t !== undefined; t = d.pollTransmit()) xs.push(t);
    return xs;
  };
  return { d, out };
}

const upd = (origin: string, version: number): Update => ({ origin, version, key: `k${version}`, payload: new Uint8Array(8), critical: false, bornMs: 0 });
const push = (u: Update): GossipRequest => ({ type: 'gossip', id: 1, updates: [u], digest: null, feedback: false, hops: null });
const to = (xs: readonly DisseminationTransmit[], type: DisseminationMessage['type']): Address[] => xs.filter((t) => t.message.type === type).map((t) => t.to);

describe('Plumtree rules', () => {
  it('first arrival: the sender becomes eager and gets our later updates of that origin pushed', () => {
    const t = new Plumtree(DEFAULT_PLUMTREE, seededRng(1), null);
    t.start(0, []);
    expect(t.pushTargets(0, 'o', null)).toEqual([]);
    t.firstArrival(0, A, { origin: 'o', version: 1 });
    expect([...t.eagerOf('o')]).toEqual([A]);
    expect(t.pushTargets(0, 'o', null)).toEqual([A]);
  });

  it('first arrival on the engine: forwarded at once to the eager peers, not back, and an "I have" to lazy ones after the batch delay', () => {
    const { d, out } = engine(2);
    d.handleTimeout(millis(200)); // the first round opens links to A and B
    expect(to(out(), 'graft').sort()).toEqual([A, B]);
    d.handleMessage(millis(210), C, { type: 'ihave', updates: [], refs: [] }); // C is a lazy peer now
    d.handleMessage(millis(220), A, push(upd('x', 1)));
    expect(to(out(), 'gossip')).toEqual([B]);
    d.handleTimeout(millis(220 + DEFAULT_PLUMTREE.ihaveDelayMs));
    expect(to(out(), 'ihave')).toEqual([C]);
  });

  it('duplicate: the sender is pruned (PRUNE sent, no longer pushed to for that origin)', () => {
    const { d, out } = engine(2);
    d.handleTimeout(millis(200));
    out();
    d.handleMessage(millis(210), A, push(upd('x', 1)));
    expect(to(out(), 'gossip')).toEqual([B]);
    d.handleMessage(millis(220), B, push(upd('x', 1))); // B had it too: a cycle
    const prunes = out().filter((t) => t.message.type === 'prune');
    expect(prunes.map((t) => t.to)).toEqual([B]);
    d.handleMessage(millis(230), A, push(upd('x', 2)));
    expect(to(out(), 'gossip')).toEqual([]); // A sent it, B is pruned
  });

  it('a PRUNE received stops our pushes to that peer', () => {
    const { d, out } = engine(2);
    d.handleTimeout(millis(200));
    out();
    d.handleMessage(millis(210), B, { type: 'prune', updates: [], refs: [{ origin: 'me', version: 1 }] });
    d.publish(millis(220), 'k', new Uint8Array(4));
    expect(to(out(), 'gossip')).toEqual([A]);
  });

  it('"I have" for a missing update, then the timeout: GRAFT to the announcer; none when it arrived in time', () => {
    const { d, out } = engine(1);
    d.handleTimeout(millis(200));
    out();
    d.handleMessage(millis(300), C, { type: 'ihave', updates: [], refs: [{ origin: 'x', version: 1 }, { origin: 'x', version: 2 }] });
    d.handleMessage(millis(350), A, push(upd('x', 2))); // version 2 came along the tree
    d.handleTimeout(millis(300 + DEFAULT_PLUMTREE.graftTimeoutMs - 1));
    expect(to(out(), 'graft')).toEqual([]);
    d.handleTimeout(millis(300 + DEFAULT_PLUMTREE.graftTimeoutMs));
    const grafts = out().filter((t) => t.message.type === 'graft');
    expect(grafts.map((t) => t.to)).toEqual([C]);
    expect(grafts[0]?.message.type === 'graft' ? grafts[0].message.refs : null).toEqual([{ origin: 'x', version: 1 }]);
  });

  it('a GRAFT restores the eager link: the update is sent, and the next ones are pushed', () => {
    const { d, out } = engine(1);
    d.handleTimeout(millis(200));
    out();
    const u = d.publish(millis(210), 'k', new Uint8Array(4));
    expect(to(out(), 'gossip')).toEqual([A]);
    d.handleMessage(millis(220), C, { type: 'graft', updates: [], refs: [{ origin: u.origin, version: u.version }] });
    const sent = out();
    expect(to(sent, 'gossip')).toEqual([C]);
    expect(sent[0]?.message.updates[0]?.version).toBe(u.version);
    d.publish(millis(230), 'k2', new Uint8Array(4));
    expect(to(out(), 'gossip').sort()).toEqual([A, C]);
  });

  it('eager peers prefer the lowest estimated RTT', () => {
    const rtt = new Map<Address, number>([[A, 90], [B, 5], [C, 40], [D, 1]]);
    const { d, out } = engine(2, (p) => rtt.get(p));
    d.handleTimeout(millis(200));
    expect(to(out(), 'graft').sort()).toEqual([B, D]);
  });

  it('a node that starts (or restarts, empty) pulls a digest in its first round, then every repair interval', () => {
    const { d, out } = engine(2, (p) => NEAR.get(p), 10);
    const pulls = (): number => out().filter((t) => t.message.type === 'gossip' && t.message.digest !== null).length;
    d.handleTimeout(millis(200));
    expect(pulls()).toBe(1);
    for (let r = 2; r <= 9; r++) d.handleTimeout(millis(200 * r));
    expect(pulls()).toBe(0);
    d.handleTimeout(millis(2000));
    expect(pulls()).toBe(1);
  });

  it('a peer down leaves every origin\'s tree, eager or lazy, and its own origin\'s tree is forgotten', () => {
    const t = new Plumtree(DEFAULT_PLUMTREE, seededRng(1), null);
    t.start(0, []);
    t.firstArrival(0, A, { origin: 'o', version: 1 }); // A eager on o's tree
    t.firstArrival(0, B, { origin: 'p', version: 1 });
    t.duplicate(0, A, 'p'); // A lazy on p's tree and in the shared links
    t.firstArrival(0, B, { origin: 'a-name', version: 1 });
    expect([...t.eagerOf('o')]).toEqual([A]);
    expect(t.peerDown(10, A, 'a-name')).toBe(true); // it was eager on o's tree: replace it
    expect(t.eagerOf('o').has(A) || t.lazyOf('o').has(A) || t.eagerOf('p').has(A) || t.lazyOf('p').has(A)).toBe(false);
    expect(t.shared.eager.has(A) || t.shared.lazy.has(A)).toBe(false);
    expect(t.treeCount).toBe(2); // o and p; a-name's tree is gone
    expect(t.pushTargets(10, 'o', null)).toEqual([]);
    t.firstArrival(11, A, { origin: 'o', version: 2 }); // a late push from it makes no link
    expect(t.eagerOf('o').has(A)).toBe(false);
    expect(t.peerDown(12, C)).toBe(false); // never linked
  });

  it('the replacement link: the nearest live peer not linked yet (a random one without RTT); never a peer that is down', () => {
    const rtt = new Map<Address, number>([[A, 90], [B, 5], [C, 40], [D, 1]]);
    const t = new Plumtree({ ...DEFAULT_PLUMTREE, eagerPeers: 1, randomEager: 0, lazyPeers: 1 }, seededRng(1), (p) => rtt.get(p));
    expect(t.start(0, [A, B, C, D])).toEqual({ grafts: [{ to: D, refs: [] }], lazies: [{ to: B, refs: [] }] });
    expect(t.peerDown(1, D)).toBe(true);
    expect(t.replace(1, [A, B, C, D])).toEqual([{ to: C, refs: [] }]); // B is linked (lazy) already
    expect([...t.shared.eager]).toEqual([C]);
    const random = new Plumtree(DEFAULT_PLUMTREE, seededRng(1), null);
    random.peerDown(0, A);
    expect(random.replace(0, [A, B])).toEqual([{ to: B, refs: [] }]);
    expect(random.replace(0, [A])).toEqual([]);
  });

  it('trees stay bounded over many origins: at most maxTrees (least recently used go first), none after treeIdleMs unused', () => {
    const t = new Plumtree({ ...DEFAULT_PLUMTREE, maxTrees: 16, treeIdleMs: 60_000 }, seededRng(1), null);
    t.start(0, []);
    for (let k = 0; k < 5000; k++) {
      t.firstArrival(k, A, { origin: `w${k}`, version: 1 });
      t.pushTargets(k, 'steady', null); // one origin used all along stays
      t.due(k);
    }
    expect(t.treeCount).toBe(16);
    expect(t.eagerOf('steady').has(A)).toBe(true);
    t.due(4984 + 59_999); // the 16 kept were used at 4984..4999
    expect(t.treeCount).toBe(16);
    t.due(4999 + 60_000);
    expect(t.treeCount).toBe(0);
  });

  it('an engine fed by thousands of origins keeps at most maxTrees trees, and forgets idle ones', () => {
    const d = new Disseminator({
      origin: 'me', rng: seededRng(7), now: millis(0), peers: fixedPeers([A, B, C, D]),
      config: { ...DEFAULT_DISSEMINATION, mode: 'plumtree', repairEveryRounds: 0, plumtree: { ...DEFAULT_PLUMTREE, maxTrees: 64, treeIdleMs: 10_000 } },
    });
    for (let k = 0; k < 3000; k++) {
      d.handleMessage(millis(k * 2), A, push(upd(`writer-${k}`, 1)));
      while (d.pollTransmit() !== undefined);
    }
    expect(d.treeCount).toBe(64);
    d.handleTimeout(millis(6000 + 10_000));
    expect(d.treeCount).toBe(0);
  });

  it('refuses malformed tree messages from a peer, counted, without throwing', () => {
    const { d } = engine(1);
    d.handleMessage(millis(10), A, { type: 'ihave', updates: [], refs: 'nope' } as unknown as DisseminationMessage);
    d.handleMessage(millis(10), A, { type: 'graft', updates: [], refs: [{ origin: 7, version: -1 }] } as unknown as DisseminationMessage);
    expect(d.stats.malformed).toBe(2);
  });
});
