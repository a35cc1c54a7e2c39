/**
 * What the dashboard reads from the agent's HTTP API: `GET /v1/members`, `GET /v1/convergence`
 * and the named server-sent events of `GET /v1/stream` (each `data:` line one JSON value).
 * Types only: the browser script imports them (erased at build), and so can the agent's server.
 */

/** One member as `GET /v1/members` lists it (and `gossip members --json` prints it). */
export interface MemberJson {
  readonly name: string;
  readonly addr: string;
  readonly port: number;
  /** `alive | suspect | failed | left`; any other string is shown as it is. */
  readonly status: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly incarnation: number;
  /** Last probe round-trip time to this member, when the agent has one. */
  readonly rttMs?: number;
}

/** `GET /v1/convergence`. */
export interface ConvergenceJson {
  /** Fraction of alive data members whose state matches this node's (1 with no peers). */
  readonly agreement: number;
  readonly keys: number;
  /** Milliseconds until every member had each of the recent updates, newest last. */
  readonly timeToEveryoneMs: readonly number[];
  readonly source?: string;
  /** When the agent measured it (stream events carry it; the page falls back to its own clock). */
  readonly atMs?: number;
}

/** `event: update`: one key-value change seen by this node. */
export interface UpdateEventJson {
  readonly key: string;
  readonly deleted: boolean;
  readonly cause?: string;
  readonly atMs: number;
}

/** `event: user-event`: a user event (`POST /v1/event`, `gossip event`) seen by this node. */
export interface UserEventJson {
  readonly name: string;
  readonly payloadBytes?: number;
  readonly ltime?: number;
  readonly atMs: number;
}

/**
 * `event: traffic`, about once a second: bytes received and sent since the agent started, by
 * message type (cumulative, as in /metrics); the page charts the rate between two samples.
 */
export interface TrafficJson {
  readonly atMs: number;
  readonly bytesIn: Readonly<Record<string, number>>;
  readonly bytesOut: Readonly<Record<string, number>>;
}

/** The events of `GET /v1/stream`, by SSE event name. */
export interface StreamEvents {
  /** The whole member list: on connect and after every membership change. */
  readonly members: readonly MemberJson[];
  /** About once a second. */
  readonly convergence: ConvergenceJson;
  readonly update: UpdateEventJson;
  readonly 'user-event': UserEventJson;
  readonly traffic: TrafficJson;
}

export type StreamEventName = keyof StreamEvents;

export const STREAM_EVENT_NAMES: readonly StreamEventName[] = ['members', 'convergence', 'update', 'user-event', 'traffic'];

/** One server-sent event in the wire format `GET /v1/stream` uses. */
export function formatStreamEvent<K extends StreamEventName>(name: K, data: StreamEvents[K]): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}
