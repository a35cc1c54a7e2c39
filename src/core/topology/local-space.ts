import type { Coordinate } from './coordinate.js';
import { estimateRttMs } from './coordinate.js';

/**
 * A node's coordinates: Serf's, one space for the whole cluster, and our local-space one (null
 * when it has none: a Serf agent, a node with the local space off, or one that has not yet
 * observed a nearby peer).
 *
 * Why two spaces: in one Vivaldi space spanning continents, a wide-area round trip's jitter
 * (a few ms on 60 ms) moves a node further at each update than the distances inside its data
 * centre (tenths of a ms), so nearby pairs are estimated badly and nearest-node queries pick
 * at random among the hosts of a region. Consul meets the same problem by keeping LAN and WAN
 * gossip pools with separate coordinates; our nodes share one pool, so each keeps a second
 * Vivaldi coordinate moved only by round trips of at most `localRttMs`, and a pair whose
 * Serf-space estimate says it is close (at most `LOCAL_GATE × localRttMs`) is estimated in
 * the local space. Far pairs, and any pair involving a node without a local coordinate, use
 * Serf's space, so estimates to and from Serf agents are exactly Serf's.
 */
export interface NodeCoordinates {
  readonly coordinate: Coordinate;
  readonly local: Coordinate | null;
}

/** Round trips up to this (ms) feed the local space by default: a data centre or a metro area. */
export const DEFAULT_LOCAL_RTT_MS = 5;

/**
 * A pair is estimated in the local space when Serf's space puts it within this multiple of
 * `localRttMs`: local spaces of distant places are unrelated frames (each centred by gravity
 * near the origin), so only the global estimate can say that two nodes share one; the margin
 * covers the global space's error on short pairs (its absolute error is a few ms at most).
 */
export const LOCAL_GATE = 2;

/** The estimated round trip (ms) between two nodes: the local space for close pairs that both have one, Serf's otherwise. */
export function estimateBetweenMs(a: NodeCoordinates, b: NodeCoordinates, localRttMs: number): number {
  const global = estimateRttMs(a.coordinate, b.coordinate);
  if (a.local === null || b.local === null || !(localRttMs > 0) || global > LOCAL_GATE * localRttMs) return global;
  return estimateRttMs(a.local, b.local);
}
