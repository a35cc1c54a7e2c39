/**
 * gossip-coordinator's public API: `createNode(options)` starts a node on real sockets. The
 * sans-IO protocol core is also available on its own as `gossip-coordinator/core`, the
 * simulator as `gossip-coordinator/sim` (this entry loads neither the simulator, the agent nor
 * the plotting libraries: test/integration/module-loading.test.ts).
 */
import type { NodeOptions } from './runtime/cluster-node.js';
import { ClusterNode } from './runtime/cluster-node.js';

/**
 * Starts a node: binds its UDP socket and TCP listener, and begins probing and gossiping.
 * Then `join(addrs)`, `members()`, `sendEvent(name, payload)`, `leave()`, `shutdown()`, and
 * typed events with `on(type, fn)`.
 */
export function createNode(options: NodeOptions): Promise<ClusterNode> {
  return ClusterNode.start(options);
}
export { ClusterNode, JoinError, KeyringFileError, DEFAULT_PORT } from './runtime/cluster-node.js';
export type {
  NodeOptions, Member, ClusterEvent, ClusterEventMap, ClusterNodeStats, QueryEvent, QueryResult, Logger, LogLevel, KvOptions, RecentEvents,
} from './runtime/cluster-node.js';
export { KeyValue } from './runtime/data-kv.js';
export type { ViewOptions, RingChangedEvent } from './runtime/view-plane.js';
export { HashRing, diffRings, ringHash, DEFAULT_POINTS_PER_MEMBER } from './core/ring/index.js';
export type { RingMember, RingOptions, MovedRange } from './core/ring/index.js';
export { checksumHex } from './core/views/index.js';
export type { MembershipView, ViewMember, ViewState, ViewEvent, QuorumStatus, QuorumBasis } from './core/views/index.js';
export type { KvChange, KvConvergence, KvQuorumReadOptions, KvQuorumWrite, KvQuorumWriteOptions, KvWriteOptions } from './runtime/data-kv.js';
export type { DataEvent, DataLayerStats, DataMachineStats, DataNodeStats, KvOp } from './runtime/data-layer.js';
export { NotWritableError } from './runtime/data-layer.js';
export { QuorumError } from './runtime/quorum-error.js';
export { QUORUM_TIMEOUT_MS } from './runtime/quorum-plane.js';
export type { QuorumOptions, QuorumReadResult, QuorumStats, QuorumWriteAcks } from './runtime/quorum-plane.js';
export { parseQuorumSize, quorumNeed, QuorumSizeError } from './core/state/quorum-size.js';
export type { QuorumSize } from './core/state/quorum-size.js';
export type { StateStore, StoredEntry, EntryChange } from './store/state-store.js';
export { encodeDataValue, decodeDataValue, DataStats } from './wire/data.js';
export type {
  Resolver, ResolverType, Read, Value, JsonValue, CausalContext, Dot, Entry, FieldValue,
} from './core/replica/index.js';
export { ReplicaError } from './core/replica/index.js';
export type { Agreement, ConvergedUpdate } from './core/convergence/index.js';
export type { DriverStats, TypeTraffic } from './runtime/driver.js';
export type { Codec, StreamDecoding } from './runtime/codec.js';
export type { DecodeResult, WireErrorReason } from './wire/index.js';
export type { Transport, TransportHandlers, TransportStats, Stream, StreamHandlers } from './transport/transport.js';
export { NetTransport } from './transport/net-transport.js';
export type { NetTransportOptions } from './transport/net-transport.js';
export { MemoryNetwork } from './transport/memory-network.js';
export { AddressError } from './transport/address.js';
export type { Coordinate, RttEstimate } from './core/topology/index.js';
export type { CoordinateStats } from './runtime/node-coordinates.js';
export type { ForceLeaveOptions, JoinOptions, OldDropCounts, OldDropKind, OldDropReason, QueryOptions, SerfConfig } from './core/serf/index.js';

export { GossipNode, PRESETS, defaultConfig, validateConfig, ConfigError, seededRng, address, nodeName, millis } from './core/index.js';
export type {
  Config, ProfileName, GossipNodeOptions, NodeStats, Transmit, NodeEvent, NodeEventType, MemberView, Address, NodeName,
  Millis, Incarnation, Rng, Message, StreamMessage,
} from './core/index.js';
