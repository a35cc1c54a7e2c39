/** What a SerfNode counts (`SerfNode.stats`): every message in, by outcome; what it dropped and why. */
export interface SerfNodeStats {
  /** Serf messages received, by outcome. */
  messagesIn: number;
  /** Type bytes neither Serf's (0–9) nor in our data range: counted and dropped. */
  unknownMessages: number;
  /** Serf messages (or push-pull states, tags, filters) that failed to decode. */
  malformedMessages: number;
  /** Events and queries dropped as old, every reason together (`oldDropped` splits them). */
  oldMessages: number;
  /** Events and queries dropped as old, by what they were and why. */
  readonly oldDropped: OldDropCounts;
  duplicateMessages: number;
  userEventsIn: number;
  queriesIn: number;
  queryResponsesIn: number;
  /** Responses for queries we do not run (late, or another node's). */
  queryResponsesUnknown: number;
  relaysForwarded: number;
  dataMessagesIn: number;
  dataMessagesOut: number;
  /** Broadcasts refused because a Serf queue was at `maxQueueDepth`. */
  broadcastsDropped: number;
}

/** What was dropped as old: gossiped events, events replayed from a peer's push-pull buffer, queries. */
export type OldDropKind = 'event' | 'replayed-event' | 'query';
/**
 * Why: `below-floor`, under the minimum accepted time (a previous life's saved clock + 1, or an
 * operator's ignore-old join); `outside-window`, older than `clock − bufferSize` (the de-dup
 * ring no longer covers it).
 */
export type OldDropReason = 'below-floor' | 'outside-window';
export type OldDropCounts = Record<OldDropKind, Record<OldDropReason, number>>;

/** All counters at zero. */
export function newSerfStats(): SerfNodeStats {
  return {
    messagesIn: 0, unknownMessages: 0, malformedMessages: 0, oldMessages: 0, duplicateMessages: 0, userEventsIn: 0,
    queriesIn: 0, queryResponsesIn: 0, queryResponsesUnknown: 0, relaysForwarded: 0, dataMessagesIn: 0, dataMessagesOut: 0,
    broadcastsDropped: 0,
    oldDropped: {
      event: { 'below-floor': 0, 'outside-window': 0 },
      'replayed-event': { 'below-floor': 0, 'outside-window': 0 },
      query: { 'below-floor': 0, 'outside-window': 0 },
    },
  };
}

/** Counts an event or query dropped as old; false (nothing to re-broadcast). */
export function countOldDrop(stats: SerfNodeStats, kind: OldDropKind, reason: OldDropReason): false {
  stats.oldMessages++;
  stats.oldDropped[kind][reason]++;
  return false;
}
