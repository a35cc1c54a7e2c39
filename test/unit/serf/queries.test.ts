import { describe, expect, it } from 'vitest';
import { address } from '../../../src/core/ids.js';
import { encodeSerfMessage } from '../../../src/wire/serf.js';
import { bytes, codec, deliver, ofType, text, trio, userPayloads } from './cluster.js';

describe('SerfNode: queries', () => {
  it('a query gets acks and answers from every node, then query-done', () => {
    const { c, a, b, d } = trio();
    const id = a.query(c.at(), 'whoami', bytes('?'), { requestAck: true, timeoutMs: 3000 });
    c.runFor(600);
    for (const n of [a, b, d]) {
      const q = ofType(c.eventsOf(n), 'query');
      expect(q).toHaveLength(1);
      n.respond(c.at(), q[0]?.queryId ?? -1, bytes(`I am ${n.name}`));
    }
    c.runFor(4000);
    const evs = c.eventsOf(a);
    expect(ofType(evs, 'query-ack').filter((e) => e.queryId === id).map((e) => e.from).sort()).toEqual(['a', 'b', 'c']);
    const responses = ofType(evs, 'query-response').filter((e) => e.queryId === id);
    expect(responses.map((e) => `${e.from}:${text(e.payload)}`).sort()).toEqual(['a:I am a', 'b:I am b', 'c:I am c']);
    expect(ofType(evs, 'query-done')).toEqual([{ type: 'query-done', queryId: id, acks: 3, responses: 3 }]);
  });

  it('an incoming query is answered to its Addr:Port as 05-typed responses, ack flag first', () => {
    const { c, a, b } = trio();
    const asker = address('127.0.0.99:7000');
    const q = encodeSerfMessage({
      type: 'query', ltime: 77, id: 1234, addr: asker, sourceNode: 'serf', filters: [], flags: 1, relayFactor: 0, timeoutMs: 2000,
      name: 'hello', payload: bytes('p'),
    });
    const from = c.packets.length;
    deliver(c, b, a, q);
    const ev = ofType(c.eventsOf(b), 'query').at(-1);
    expect(ev).toMatchObject({ name: 'hello', sourceNode: 'serf', ltime: 77 });
    b.respond(c.at(), ev?.queryId ?? -1, bytes('hi'));
    c.flush(b);
    const toAsker = c.packets.slice(from).filter((p) => p.to === asker).flatMap((p) => userPayloads(p.message)).map((u) => codec.decode(u));
    expect(toAsker.map((r) => (r.ok ? r.value : null))).toEqual([
      { type: 'query-response', ltime: 77, id: 1234, from: 'b', flags: 1, payload: null },
      { type: 'query-response', ltime: 77, id: 1234, from: 'b', flags: 0, payload: bytes('hi') },
    ]);
    expect(() => b.respond(c.at(), ev?.queryId ?? -1, bytes('again'))).toThrow(/already answered/);
    expect(b.clocks.query).toBe(78);
  });

  it('filters: a node filter that excludes us means no ack and no event, but the query is still re-gossiped', () => {
    const { c, a, b } = trio();
    const q = encodeSerfMessage({
      type: 'query', ltime: 5, id: 1, addr: a.addr, sourceNode: 'a', filters: [codec.encodeFilter({ type: 'node', names: ['c'] })],
      flags: 1, relayFactor: 0, timeoutMs: 2000, name: 'only-c', payload: null,
    });
    const from = c.packets.length;
    deliver(c, b, a, q);
    expect(ofType(c.eventsOf(b), 'query')).toHaveLength(0);
    c.runFor(1000);
    const fromB = c.packets.slice(from).filter((p) => p.from === b.addr).flatMap((p) => userPayloads(p.message));
    expect(fromB.some((u) => u[0] === 4)).toBe(true); // re-gossiped
    expect(fromB.some((u) => u[0] === 5)).toBe(false); // no ack
  });

  it('filters: tag expressions match unanchored, as Go regexp.MatchString does', () => {
    const { c, a, b, d } = trio();
    a.query(c.at(), 'dbs', new Uint8Array(), { filterTags: { role: 'd' }, timeoutMs: 2000 });
    c.runFor(1000);
    expect(ofType(c.eventsOf(b), 'query')).toHaveLength(1);
    expect(ofType(c.eventsOf(d), 'query')).toHaveLength(0);
    expect(ofType(c.eventsOf(a), 'query')).toHaveLength(0);
  });

  it('no-broadcast queries are not re-gossiped; a query seen twice is processed once', () => {
    const { c, a, b } = trio();
    const q = encodeSerfMessage({
      type: 'query', ltime: 6, id: 2, addr: a.addr, sourceNode: 'a', filters: [], flags: 2, relayFactor: 0, timeoutMs: 2000, name: 'x', payload: null,
    });
    const from = c.packets.length;
    deliver(c, b, a, q);
    deliver(c, b, a, q);
    expect(ofType(c.eventsOf(b), 'query')).toHaveLength(1);
    c.runFor(1000);
    expect(c.packets.slice(from).filter((p) => p.from === b.addr).flatMap((p) => userPayloads(p.message)).some((u) => u[0] === 4)).toBe(false);
  });

  it('relay factor: responses also go through other members as 09-relay messages, which forward them unchanged', () => {
    const { c, a, b, d } = trio();
    const asker = address('127.0.0.99:7000');
    const q = encodeSerfMessage({
      type: 'query', ltime: 8, id: 3, addr: asker, sourceNode: 'x', filters: [], flags: 0, relayFactor: 1, timeoutMs: 2000, name: 'r', payload: null,
    });
    const from = c.packets.length;
    deliver(c, b, a, q);
    const ev = ofType(c.eventsOf(b), 'query').at(-1);
    b.respond(c.at(), ev?.queryId ?? -1, bytes('ok'));
    c.runFor(10);
    const relays = c.packets.slice(from).filter((p) => p.from === b.addr && p.to !== asker).flatMap((p) => userPayloads(p.message)).filter((u) => u[0] === 9);
    expect(relays).toHaveLength(1);
    // The relaying member forwarded the inner response to the asker.
    const forwarded = c.packets.slice(from).filter((p) => p.to === asker && p.from !== b.addr).flatMap((p) => userPayloads(p.message));
    expect(forwarded.map((u) => codec.decode(u)).map((r) => (r.ok ? r.value : null))).toEqual([
      { type: 'query-response', ltime: 8, id: 3, from: 'b', flags: 0, payload: bytes('ok') },
    ]);
    expect(a.stats.relaysForwarded + d.stats.relaysForwarded).toBe(1);
  });
});
