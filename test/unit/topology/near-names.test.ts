import { describe, expect, it } from 'vitest';
import { seededRng } from '../../../src/core/rng.js';
import type { Coordinate } from '../../../src/core/topology/index.js';
import { NearestRefiner, RttSamples, Topology } from '../../../src/core/topology/index.js';
import { decodeCoordinatePayload, decodeLocalCoordinate, decodeNearNames, encodeCoordinatePayload, coordinateCodec, NEAR_NAMES_MAX } from '../../../src/wire/coordinate.js';
import { decodeMessage, encodeMessage } from '../../../src/wire/index.js';
import { Writer } from '../../../src/wire/msgpack-writer.js';

/**
 * Discovery by names (issue 15, own nearest(5)): an ack to one of our extra pings names the
 * answerer's nearest members after the coordinates; the pinger pings the unknown ones.
 */
const serfPart: Coordinate = { vec: [0.001, -0.002, 0, 0, 0.0005, 0, 0, 0], error: 0.2, adjustment: -0.00001, height: 0.00012 };
const local: Coordinate = { vec: [0.0001, 0.00002, -0.00003, 0, 0, 0, 0, 0.00004], error: 0.08, adjustment: 0.000002, height: 0.000035 };
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
/** Serf's part, then `tail` (msgpack values written by `write`). */
const withTail = (write: (w: Writer) => void): Uint8Array => {
  const w = new Writer(64);
  write(w);
  return bytes(hex(encodeCoordinatePayload(serfPart)) + hex(w.finish()));
};

describe('the nearest-names extension of the ack payload', () => {
  it('follows Serf\'s coordinate (and our local one) without changing them; each part decodes', () => {
    const alone = encodeCoordinatePayload(serfPart);
    const withLocal = encodeCoordinatePayload(serfPart, local);
    for (const [before, l] of [[alone, null], [withLocal, local]] as const) {
      const p = encodeCoordinatePayload(serfPart, l, ['node-1', 'node-22', 'n']);
      expect(hex(p).startsWith(hex(before))).toBe(true);
      // [2, [3 names]]: 3 header bytes and each name's fixstr.
      expect(p.length - before.length).toBe(3 + 7 + 8 + 2);
      expect(decodeCoordinatePayload(p)).toEqual({ ok: true, value: serfPart });
      expect(decodeNearNames(p)).toEqual({ ok: true, value: ['node-1', 'node-22', 'n'] });
      const d = decodeLocalCoordinate(p);
      expect(d.ok && (d.value === null) === (l === null)).toBe(true);
    }
    // No names: the payload is exactly the one without the extension.
    expect(hex(encodeCoordinatePayload(serfPart, local, []))).toBe(hex(withLocal));
    expect(decodeNearNames(withLocal)).toEqual({ ok: true, value: [] });
    expect(decodeNearNames(alone)).toEqual({ ok: true, value: [] });
  });

  it('refuses hostile lists (too many, not strings, over-long, truncated, wrong types) with an error, never a throw', () => {
    const hostile: Uint8Array[] = [
      withTail((w) => w.arrayHeader(2).uint(2).arrayHeader(NEAR_NAMES_MAX + 1).str('a').str('b').str('c').str('d').str('e').str('f').str('g').str('h').str('i')),
      withTail((w) => w.arrayHeader(2).uint(2).arrayHeader(100_000)),
      withTail((w) => w.arrayHeader(2).uint(2).arrayHeader(2).str('a').uint(7)),
      withTail((w) => w.arrayHeader(2).uint(2).arrayHeader(1).arrayHeader(0)),
      withTail((w) => w.arrayHeader(2).uint(2).arrayHeader(1).str('x'.repeat(600))),
      withTail((w) => w.arrayHeader(2).uint(2).str('not a list')),
      withTail((w) => w.arrayHeader(1).uint(2)),
      withTail((w) => w.arrayHeader(2).uint(2).arrayHeader(3).str('a')),
      withTail((w) => w.bool(true)),
      withTail((w) => w.arrayHeader(2).str('tag').uint(1)),
    ];
    for (const p of hostile) {
      const d = decodeNearNames(p);
      expect(d.ok, hex(p).slice(260)).toBe(false);
    }
    // An extension we do not know is skipped, and the names after it are read.
    expect(decodeNearNames(withTail((w) => w.arrayHeader(2).uint(9).uint(1).arrayHeader(2).uint(2).arrayHeader(1).str('z')))).toEqual({ ok: true, value: ['z'] });
    expect(decodeNearNames(bytes('02'))).toEqual({ ok: true, value: [] });
    expect(decodeNearNames(new Uint8Array(0))).toEqual({ ok: true, value: [] });
  });

  it('the ping asks with a field Serf skips (Near), absent unless asked; a huge request is clamped', () => {
    const base = { type: 'ping' as const, seqNo: 7, node: 'b', sourceAddr: '127.0.0.1:7946', sourceNode: 'a' };
    const plain = encodeMessage(base);
    const asking = encodeMessage({ ...base, near: 3 });
    expect(decodeMessage(plain)).toEqual({ ok: true, value: base });
    expect(decodeMessage(asking)).toEqual({ ok: true, value: { ...base, near: 3 } });
    expect(hex(asking)).toContain(Buffer.from('Near').toString('hex'));
    expect(hex(plain)).not.toContain(Buffer.from('Near').toString('hex'));
    const huge = encodeMessage({ ...base, near: 4_000_000_000 });
    expect(decodeMessage(huge)).toEqual({ ok: true, value: { ...base, near: 8 } });
  });
});

