import { describe, expect, it } from 'vitest';
import { DEFAULT_DISSEMINATION } from '../../../src/core/dissemination/config.js';
import type { DisseminationTransmit, PeerSampler } from '../../../src/core/dissemination/disseminator.js';
import { Disseminator } from '../../../src/core/dissemination/disseminator.js';
import { DEFAULT_PLUMTREE } from '../../../src/core/dissemination/plumtree.js';
import type { Update } from '../../../src/core/dissemination/update-log.js';
import type { Address } from '../../../src/core/ids.js';
import { address, millis } from '../../../src/core/ids.js';
import { seededRng } from '../../../src/core/rng.js';
import { VirtualNet } from '../../support/virtual-net.js';

/**
 * Plumtree when membership ends links, on the test network (5 ms per hop), with the digest
 * repair off (`repairEveryRounds: 0`): whatever reaches a node here came along the tree.
 *
 * Eight nodes on a line. Each sees its line neighbours 1 ms away and the others farther
 * (10 ms plus the distance, half a millisecond more rightwards), and opens its 2 nearest eager
 * links: the tree is the line (with chords 0–2 and 5–7). Node 3 is a cut vertex: when it dies,
 * only replacement links (2 and 4 pick each other, the nearest live peers they are not linked
 * to) join the two halves again.
 */
const N = 8;
const addrs: Address[] = Array.from({ length: N }, (_, i) => address(`127.0.0.1:${7100 + i}`));
const rttFrom = (i: number) => (p: Address): number | undefined => {
  const j = addrs.indexOf(p);
  const d = Math.abs(i - j);
  return d === 1 ? 1 : 10 + d + (j > i ? 0.5 : 0);
};

function line() {
  const live = new Set<number>(addrs.keys());
  const net = new VirtualNet<DisseminationTransmit, unknown, Disseminator>({
    leaveEvents: true,
    latencyMs: 5,
    route: (v, from, t) => {
      v.send(from, t.to, t, () => v.node(t.to).handleMessage(millis(v.now), from as Address, t.message));
    },
  });
  const sentTo = new Map<Address, number>();
  net.onSend = (_from, t) => sentTo.set(t.to, (sentTo.get(t.to) ?? 0) + 1);
  const engine = (i: number, origin: string): Disseminator => {
    // Membership's live peers (self excluded), in a fixed order: nothing here is left to chance.
    const peers: PeerSampler = {
      size: () => live.size - 1,
      sample: (k) => [...live].filter((j) => j !== i).slice(0, k).map((j) => addrs[j] as Address),
    };
    return new Disseminator({
      origin, rng: seededRng(i + 1), now: millis(net.now), peers, rtt: rttFrom(i),
      config: { ...DEFAULT_DISSEMINATION, mode: 'plumtree', repairEveryRounds: 0, plumtree: { ...DEFAULT_PLUMTREE, eagerPeers: 2, randomEager: 0, lazyPeers: 0, candidates: N } },
    });
  };
  const engines = addrs.map((a, i) => net.add(a, engine(i, `n${i}`)));
  /** Crash: node i is gone, and membership tells every live node (with its member name). */
  const crash = (i: number): void => {
    net.remove(addrs[i] as Address);
    live.delete(i);
    const name = (engines[i] as Disseminator).origin;
    for (const j of live) net.input(addrs[j] as Address, (d, now) => d.handlePeerDown(millis(now), addrs[i] as Address, name));
  };
  /** Restart: a fresh engine (empty, a new origin name) at the same address; membership says it is alive. */
  const restart = (i: number, origin: string): void => {
    for (const j of live) net.node(addrs[j] as Address).handlePeerUp(addrs[i] as Address);
    live.add(i);
    engines[i] = net.add(addrs[i] as Address, engine(i, origin));
    net.flush();
  };
  const publish = (i: number, key: string): Update => {
    let u: Update | undefined;
    net.input(addrs[i] as Address, (d, now) => (u = d.publish(millis(now), key, new Uint8Array(8))));
    return u as Update;
  };
  /** Live nodes that lack `u`. */
  const lacking = (u: Update): number[] => [...live].filter((j) => !(engines[j] as Disseminator).has(u.origin, u.version));
  return { net, engines, sentTo, crash, restart, publish, lacking };
}

describe('plumtree: membership ends links', () => {
  it('after a crash of an eager peer, nothing more is sent to it and updates still reach every live node along the tree', () => {
    const c = line();
    c.net.runUntil(100);
    const before = [c.publish(0, 'a'), c.publish(7, 'b')];
    c.net.runUntil(400);
    for (const u of before) expect(c.lacking(u)).toEqual([]);

    c.crash(3);
    const dead = addrs[3] as Address;
    const sentBefore = c.sentTo.get(dead) ?? 0;
    c.net.runFor(20); // the replacement links' GRAFTs arrive
    const after: Update[] = [];
    for (let k = 0; k < 3; k++) {
      after.push(c.publish(0, `a${k}`), c.publish(7, `b${k}`), c.publish(2, `c${k}`), c.publish(4, `d${k}`));
      c.net.runFor(100);
    }
    // Pushes and grafts (an "I have" answered after the 300 ms timeout) are the tree's; the repair pull is off.
    c.net.runFor(1000);
    expect((c.sentTo.get(dead) ?? 0) - sentBefore).toBe(0);
    for (const u of after) expect({ update: `${u.origin}/${u.version}`, lacking: c.lacking(u) }).toEqual({ update: `${u.origin}/${u.version}`, lacking: [] });
  });

  it('a node that comes back starts fresh: it links again by its own grafts and is on the tree both ways', () => {
    const c = line();
    c.net.runUntil(100);
    c.crash(3);
    c.net.runFor(200);
    c.restart(3, 'n3~1');
    c.net.runFor(50);
    const us = [c.publish(0, 'a'), c.publish(7, 'b'), c.publish(3, 'c')];
    c.net.runFor(1000);
    for (const u of us) expect({ update: `${u.origin}/${u.version}`, lacking: c.lacking(u) }).toEqual({ update: `${u.origin}/${u.version}`, lacking: [] });
  });

  it('a late message from a peer declared down makes no link and gets no answer, until membership says it is back', () => {
    const c = line();
    c.net.runUntil(100);
    const u = c.publish(2, 'x');
    c.net.runFor(100);
    const n2 = c.engines[2] as Disseminator;
    const a5 = addrs[5] as Address;
    n2.handlePeerDown(millis(c.net.now), a5, 'n5');
    while (n2.pollTransmit() !== undefined); // the replacement's GRAFT
    const ref = [{ origin: u.origin, version: u.version }];
    n2.handleMessage(millis(c.net.now), a5, { type: 'graft', updates: [], refs: ref });
    n2.handleMessage(millis(c.net.now), a5, { type: 'gossip', id: 9, updates: [], digest: new Map(), feedback: false, hops: null });
    expect(n2.pollTransmit()).toBeUndefined();
    n2.handlePeerUp(a5);
    n2.handleMessage(millis(c.net.now), a5, { type: 'graft', updates: [], refs: ref });
    expect(n2.pollTransmit()).toMatchObject({ to: a5, message: { type: 'gossip', updates: [{ origin: u.origin, version: u.version }] } });
  });
});
