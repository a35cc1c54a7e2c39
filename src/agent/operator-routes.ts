import type { IncomingMessage } from 'node:http';
import type { ClusterNode } from '../index.js';
import { JoinError } from '../index.js';
import { packageVersion } from '../version.js';
import { HttpError, readJson } from './http-body.js';
import type { Route } from './kv-routes.js';
import type { HandlerStats } from './event-handlers.js';
import { parseJoinAddress } from './join-address.js';
import type { TimelineEntry } from './member-timeline.js';
import { MemberTimeline } from './member-timeline.js';

/** A body of these routes is small: names, addresses, a query's payload. */
const BODY_BYTES_MAX = 64 * 1024;
/** Longest a query may run when asked over HTTP (the request waits for its deadline). */
export const QUERY_TIMEOUT_MAX_MS = 5 * 60_000;

/** `POST /v1/query`'s answer: who acknowledged, and each node's answer (UTF-8). */
export interface QueryJson {
  readonly name: string;
  readonly acks: readonly string[];
  readonly responses: Readonly<Record<string, string>>;
}

/** `GET /v1/info`: what `serf info` shows. */
export interface InfoJson {
  readonly agent: { readonly name: string; readonly version: string; readonly addr: string; readonly incarnation: number };
  readonly protocol: { readonly min: number; readonly max: number; readonly cur: number } | null;
  readonly delegate: { readonly min: number; readonly max: number; readonly cur: number } | null;
  readonly members: { readonly total: number; readonly alive: number; readonly failed: number; readonly left: number; readonly leaving: number };
  readonly clocks: { readonly member: number; readonly event: number; readonly query: number };
  readonly queues: { readonly membership: number; readonly serf: number };
  readonly tags: Readonly<Record<string, string>>;
  /** What the `--event-handler` scripts did: runs, failed, timedOut, dropped. */
  readonly handlers: Readonly<HandlerStats>;
}

type Body = Record<string, unknown>;

async function objectBody(req: IncomingMessage, shape: string): Promise<Body> {
  const body = await readJson(req, BODY_BYTES_MAX, `a ${shape} body`, true);
  if (body === undefined) return {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, `body: expected ${shape}`);
  return body as Body;
}

function stringList(v: unknown, what: string): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string' && s.length > 0)) throw new HttpError(400, `${what}: expected an array of non-empty strings`);
  return v as string[];
}

function stringMap(v: unknown, what: string): Record<string, string> | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.entries(v).every(([k, s]) => k.length > 0 && typeof s === 'string')) {
    throw new HttpError(400, `${what}: expected an object of strings`);
  }
  return { ...(v as Record<string, string>) };
}

