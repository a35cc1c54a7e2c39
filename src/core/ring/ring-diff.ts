import type { HashRing } from './ring.js';

/**
 * A range of the ring whose owner changed: the keys whose ring hash `h` lies in `(from, to]`,
 * going clockwise (wrapping past 2³² − 1 when `from > to`; `from === to` is the whole ring).
 * `before`/`after` are the owners in the old and new ring (null: that ring was empty).
 */
export interface MovedRange {
  readonly from: number;
  readonly to: number;
  readonly before: string | null;
  readonly after: string | null;
}

const RING_SPACE = 4294967296;

/** Number of ring positions in a range. */
export function rangeSize(r: MovedRange): number {
  return r.from < r.to ? r.to - r.from : RING_SPACE - r.from + r.to;
}

/**
 * The ranges that change owner from ring `a` to ring `b` (for `ring-changed`), adjacent ones
 * with the same pair of owners merged, in ring order. O(points of a + points of b).
 */
export function diffRings(a: HashRing, b: HashRing): MovedRange[] {
  if (a.checksum === b.checksum) return [];
  const pa = a.points();
  const pb = b.points();
  // Boundaries: every point of either ring. Segment (previous boundary, boundary] belongs in each
  // ring to the first point at or after the boundary.
  const bounds: number[] = [];
  {
    let i = 0;
    let j = 0;
    const x = pa.positions;
    const y = pb.positions;
    while (i < x.length || j < y.length) {
      const v = j >= y.length || (i < x.length && (x[i] as number) <= (y[j] as number)) ? (x[i++] as number) : (y[j++] as number);
      if (bounds.length === 0 || bounds[bounds.length - 1] !== v) bounds.push(v);
    }
  }
  const out: MovedRange[] = [];
  if (bounds.length === 0) return out;
  let ia = 0;
  let ib = 0;
  const last = bounds[bounds.length - 1] as number;
  for (let k = 0; k < bounds.length; k++) {
    const p = bounds[k] as number;
    while (ia < pa.positions.length && (pa.positions[ia] as number) < p) ia++;
    while (ib < pb.positions.length && (pb.positions[ib] as number) < p) ib++;
    const before = ownerAt(a, pa.owners, ia);
    const after = ownerAt(b, pb.owners, ib);
    if (before === after) continue;
    const from = k === 0 ? last : (bounds[k - 1] as number);
    const prev = out[out.length - 1];
    if (prev !== undefined && prev.to === from && prev.before === before && prev.after === after) out[out.length - 1] = { ...prev, to: p };
    else out.push({ from, to: p, before, after });
  }
  // The first range starts at the last boundary (it wraps): merge it with the last if they meet.
  if (out.length > 1) {
    const first = out[0] as MovedRange;
    const end = out[out.length - 1] as MovedRange;
    if (end.to === first.from && end.before === first.before && end.after === first.after) {
      out[0] = { ...first, from: end.from };
      out.pop();
    }
  }
  return out;
}

/** The owner of point `j` (wrapping past the end), null on an empty ring. */
function ownerAt(r: HashRing, owners: Uint32Array, j: number): string | null {
  if (owners.length === 0) return null;
  return r.members[owners[j === owners.length ? 0 : j] as number] as string;
}
