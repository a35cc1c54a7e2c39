import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../src/core/config.js';
import { seededRng } from '../../../src/core/rng.js';
import type { SerfNode } from '../../../src/core/serf/index.js';
import { encodeSerfMessage } from '../../../src/wire/serf.js';
import { SerfCluster, bytes, codec, deliver, ofType, trio, userPayloads } from './cluster.js';

describe('SerfNode: fuzzed input', () => {
  it('random and mutated Serf messages and push-pull states never throw out of the node and never stop it', () => {
    const { c, a, b } = trio();
    const valid = [
      codec.encode({ type: 'user-event', ltime: 3, name: 'e', payload: bytes('p'), cc: true }),
      codec.encode({ type: 'join', ltime: 4, node: 'q' }),
      codec.encode({ type: 'leave', ltime: 5, node: 'c', prune: false }),
      codec.encode({
        type: 'query', ltime: 6, id: 1, addr: '127.0.0.1:1', sourceNode: 's', filters: [codec.encodeFilter({ type: 'tag', tag: 'role', expr: '(' })],
        flags: 1, relayFactor: 3, timeoutMs: 100, name: '_serf_install-key', payload: codec.encode({ type: 'key-request', key: new Uint8Array(3) }),
      }),
      codec.encode({ type: 'relay', destAddr: '127.0.0.1:2', destName: '', message: new Uint8Array([5, 0x80]) }),
      b.gossip.member('b') === undefined ? new Uint8Array([2]) : codec.encode({
        type: 'push-pull', ltime: 2, statusLTimes: new Map([['zz', 3]]), leftMembers: ['zz'], eventLTime: 2, events: [null], queryLTime: 2, trailer: null,
      }),
    ];
    fc.assert(fc.property(fc.nat(valid.length - 1), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 4 }), fc.uint8Array({ maxLength: 64 }), fc.boolean(), (i, flips, tail, asState) => {
      const m = Uint8Array.from(valid[i] as Uint8Array);
      for (const [at, v] of flips) if (m.length > 0) m[at % m.length] = v;
      const payload = Uint8Array.from([...m, ...tail.subarray(0, tail.length % 3 === 0 ? tail.length : 0)]);
      if (asState) {
        a.handleStreamRequest(c.at(), b.addr, 1, { type: 'push-pull', join: false, records: [], incarnations: new Uint32Array(), states: new Uint8Array(), userState: payload });
      } else {
        a.handlePacket(c.at(), b.addr, { type: 'user', payload });
      }
      c.flush(a);
      expect(a.isStopped).toBe(false);
    }), { numRuns: 3000, seed: 5 });
    c.runFor(5000);
    expect(a.member('b')?.status).toBe('alive');
    expect(a.stats.malformedMessages + a.stats.unknownMessages).toBeGreaterThan(0);
    // Every rejection came from a decoder's result, none from an exception the core had to catch.
    const details = ofType(c.eventsOf(a), 'protocol-error').map((e) => e.detail);
    expect(details.filter((d) => !/^(serf message type \d+: |remote state|user message of unknown type|serf push-pull as a user message)/.test(d))).toEqual([]);
  });
});

describe('SerfNode: a busy 30-node cluster with 5% packet loss', () => {
  it('every event reaches every node exactly once, and no packet exceeds packetBytesMax', () => {
    const c = new SerfCluster();
    const loss = seededRng(99);
    const nodes = Array.from({ length: 30 }, (_, i) => c.add(`n${i}`, { tags: { idx: String(i) } }));
    c.runFor(5);
    for (const n of nodes.slice(1)) n.join(c.at(), [(nodes[0] as SerfNode).addr]);
    c.runFor(20_000);
    c.drop = () => loss.next() < 0.05;
    for (let i = 0; i < 40; i++) {
      const from = nodes[(i * 7) % nodes.length] as SerfNode;
      const name = `ev${i}`;
      from.userEvent(c.at(), name, bytes('x'.repeat(i * 5)));
      c.runFor(50);
    }
    c.runFor(20_000);
    for (const n of nodes) {
      const names = ofType(c.eventsOf(n), 'user-event').map((e) => e.name);
      expect(names.length, n.name).toBe(40);
      expect(new Set(names).size, n.name).toBe(40);
    }
    expect(nodes.reduce((s, n) => s + n.stats.duplicateMessages, 0)).toBeGreaterThan(0);
    for (const p of c.packets) {
      expect(p.bytes).toBeLessThanOrEqual(c.config.packetBytesMax);
      expect(SerfCluster.encodedBytes(p.message)).toBe(p.bytes);
    }
    // Serf messages actually shared packets with membership gossip and each other.
    expect(c.packets.some((p) => userPayloads(p.message).length >= 3)).toBe(true);
  });
});

describe('SerfNode: driver interface', () => {
  it('pollTimeout is undefined once the node has left', () => {
    const { c, d } = trio();
    d.leave(c.at());
    c.runFor(10_000);
    expect(d.isStopped).toBe(true);
    expect(d.pollTimeout()).toBeUndefined();
  });

  it('same seeds, same run: two clusters produce identical packets', () => {
    const run = (): string => {
      const { c, a } = trio();
      a.userEvent(c.at(), 'e', bytes('1'));
      a.query(c.at(), 'q', bytes('2'));
      c.runFor(5000);
      return c.packets.map((p) => `${p.at}:${p.from}>${p.to}:${p.bytes}`).join('\n');
    };
    expect(run()).toBe(run());
  });

  it('a query times out by default after gossipIntervalMs × queryTimeoutMult × ceil(log10(n + 1)) (3 nodes: 3.2 s)', () => {
    const { c, a } = trio();
    const cfg = defaultConfig('lan');
    const timeoutMs = cfg.gossipIntervalMs * 16 * Math.ceil(Math.log10(3 + 1));
    const id = a.query(c.at(), 'q', new Uint8Array());
    c.runFor(timeoutMs - 1);
    expect(ofType(c.eventsOf(a), 'query-done').filter((e) => e.queryId === id)).toHaveLength(0);
    c.runFor(1);
    expect(ofType(c.eventsOf(a), 'query-done').filter((e) => e.queryId === id)).toHaveLength(1);
  });
});

describe('SerfNode: clocks restored from a previous life (Serf snapshot)', () => {
  it('starts above the saved clocks and does not deliver events or queries from before the restart', () => {
    const c = new SerfCluster();
    const a = c.add('a');
    const b = c.add('b', { clocks: { member: 40, event: 20, query: 7 } });
    expect(b.clocks.member).toBeGreaterThanOrEqual(40);
    expect(b.clocks.event).toBeGreaterThanOrEqual(20);
    expect(b.clocks.query).toBeGreaterThanOrEqual(7);
    c.runFor(5);
    b.join(c.at(), [a.addr]);
    c.runFor(3000);
    deliver(c, b, a, encodeSerfMessage({ type: 'user-event', ltime: 15, name: 'old', payload: bytes('x'), cc: false }));
    deliver(c, b, a, encodeSerfMessage({ type: 'user-event', ltime: 25, name: 'new', payload: bytes('y'), cc: false }));
    const names = ofType(c.eventsOf(b), 'user-event').map((e) => e.name);
    expect(names).toContain('new');
    expect(names).not.toContain('old');
    // Our own next event is stamped above the saved event clock.
    b.userEvent(c.at(), 'mine', bytes('z'), false);
    c.runFor(1000);
    expect(ofType(c.eventsOf(a), 'user-event').find((e) => e.name === 'mine')?.ltime).toBeGreaterThan(20);
  });
});
