/**
 * What a `ClusterNode` takes and reports: its options (`NodeOptions`, `KvOptions`), its events,
 * query results and counters. Types only; the node itself is in cluster-node.ts.
 */
import type { QuorumStats } from './quorum-plane.js';
import type { Config, ProfileName } from '../core/config.js';
import type { NodeStats } from '../core/membership/node.js';
import type { Coordinate } from '../core/topology/index.js';
import type { CoordinateStats } from './node-coordinates.js';
import type { SerfConfig } from '../core/serf/config.js';
import type { SerfEvent, SerfMember, SerfNodeStats } from '../core/serf/index.js';
import type { NetTransport } from '../transport/net-transport.js';
import type { Transport, TransportStats } from '../transport/transport.js';
import type { WireErrorReason, WireStatsSnapshot } from '../wire/index.js';
import type { DisseminationConfig } from '../core/dissemination/config.js';
import type { ReplicaOptions } from '../core/replica/index.js';
import type { StateStore } from '../store/state-store.js';
import type { Codec } from './codec.js';
import type { DataEvent, DataLayerStats } from './data-layer.js';
import type { StateBudgetStats } from '../core/state/index.js';
import type { DriverStats } from './driver.js';
import type { EventMap } from './emitter.js';
import type { ViewEvent } from '../core/views/index.js';
import type { RingChangedEvent, ViewOptions } from './view-plane.js';

export type LogLevel = 'info' | 'warn';
export type Logger = (level: LogLevel, line: string) => void;

export interface NodeOptions {
  /** This node's unique name in the cluster. */
  readonly name: string;
  /** `host:port` for the UDP socket and the TCP listener (one port for both). Port 0: any free port. Default `0.0.0.0:7946`. */
  readonly bind?: string;
  /** The address peers reach us at, sent in our `alive` (it may differ from `bind`, behind NAT). Default: the bind address, or the first non-internal IPv4 address when binding 0.0.0.0/::. Port 0 or none: the bound port. */
  readonly advertise?: string;
  /** memberlist's timing presets. Default `lan`. */
  readonly profile?: ProfileName;
  /** Overrides on top of the profile. */
  readonly config?: Partial<Config>;
  /** Serf-layer overrides (event buffer, size limits, broadcast timeout, our data tag). */
  readonly serf?: Partial<SerfConfig>;
  /** Seed of the core's RNG (probe order, gossip targets, staggers). Default: from `node:crypto`. */
  readonly seed?: number;
  /** Warnings (rejected input, rate-limited per reason and peer; listener errors) and notices (the core's protocol errors). Default: warnings to `console.warn`, notices dropped. */
  readonly logger?: Logger;
  /** Serf tags, sent in our node meta (≤ 512 bytes encoded). */
  readonly tags?: Readonly<Record<string, string>>;
  /** Encrypt all traffic with this base64 key (16, 24 or 32 bytes: `serf keygen`), as serf's `-encrypt`. */
  readonly encryptKey?: string;
  /** Several base64 keys, the first primary: all decrypt, the primary encrypts. Wins over `encryptKey`. */
  readonly keyring?: readonly string[];
  /**
   * Keeps the keyring in this file (serf's `-keyring-file` format: a JSON array of base64 keys,
   * primary first). If it exists it wins over `keyring`/`encryptKey`; if it does not, it is
   * started from them, and without them `createNode` rejects with a `KeyringFileError` (as an
   * unreadable or malformed file does): naming a keyring file never leaves a node in plaintext.
   * It is rewritten after every `serf keys` rotation, so a restarted node comes back with the
   * current keys.
   */
  readonly keyringFile?: string;
  /** How messages become bytes. Default: memberlist's wire format with the keyring above. */
  readonly codec?: Codec;
  /** A transport already bound (tests, an in-memory network). Default: UDP + TCP on `bind`. */
  readonly transport?: (handlers: Parameters<typeof NetTransport.listen>[1]) => Promise<Transport>;
  /**
   * Where the replicated key-value state is kept across restarts. Every entry change (local
   * write, merge, tombstone collection) is written through it, a local write before `kv.put`
   * resolves; `start` loads it back, and the dot counter is reserved in its meta so a restarted
   * node never reuses a dot. Default: none (memory only).
   */
  readonly store?: StateStore;
  /** The replicated state's settings: resolvers per key prefix, rumor spreading, digest and anti-entropy periods. */
  readonly kv?: KvOptions;
  /**
   * Caps the bytes this node sends per second, on the wire (IP headers included): membership's
   * are charged first and always go; the data layer's rumors (critical > normal), digests,
   * acknowledgements and anti-entropy (repair) take what is left and wait for it. A token bucket
   * of depth `bandwidth / 4` and rate `3 × bandwidth / 4`, so no 1 s window carries more than
   * `bandwidth` while membership stays below it. At least about 3 kB/s. Default: no cap.
   */
  readonly bandwidth?: number;
  /** Agreed membership views, the partition side and the hash ring (issue 16): settle time, quorum weight tag. */
  readonly views?: ViewOptions;
  /** Start above a previous life's incarnation (a restarted node refutes its old death at once). */
  readonly incarnation?: number;
  /** Serf's Lamport clocks as a previous life saved them (`clocks`): start above them, and do not replay older events. */
  readonly clocks?: { readonly member: number; readonly event: number; readonly query: number };
  /** The user events a previous life saved with its clocks (`recentEvents()`): nothing in them is delivered again, and nothing missed below the saved clock is lost. */
  readonly recentEvents?: readonly RecentEvents[number][];
  /**
   * Network coordinates (Serf's Vivaldi): our acks carry ours, every direct probe's answer moves
   * it. Default true, as Serf; false: acks carry no payload (Serf's `DisableCoordinates`).
   */
  readonly coordinates?: boolean;
  /**
   * With coordinates: round trips up to this many ms also move a second, local coordinate that
   * our acks carry after Serf's (Serf ignores it) and that estimates between close nodes use
   * (README, "Topology") while the cluster spans regions (`localCoordinate`). Default 5; 0: Serf's
   * coordinate only, acks always exactly Serf's.
   */
  readonly localCoordinateRttMs?: number;
  /**
   * `auto` (default): the local coordinate is used, and sent, only while this node sees
   * wide-area round trips (a cluster spanning regions); one data centre keeps Serf's acks.
   * `always`: from the start.
   */
  readonly localCoordinate?: 'auto' | 'always';
  /**
   * With coordinates: `nearest` ranks by the last few direct round trips to a peer where it has
   * them (by estimate otherwise), and in a cluster large enough that SWIM's probes reach each
   * member less often than every 2 minutes, one extra ping every 5 s measures the nearest
   * candidates (README, "Topology"). Default true; false: rank by estimate alone, no extra ping.
   * Below about 120 members nothing changes on the wire either way.
   */
  readonly nearestRefinement?: boolean;
  /** Our coordinate as a previous life saved it (`coordinate()`): start there instead of the origin. */
  readonly coordinate?: Coordinate;
}

