/**
 * Serf's knobs (serf v0.9.4 `DefaultConfig`, reference §8), with our data-layer tag. Units
 * are suffixes; each comment gives the formula the knob feeds.
 */
export interface SerfConfig {
  /** Slots of the user-event de-dup ring; events older than `eventClock − eventBufferSize` are dropped. */
  eventBufferSize: number;
  /** Slots of the query de-dup ring; queries older than `queryClock − queryBufferSize` are dropped. */
  queryBufferSize: number;
  /** A user event's `name + payload`, and its encoding, must fit this (the agent's default; hard maximum 9 KiB). */
  userEventSizeLimit: number;
  /** An encoded query must fit this. */
  querySizeLimit: number;
  /** An encoded query response must fit this. */
  queryResponseSizeLimit: number;
  /** Default query timeout = `gossipIntervalMs × queryTimeoutMult × ceil(log10(n + 1))`. */
  queryTimeoutMult: number;
  /** A leave waits up to this long for its leave intent to be gossiped before the memberlist leave. */
  broadcastTimeoutMs: number;
  /** Intents about members not known yet are kept this long (RecentIntentTimeout). */
  recentIntentTimeoutMs: number;
  /**
   * Every `reconnectIntervalMs`, with probability `failed / (members − failed − left)`, try a
   * memberlist join to one random failed member (Serf's reconnect: heals partitions). 0 disables.
   */
  reconnectIntervalMs: number;
  /** Failed members are forgotten after this long (ReconnectTimeout). */
  reconnectTimeoutMs: number;
  /** Left members are forgotten after this long (TombstoneTimeout). */
  tombstoneTimeoutMs: number;
  /** Failed/left members and old intents are reaped every `reapIntervalMs`. */
  reapIntervalMs: number;
  /** Each Serf broadcast queue (intents, queries, events, data) holds at most this many; the excess is dropped and counted. */
  maxQueueDepth: number;
  /** The tag that marks members speaking our data layer, or null for none. Its value is `dataVersion`. */
  dataTag: string | null;
  dataVersion: number;
}

export const DEFAULT_SERF_CONFIG: Readonly<SerfConfig> = {
  eventBufferSize: 512,
  queryBufferSize: 512,
  userEventSizeLimit: 512,
  querySizeLimit: 1024,
  queryResponseSizeLimit: 1024,
  queryTimeoutMult: 16,
  broadcastTimeoutMs: 5000,
  recentIntentTimeoutMs: 5 * 60_000,
  reconnectIntervalMs: 30_000,
  reconnectTimeoutMs: 24 * 3_600_000,
  tombstoneTimeoutMs: 24 * 3_600_000,
  reapIntervalMs: 15_000,
  maxQueueDepth: 4096,
  dataTag: 'gc',
  dataVersion: 1,
};

/** Serf's hard cap on a user event (UserEventSizeLimit in serf.go). */
export const USER_EVENT_SIZE_MAX = 9 * 1024;
/** memberlist's MetaMaxSize: encoded tags must fit. */
export const META_BYTES_MAX = 512;
