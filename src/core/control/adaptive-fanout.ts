import type { AdaptiveFanout } from '../dissemination/config.js';

/**
 * Adaptive fanout's estimates of how far an update has spread, from what one node observes.
 * Mean field: a random contact is informed with probability p, the informed fraction, so the
 * share of contacts that found the other side informed estimates p.
 */

/**
 * The share of this node's contacts about an update that found the other side already
 * informed: `dups` of its `pushes` (feedback) plus the `received − 1` copies beyond the first
 * it was sent. Null below two observations.
 */
export function duplicateShare(pushes: number, dups: number, received: number): number | null {
  const seen = pushes + received - 1;
  if (seen < 2) return null;
  return (dups + received - 1) / seen;
}

/**
 * Before any feedback: generation g of a push with fanout F has reached about (1 + F)^g of
 * n nodes (the physical ceiling of theory.md §1.1), capped at 1.
 */
export function generationShare(hops: number, n: number, maxFanout: number): number {
  return Math.min(1, Math.pow(1 + maxFanout, hops) / Math.max(1, n));
}

/** Push fanout `maxFanout × (1 − p)` rounded, within [minFanout, maxFanout]. */
export function fanoutForShare(share: number, a: AdaptiveFanout): number {
  const f = Math.round(a.maxFanout * (1 - share));
  return Math.min(a.maxFanout, Math.max(a.minFanout, f));
}
