import { describe, expect, it } from 'vitest';
import { address, millis, nodeName } from '../../../src/core/ids.js';
import type { SerfMember } from '../../../src/core/serf/member.js';
import { NodeCoordinates } from '../../../src/runtime/node-coordinates.js';
import { encodeCoordinatePayload } from '../../../src/wire/coordinate.js';

const member = (name: string, status: SerfMember['status'], tags: Record<string, string>): SerfMember => ({
  name, addr: address('127.0.0.1:1'), tags, status, statusLTime: 1, protocol: { min: 2, max: 5, cur: 2 }, delegate: { min: 2, max: 5, cur: 5 },
});
/** A peer `x` seconds along the first axis, settled (error 0.1). */
const at = (x: number): Uint8Array => encodeCoordinatePayload({ vec: [x, 0, 0, 0, 0, 0, 0, 0], error: 0.1, adjustment: 0, height: 10e-6 });

describe('NodeCoordinates (the node\'s nearest and estimates)', () => {
  const c = new NodeCoordinates('me', 1, undefined);
  const ping = c.ping;
  const peers: [string, number][] = [['near', 0.001], ['mid', 0.005], ['far', 0.02], ['gone', 0.0005]];
  for (let k = 0; k < 50; k++) for (const [name, x] of peers) ping.notifyPingComplete?.(millis(k), nodeName(name), 2 * x * 1000, at(x));
  const members = [
    member('me', 'alive', {}), member('near', 'alive', { role: 'db' }), member('mid', 'alive', { role: 'web' }),
    member('far', 'alive', { role: 'db' }), member('gone', 'failed', { role: 'db' }),
  ];

  it('ranks alive members by estimated round trip, nearest first, failed ones left out', () => {
    expect(c.nearest(10, members, undefined).map((e) => e.name)).toEqual(['near', 'mid', 'far']);
    expect(c.nearest(1, members, undefined).map((e) => e.name)).toEqual(['near']);
  });

  it('filters by tag: key=value, or key for any value', () => {
    expect(c.nearest(10, members, 'role=db').map((e) => e.name)).toEqual(['near', 'far']);
    expect(c.nearest(10, members, 'role').map((e) => e.name)).toEqual(['near', 'mid', 'far']);
    expect(c.nearest(10, members, 'zone')).toEqual([]);
  });

  it('estimates between any two known nodes, and forgets a reaped one', () => {
    expect(c.estimateRtt('near', 'far')).toBeGreaterThan(c.estimateRtt('near', 'mid') as number);
    expect(c.stats.updates).toBe(200);
    c.forget('far');
    expect(c.coordinate('far')).toBeUndefined();
    expect(c.estimateRtt('near', 'far')).toBeUndefined();
  });
});

describe('NodeCoordinates: nearestRefinement (the library option)', () => {
  const make = (refine: boolean): NodeCoordinates => {
    const c = new NodeCoordinates('me', 1, undefined, undefined, undefined, refine);
    for (const [name, x] of [['a', 0.001], ['b', 0.002]] as const) c.ping.notifyPingComplete?.(millis(1), nodeName(name), 2 * x * 1000, at(x));
    return c;
  };
  it('on (default): asks for extra pings once the probe cycle is long; off: never', () => {
    expect(make(true).ping.extraPingTarget?.(millis(10), 200_000, () => true)).not.toBeNull();
    expect(make(true).ping.extraPingTarget?.(millis(10), 60_000, () => true)).toBeNull();
    expect(make(false).ping.extraPingTarget?.(millis(10), 200_000, () => true)).toBeNull();
  });
});
