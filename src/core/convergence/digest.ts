import { utf8Length, varintBytes } from '../antientropy/messages.js';

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

/**
 * Wire size: 8 bytes of root, a varint count, then per origin a varint name length, the name's
 * UTF-8 bytes and a varint counter: ≈ 9 + origins × (|name| + 4) bytes.
 */
export function convergenceDigestBytes(d: ConvergenceDigest): number {
  let b = 8 + varintBytes(d.summary.size);
  for (const [origin, counter] of d.summary) {
    const len = utf8Length(origin);
    b += varintBytes(len) + len + varintBytes(counter);
  }
  return b;
}

/** Whether `summary` covers write `counter` of `origin`. */
export function covers(summary: VersionSummary, origin: string, counter: number): boolean {
  return (summary.get(origin) ?? 0) >= counter;
}
