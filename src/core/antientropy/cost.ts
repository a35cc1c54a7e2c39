/**
 * The Merkle reconciliation cost model of theory.md §7.1, for comparing measured sessions.
 */

/** theory.md's formula: hashes exchanged ≈ B·d·log_B(N/d) for d differing leaves among N (no O(d) term). */
export function merkleCostHashes(leaves: number, diff: number, fanout: number): number {
  if (diff <= 0) return 0;
  return fanout * diff * Math.max(0, Math.log(leaves / diff) / Math.log(fanout));
}

/**
 * The expected hashes of our walk when `diff` differences fall uniformly into the B^depth leaves:
 * the root, then B hashes under every differing node of levels 0…depth−1, where level l has on
 * average B^l·(1 − (1 − B^−l)^d) differing nodes (occupancy). This is the formula with its O(d)
 * term made exact; it matches theory.md's 16-ary table (4,780 for 2^20 leaves, d = 100).
 */
export function expectedWalkHashes(diff: number, fanout: number, depth: number): number {
  if (diff <= 0) return 1 + fanout;
  let hashes = 1;
  for (let l = 0; l < depth; l++) {
    const width = fanout ** l;
    hashes += fanout * width * (1 - (1 - 1 / width) ** diff);
  }
  return hashes;
}
