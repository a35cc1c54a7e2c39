import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SerfMessage } from '../../../src/core/serf/messages.js';
import { decodeSerfFilter, decodeSerfMessage, decodeSerfTags, encodeSerfFilter, encodeSerfMessage, encodeSerfTags } from '../../../src/wire/serf.js';
import { bytes } from './cluster.js';
import { propertySeed } from '../../property/seed.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
/** Builds expected bytes from hex and quoted ASCII, as the reference writes them: `a4"Addr"`. */
function wire(spec: string): string {
  return spec.replace(/"([^"]*)"/g, (_, s: string) => Buffer.from(s, 'ascii').toString('hex')).replace(/\s+/g, '');
}

describe('serf codec: Go-exact bytes (reference §8)', () => {
  it('tags: none → ff 80; {lang:js, role:ts} → ff 82 a4"lang" a2"js" a4"role" a2"ts"', () => {
    expect(hex(encodeSerfTags({}))).toBe('ff80');
    expect(hex(encodeSerfTags({ lang: 'js', role: 'ts' }))).toBe(wire('ff 82 a4"lang" a2"js" a4"role" a2"ts"'));
  });

  it('user event as observed from serf: {CC:true, LTime:1, Name:"deploy", Payload:"hello-payload"}', () => {
    const m: SerfMessage = { type: 'user-event', ltime: 1, name: 'deploy', payload: bytes('hello-payload'), cc: true };
    expect(hex(encodeSerfMessage(m))).toBe(wire('03 84 a2"CC" c3 a5"LTime" 01 a4"Name" a6"deploy" a7"Payload" ad"hello-payload"'));
  });

  it('an empty event payload is nil (c0), as serf event sends it', () => {
    const m: SerfMessage = { type: 'user-event', ltime: 300, name: 'e', payload: null, cc: false };
    expect(hex(encodeSerfMessage(m))).toBe(wire('03 84 a2"CC" c2 a5"LTime" cd012c a4"Name" a1"e" a7"Payload" c0'));
  });

  it('query: sorted keys, Addr as 4 raw bytes, nil Filters, Timeout in ns as uint32', () => {
    const m: SerfMessage = {
      type: 'query', ltime: 1, id: 5, addr: '127.0.0.1:17946', sourceNode: 'a', filters: [], flags: 1, relayFactor: 0,
      timeoutMs: 2000, name: 'whoami', payload: bytes('x'),
    };
    expect(hex(encodeSerfMessage(m))).toBe(wire(
      '04 8b a4"Addr" a4 7f000001 a7"Filters" c0 a5"Flags" 01 a2"ID" 05 a5"LTime" 01 a4"Name" a6"whoami" a7"Payload" a1"x" ' +
      'a4"Port" cd 461a ab"RelayFactor" 00 aa"SourceNode" a1"a" a7"Timeout" ce 77359400',
    ));
  });

  it('join and leave intents', () => {
    expect(hex(encodeSerfMessage({ type: 'join', ltime: 7, node: 'ts1' }))).toBe(wire('01 82 a5"LTime" 07 a4"Node" a3"ts1"'));
    expect(hex(encodeSerfMessage({ type: 'leave', ltime: 8, node: 'ts1', prune: false }))).toBe(wire('00 83 a5"LTime" 08 a4"Node" a3"ts1" a5"Prune" c2'));
  });

  it('query response and ack', () => {
    expect(hex(encodeSerfMessage({ type: 'query-response', ltime: 2, id: 9, from: 'b', flags: 1, payload: null })))
      .toBe(wire('05 85 a5"Flags" 01 a4"From" a1"b" a2"ID" 09 a5"LTime" 02 a7"Payload" c0'));
  });

  it('key response: Keys nil when absent, sorted Keys, Message, PrimaryKey, Result', () => {
    expect(hex(encodeSerfMessage({ type: 'key-response', result: false, message: 'm', keys: null, primaryKey: '' })))
      .toBe(wire('08 84 a4"Keys" c0 a7"Message" a1"m" aa"PrimaryKey" a0 a6"Result" c2'));
  });

  it('push-pull: 512 nil event slots as array16, LeftMembers an empty array (never nil)', () => {
    const m: SerfMessage = {
      type: 'push-pull', ltime: 3, statusLTimes: new Map([['a', 2]]), leftMembers: [], eventLTime: 1,
      events: new Array<null>(512).fill(null), queryLTime: 1, trailer: null,
    };
    const b = encodeSerfMessage(m);
    const h = hex(b);
    expect(h.startsWith(wire('02 86 aa"EventLTime" 01 a6"Events" dc0200'))).toBe(true);
    expect(h.endsWith(wire('a5"LTime" 03 ab"LeftMembers" 90 aa"QueryLTime" 01 ac"StatusLTimes" 81 a1"a" 02'))).toBe(true);
    expect(b.length).toBe(1 + 1 + 11 + 1 + 7 + 3 + 512 + 6 + 1 + 12 + 1 + 11 + 1 + 13 + 1 + 2 + 1);
  });
});

