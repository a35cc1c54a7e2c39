import { describe, expect, it } from 'vitest';
import { encodeMessage, decodeMessage } from '../../../src/wire/index.js';
import { encode, Float64 } from '../../../src/wire/msgpack-writer.js';
import { decodeValue } from '../../../src/wire/msgpack-value.js';
import { WireError } from '../../../src/wire/result.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const str = (s: string): string => hex(new TextEncoder().encode(s));

describe('msgpack encoder writes what go-msgpack MsgpackHandle{} writes', () => {
  it.each([
    [0, '00'],
    [127, '7f'],
    [128, 'cc80'],
    [255, 'ccff'],
    [256, 'cd0100'],
    [65535, 'cdffff'],
    [65536, 'ce00010000'],
    [0xffffffff, 'ceffffffff'],
    [2 ** 32, 'cf0000000100000000'],
    [-1, 'ff'],
    [-32, 'e0'],
    [-33, 'd0df'],
    [-129, 'd1ff7f'],
    [-40000, 'd2ffff63c0'],
    [1.5, 'cb3ff8000000000000'],
    [true, 'c3'],
    [false, 'c2'],
    [null, 'c0'],
  ] as const)('%s → %s', (v, want) => {
    expect(hex(encode(v))).toBe(want);
  });

  it('strings and bytes as raw: fixstr < 32, then str16 (never str8 0xd9), then str32; never bin', () => {
    expect(hex(encode('a'.repeat(31)))).toBe('bf' + '61'.repeat(31));
    expect(hex(encode('a'.repeat(32))).slice(0, 6)).toBe('da0020');
    expect(hex(encode('a'.repeat(255))).slice(0, 6)).toBe('da00ff');
    expect(hex(encode('a'.repeat(65535))).slice(0, 6)).toBe('daffff');
    expect(hex(encode('a'.repeat(65536))).slice(0, 10)).toBe('db00010000');
    expect(hex(encode(new Uint8Array([1, 2])))).toBe('a20102');
    expect(hex(encode(new Uint8Array(300))).slice(0, 6)).toBe('da012c');
    expect(hex(encode('é'))).toBe('a2c3a9');
  });

  it('structs as maps with field names sorted by bytes; undefined fields omitted; Go maps keep the given order', () => {
    expect(hex(encode({ SeqNo: 7, Payload: null }))).toBe('82' + 'a7' + str('Payload') + 'c0' + 'a5' + str('SeqNo') + '07');
    expect(hex(encode({ b: 1, B: 2, a: undefined }))).toBe('82a14202a16201');
    expect(hex(encode(new Map([['z', 1], ['a', 2]])))).toBe('82a17a01a16102');
    expect(hex(encode([1, 'x', new Float64(2)]))).toBe('9301a178cb4000000000000000');
  });

  it('the reference §2 example bytes', () => {
    const alive = encodeMessage({ type: 'alive', incarnation: 1, node: 'ts1', addr: '127.0.0.1:7946', meta: unhex('ff80'), vsn: [1, 5, 2, 2, 5, 5] });
    expect(hex(alive)).toBe(`0486a4${str('Addr')}a47f000001ab${str('Incarnation')}01a4${str('Meta')}a2ff80a4${str('Node')}a3${str('ts1')}a4${str('Port')}cd1f0aa3${str('Vsn')}a6010502020505`);
    expect(hex(encodeMessage({ type: 'ack', seqNo: 7, payload: null }))).toBe(`0282a7${str('Payload')}c0a5${str('SeqNo')}07`);
  });
});

