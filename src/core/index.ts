export { GossipNode } from './membership/node.js';
export type { GossipNodeOptions, NodeStats, Transmit } from './membership/node.js';
export { PRESETS, defaultConfig, validateConfig, ConfigError, retransmitLimit, pushPullScale } from './config.js';
export type { Config, ProfileName } from './config.js';
export type { NodeEvent, NodeEventType, MemberView, ProtocolErrorReason } from './events.js';
export { address, incarnation, millis, nodeName, splitAddress, joinAddress } from './ids.js';
export type { Address, Incarnation, Millis, NodeName } from './ids.js';
export { seededRng, shuffle, Xoshiro128 } from './rng.js';
export type { Rng } from './rng.js';
export { DEFAULT_VSN, MemberState, MEMBER_STATE_NAMES, messageBytes, pushNodeStateBytes, pushPull } from './messages.js';
export type {
  Message, StreamMessage, MembershipMsg, PingMsg, IndirectPingMsg, AckMsg, NackMsg, SuspectMsg, AliveMsg, DeadMsg,
  UserMsg, CompoundMsg, PushPullMsg, ErrorMsg, Vsn, MemberStatus,
} from './messages.js';
export { suspicionTimeoutMs, remainingSuspicionMs, Suspicion } from './membership/suspicion.js';
export { Awareness } from './membership/awareness.js';
export { MemberTable, NameDirectory } from './membership/member-table.js';
export { TransmitLimitedQueue } from './broadcast/transmit-queue.js';
export { UpdateLog } from './dissemination/update-log.js';
export { Disseminator } from './dissemination/disseminator.js';
export type { DisseminatorOptions, PeerSampler, DisseminationTransmit, DisseminationEvent, DisseminationStats } from './dissemination/disseminator.js';
export { DEFAULT_DISSEMINATION, DEFAULT_ADAPTIVE, DisseminationConfigError, validateDisseminationConfig } from './dissemination/config.js';
export type { DisseminationConfig, AdaptiveFanout, RumorVariant, Termination } from './dissemination/config.js';
export { messageBytes as disseminationMessageBytes, layoutSizes, updateBytes, rawPayloadBytes } from './dissemination/messages.js';
export type { DisseminationSizes } from './dissemination/messages.js';
export type { DisseminationMessage, GossipRequest, GossipReply, UpdateRef } from './dissemination/messages.js';
export { theoryCurve, halfwayRound } from './dissemination/mean-field.js';
export type { GossipMode } from './dissemination/mean-field.js';
export type { Update, Digest, OriginDigest } from './dissemination/update-log.js';
export { TokenBucket, TRAFFIC_CLASSES } from './control/bandwidth.js';
export type { TrafficClass } from './control/bandwidth.js';
export { MerkleTree, ReconcileSession, reconcileLocally, merkleCostHashes, expectedWalkHashes } from './antientropy/index.js';
export type { MerkleOptions, ReconcileHost, ReconcileStats, ReconcileMessage, LocalReconcileResult } from './antientropy/index.js';
export { ConvergenceTracker } from './convergence/index.js';
export type { ConvergenceDigest, ConvergenceTrackerOptions, Agreement, ConvergedUpdate } from './convergence/index.js';
export { Replica, ReplicaError, Hlc, hashString64, hashBytes64, Hasher64, minSummary, joinEntries, vvCompare, vvJoin } from './replica/index.js';
export type { Entry, Resolver, ReplicaOptions, Read, ChangeEvent, ReplicaStats, VersionSummary, CausalContext, VersionVector, Dot, HlcTimestamp, Value, JsonValue } from './replica/index.js';
export { StateNode, STATE_DISSEMINATION } from './state/index.js';
export type { StateNodeOptions, StateEvent, StateTransmit, StateNodeStats, StateMessage, MemberDigest, RootNote, SummaryNote, StabilityNote, StateBytes, StateSizes } from './state/index.js';
