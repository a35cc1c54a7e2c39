import { describe, expect, it } from 'vitest';
import { seededRng } from '../../../src/core/rng.js';
import type { Coordinate } from '../../../src/core/topology/index.js';
import { LOCAL_GATE, Topology, estimateBetweenMs, estimateRttMs } from '../../../src/core/topology/index.js';
import { coordinateCodec, decodeLocalCoordinate, encodeCoordinatePayload } from '../../../src/wire/coordinate.js';

/** A settled coordinate `x` seconds along the first axis. */
const at = (x: number, error = 0.1): Coordinate => ({ vec: [x, 0, 0, 0, 0, 0, 0, 0], error, adjustment: 0, height: 10e-6 });

describe('the local coordinate space (issue 15, accuracy)', () => {
  it('only round trips of at most localRttMs move it; every peer\'s local coordinate is cached', () => {
    const t = new Topology('me', { codec: coordinateCodec, rng: seededRng(1), localRttMs: 5 });
    for (let k = 0; k < 40; k++) {
      t.handlePingComplete('near', 0.4, encodeCoordinatePayload(at(0.03), at(0.0002)));
      t.handlePingComplete('far', 60, encodeCoordinatePayload(at(0.06), at(0.0004)));
    }
    expect(t.stats.updates).toBe(80);
    expect(t.stats.localUpdates).toBe(40);
    expect(t.nodeCoordinates('far')?.local).not.toBeNull();
    // Serf's space: 40 updates towards 60 ms and 40 towards 0.4 ms; the local space saw only the 0.4 ms ones.
    const local = t.localCoordinate() as Coordinate;
    expect(estimateRttMs(local, t.nodeCoordinates('near')?.local as Coordinate)).toBeCloseTo(0.4, 1);
  });

  it('estimates a close pair in the local space and a far one in Serf\'s, as estimateBetweenMs says', () => {
    const near = { coordinate: at(0.001), local: at(0.0001) };
    const me = { coordinate: at(0), local: at(0) };
    const far = { coordinate: at(0.03), local: at(0.0001) };
    // Close by Serf's space (1 ms + heights ≤ 2 × 5 ms): the local estimate (0.1 ms + heights).
    expect(estimateBetweenMs(me, near, 5)).toBeCloseTo(estimateRttMs(me.local, near.local), 9);
    // Far (30 ms > LOCAL_GATE × 5 ms): Serf's estimate, whatever the local coordinates say.
    expect(30).toBeGreaterThan(LOCAL_GATE * 5);
    expect(estimateBetweenMs(me, far, 5)).toBeCloseTo(estimateRttMs(me.coordinate, far.coordinate), 9);
    // Either side without a local coordinate (a Serf agent), or the local space off: Serf's.
    expect(estimateBetweenMs(me, { ...near, local: null }, 5)).toBe(estimateRttMs(me.coordinate, near.coordinate));
    expect(estimateBetweenMs(me, near, 0)).toBe(estimateRttMs(me.coordinate, near.coordinate));
  });

  it('with localRttMs 0 our acks are exactly Serf\'s, nothing is cached and nothing moves', () => {
    const t = new Topology('me', { codec: coordinateCodec, rng: seededRng(2), localRttMs: 0 });
    expect(Buffer.from(t.ackPayload()).equals(Buffer.from(encodeCoordinatePayload(t.coordinate())))).toBe(true);
    t.handlePingComplete('near', 0.4, encodeCoordinatePayload(at(0.03), at(0.0002)));
    expect(t.localCoordinate()).toBeNull();
    expect(t.nodeCoordinates('near')?.local).toBeNull();
    expect(t.stats.localUpdates).toBe(0);
    const on = new Topology('me', { codec: coordinateCodec, rng: seededRng(2) });
    const sent = decodeLocalCoordinate(on.ackPayload());
    if (!sent.ok || sent.value === null) throw new Error('no local coordinate in the ack');
    // The origin with the maximal error, to float32 precision.
    expect(sent.value).toMatchObject({ vec: [0, 0, 0, 0, 0, 0, 0, 0], error: 1.5, adjustment: 0 });
    expect(sent.value.height).toBeCloseTo(10e-6, 12);
  });

  it('a broken local part is counted and dropped; Serf\'s coordinate in the same ack is still used', () => {
    const t = new Topology('me', { codec: coordinateCodec, rng: seededRng(3) });
    const serf = encodeCoordinatePayload(at(0.001));
    expect(t.handlePingComplete('p', 2, new Uint8Array([...serf, 0x95, 0x01, 0xc3]))).toBe(true);
    expect(t.handlePingComplete('q', 2, encodeCoordinatePayload(at(0.001), { ...at(0), vec: [0, 0] }))).toBe(true);
    expect(t.stats).toMatchObject({ updates: 2, localRejected: 2, localUpdates: 0 });
    expect(t.nodeCoordinates('p')?.local).toBeNull();
    expect(() => new Topology('me', { codec: coordinateCodec, rng: seededRng(3), localRttMs: -1 })).toThrow(/localRttMs/);
  });
});