function intIn(v: unknown, what: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new HttpError(400, `${what}: expected a whole number in [${min}, ${max}]`);
  return v;
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * The operator routes (what `serf query|join|force-leave|tags|info|reachability` do):
 * `POST /v1/query`, `POST /v1/join`, `POST /v1/force-leave`, `POST /v1/tags`, `GET /v1/info`,
 * `GET /v1/reachability`; and the membership changes seen since start, `GET /v1/timeline` (the
 * dashboard's backlog).
 */
export class OperatorRoutes {
  private readonly timeline: MemberTimeline;

  constructor(
    private readonly node: ClusterNode,
    private readonly handlerStats: (() => HandlerStats) | null = null,
    private readonly resolveJoin: ((addrs: readonly string[]) => Promise<string[]>) | null = null,
  ) {
    this.timeline = new MemberTimeline(node);
  }

  register(route: Route): void {
    route('POST', /^\/v1\/query$/, (req) => this.query(req));
    route('POST', /^\/v1\/join$/, (req) => this.join(req));
    route('POST', /^\/v1\/force-leave$/, (req) => this.forceLeave(req));
    route('POST', /^\/v1\/tags$/, (req) => this.tags(req));
    route('GET', /^\/v1\/info$/, () => this.info());
    route('GET', /^\/v1\/reachability$/, (_r, q) => this.reachability(q));
    route('GET', /^\/v1\/timeline$/, (): { events: readonly TimelineEntry[] } => ({ events: this.timeline.list() }));
  }

  private async query(req: IncomingMessage): Promise<QueryJson> {
    const shape = '{"name": string, "payload"?: string, "nodes"?: [string], "tags"?: {tag: regex}, "timeoutMs"?: number, "relayFactor"?: number, "requestAck"?: boolean}';
    const b = await objectBody(req, shape);
    if (typeof b.name !== 'string' || b.name.length === 0) throw new HttpError(400, 'name: expected a non-empty string');
    if (b.name.startsWith('_serf_')) throw new HttpError(400, `name: '_serf_' queries are Serf's own`);
    if (b.payload !== undefined && typeof b.payload !== 'string') throw new HttpError(400, 'payload: expected a string');
    if (b.requestAck !== undefined && typeof b.requestAck !== 'boolean') throw new HttpError(400, 'requestAck: expected a boolean');
    const nodes = stringList(b.nodes, 'nodes');
    const tags = stringMap(b.tags, 'tags');
    for (const [k, re] of Object.entries(tags ?? {})) {
      try {
        new RegExp(re);
      } catch {
        throw new HttpError(400, `tags: '${k}': not a regular expression: ${re}`);
      }
    }
    const timeoutMs = intIn(b.timeoutMs, 'timeoutMs', 1, QUERY_TIMEOUT_MAX_MS);
    const relayFactor = intIn(b.relayFactor, 'relayFactor', 0, 5);
    let r;
    try {
      r = await this.node.query(b.name, b.payload ?? '', {
        requestAck: b.requestAck ?? true,
        ...(nodes !== undefined ? { filterNodes: nodes } : {}),
        ...(tags !== undefined ? { filterTags: tags } : {}),
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
        ...(relayFactor !== undefined ? { relayFactor } : {}),
      });
    } catch (e) {
      throw new HttpError(400, message(e));
    }
    const responses: Record<string, string> = {};
    for (const [from, p] of r.responses) responses[from] = Buffer.from(p).toString('utf8');
    return { name: b.name, acks: [...r.acks], responses };
  }

  private async join(req: IncomingMessage): Promise<{ contacted: number }> {
    const b = await objectBody(req, '{"addrs": [string]}');
    const addrs = stringList(b.addrs, 'addrs');
    if (addrs === undefined || addrs.length === 0) throw new HttpError(400, 'addrs: expected a non-empty array of addresses');
    for (const a of addrs) {
      try {
        parseJoinAddress(a);
      } catch (e) {
        throw new HttpError(400, `addrs: ${message(e)}`);
      }
    }
    let resolved: readonly string[];
    try {
      resolved = this.resolveJoin === null ? addrs : await this.resolveJoin(addrs);
    } catch (e) {
      throw new HttpError(502, message(e)); // nothing resolved: the request was well formed
    }
    try {
      return { contacted: await this.node.join(resolved) };
    } catch (e) {
      if (e instanceof JoinError) throw new HttpError(502, e.message);
      throw new HttpError(400, message(e));
    }
  }

  /**
   * Serf's force-leave: a failed member moves to `left` everywhere (`status: "left"`), or with
   * prune is forgotten (`status: null`). 404 for an unknown member, 409 for an alive one or this node.
   */
  private async forceLeave(req: IncomingMessage): Promise<{ node: string; status: string | null }> {
    const b = await objectBody(req, '{"node": string, "prune"?: boolean}');
    if (typeof b.node !== 'string' || b.node.length === 0) throw new HttpError(400, 'node: expected a non-empty string');
    if (b.prune !== undefined && typeof b.prune !== 'boolean') throw new HttpError(400, 'prune: expected a boolean');
    const node = b.node;
    const known = this.node.members().some((m) => m.name === node);
    try {
      this.node.forceLeave(node, { prune: b.prune === true });
    } catch (e) {
      throw new HttpError(known ? 409 : 404, message(e));
    }
    return { node, status: this.node.members().find((m) => m.name === node)?.status ?? null };
  }

  private async tags(req: IncomingMessage): Promise<{ tags: Readonly<Record<string, string>> }> {
    const b = await objectBody(req, '{"set"?: {name: value}, "delete"?: [name]}');
    const set = stringMap(b.set, 'set') ?? {};
    const del = stringList(b.delete, 'delete') ?? [];
    const next: Record<string, string> = { ...this.node.tags };
    for (const k of del) delete next[k];
    Object.assign(next, set);
    try {
      this.node.setTags(next);
    } catch (e) {
      throw new HttpError(400, message(e));
    }
    return { tags: this.node.tags };
  }

  private info(): InfoJson {
    const members = this.node.members();
    const self = members.find((m) => m.name === this.node.name);
    const count = (s: string): number => members.filter((m) => m.status === s).length;
    return {
      agent: { name: this.node.name, version: packageVersion(), addr: this.node.addr, incarnation: this.node.incarnation },
      protocol: self?.protocol ?? null,
      delegate: self?.delegate ?? null,
      members: { total: members.length, alive: count('alive'), failed: count('failed'), left: count('left'), leaving: count('leaving') },
      clocks: this.node.clocks,
      queues: this.node.queueDepths(),
      tags: this.node.tags,
      handlers: { ...(this.handlerStats?.() ?? { runs: 0, failed: 0, timedOut: 0, dropped: 0 }) },
    };
  }

  /**
   * Serf's reachability check: a `_serf_ping` query asking every member for an ack. `missing`
   * are the members we believe alive that did not ack by the deadline.
   */
  private async reachability(q: URLSearchParams): Promise<{ members: number; alive: number; acks: readonly string[]; missing: readonly string[] }> {
    const t = q.get('timeoutMs');
    const timeoutMs = t === null ? undefined : intIn(Number(t), 'timeoutMs', 1, QUERY_TIMEOUT_MAX_MS);
    const members = this.node.members();
    const alive = members.filter((m) => m.status === 'alive').map((m) => m.name);
    const r = await this.node.query('_serf_ping', '', { requestAck: true, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
    const acked = new Set(r.acks);
    return { members: members.length, alive: alive.length, acks: [...r.acks].sort(), missing: alive.filter((n) => !acked.has(n)).sort() };
  }
}
