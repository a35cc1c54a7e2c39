import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../src/core/config.js';
import { seededRng } from '../../../src/core/rng.js';
import { address } from '../../../src/core/ids.js';
import type { SerfKeyring } from '../../../src/core/serf/keyring.js';
import { encodeBase64 } from '../../../src/core/serf/keyring.js';
import type { SerfEvent, SerfNode } from '../../../src/core/serf/index.js';
import { encodeSerfMessage } from '../../../src/wire/serf.js';
import { SerfCluster, bytes, codec, text, userPayloads } from './cluster.js';

/** a, b, c joined through a, and settled. */
function trio(): { c: SerfCluster; a: SerfNode; b: SerfNode; d: SerfNode } {
  const c = new SerfCluster();
  const a = c.add('a', { tags: { role: 'web' } });
  const b = c.add('b', { tags: { role: 'db' } });
  const d = c.add('c');
  c.runFor(5);
  b.join(c.at(), [a.addr]);
  d.join(c.at(), [a.addr]);
  c.runFor(3000);
  return { c, a, b, d };
}
const ofType = <T extends SerfEvent['type']>(evs: SerfEvent[], t: T): Extract<SerfEvent, { type: T }>[] =>
  evs.filter((e): e is Extract<SerfEvent, { type: T }> => e.type === t);

/** Delivers one Serf message to `n` as a memberlist user message from `from`. */
function deliver(c: SerfCluster, n: SerfNode, from: SerfNode, raw: Uint8Array): void {
  n.handlePacket(c.at(), from.addr, { type: 'user', payload: raw });
  c.flush(n);
}

describe('SerfNode: membership with tags and intents', () => {
  it('joins: every node lists every node alive with its tags (our data tag added), join intents stamped', () => {
    const { a, b, d } = trio();
    for (const n of [a, b, d]) {
      const ms = new Map(n.members().map((m) => [m.name, m]));
      expect([...ms.keys()].sort()).toEqual(['a', 'b', 'c']);
      expect(ms.get('a')?.tags).toEqual({ role: 'web', gc: '1' });
      expect(ms.get('b')?.tags).toEqual({ role: 'db', gc: '1' });
      for (const m of ms.values()) {
        expect(m.status).toBe('alive');
        expect(m.delegate).toEqual({ min: 2, max: 5, cur: 5 });
      }
      // b and c sent join intents after their push-pull succeeded; a never joined anyone.
      expect(ms.get('b')?.statusLTime).toBeGreaterThan(0);
      expect(ms.get('c')?.statusLTime).toBeGreaterThan(0);
      expect(ms.get('a')?.statusLTime).toBe(0);
    }
  });

  it('a graceful leave shows as left (leave intent first), a crash as failed', () => {
    const { c, a, b, d } = trio();
    d.leave(c.at());
    c.runFor(10_000);
    expect(ofType(c.eventsOf(d), 'left')).toHaveLength(1);
    for (const n of [a, b]) {
      expect(n.member('c')?.status).toBe('left');
      expect(ofType(c.eventsOf(n), 'member-left').map((e) => e.member.name)).toEqual(['c']);
      expect(ofType(c.eventsOf(n), 'member-failed')).toHaveLength(0);
    }
    b.shutdown();
    c.runFor(30_000);
    expect(a.member('b')?.status).toBe('failed');
    expect(ofType(c.eventsOf(a), 'member-failed').map((e) => e.member.name)).toEqual(['b']);
  });

  it('the leave intent goes out before the memberlist dead-self message', () => {
    const { c, d } = trio();
    const from = c.packets.length;
    d.leave(c.at());
    c.runFor(10_000);
    const sent = c.packets.slice(from).filter((p) => p.from === d.addr);
    const leaveAt = sent.findIndex((p) => userPayloads(p.message).some((u) => u[0] === 0));
    const deadAt = sent.findIndex((p) => (p.message.type === 'compound' ? p.message.parts : [p.message]).some((m) => m.type === 'dead'));
    expect(leaveAt).toBeGreaterThanOrEqual(0);
    expect(deadAt).toBeGreaterThan(leaveAt);
  });

  it('a leave intent about a live node is refuted with a newer join intent', () => {
    const { c, a, b } = trio();
    const before = a.member('b')?.statusLTime ?? 0;
    const lie = codec.encode({ type: 'leave', ltime: before + 5, node: 'b', prune: false });
    deliver(c, b, a, lie);
    c.runFor(3000);
    expect(b.member('b')?.status).toBe('alive');
    expect(a.member('b')?.status).toBe('alive');
    expect(a.member('b')?.statusLTime).toBeGreaterThan(before + 5);
  });

  it('an intent for a node not known yet applies when the node joins', () => {
    const c = new SerfCluster();
    const a = c.add('a');
    const x = c.add('x');
    c.runFor(5);
    deliver(c, a, x, codec.encode({ type: 'join', ltime: 42, node: 'x' }));
    x.join(c.at(), [a.addr]);
    c.runFor(3000);
    expect(a.member('x')?.statusLTime).toBeGreaterThanOrEqual(42);
    expect(a.clocks.member).toBeGreaterThan(42);
  });

  it('Lamport member clock: a received intent is witnessed (clock = ltime + 1)', () => {
    const { c, a, b } = trio();
    deliver(c, a, b, codec.encode({ type: 'join', ltime: 100, node: 'b' }));
    expect(a.clocks.member).toBe(101);
    deliver(c, a, b, codec.encode({ type: 'join', ltime: 50, node: 'b' }));
    expect(a.clocks.member).toBe(101);
  });
});

