import type { MemberJson } from '../agent/http-api.js';

/**
 * What the dashboard reads from the agent's HTTP API (src/agent/http-api.ts): `GET /v1/members`,
 * `GET /v1/convergence`, the named server-sent events of `GET /v1/stream` (each `data:` line one
 * JSON value) and `GET /metrics`. Types only: the browser script imports them (erased at build).
 */

/** One member as `GET /v1/members` lists it: the agent's type (types only; erased in the browser). */
export type { MemberJson };
/** `GET /v1/info` (the node serving the page), `GET /v1/timeline` (membership changes since it started), `GET /v1/kv/KEY`. */
export type { InfoJson } from '../agent/operator-routes.js';
export type { TimelineEntry, TimelineKind } from '../agent/member-timeline.js';
export type { KvReadJson } from '../agent/kv-service.js';
/** `GET /v1/view` (this node's membership view, stable or not, who disagrees) and `GET /v1/quorum`. */
export type { QuorumResponse as QuorumJson, ViewResponse as ViewJson } from '../agent/view-routes.js';

/** `GET /v1/convergence`, and the `convergence` event about once a second. */
export interface ConvergenceJson {
  /** Fraction of alive data members whose state matches this node's (1 with no peers). */
  readonly agreement: number;
  /** Alive data members counted, those whose state matches ours, those not heard from yet. */
  readonly live?: number;
  readonly agreeing?: number;
  readonly unknown?: number;
  readonly keys: number;
  /** Milliseconds until every member had each of the recent updates, newest last. */
  readonly timeToEveryoneMs: readonly number[];
  readonly source?: string;
}

/** `event: member`: one membership change. */
export type MemberEventJson =
  | { readonly type: 'member-joined' | 'member-updated' | 'member-left' | 'member-failed' | 'member-reaped'; readonly member: MemberJson }
  | { readonly type: 'member-suspected' | 'member-recovered'; readonly name: string };

/** `event: kv`: one key-value change seen by this node. */
export interface KvEventJson {
  readonly key: string;
  readonly cause?: string;
  readonly deleted: boolean;
}

/** `event: user-event`: a user event (`POST /v1/event`, `gossip event`) seen by this node. */
export interface UserEventJson {
  readonly name: string;
  /** The payload as UTF-8 text. */
  readonly payload: string;
  readonly ltime?: number;
}

/** `event: lagged`: this stream fell behind and lost `dropped` events (re-read what matters). */
export interface LaggedJson {
  readonly dropped: number;
}

/** The events of `GET /v1/stream`, by SSE event name. */
export interface StreamEvents {
  /** The whole member list, first on every connection. */
  readonly members: readonly MemberJson[];
  readonly member: MemberEventJson;
  readonly convergence: ConvergenceJson;
  readonly kv: KvEventJson;
  readonly 'user-event': UserEventJson;
  readonly lagged: LaggedJson;
}

export type StreamEventName = keyof StreamEvents;

/** One server-sent event in the format `GET /v1/stream` uses. */
export function formatStreamEvent<K extends StreamEventName>(name: K, data: StreamEvents[K]): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}