describe('serf codec: round trips', () => {
  const samples: SerfMessage[] = [
    { type: 'leave', ltime: 2 ** 40, node: 'n', prune: true },
    { type: 'join', ltime: 1, node: 'ünïcode' },
    { type: 'user-event', ltime: 4, name: 'deploy', payload: bytes('p'), cc: false },
    {
      type: 'query', ltime: 3, id: 2 ** 31 - 1, addr: '[::1]:7946', sourceNode: 's', filters: [encodeSerfFilter({ type: 'node', names: ['a', 'b'] })],
      flags: 3, relayFactor: 2, timeoutMs: 15_000, name: '_serf_ping', payload: null,
    },
    { type: 'query-response', ltime: 3, id: 1, from: 'x', flags: 0, payload: bytes('answer') },
    { type: 'key-request', key: new Uint8Array(32).fill(7) },
    { type: 'key-response', result: true, message: '', keys: ['AAAA', 'BBBB'], primaryKey: 'AAAA' },
    { type: 'relay', destAddr: '127.0.0.9:1234', destName: '', message: encodeSerfMessage({ type: 'join', ltime: 1, node: 'q' }) },
    {
      type: 'push-pull', ltime: 9, statusLTimes: new Map([['a', 1], ['b', 4]]), leftMembers: ['b'], eventLTime: 5,
      events: [null, { ltime: 1, events: [{ name: 'e', payload: bytes('x') }, { name: 'f', payload: null }] }, null], queryLTime: 2,
      trailer: new Uint8Array([0x80, 1, 2, 3]),
    },
  ];
  for (const m of samples) {
    it(`${m.type} decodes to what was encoded`, () => {
      const r = decodeSerfMessage(encodeSerfMessage(m));
      expect(r).toEqual({ ok: true, value: m });
    });
  }

  it('tags round trip, and meta without the ff magic is the role tag (a plain node shows role="")', () => {
    expect(decodeSerfTags(encodeSerfTags({ a: '1', role: 'db' }))).toEqual({ ok: true, value: { a: '1', role: 'db' } });
    expect(decodeSerfTags(null)).toEqual({ ok: true, value: { role: '' } });
    expect(decodeSerfTags(bytes('web'))).toEqual({ ok: true, value: { role: 'web' } });
    expect(decodeSerfTags(new Uint8Array([0xff, 0x81, 0xa1]))).toMatchObject({ ok: false });
  });

  it('filters round trip; an unknown filter type is an error, not an exception', () => {
    const tag = { type: 'tag', tag: 'role', expr: '^web' } as const;
    expect(decodeSerfFilter(encodeSerfFilter(tag))).toEqual({ ok: true, value: tag });
    expect(decodeSerfFilter(new Uint8Array([7, 0x90]))).toMatchObject({ ok: false, reason: 'unknown-type' });
  });

  it('an unknown message type is reported as unknown-type', () => {
    expect(decodeSerfMessage(new Uint8Array([10, 0x80]))).toMatchObject({ ok: false, reason: 'unknown-type' });
    expect(decodeSerfMessage(new Uint8Array([]))).toMatchObject({ ok: false });
  });

  it('decoders never throw: random bytes and truncations of valid messages', () => {
    const valid = samples.map(encodeSerfMessage);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(valid.length - 1), fc.nat(), (rnd, i, cut) => {
      const v = valid[i] as Uint8Array;
      for (const b of [rnd, v.subarray(0, cut % (v.length + 1)), Uint8Array.from([v[0] ?? 0, ...rnd])]) {
        const r = decodeSerfMessage(b);
        expect(typeof r.ok).toBe('boolean');
        expect(typeof decodeSerfTags(b).ok).toBe('boolean');
        expect(typeof decodeSerfFilter(b).ok).toBe('boolean');
      }
    }), { numRuns: 3000, seed: propertySeed(42) });
  });

  it('lenient like Go: bin8 for bytes, str8 for strings, a u64 LTime', () => {
    // user event with Name as str8 and Payload as bin8, LTime as uint64
    const b = Buffer.from(wire('03 84 a2"CC" c3 a5"LTime" cf0000000000000005 a4"Name" d9 01 "n" a7"Payload" c4 02 0102'), 'hex');
    expect(decodeSerfMessage(new Uint8Array(b))).toEqual({ ok: true, value: { type: 'user-event', ltime: 5, name: 'n', payload: new Uint8Array([1, 2]), cc: true } });
  });
});