describe('Topology: names in acks to our extra pings', () => {
  const at = (x: number): Coordinate => ({ vec: [x, 0, 0, 0, 0, 0, 0, 0], error: 0.1, adjustment: 0, height: 10e-6 });
  const topo = (): Topology => new Topology('me', { codec: coordinateCodec, rng: seededRng(5), localRttMs: 0 });

  it('names our nearest (the asker left out) only when asked; otherwise the payload is Serf\'s', () => {
    const t = topo();
    t.observe('a', at(0.001), 2);
    t.observe('b', at(0.002), 4);
    t.observe('c', at(0.003), 6);
    t.observe('d', at(0.03), 60);
    expect(hex(t.ackPayload())).toBe(hex(encodeCoordinatePayload(t.coordinate())));
    expect(decodeNearNames(t.ackPayload())).toEqual({ ok: true, value: [] });
    expect(decodeNearNames(t.ackPayload({ count: 3, from: 'a' }))).toEqual({ ok: true, value: ['b', 'c', 'd'] });
    // At most 3, whatever was asked.
    expect(decodeNearNames(t.ackPayload({ count: 8, from: null }))).toEqual({ ok: true, value: ['a', 'b', 'c'] });
    expect(t.stats.nearNamesSent).toBe(2);
    // Refinement off: nothing named.
    const off = new Topology('me', { codec: coordinateCodec, rng: seededRng(5), localRttMs: 0, refine: false });
    off.observe('a', at(0.001), 2);
    expect(hex(off.ackPayload({ count: 3, from: null }))).toBe(hex(off.ackPayload()));
  });

  it('unknown names from an ack become discovery candidates, after the pool\'s unmeasured members; not members: dropped and counted', () => {
    const t = topo();
    t.handlePingComplete('near', 1, encodeCoordinatePayload(at(0.0005)), 1000);
    const named = encodeCoordinatePayload(at(0.001), null, ['near', 'me', 'x-ghost', 'x-new']);
    t.handlePingComplete('via', 2, named, 1000);
    // 'near' is known and 'me' is us: only the two unknown names count.
    expect(t.stats.nearNamesReceived).toBe(2);
    const alive = (n: string): boolean => n !== 'x-ghost';
    // near and via are measured once: the named, alive, unknown member is pinged first.
    expect(t.extraPingTarget(2000, 200_000, alive)).toBe('x-new');
    expect(t.namedStats).toEqual({ named: 2, namedPinged: 1, namedDropped: 1 });
    // A hostile list is refused and counted; the coordinate in the same ack is still used.
    const before = t.stats.updates;
    t.handlePingComplete('via', 2, withTail((w) => w.arrayHeader(2).uint(2).arrayHeader(50)), 3000);
    expect(t.stats.nearNamesRefused).toBe(1);
    expect(t.stats.updates).toBe(before + 1);
  });

  it('the refiner: named members come after hints, the one named by the nearest peer first; bounded', () => {
    const s = new RttSamples();
    const r = new NearestRefiner(s, { intervalMs: 1000, maxHints: 2 });
    const all = (): boolean => true;
    r.noteNamed('far-named', 5, 0);
    r.noteNamed('close-named', 0.5, 0);
    r.notePinged('hint', 0);
    r.notePinged('hint', 1);
    expect(r.target(10_000, 500_000, [], all)).toBe('hint');
    expect(r.target(11_000, 500_000, [], all)).toBe('close-named');
    expect(r.target(12_000, 500_000, [], all)).toBe('far-named');
    expect(r.target(13_000, 500_000, [], all)).toBeNull();
    r.noteNamed('a', 1, 20_000);
    r.noteNamed('b', 1, 20_001);
    r.noteNamed('c', 1, 20_002);
    // a was named least recently: dropped (maxHints 2).
    const got = [r.target(21_000, 500_000, [], all), r.target(22_000, 500_000, [], all), r.target(23_000, 500_000, [], all)];
    expect(got).toEqual(['b', 'c', null]);
  });
});
