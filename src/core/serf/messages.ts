import type { SERF_TYPE } from '../../wire/serf.js';

/**
 * Serf's messages (serf v0.9.4, reference §8.2). The types are defined once, in
 * `src/wire/serf-message.ts`, and re-exported here (types only: core imports no wire code);
 * this file adds the constants the core's Serf layer reads.
 */

/**
 * The byte after memberlist's `08`. Only append: the numbers are the protocol. The wire's
 * codec keeps the same table (`SERF_TYPE`); the compiler checks that the two agree.
 */
export const SerfMessageType = {
  leave: 0,
  join: 1,
  pushPull: 2,
  userEvent: 3,
  query: 4,
  queryResponse: 5,
  conflictResponse: 6,
  keyRequest: 7,
  keyResponse: 8,
  relay: 9,
} as const satisfies {
  readonly leave: (typeof SERF_TYPE)['leave']; readonly join: (typeof SERF_TYPE)['join']; readonly pushPull: (typeof SERF_TYPE)['push-pull'];
  readonly userEvent: (typeof SERF_TYPE)['user-event']; readonly query: (typeof SERF_TYPE)['query'];
  readonly queryResponse: (typeof SERF_TYPE)['query-response']; readonly conflictResponse: (typeof SERF_TYPE)['conflict-response'];
  readonly keyRequest: (typeof SERF_TYPE)['key-request']; readonly keyResponse: (typeof SERF_TYPE)['key-response']; readonly relay: (typeof SERF_TYPE)['relay'];
};

/**
 * Our own data-layer messages: memberlist user messages whose first byte is in
 * [DATA_TYPE_MIN, DATA_TYPE_MAX] = [0x80, 0xbf]. Serf 0.9.4 uses 0–9 (messageLeaveType …
 * messageRelayType, reference §8.2) and logs "[WARN] serf: Received message of unknown type"
 * for anything else, so these are only ever sent to members whose tags advertise our data
 * tag (see `SerfConfig.dataTag`). The range leaves 10–127 for Serf to grow into.
 */
export const DATA_TYPE_MIN = 0x80;
export const DATA_TYPE_MAX = 0xbf;

/** Query flags (messageQuery.Flags). */
export const QUERY_FLAG_ACK = 1;
export const QUERY_FLAG_NO_BROADCAST = 2;

/** Names of Serf's internal queries start with this; Serf consumes them itself. */
export const INTERNAL_QUERY_PREFIX = '_serf_';

export type {
  SerfLeaveMsg, SerfJoinMsg, SerfBufferedEvent, SerfEventSlot, SerfPushPullMsg, SerfUserEventMsg, SerfQueryMsg, SerfQueryResponseMsg,
  SerfConflictResponseMsg, SerfKeyRequestMsg, SerfKeyResponseMsg, SerfRelayMsg, SerfMessage, QueryFilter, SerfCodec,
} from '../../wire/serf-message.js';
