import { describe, expect, it } from 'vitest';
import { HashRing, diffRings, ringHash } from '../../../src/core/ring/index.js';

describe('HashRing', () => {
  it('is deterministic across processes: pinned owners and checksum', () => {
    const ring = HashRing.build(['a', 'b', 'c']);
    // Pinned: a change of point placement or of the hash changes these (and must bump RING_FORMAT).
    expect(ringHash('user/42')).toBe(ringHash('user/42'));
    expect({ checksum: ring.checksum, owners: ['user/1', 'user/2', 'user/3', 'x'].map((k) => ring.lookup(k)) }).toMatchSnapshot();
  });

  it('lookupN returns distinct members, the owner first, at most the ring size', () => {
    const ring = HashRing.build(['a', 'b', 'c', 'd']);
    for (const k of ['k1', 'k2', 'k3']) {
      const l = ring.lookupN(k, 3);
      expect(l).toHaveLength(3);
      expect(new Set(l).size).toBe(3);
      expect(l[0]).toBe(ring.lookup(k));
      expect(ring.lookupN(k, 10)).toHaveLength(4);
    }
    expect(ring.lookupN('k', 0)).toEqual([]);
    expect(() => ring.lookupN('k', -1)).toThrow(RangeError);
  });

  it('filters members by tag, and an empty ring owns nothing', () => {
    const ring = HashRing.build([{ name: 'a', tags: { role: 'cache' } }, { name: 'b', tags: { role: 'db' } }, { name: 'c', tags: { role: 'cache', dc: 'x' } }], { tags: { role: 'cache' } });
    expect(ring.members).toEqual(['a', 'c']);
    const empty = HashRing.build([]);
    expect(empty.lookup('k')).toBeUndefined();
    expect(empty.lookupN('k', 3)).toEqual([]);
  });

  it('refuses bad options and names', () => {
    expect(() => HashRing.build(['a'], { pointsPerMember: 0 })).toThrow(RangeError);
    expect(() => HashRing.build(['a'], { pointsPerMember: 1.5 })).toThrow(RangeError);
    expect(() => HashRing.build([''])).toThrow(TypeError);
  });

  it('diff: from and to an empty ring everything moves; equal rings move nothing; one point is the whole ring', () => {
    const empty = HashRing.build([]);
    const one = HashRing.build(['a'], { pointsPerMember: 1 });
    expect(diffRings(empty, one)).toEqual([expect.objectContaining({ before: null, after: 'a' })]);
    const r = diffRings(empty, one)[0];
    expect(r?.from).toBe(r?.to);
    expect(diffRings(one, empty)).toEqual([expect.objectContaining({ before: 'a', after: null })]);
    expect(diffRings(one, HashRing.build(['a'], { pointsPerMember: 1 }))).toEqual([]);
  });
});