describe('SerfNode: tags and reaping', () => {
  it('setTags announces new tags: every member sees member-updated with them (our data tag kept)', () => {
    const { c, a, b, d } = trio();
    b.setTags(c.at(), { role: 'primary' });
    c.runFor(3000);
    for (const n of [a, d]) {
      expect(n.member('b')?.tags).toEqual({ role: 'primary', gc: '1' });
      expect(ofType(c.eventsOf(n), 'member-updated').map((e) => e.member.name)).toEqual(['b']);
    }
    expect(() => b.setTags(c.at(), { big: 'x'.repeat(600) })).toThrow(/over memberlist's limit of 512/);
  });

  it('failed members are reaped after reconnectTimeoutMs, left ones after tombstoneTimeoutMs', () => {
    const c = new SerfCluster();
    const serf = { reconnectTimeoutMs: 60_000, tombstoneTimeoutMs: 120_000, reconnectIntervalMs: 0 };
    const a = c.add('a', { serf });
    const b = c.add('b', { serf });
    const d = c.add('c', { serf });
    c.runFor(5);
    b.join(c.at(), [a.addr]);
    d.join(c.at(), [a.addr]);
    c.runFor(3000);
    d.leave(c.at());
    c.runFor(5000);
    b.shutdown();
    c.runFor(30_000);
    expect(a.members().map((m) => `${m.name}:${m.status}`).sort()).toEqual(['a:alive', 'b:failed', 'c:left']);
    c.runFor(60_000);
    expect(a.members().map((m) => `${m.name}:${m.status}`).sort()).toEqual(['a:alive', 'c:left']);
    c.runFor(60_000);
    expect(a.members().map((m) => m.name)).toEqual(['a']);
    expect(ofType(c.eventsOf(a), 'member-reaped').map((e) => e.member.name)).toEqual(['b', 'c']);
  });
});

describe('SerfNode: reconnect', () => {
  it('after a partition heals, reconnect brings failed members back alive on both sides', () => {
    const { c, a, b, d } = trio();
    const cut = new Set([d.addr]);
    c.drop = (from, to) => cut.has(from) !== cut.has(to);
    c.runFor(40_000);
    expect(a.member('c')?.status).toBe('failed');
    expect(d.member('a')?.status).toBe('failed');
    c.drop = () => false;
    c.runFor(240_000);
    for (const n of [a, b, d]) expect(n.members().map((m) => `${m.name}:${m.status}`).sort()).toEqual(['a:alive', 'b:alive', 'c:alive']);
    // Reconnect joins are internal: the application saw only its own joins complete.
    expect(ofType(c.eventsOf(a), 'join-completed')).toHaveLength(0);
  });
});

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

class FakeKeyring implements SerfKeyring {
  constructor(public ks: Uint8Array[]) {}
  keys(): Uint8Array[] {
    return this.ks;
  }
  primary(): Uint8Array | null {
    return this.ks[0] ?? null;
  }
  install(key: Uint8Array): void {
    if (![16, 24, 32].includes(key.length)) throw new Error('key size must be 16, 24 or 32 bytes');
    if (!this.ks.some((k) => Buffer.from(k).equals(key))) this.ks.push(key);
  }
  use(key: Uint8Array): void {
    const i = this.ks.findIndex((k) => Buffer.from(k).equals(key));
    if (i < 0) throw new Error('Requested key is not in the keyring');
    this.ks = [key, ...this.ks.filter((_, j) => j !== i)];
  }
  remove(key: Uint8Array): void {
    if (this.ks[0] !== undefined && Buffer.from(this.ks[0]).equals(key)) throw new Error('Removing the primary key is not allowed');
    this.ks = this.ks.filter((k) => !Buffer.from(k).equals(key));
  }
}

describe('SerfNode: internal queries', () => {
  const k1 = new Uint8Array(32).fill(1);
  const k2 = new Uint8Array(16).fill(2);

  function keyQuery(c: SerfCluster, to: SerfNode, from: SerfNode, name: string, key: Uint8Array | null, ltime: number): unknown[] {
    const start = c.packets.length;
    const payload = key === null ? null : codec.encode({ type: 'key-request', key });
    deliver(c, to, from, encodeSerfMessage({
      type: 'query', ltime, id: ltime, addr: address('127.0.0.99:7000'), sourceNode: 'serf', filters: [], flags: 1, relayFactor: 0, timeoutMs: 2000,
      name, payload,
    }));
    return c.packets.slice(start).filter((p) => p.to === '127.0.0.99:7000').flatMap((p) => userPayloads(p.message)).map((u) => {
      const r = codec.decode(u);
      if (!r.ok || r.value.type !== 'query-response') return r;
      const inner = r.value.payload === null ? null : codec.decode(r.value.payload);
      return { flags: r.value.flags, body: inner !== null && inner.ok ? inner.value : inner };
    });
  }

  it('_serf_ping is acked and not shown to the application', () => {
    const { c, a, b } = trio();
    const out = keyQuery(c, b, a, '_serf_ping', null, 50);
    expect(out).toEqual([{ flags: 1, body: null }]);
    expect(ofType(c.eventsOf(b), 'query')).toHaveLength(0);
  });

  it('list-keys answers the keys in base64 and the primary key', () => {
    const c = new SerfCluster();
    const ring = new FakeKeyring([k1, k2]);
    const a = c.add('a');
    const b = c.add('b', { keyring: ring });
    const out = keyQuery(c, b, a, '_serf_list-keys', null, 60);
    expect(out[1]).toEqual({
      flags: 0, body: { type: 'key-response', result: true, message: '', keys: [encodeBase64(k1), encodeBase64(k2)], primaryKey: encodeBase64(k1) },
    });
    expect(encodeBase64(k2)).toBe(Buffer.from(k2).toString('base64'));
  });

  it('install, use, remove go to the keyring; errors travel back in Message', () => {
    const c = new SerfCluster();
    const ring = new FakeKeyring([k1]);
    const a = c.add('a');
    const b = c.add('b', { keyring: ring });
    expect(keyQuery(c, b, a, '_serf_install-key', k2, 70)[1]).toMatchObject({ body: { result: true, message: '' } });
    expect(ring.ks).toHaveLength(2);
    expect(keyQuery(c, b, a, '_serf_use-key', k2, 71)[1]).toMatchObject({ body: { result: true } });
    expect(ring.primary()).toEqual(k2);
    expect(keyQuery(c, b, a, '_serf_remove-key', k2, 72)[1]).toMatchObject({ body: { result: false, message: 'Removing the primary key is not allowed' } });
    expect(keyQuery(c, b, a, '_serf_remove-key', k1, 73)[1]).toMatchObject({ body: { result: true } });
    expect(ring.ks).toEqual([k2]);
    expect(keyQuery(c, b, a, '_serf_install-key', new Uint8Array(5), 74)[1]).toMatchObject({ body: { result: false, message: 'key size must be 16, 24 or 32 bytes' } });
    expect(ofType(c.eventsOf(b), 'keyring-change').map((e) => e.op)).toEqual(['install', 'use', 'remove']);
  });

  it('without a keyring, key queries answer like a serf agent without encryption', () => {
    const { c, a, b } = trio();
    expect(keyQuery(c, b, a, '_serf_list-keys', null, 80)[1]).toMatchObject({ body: { result: false, message: 'Keyring is empty (encryption not enabled)' } });
    expect(keyQuery(c, b, a, '_serf_install-key', k1, 81)[1]).toMatchObject({ body: { result: false, message: 'No keyring to modify (encryption not enabled)' } });
  });

  it('a long key list is truncated to fit the 1024-byte response limit, saying so', () => {
    const c = new SerfCluster();
    const ring = new FakeKeyring(Array.from({ length: 40 }, (_, i) => new Uint8Array(32).fill(i)));
    const a = c.add('a');
    const b = c.add('b', { keyring: ring });
    const out = keyQuery(c, b, a, '_serf_list-keys', null, 90)[1] as { body: { keys: string[]; message: string } };
    expect(out.body.keys.length).toBeLessThan(40);
    expect(out.body.keys.length).toBeGreaterThan(10);
    expect(out.body.message).toBe(`truncated key list response, showing first ${out.body.keys.length} of 40 keys`);
  });
});

describe('SerfNode: bad input', () => {
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

  it('a push-pull user state with a bad prefix is counted, the member list still merges', () => {
    const c = new SerfCluster();
    const a = c.add('a');
    c.runFor(5);
    a.handleStreamRequest(c.at(), address('127.0.0.50:1'), 1, {
      type: 'push-pull', join: true, records: [{ type: 'alive', incarnation: 1 as never, node: 'z' as never, addr: address('127.0.0.50:7946'), meta: null, vsn: [1, 5, 2, 2, 5, 5] }],
      incarnations: Uint32Array.of(1), states: Uint8Array.of(0), userState: new Uint8Array([9, 9]),
    });
    c.flush(a);
    expect(a.stats.malformedMessages).toBe(1);
    expect(a.member('z')).toMatchObject({ status: 'alive', tags: { role: '' } });
  });
});

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

describe('SerfNode: data-layer messages', () => {
  function mixed(): { c: SerfCluster; a: SerfNode; b: SerfNode; s: SerfNode } {
    const c = new SerfCluster();
    const a = c.add('a');
    const b = c.add('b');
    const s = c.add('serf-like', { serf: { dataTag: null } }); // advertises no data tag
    c.runFor(5);
    b.join(c.at(), [a.addr]);
    s.join(c.at(), [a.addr]);
    c.runFor(3000);
    return { c, a, b, s };
  }

  it('sendData reaches tagged members only; untagged or unknown members get nothing', () => {
    const { c, a, b, s } = mixed();
    expect(a.dataPeers().map((m) => m.name)).toEqual(['b']);
    expect(a.sendData(c.at(), 'b', 0x81, bytes('kv'))).toBe(true);
    expect(a.sendData(c.at(), 'serf-like', 0x81, bytes('kv'))).toBe(false);
    expect(a.sendData(c.at(), 'nobody', 0x81, bytes('kv'))).toBe(false);
    expect(() => a.sendData(c.at(), 'b', 0x09, bytes('kv'))).toThrow(/outside/);
    c.runFor(10);
    expect(ofType(c.eventsOf(b), 'data-message')).toEqual([{ type: 'data-message', from: a.addr, node: 'a', dataType: 0x81, payload: bytes('kv') }]);
    expect(ofType(c.eventsOf(s), 'data-message')).toHaveLength(0);
  });

  it('reliable data messages go over a stream', () => {
    const { c, a, b } = mixed();
    a.sendData(c.at(), 'b', 0x90, bytes('big'), true);
    c.runFor(10);
    expect(ofType(c.eventsOf(b), 'data-message').map((e) => e.dataType)).toEqual([0x90]);
  });

  it('data broadcasts ride only on packets to tagged members, never to a serf-like one', () => {
    const { c, a, b, s } = mixed();
    const from = c.packets.length;
    for (let i = 0; i < 20; i++) a.broadcastData(0x82, bytes(`update ${i}`));
    c.runFor(5000);
    const sent = c.packets.slice(from);
    const toS = sent.filter((p) => p.to === s.addr).flatMap((p) => userPayloads(p.message));
    expect(toS.some((u) => (u[0] ?? 0) >= 0x80)).toBe(false);
    expect(ofType(c.eventsOf(b), 'data-message').length).toBeGreaterThanOrEqual(20);
    expect(s.stats.unknownMessages).toBe(0);
  });

  it('push-pull carries the data state between tagged members only (after a join, and periodically)', () => {
    const c = new SerfCluster();
    const got: string[] = [];
    const state = (name: string) => ({
      localState: () => bytes(`state of ${name}`),
      mergeRemoteState: (_now: unknown, buf: Uint8Array) => got.push(`${name} <- ${text(buf)}`),
    });
    const a = c.add('a', { dataState: state('a') });
    const b = c.add('b', { dataState: state('b') });
    const s = c.add('s', { serf: { dataTag: null }, dataState: state('s') });
    c.runFor(5);
    b.join(c.at(), [a.addr]);
    c.runFor(3000);
    // Right after the join (whose push-pull could not know a's tags), one more exchange carries it.
    expect(got.sort()).toEqual(['a <- state of b', 'b <- state of a']);
    expect(ofType(c.eventsOf(b), 'join-completed')).toHaveLength(1);
    got.length = 0;
    c.runFor(65_000);
    expect(got).toContain('a <- state of b');
    expect(got).toContain('b <- state of a');
    got.length = 0;
    s.join(c.at(), [a.addr]);
    c.runFor(130_000);
    expect(got.length).toBeGreaterThan(0);
    expect(got.filter((g) => g.startsWith('s <-') || g.endsWith('of s'))).toEqual([]);
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