describe('msgpack decoder accepts what Go accepts', () => {
  const aliveFields = (addr: string, meta: string, node: string, vsn: string, inc = '01', port = 'cd1f0a'): string =>
    `86a4${str('Addr')}${addr}ab${str('Incarnation')}${inc}a4${str('Meta')}${meta}a4${str('Node')}${node}a4${str('Port')}${port}a3${str('Vsn')}${vsn}`;
  const want = { type: 'alive', incarnation: 1, node: 'ts1', addr: '127.0.0.1:7946', meta: unhex('ff80'), vsn: [1, 5, 2, 2, 5, 5] };

  it.each([
    ['Go form', aliveFields('a47f000001', 'a2ff80', `a3${str('ts1')}`, 'a6010502020505')],
    ['bin8 bytes, str8 name (a probe serf 0.9.4 accepted)', aliveFields('c4047f000001', 'c402ff80', `d903${str('ts1')}`, 'c406010502020505')],
    ['bin16/bin32, str16/str32', aliveFields('c500047f000001', 'c600000002ff80', `da0003${str('ts1')}`, 'db00000006010502020505')],
    ['Vsn as an array of ints', aliveFields('a47f000001', 'a2ff80', `a3${str('ts1')}`, '96010502020505')],
    ['integers in wider forms', aliveFields('a47f000001', 'a2ff80', `a3${str('ts1')}`, 'a6010502020505', 'cf0000000000000001', 'ce00001f0a')],
  ])('%s', (_n, body) => {
    expect(decodeMessage(unhex('04' + body))).toEqual({ ok: true, value: want });
  });

  it('a struct as an array in declaration order, unknown keys skipped, nil as zero values, 0/1 as bools', () => {
    // alive in declaration order: Incarnation, Node, Addr, Port, Meta, Vsn
    expect(decodeMessage(unhex(`0496 01 a3${str('ts1')} a47f000001 cd1f0a a2ff80 a6010502020505`))).toEqual({ ok: true, value: want });
    expect(decodeMessage(unhex(`0282 a3${str('Foo')} 93010203 a5${str('SeqNo')} 09`))).toEqual({ ok: true, value: { type: 'ack', seqNo: 9, payload: null } });
    expect(decodeMessage(unhex(`0281 a5${str('SeqNo')} c0`))).toEqual({ ok: true, value: { type: 'ack', seqNo: 0, payload: null } });
    expect(decodeMessage(unhex(`0185 a4${str('Nack')} 01 a6${str('Target')} a47f000001 a4${str('Port')} 50 a4${str('Node')} a1${str('x')} a5${str('SeqNo')} 02`))).toEqual({
      ok: true,
      value: { type: 'indirect-ping', seqNo: 2, target: '127.0.0.1:80', node: 'x', nack: true, sourceAddr: null, sourceNode: null },
    });
  });

  it('16-byte IPv4-mapped addresses keep their form; IPv6 in brackets', () => {
    const mapped = '00000000000000000000ffff7f000001';
    const r = decodeMessage(unhex('04' + aliveFields(`b0${mapped}`, 'c0', `a3${str('ts1')}`, 'a6010502020505')));
    expect(r).toMatchObject({ ok: true, value: { addr: '[::ffff:127.0.0.1]:7946', meta: null } });
    if (r.ok) expect(hex(encodeMessage(r.value))).toContain(`b0${mapped}`);
    expect(decodeMessage(unhex('04' + aliveFields(`b0${'0'.repeat(30)}01`, 'c0', `a3${str('ts1')}`, 'a6010502020505')))).toMatchObject({ ok: true, value: { addr: '[::1]:7946' } });
  });

  it.each([
    ['uint32 overflow', `0281a5${str('SeqNo')}cf0000000100000000`, 'malformed'],
    ['negative into unsigned', `0281a5${str('SeqNo')}ff`, 'malformed'],
    ['bool that is 2', `0185 a4${str('Nack')} 02 a6${str('Target')} a47f000001 a4${str('Port')} 50 a4${str('Node')} a1${str('x')} a5${str('SeqNo')} 02`, 'malformed'],
    ['indirect ping without a target', `0181a5${str('SeqNo')}01`, 'malformed'],
    ['truncated body', `0282a7${str('Payload')}`, 'truncated'],
    ['3-byte address', '04' + aliveFields('a37f0000', 'c0', `a3${str('ts1')}`, 'a6010502020505'), 'malformed'],
    ['5-byte Vsn (crashes Go 0.2.2 peers)', '04' + aliveFields('a47f000001', 'c0', `a3${str('ts1')}`, 'a50105020205'), 'malformed'],
    ['reserved byte 0xc1', `0282a7${str('Payload')}c1a5${str('SeqNo')}07`, 'malformed'],
    ['unknown type', 'ee00', 'unknown-type'],
    ['push-pull is stream-only', '0680', 'unknown-type'],
    ['label header (memberlist ≥ 0.3)', 'f403616263', 'label-mismatch'],
  ])('rejects %s', (_n, h, reason) => {
    const r = decodeMessage(unhex(h));
    expect(r).toMatchObject({ ok: false, reason });
  });

  it('generic decode keeps raw strings as bytes and maps with string keys', () => {
    const m = decodeValue(unhex('83a16192c0c3a162cb3ff8000000000000a163a27879')) as Map<string, unknown>;
    expect([...m.keys()]).toEqual(['a', 'b', 'c']);
    expect(m.get('a')).toEqual([null, true]);
    expect(m.get('b')).toBe(1.5);
    expect(m.get('c')).toEqual(unhex('7879'));
    expect(() => decodeValue(unhex('82a161'))).toThrow(WireError);
  });
});
