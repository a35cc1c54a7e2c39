import { describe, expect, it } from 'vitest';
import type { DisseminationConfig } from '../../../src/core/dissemination/config.js';
import { DEFAULT_DISSEMINATION, DisseminationConfigError } from '../../../src/core/dissemination/config.js';
import type { DisseminationTransmit, PeerSampler } from '../../../src/core/dissemination/disseminator.js';
import { Disseminator } from '../../../src/core/dissemination/disseminator.js';
import type { DisseminationMessage } from '../../../src/core/dissemination/messages.js';
import { layoutSizes, messageBytes, rawPayloadBytes } from '../../../src/core/dissemination/messages.js';
import type { Address } from '../../../src/core/ids.js';
import { address, millis } from '../../../src/core/ids.js';
import { seededRng } from '../../../src/core/rng.js';
import { VirtualNet } from '../../support/virtual-net.js';

/** A few engines on the test network (test/support/virtual-net.ts): every transmit is delivered at once, in order. */
function cluster(n: number, config: Partial<DisseminationConfig>, seed = 1) {
  const addrs: Address[] = Array.from({ length: n }, (_, i) => address(`127.0.0.1:${7000 + i}`));
  const index = (a: string): number => addrs.indexOf(a as Address);
  const sent: { from: number; at: number; t: DisseminationTransmit }[] = [];
  const down = new Set<number>();
  const net = new VirtualNet<DisseminationTransmit, unknown, Disseminator>({
    leaveEvents: true,
    route: (v, from, t) => {
      sent.push({ from: index(from), at: v.now, t });
      v.send(from, t.to, t, () => v.node(t.to).handleMessage(millis(v.now), from as Address, t.message));
    },
  });
  net.drop = (from, to) => down.has(index(from)) || down.has(index(to));
  const engines = addrs.map((_, i) => {
    const peers: PeerSampler = {
      size: () => n - 1,
      sample: (k, rng) => {
        const others = addrs.filter((_, j) => j !== i);
        const out: Address[] = [];
        while (out.length < Math.min(k, others.length)) {
          const a = others[rng.int(others.length)] as Address;
          if (!out.includes(a)) out.push(a);
        }
        return out;
      },
    };
    return net.add(addrs[i] as Address, new Disseminator({ origin: `n${i}`, config: { ...DEFAULT_DISSEMINATION, alignedRounds: true, ...config }, rng: seededRng(seed * 100 + i), now: millis(0), peers }));
  });
  const flush = (now: number): void => {
    net.now = now;
    net.flush();
  };
  const tick = (now: number): void => {
    for (const e of engines) e.handleTimeout(millis(now));
    flush(now);
  };
  return { engines, addrs, sent, flush, tick, down };
}

