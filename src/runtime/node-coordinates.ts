import type { NodeName } from '../core/ids.js';
import type { NodeDelegate } from '../core/membership/delegate.js';
import { seededRng } from '../core/rng.js';
import type { SerfMember } from '../core/serf/member.js';
import type { Coordinate, RttEstimate, TopologyStats } from '../core/topology/index.js';
import { Topology } from '../core/topology/index.js';
import { coordinateCodec } from '../wire/coordinate.js';

/** What `stats.topology` reports. */
export type CoordinateStats = Readonly<TopologyStats> & { readonly resets: number };

/**
 * A running node's network coordinates (core/topology's `Topology` with Serf's codec): the
 * ping delegate the engine takes, and the queries `ClusterNode` answers (`coordinate`,
 * `estimateRtt`, `nearest`).
 */
export class NodeCoordinates {
  private readonly topology: Topology;

  constructor(name: string, seed: number, restored: Coordinate | undefined, localRttMs?: number, localSpace?: 'auto' | 'always', refine = true) {
    // Its own generator (only for Serf's rare random direction): the engine's draws stay as they were.
    this.topology = new Topology(name, {
      codec: coordinateCodec,
      rng: seededRng(seed ^ 0x5f0c00d),
      ...(restored !== undefined ? { coordinate: restored } : {}),
      ...(localRttMs !== undefined ? { localRttMs } : {}),
      ...(localSpace !== undefined ? { localSpace } : {}),
      ...(refine ? {} : { refine: false as const }),
    });
  }

  /** Serf's ping delegate: our coordinate in every ack, every direct probe's answer observed; in a large cluster, extra pings to the nearest candidates. */
  get ping(): Pick<NodeDelegate, 'ackPayload' | 'notifyPingComplete' | 'extraPingTarget' | 'notifyPinged'> {
    const t = this.topology;
    return {
      ackPayload: (near) => t.ackPayload(near),
      notifyPingComplete: (now, node, rttMs, payload) => void t.handlePingComplete(node, rttMs, payload, now),
      extraPingTarget: (now, cycleMs, isAlive) => t.extraPingTarget(now, cycleMs, (n) => isAlive(n as NodeName)) as NodeName | null,
      notifyPinged: (now, from) => t.notePinged(from, now),
    };
  }

  coordinate(name: string): Coordinate | undefined {
    return this.topology.coordinateOf(name);
  }

  estimateRtt(a: string, b: string): number | undefined {
    return this.topology.estimateRttMs(a, b);
  }

  /** The `k` alive members nearest to us; `tag` is `key=value`, or `key` for any value. */
  nearest(k: number, members: readonly SerfMember[], tag: string | undefined): RttEstimate[] {
    const eq = tag === undefined ? -1 : tag.indexOf('=');
    const key = tag === undefined ? null : eq < 0 ? tag : tag.slice(0, eq);
    const value = tag === undefined || eq < 0 ? null : tag.slice(eq + 1);
    const names = members
      .filter((m) => m.status === 'alive' && (key === null || (value === null ? key in m.tags : m.tags[key] === value)))
      .map((m) => m.name);
    return this.topology.nearest(k, names);
  }

  /** A member was reaped: forget it (Serf's `eraseNode`). */
  forget(name: string): void {
    this.topology.forget(name);
  }

  get stats(): CoordinateStats {
    const s = this.topology.stats;
    return { ...s, rejected: { ...s.rejected }, resets: this.topology.resets };
  }
}