/** User events by Lamport time, as `recentEvents()` returns them. */
export type RecentEvents = readonly { readonly ltime: number; readonly events: readonly { readonly name: string; readonly payload: Uint8Array | null }[] }[];

export interface KvOptions {
  /** How concurrent writes resolve, per key prefix (longest prefix wins); default `lww`. */
  readonly resolvers?: ReplicaOptions['resolvers'];
  readonly defaultResolver?: ReplicaOptions['defaultResolver'];
  /** HLC drift guard (ms). */
  readonly maxDriftMs?: number;
  /** Rumor spreading (the dissemination engine's config). */
  readonly dissemination?: Partial<DisseminationConfig>;
  /** Digest round (recent Merkle roots and a few version summaries, to two data peers) this often. Default 1,000 ms. */
  readonly digestIntervalMs?: number;
  /** A Merkle reconciliation with one random data peer this often (± half). Default 1,000 ms. */
  readonly antiEntropyIntervalMs?: number;
  /** A tombstone is collected once every live data member has seen the delete and it has been dead this long (ms). Default 0 (gone members' summaries are held for a minute instead: StateNode). */
  readonly tombstoneGraceMs?: number;
  /** One write in this many of each node is timed until every member has it (`convergence().recent`); 0: none. Default 10. */
  readonly sampleEvery?: number;
  /**
   * Before taking writes, relearn this node's dot counter from its peers (a write waits, usually
   * one anti-entropy round): true when the store lost part of the node's history (a damaged
   * store opened with `recover`); false when the name has certainly never written before;
   * default: when the store restored nothing (none, or empty), since a previous life under the
   * same name may have used dots that peers still hold, and a reused dot loses the write.
   */
  readonly relearn?: boolean;
}

/** A member as the public API reports it (what `serf members` shows). */
export type Member = SerfMember;

/** Everything a node reports through `on(type, fn)`: membership changes, user events, queries, keyring changes. */
export type ClusterEvent = SerfEvent | DataEvent | ViewEvent | RingChangedEvent;
export type ClusterEventMap = EventMap<ClusterEvent>;
/** A query to answer with `respond(query, payload)`. */
export type QueryEvent = ClusterEventMap['query'];

/** What `query()` collected by its deadline. */
export interface QueryResult {
  readonly acks: readonly string[];
  /** Node name → its answer. */
  readonly responses: ReadonlyMap<string, Uint8Array>;
}

export interface ClusterNodeStats {
  /** Rejected input by reason (undecodable, wrong key, …) and encode failures. */
  readonly driver: DriverStats;
  readonly transport: TransportStats;
  /** memberlist-level counters of the core. */
  readonly gossip: Readonly<NodeStats>;
  /** Serf-level counters (events, queries, duplicates, malformed Serf messages). */
  readonly serf: Readonly<SerfNodeStats>;
  /** The wire layer's counters for this node: packets and streams decoded and rejected, by reason. */
  readonly wire: WireStatsSnapshot;
  /** Warning lines about rejected input and protocol errors: written, and held back by the rate limits (by reason and source IP, and a global cap per second). */
  readonly log: { readonly lines: number; readonly suppressed: number };
  /** The data layer: its codec's decoded and rejected messages, merges, store errors, messages to non-peers. */
  readonly data: {
    readonly decoded: number;
    readonly rejected: Readonly<Record<WireErrorReason, number>>;
    readonly node: DataLayerStats;
    readonly unsent: number;
    /** The byte budget's counters (`bandwidth`): bytes by class, messages held back; null without a cap. */
    readonly budget: Readonly<StateBudgetStats> | null;
    /** Quorum writes and reads (issue 16): as coordinator and as replica. */
    readonly quorum: Readonly<QuorumStats>;
  };
  /** Network coordinates: observations used, refused (by reason), clamped; resets. Null when disabled. */
  readonly topology: CoordinateStats | null;
}