describe('Disseminator (sans-IO)', () => {
  it('push: the first tick sends the update to `fanout` distinct peers, who hold it and report it once', () => {
    const c = cluster(6, { mode: 'push', fanout: 3, rumor: 'none', repairEveryRounds: 0 });
    const u = c.engines[0]?.publish(millis(0), 'k', new Uint8Array([1, 2, 3]));
    expect(u).toMatchObject({ origin: 'n0', version: 1, key: 'k', critical: false, bornMs: 0 });
    c.tick(200);
    const pushes = c.sent.filter((s) => s.from === 0 && s.t.message.type === 'gossip');
    expect(new Set(pushes.map((s) => s.t.to)).size).toBe(3);
    expect(c.engines.filter((e) => e.has('n0', 1)).length).toBe(4);
    for (const s of c.sent) expect(s.t.bytes).toBe(messageBytes(s.t.message, layoutSizes(rawPayloadBytes)));
    const e1 = c.engines.find((e, i) => i > 0 && e.has('n0', 1));
    const ev = e1?.pollEvent();
    expect(ev?.type).toBe('update');
    expect(e1?.pollEvent()).toBeUndefined();
  });

  it('feedback-counter: a rumor is retired after k pushes that found the peer informed', () => {
    const c = cluster(3, { mode: 'push', fanout: 2, rumor: 'feedback-counter', rumorK: 2, repairEveryRounds: 0 });
    c.engines[0]?.publish(millis(0), 'k', new Uint8Array(4));
    c.tick(200); // both peers learn it: no feedback yet
    expect(c.engines[0]?.hotCount).toBe(1);
    c.tick(400); // now every push of n0 finds an informed peer: 2 duplicates ⇒ k reached
    c.tick(600);
    expect(c.engines[0]?.hotCount).toBe(0);
    const replies = c.sent.filter((s) => s.t.message.type === 'gossip-reply' && s.t.message.known.length > 0);
    expect(replies.length).toBeGreaterThanOrEqual(2);
  });

  it('pull: a digest brings back exactly what the asker lacks, within the packet budget', () => {
    const c = cluster(2, { mode: 'pull', fanout: 1, packetBytesMax: 600 });
    for (let i = 0; i < 20; i++) c.engines[0]?.publish(millis(0), `k${i}`, new Uint8Array(40));
    c.flush(0);
    c.tick(200); // n1 pulls from n0 (n0's own pull finds nothing missing)
    const reply = c.sent.find((s) => s.from === 0 && s.t.message.type === 'gossip-reply');
    expect(reply).toBeDefined();
    expect(reply?.t.bytes).toBeLessThanOrEqual(600);
    const first = c.engines[1]?.size ?? 0;
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(20);
    for (let r = 2; r < 10; r++) c.tick(200 * r);
    expect(c.engines[1]?.size).toBe(20);
    // Nothing was sent twice: payloads received equal the updates.
    expect(c.engines[1]?.stats.duplicatesIn).toBe(0);
  });

  it('a byte budget is never exceeded; critical updates go first; what does not fit waits and goes later', () => {
    const rate = 2000;
    const c = cluster(4, { mode: 'push', fanout: 3, criticalFanout: 3, rumor: 'none', maxHotRounds: 50, repairEveryRounds: 0, budget: { rateBytesPerSec: rate, burstBytes: 1400 } });
    for (let i = 0; i < 30; i++) c.engines[0]?.publish(millis(0), `normal-${i}`, new Uint8Array(100));
    c.engines[0]?.publish(millis(0), 'urgent', new Uint8Array(10), { critical: true });
    c.tick(200);
    const first = c.sent.filter((s) => s.from === 0 && s.t.message.type === 'gossip');
    expect(first[0]?.t.cls).toBe('critical');
    expect(first[0]?.t.message.updates[0]?.key).toBe('urgent');
    for (let r = 2; r <= 50; r++) c.tick(200 * r);
    // In every window [t_a, t_b], n0 sent at most burst + rate·(t_b − t_a).
    const mine = c.sent.filter((s) => s.from === 0);
    for (let a = 0; a < mine.length; a++) {
      let sum = 0;
      for (let b = a; b < mine.length; b++) {
        sum += (mine[b] as (typeof mine)[number]).t.bytes;
        const span = (mine[b] as (typeof mine)[number]).at - (mine[a] as (typeof mine)[number]).at;
        expect(sum).toBeLessThanOrEqual(1400 + (rate * span) / 1000);
      }
    }
    expect(c.engines[0]?.stats.deferred).toBeGreaterThan(0);
    for (const e of c.engines) expect(e.size).toBe(31);
  });

  it('retention: old updates are forgotten, memory stays bounded, and a node that missed them learns the floor', () => {
    const c = cluster(3, { mode: 'push-pull', fanout: 1, rumor: 'feedback-counter', rumorK: 2, maxHotRounds: 10, retainMs: 4000 });
    c.down.add(2);
    for (let r = 1; r <= 150; r++) {
      if (r <= 100) c.engines[0]?.publish(millis(200 * r - 100), `k${r}`, new Uint8Array(8));
      c.tick(200 * r);
    }
    // 100 published over 20 s; only what is younger than 4 s (plus what is still hot) is held.
    expect(c.engines[0]?.stats.pruned).toBeGreaterThan(50);
    expect(c.engines[0]?.size).toBeLessThan(40);
    expect(c.engines[1]?.size).toBeLessThan(40);
    expect(c.engines[2]?.size).toBe(0);
    c.down.delete(2);
    for (let r = 151; r <= 200; r++) c.tick(200 * r);
    const d0 = c.engines[0]?.log.digest();
    expect(c.engines[2]?.log.digest().get('n0')?.upTo).toBe(100);
    expect(d0?.get('n0')?.upTo).toBe(100);
    expect(c.engines[2]?.stats.skipped).toBeGreaterThan(50);
  });

  it('bad input from a peer is counted and reported, never thrown', () => {
    const c = cluster(2, {});
    const bad = { type: 'gossip', id: 1, updates: [{ origin: '', version: -1, key: 'x', payload: new Uint8Array(0), critical: false, bornMs: 0 }], digest: null, feedback: false, hops: null } as DisseminationMessage;
    expect(() => c.engines[1]?.handleMessage(millis(5), c.addrs[0] as Address, bad)).not.toThrow();
    expect(c.engines[1]?.stats.malformed).toBe(1);
    expect(c.engines[1]?.pollEvent()).toMatchObject({ type: 'protocol-error' });
    const weird = { type: 'nonsense' } as unknown as DisseminationMessage;
    expect(() => c.engines[1]?.handleMessage(millis(5), c.addrs[0] as Address, weird)).not.toThrow();
    expect(c.engines[1]?.stats.malformed).toBe(2);
  });

  it('plumtree: a tree message with bad refs is counted and reported, never thrown, and sends nothing', () => {
    const c = cluster(2, { mode: 'plumtree' });
    const e = c.engines[1] as Disseminator;
    while (e.pollTransmit() !== undefined);
    const out = e.stats.messagesOut;
    const bad = [
      { type: 'graft', updates: [], refs: [{ origin: 'n0', version: 0 }] },
      { type: 'ihave', updates: [], refs: [null] },
      { type: 'prune', updates: [], refs: 'x' },
      { type: 'graft', updates: [], refs: Array.from({ length: 4097 }, () => ({ origin: 'n0', version: 1 })) },
    ] as unknown as DisseminationMessage[];
    for (const m of bad) expect(() => e.handleMessage(millis(5), c.addrs[0] as Address, m)).not.toThrow();
    expect(e.stats.malformed).toBe(4);
    expect(e.stats.messagesOut).toBe(out);
  });

  it('a bug of ours on the receive path surfaces: it is not counted or reported as the peer\'s malformed message', () => {
    const peers: PeerSampler = { size: () => 1, sample: () => [address('127.0.0.1:7001')] };
    const d = new Disseminator<string>({
      origin: 'n0', config: DEFAULT_DISSEMINATION, rng: seededRng(1), now: millis(0), peers,
      payloadBytes: (p) => {
        if (p === 'boom') throw new RangeError('an invariant of ours broke');
        return p.length;
      },
    });
    const msg = { type: 'gossip', id: 1, updates: [{ origin: 'n1', version: 1, key: 'k', payload: 'boom', critical: false, bornMs: 0 }], digest: null, feedback: false, hops: null } as DisseminationMessage<string>;
    expect(() => d.handleMessage(millis(5), address('127.0.0.1:7001'), msg)).toThrow(/an invariant of ours broke/);
    expect(d.stats.malformed).toBe(0);
    expect(d.pollEvent()).toBeUndefined();
  });

  it('misuse by the caller throws a clear error', () => {
    const c = cluster(2, { packetBytesMax: 200 });
    expect(() => c.engines[0]?.publish(millis(0), 'big', new Uint8Array(500))).toThrow(/does not fit in a 200-byte packet/);
    expect(() => cluster(2, { fanout: 0 })).toThrow(DisseminationConfigError);
    expect(() => cluster(2, { budget: { rateBytesPerSec: 100, burstBytes: 10 } })).toThrow(/burstBytes/);
  });
});
