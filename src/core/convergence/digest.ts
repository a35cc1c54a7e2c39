/**
 * The small per-node digest piggybacked on gossip for convergence monitoring: the node's Merkle
 * root (equal roots ⇔ equal replicated state, up to 64-bit collisions) and its version summary
 * (per origin, the highest write counter c such that the node has seen that origin's writes 1…c).
 */

/** Structurally the replica's `VersionSummary` (origin → highest contiguous write counter). */
export type VersionSummary = ReadonlyMap<string, number>;

export interface ConvergenceDigest {
  readonly rootHi: number;
  readonly rootLo: number;
  readonly summary: VersionSummary;
}

/** Whether `summary` covers write `counter` of `origin`. */
export function covers(summary: VersionSummary, origin: string, counter: number): boolean {
  return (summary.get(origin) ?? 0) >= counter;
}
