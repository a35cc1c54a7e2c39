export { SerfNode } from './serf-node.js';
export type { SerfNodeOptions, JoinOptions, ForceLeaveOptions } from './options.js';
export type { SerfEvent, SerfEventType } from './events.js';
export type { SerfMember, SerfMemberStatus } from './members.js';
export type { SerfNodeStats, OldDropKind, OldDropReason, OldDropCounts } from './stats.js';
export type { QueryOptions } from './queries.js';
export type { DataStateDelegate } from './data-channel.js';
export { DEFAULT_SERF_CONFIG, USER_EVENT_SIZE_MAX, META_BYTES_MAX } from './config.js';
export type { SerfConfig } from './config.js';
export { LamportClock } from './lamport-clock.js';
export { LamportRing } from './lamport-ring.js';
export { encodeBase64 } from './keyring.js';
export type { SerfKeyring } from './keyring.js';
export {
  SerfMessageType, DATA_TYPE_MIN, DATA_TYPE_MAX, QUERY_FLAG_ACK, QUERY_FLAG_NO_BROADCAST, INTERNAL_QUERY_PREFIX,
} from './messages.js';
export type {
  SerfMessage, SerfCodec, SerfDecodeResult, QueryFilter, SerfLeaveMsg, SerfJoinMsg, SerfPushPullMsg, SerfUserEventMsg,
  SerfQueryMsg, SerfQueryResponseMsg, SerfConflictResponseMsg, SerfKeyRequestMsg, SerfKeyResponseMsg, SerfRelayMsg,
  SerfBufferedEvent, SerfEventSlot,
} from './messages.js';
