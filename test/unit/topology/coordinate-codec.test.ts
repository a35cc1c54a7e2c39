import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeCoordinatePayload, decodeLocalCoordinate, encodeCoordinatePayload } from '../../../src/wire/coordinate.js';
import { decodePacket, encodePacket } from '../../../src/wire/index.js';

/**
 * Real serf ack payloads (test/fixtures/serf-coordinates/acks.json, written by
 * test/fixtures/capture-serf-coordinate.ts from Debian's serf after its agents gossiped on
 * 127.0.0.1): they decode to a coordinate and re-encode to the same bytes, and so does the
 * whole ack datagram.
 */
interface Fixture {
  readonly serfVersion: string;
  readonly acks: readonly { readonly node: string; readonly datagramHex: string; readonly payloadHex: string }[];
}
const fixture = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/serf-coordinates/acks.json'), 'utf8')) as Fixture;
const bytes = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, 'hex'));

describe('coordinate ack payload against real serf acks', () => {
  it('has captures with coordinates away from the origin', () => {
    expect(fixture.acks.length).toBeGreaterThanOrEqual(3);
  });

  it.each(fixture.acks.map((a) => [a.node, a] as const))('%s: payload round-trips byte for byte', (_node, a) => {
    const d = decodeCoordinatePayload(bytes(a.payloadHex));
    if (!d.ok) throw new Error(d.detail);
    expect(d.value.vec).toHaveLength(8);
    expect(d.value.vec.some((v) => v !== 0)).toBe(true);
    expect(d.value.error).toBeGreaterThan(0);
    expect(d.value.error).toBeLessThan(1.5);
    expect(d.value.height).toBeGreaterThanOrEqual(10e-6);
    expect(Buffer.from(encodeCoordinatePayload(d.value)).toString('hex')).toBe(a.payloadHex);
  });

  it.each(fixture.acks.map((a) => [a.node, a] as const))('%s: the ack datagram round-trips byte for byte', (_node, a) => {
    const p = decodePacket(bytes(a.datagramHex), { keyring: null });
    if (!p.ok || p.value.type !== 'ack') throw new Error('not an ack');
    const c = decodeCoordinatePayload(p.value.payload ?? new Uint8Array());
    if (!c.ok) throw new Error(c.detail);
    const again = encodePacket({ type: 'ack', seqNo: p.value.seqNo, payload: encodeCoordinatePayload(c.value) }, { keyring: null });
    expect(Buffer.from(again).toString('hex')).toBe(a.datagramHex);
  });

  it('writes the field names sorted and every number as float64, as Go does', () => {
    const b = encodeCoordinatePayload({ vec: [0, 0, 0, 0, 0, 0, 0, 0], error: 1.5, adjustment: 0, height: 10e-6 });
    // The origin coordinate serf acks with before its first update (test/fixtures/serf-captures/single-plain.json #6).
    expect(Buffer.from(b).toString('hex')).toBe(
      '0184aa41646a7573746d656e74cb0000000000000000a54572726f72cb3ff8000000000000a6486569676874cb3ee4f8b588e368f1a356656398'
      + 'cb0000000000000000'.repeat(8),
    );
  });
});

describe('decoding hostile payloads', () => {
  it.each([
    ['empty', '', 'truncated'],
    ['another ping version', '0284', 'unknown-type'],
    ['not a map', '01c3', 'malformed'],
    ['truncated float', '0181a5457272' + '6f72cb3ff8', 'truncated'],
    ['a Vec of 1,000 dimensions', `0181a3566563dc03e8`, 'malformed'],
    ['a Vec that is not an array', '0181a3566563a161', 'malformed'],
  ])('%s → %s', (_what, hex, reason) => {
    const d = decodeCoordinatePayload(bytes(hex));
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.reason).toBe(reason);
  });

  it('reads what Go reads: missing fields are zero, unknown ones skipped, integers and float32 as numbers', () => {
    // {"Error": 1 (int), "Zzz": "x", "Height": float32 0.5, "Vec": [1, 2]}
    const d = decodeCoordinatePayload(bytes('0184a54572726f7201a35a7a7aa178a6486569676874ca3f000000a356656392' + '0102'));
    expect(d).toEqual({ ok: true, value: { vec: [1, 2], error: 1, adjustment: 0, height: 0.5 } });
  });
});

describe('our local-space coordinate after Serf\'s (issue 15, accuracy)', () => {
  const serfPart = { vec: [0.001, -0.002, 0, 0, 0.0005, 0, 0, 0], error: 0.2, adjustment: -0.00001, height: 0.00012 };
  const local = { vec: [0.0001, 0.00002, -0.00003, 0, 0, 0, 0, 0.00004], error: 0.08, adjustment: 0.000002, height: 0.000035 };

  it('leaves Serf\'s part byte for byte as Serf writes it, and Serf\'s part decodes alone', () => {
    const both = encodeCoordinatePayload(serfPart, local);
    const alone = encodeCoordinatePayload(serfPart);
    expect(Buffer.from(both.subarray(0, alone.length)).equals(Buffer.from(alone))).toBe(true);
    // 1 + 8 float32s + 3 float32s and the headers: 58 bytes after Serf's 130.
    expect(both.length - alone.length).toBe(58);
    const d = decodeCoordinatePayload(both);
    expect(d.ok && d.value).toEqual(serfPart);
  });

  it('round-trips to float32 precision (a nanosecond on a local coordinate)', () => {
    const d = decodeLocalCoordinate(encodeCoordinatePayload(serfPart, local));
    if (!d.ok || d.value === null) throw new Error('no local coordinate');
    expect(d.value.vec).toHaveLength(8);
    d.value.vec.forEach((v, i) => expect(Math.abs(v - (local.vec[i] as number))).toBeLessThan(1e-9));
    expect(d.value.error).toBeCloseTo(0.08, 6);
    expect(Math.abs(d.value.height - local.height)).toBeLessThan(1e-12);
  });

  it.each(fixture.acks.map((a) => [a.node, a] as const))('%s: a real serf ack has none', (_node, a) => {
    expect(decodeLocalCoordinate(bytes(a.payloadHex))).toEqual({ ok: true, value: null });
  });

  it('a later version of the extension is ignored; a broken one is an error, never a throw', () => {
    const alone = Buffer.from(encodeCoordinatePayload(serfPart)).toString('hex');
    expect(decodeLocalCoordinate(bytes(alone + '9502' + '90' + 'ca00000000'.repeat(3)))).toEqual({ ok: true, value: null });
    for (const tail of ['c3', '95', '9501', '9501dc03e8', '950191ca0000', '93010203']) {
      const d = decodeLocalCoordinate(bytes(alone + tail));
      expect(d.ok, tail).toBe(false);
    }
    expect(decodeLocalCoordinate(bytes('02'))).toEqual({ ok: true, value: null });
  });
});
