import type { Coordinate } from '../index.js';
import type { AgentStore } from '../store/state-store.js';

const COORDINATE_META = 'agent.coordinate';

/**
 * Our network coordinate, saved in the store (meta `agent.coordinate`, JSON) so a restarted
 * agent starts where it was instead of at the origin. Unreadable content counts as none (the
 * node then starts at the origin); the node itself refuses a saved coordinate that is not
 * finite or has other dimensions.
 */
export function loadCoordinate(store: AgentStore): Coordinate | undefined {
  const v = store.loadMeta(COORDINATE_META);
  if (v === null) return undefined;
  try {
    const p: unknown = JSON.parse(new TextDecoder().decode(v));
    if (typeof p !== 'object' || p === null) return undefined;
    const { vec, error, adjustment, height } = p as Record<string, unknown>;
    if (!Array.isArray(vec) || !vec.every((x) => typeof x === 'number')) return undefined;
    if (typeof error !== 'number' || typeof adjustment !== 'number' || typeof height !== 'number') return undefined;
    return { vec: vec, error, adjustment, height };
  } catch {
    return undefined;
  }
}

/** The store meta that saves `c` (a part of the agent's snapshot). */
export function coordinateMeta(c: Coordinate): [name: string, value: Uint8Array] {
  return [COORDINATE_META, new TextEncoder().encode(JSON.stringify({ vec: c.vec, error: c.error, adjustment: c.adjustment, height: c.height }))];
}
