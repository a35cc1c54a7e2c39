import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AgentLog } from './agent-log.js';
import type { ClusterNode, Member } from '../index.js';
import { QuorumError } from '../index.js';
import { ReplicaError } from '../core/replica/index.js';
import { parseHostPort } from '../transport/address.js';
import type { KeyOp } from './keys.js';
import { decodeKey, runKeyOp } from './keys.js';
import { HttpError, readJson } from './http-body.js';
import { API_CSP, HttpGuard, PAGE_CSP_FALLBACK, SECURITY_HEADERS } from './http-guard.js';
import { ENVELOPE_BYTES, KvRoutes } from './kv-routes.js';
import { ViewRoutes } from './view-routes.js';
import { OperatorRoutes } from './operator-routes.js';
import { CoordinateRoutes } from './coordinate-routes.js';
import type { HandlerStats } from './event-handlers.js';
import type { KvService } from './kv-service.js';
import type { StoreHealth } from '../store/watched-store.js';
import { sseEvent, StreamHub } from './stream-hub.js';
import type { AgentMetrics } from './metrics.js';
import type { YjsGate } from './yjs-gate.js';

/** A page the agent serves at `GET /` (helper B's dashboard). */
export interface DashboardPage {
  readonly contentType: string;
  readonly body: string | Uint8Array;
  /** Its Content-Security-Policy (the dashboard hashes its inline scripts). */
  readonly csp?: string;
}

export interface HttpApiOptions {
  readonly node: ClusterNode;
  readonly kv: KvService;
  /** Join addresses (names, `dns+srv://`) → `host:port`s for `POST /v1/join`; none: taken as they are. */
  readonly resolveJoin?: (addrs: readonly string[]) => Promise<string[]>;
  /** The metrics registry, made on the first scrape (prom-client is loaded only by an agent that is scraped). */
  readonly metrics: () => Promise<AgentMetrics>;
  /** Required on every request when set: `Authorization: Bearer …`, the dashboard's session cookie, or `?token=` on `/` and `/v1/stream` only. */
  readonly token: string | null;
  /** DNS names the agent is reached by, beyond localhost, 127.0.0.1, [::1] and the bound address (the `Host` check). */
  readonly hosts?: readonly string[];
  /** Largest value a PUT accepts (its JSON encoding), bytes. A body may be this plus 4 KiB of envelope. */
  readonly valueBytesMax: number;
  readonly log: AgentLog;
  /** The dashboard for `GET /`, or null (404). */
  readonly dashboard: (() => DashboardPage) | null;
  /** `POST /v1/leave`: answered first, then this runs (the agent leaves and exits). */
  readonly onLeave: () => void;
  /** What the event handler scripts did, for `GET /v1/info` (absent: none configured). */
  readonly handlerStats?: () => HandlerStats;
  /** The store's health for `GET /v1/health` (absent: always ok). */
  readonly storeHealth?: () => StoreHealth;
  /** Interval of the convergence events on `/v1/stream`. Default 1 s. */
  readonly streamConvergenceMs?: number;
  /** Streams open at once (`httpStreamsMax`); more get a 503. Default 64. */
  readonly streamsMax?: number;
  /** Bytes a stream may have queued before its events are dropped. Default 256 KiB. */
  readonly streamQueueBytesMax?: number;
  /** A stream stuck over its queue limit this long is closed. Default 30 s. */
  readonly streamStallMs?: number;
  /** A connection that has not sent its request headers this long is closed (slowloris). Default 10 s (checked every 30 s); given, checked every quarter of it (tests). */
  readonly headersTimeoutMs?: number;
  /** `ws://HOST/v1/yjs/{doc}` and `GET /v1/yjs` (absent: 404). */
  readonly yjs?: YjsGate;
}

/** A member as `GET /v1/members` reports it (`gossip members --json` prints all but `rttMs`). */
export interface MemberJson {
  readonly name: string;
  readonly addr: string;
  readonly port: number;
  readonly status: string;
  readonly tags: Readonly<Record<string, string>>;
  /** memberlist's incarnation of the member (null if the name is no longer in memberlist's table). */
  readonly incarnation: number | null;
  /** Round trip of this node's last answered probe of the member (absent until one). */
  readonly rttMs?: number;
  /** Round trip from this node estimated from network coordinates (absent without one, and for members not alive). */
  readonly estimatedRttMs?: number;
}

/**
 * A request refused before its body was read (too large, bad headers): once the answer is
 * written, the connection is closed instead of reading the rest of the body (which could be
 * gigabytes). FIN first, so the client can read the answer, then a hard close a moment later.
 */
function cutAfterAnswer(res: ServerResponse): void {
  const socket = res.socket;
  if (socket === null) return;
  res.once('finish', () => {
    socket.pause();
    socket.end();
    setTimeout(() => socket.destroy(), 1000).unref();
  });
}

/** The events `/v1/stream` sends (`?events=` picks among them). */
const STREAM_EVENTS: ReadonlySet<string> = new Set(['member', 'kv', 'user-event', 'convergence']);

type Handler = (req: IncomingMessage, query: URLSearchParams, params: readonly string[], res: ServerResponse) => Promise<void> | void;

export function memberJson(node: ClusterNode, m: Member): MemberJson {
  const hp = parseHostPort(m.addr);
  const rttMs = node.probeRttMs(m.name);
  const estimatedRttMs = m.status === 'alive' && m.name !== node.name ? node.estimateRtt(m.name) : undefined;
  const base = { name: m.name, addr: hp.host, port: hp.port, status: m.status, tags: m.tags, incarnation: node.memberIncarnation(m.name) ?? null };
  return { ...base, ...(rttMs === undefined ? {} : { rttMs }), ...(estimatedRttMs === undefined ? {} : { estimatedRttMs }) };
}

/**
 * The agent's HTTP API (JSON). Every error is a 4xx/5xx with `{"error": message}`; a bad
 * request writes nothing and the server keeps serving. Before any route: the `Host` check, the
 * cross-site checks on state-changing requests and the token (`HttpGuard`). Routes match the
 * raw request path (no dot-segment resolution); HEAD is answered as GET without a body.
 */
/** The HTTP listener's accept queue (capped by the kernel's `net.core.somaxconn`). */
const LISTEN_BACKLOG = 4096;

export class HttpApi {
  private readonly server: Server;
  private readonly routes: { method: string; pattern: RegExp; handler: Handler }[] = [];
  private readonly guard: HttpGuard;
  /** The `/v1/stream` fan-out. */
  readonly streams: StreamHub;
  /** Requests answered, by status code (for tests and logs). */
  readonly answered = new Map<number, number>();

  constructor(private readonly o: HttpApiOptions) {
    this.route('GET', /^\/v1\/health$/, () => this.health());
    this.guard = new HttpGuard({ token: o.token, hosts: o.hosts ?? [] });
    this.streams = new StreamHub({
      streamsMax: o.streamsMax ?? 64, queueBytesMax: o.streamQueueBytesMax ?? 256 * 1024, stallMs: o.streamStallMs ?? 30_000,
      convergenceMs: o.streamConvergenceMs ?? 1000, convergence: () => this.o.kv.convergence(),
    });
    this.publishEvents();
    this.route('GET', /^\/v1\/members$/, () => this.members());
    new KvRoutes(o.kv, o.valueBytesMax).register((method, pattern, handler) => this.route(method, pattern, (req, query, params) => handler(req, query, params)));
    new OperatorRoutes(o.node, o.handlerStats ?? null, o.resolveJoin ?? null).register((method, pattern, handler) => this.route(method, pattern, (req, query, params) => handler(req, query, params)));
    new ViewRoutes(o.node).register((method, pattern, handler) => this.route(method, pattern, (req, query, params) => handler(req, query, params)));
    new CoordinateRoutes(o.node).register((method, pattern, handler) => this.route(method, pattern, (req, query, params) => handler(req, query, params)));
    this.route('POST', /^\/v1\/event$/, (req) => this.event(req));
    this.route('GET', /^\/v1\/convergence$/, () => this.o.kv.convergence());
    this.route('GET', /^\/v1\/stream$/, (req, q, _p, res) => this.stream(req, q, res));
    this.route('POST', /^\/v1\/leave$/, () => {
      setImmediate(this.o.onLeave);
      return { leaving: true };
    });
    this.route('GET', /^\/v1\/keys$/, () => runKeyOp(this.o.node, 'list', null));
    this.route('POST', /^\/v1\/keys\/(install|use|remove)$/, (req, _q, p) => this.keyOp(req, p[0] as KeyOp));
    this.route('GET', /^\/metrics$/, async (_q, _u, _p, res) => {
      const metrics = await this.o.metrics();
      const text = await metrics.text();
      this.send(res, 200, text, metrics.contentType);
    });
    this.route('GET', /^\/$/, (_q, query, _p, res) => this.page(query, res));
    if (o.yjs !== undefined) {
      const yjs = o.yjs;
      this.route('GET', /^\/v1\/yjs$/, () => yjs.stats());
    }
    // Slow or stuck clients must not pin the agent: a connection still sending its headers after
    // the deadline is cut (408) at Node's next check, every 30 s: at most 40 s by default. Not
    // checked more often: under a burst (10,000 connections at once on a loaded machine) requests
    // wait their turn longer than the deadline and a frequent check would cut them. A test that
    // shortens the deadline gets checks at a quarter of it.
    const headersTimeout = o.headersTimeoutMs ?? 10_000;
    const checks = o.headersTimeoutMs === undefined ? {} : { connectionsCheckingInterval: Math.max(100, headersTimeout / 4) };
    this.server = createServer(checks, (req, res) => {
      this.handle(req, res).catch((e: unknown) => this.fail(res, e));
    });
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => socket.destroy());
      this.upgrade(req, socket, head).catch((e: unknown) => this.refuseUpgrade(socket, e));
    });
    this.server.requestTimeout = Math.max(30_000, headersTimeout);
    this.server.headersTimeout = headersTimeout;
  }

  /** Listens on `host:port` (port 0: any); resolves with the bound `host:port`. */
  listen(hostPort: string): Promise<string> {
    const { host, port } = parseHostPort(hostPort);
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => reject(new Error(`http ${hostPort}: ${e.message}`));
      this.server.once('error', onError);
      // A burst of connections (10,000 at once) waits in the kernel's accept queue instead of
      // being reset: Node's default backlog is 511; the kernel caps this at somaxconn.
      this.server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
        this.server.off('error', onError);
        const a = this.server.address();
        if (a === null || typeof a === 'string') return reject(new Error('http: no address'));
        this.guard.bound(host);
        this.guard.bound(a.address);
        resolve(a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`);
      });
    });
  }

  close(): Promise<void> {
    this.streams.close();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private route(method: string, pattern: RegExp, handler: (req: IncomingMessage, query: URLSearchParams, params: readonly string[], res: ServerResponse) => unknown): void {
    this.routes.push({
      method, pattern,
      handler: async (req, query, params, res) => {
        const body = await handler(req, query, params, res);
        if (!res.headersSent && body !== undefined) this.json(res, 200, body);
      },
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.guard.checkHost(req);
    // The raw target: `new URL` would resolve `..` and `%2e%2e` segments (`/v1/kv/z/../zz` → key `zz`).
    const target = req.url ?? '/';
    if (!target.startsWith('/')) throw new HttpError(400, 'request target: expected a path');
    const q = target.indexOf('?');
    const path = q < 0 ? target : target.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : target.slice(q + 1));
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    let pathMatched = false;
    for (const r of this.routes) {
      const m = r.pattern.exec(path);
      if (m === null) continue;
      pathMatched = true;
      if (r.method !== method) continue;
      this.guard.checkWrite(req);
      this.guard.authorize(req, path, query);
      let params: string[];
      try {
        params = m.slice(1).map((s) => decodeURIComponent(s));
      } catch {
        throw new HttpError(400, `bad percent-encoding in ${path}`);
      }
      await r.handler(req, query, params, res);
      return;
    }
    this.guard.authorize(req, path, query);
    if (pathMatched) throw new HttpError(405, `${req.method ?? '?'} is not allowed on ${path}`);
    throw new HttpError(404, `no such endpoint: ${path}`);
  }

  /** A websocket upgrade: only `/v1/yjs/{doc}`, after the `Host` check and the token (`HttpGuard.authorizeSocket`). */
  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    this.guard.checkHost(req);
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const path = q < 0 ? target : target.slice(0, q);
    const m = /^\/v1\/yjs\/(.+)$/.exec(path);
    if (m === null || this.o.yjs === undefined) throw new HttpError(404, `no websocket endpoint at ${path}`);
    this.guard.authorizeSocket(req, new URLSearchParams(q < 0 ? '' : target.slice(q + 1)));
    let name: string;
    try {
      name = decodeURIComponent(m[1] as string);
    } catch {
      throw new HttpError(400, `bad percent-encoding in ${path}`);
    }
    if (Buffer.byteLength(name) > 512) throw new HttpError(400, 'document name over 512 bytes');
    await this.o.yjs.accept(req, socket, head, name);
  }

  private refuseUpgrade(socket: Duplex, e: unknown): void {
    const status = e instanceof HttpError ? e.status : 500;
    if (status === 500) this.o.log.error({ err: e }, 'websocket upgrade failed');
    this.answered.set(status, (this.answered.get(status) ?? 0) + 1);
    const body = JSON.stringify({ error: e instanceof Error ? e.message : String(e) });
    if (!socket.writable) return void socket.destroy();
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  }

  /** `GET /`: the dashboard. `?token=` (checked by the guard) logs in: a session cookie, then a redirect that drops the token from the address. */
  private page(query: URLSearchParams, res: ServerResponse): void {
    if (this.guard.guarded && query.has('token')) {
      this.answered.set(303, (this.answered.get(303) ?? 0) + 1);
      res.writeHead(303, { ...SECURITY_HEADERS, 'content-security-policy': API_CSP, location: '/', 'set-cookie': this.guard.newSession(), 'content-length': 0 });
      res.end();
      return;
    }
    if (this.o.dashboard === null) throw new HttpError(404, 'no dashboard in this build');
    const page = this.o.dashboard();
    this.send(res, 200, page.body, page.contentType, page.csp ?? PAGE_CSP_FALLBACK);
  }

  private members(): MemberJson[] {
    return this.o.node.members().map((m) => memberJson(this.o.node, m));
  }

  private async event(req: IncomingMessage): Promise<unknown> {
    const body = await readJson(req, ENVELOPE_BYTES, 'an event body');
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'body: expected {"name": string, "payload"?: string, "coalesce"?: boolean}');
    const b = body as Record<string, unknown>;
    if (typeof b.name !== 'string' || b.name.length === 0) throw new HttpError(400, 'name: expected a non-empty string');
    if (b.payload !== undefined && typeof b.payload !== 'string') throw new HttpError(400, 'payload: expected a string');
    if (b.coalesce !== undefined && typeof b.coalesce !== 'boolean') throw new HttpError(400, 'coalesce: expected a boolean');
    try {
      this.o.node.sendEvent(b.name, b.payload ?? '', { coalesce: b.coalesce ?? true });
    } catch (e) {
      throw new HttpError(400, e instanceof Error ? e.message : String(e));
    }
    return { sent: true, name: b.name };
  }

  private async keyOp(req: IncomingMessage, op: KeyOp): Promise<unknown> {
    const body = await readJson(req, ENVELOPE_BYTES, 'a keys body');
    const k = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).key : undefined;
    const key = typeof k === 'string' ? decodeKey(k) : null;
    if (key === null) throw new HttpError(400, 'key: expected a base64 key of 16, 24 or 32 bytes');
    return runKeyOp(this.o.node, op, key);
  }

  /** The node's events, published to every open stream (computed only while one is open). */
  private publishEvents(): void {
    const { node, kv } = this.o;
    const hub = this.streams;
    for (const t of ['member-joined', 'member-updated', 'member-left', 'member-failed', 'member-reaped'] as const) {
      node.on(t, (e) => hub.publish('member', () => ({ type: t, member: memberJson(node, e.member) })));
    }
    node.on('member-suspected', (e) => hub.publish('member', () => ({ type: 'member-suspected', name: e.member.name })));
    node.on('member-recovered', (e) => hub.publish('member', () => ({ type: 'member-recovered', name: e.member.name })));
    node.on('user-event', (e) => hub.publish('user-event', () => ({ name: e.name, payload: Buffer.from(e.payload).toString('utf8'), ltime: e.ltime })));
    kv.onChange((c) => hub.publish('kv', () => c));
  }

  /** `?events=member,kv` (names of events, comma-separated): only those; the first `members` is always sent. */
  private stream(req: IncomingMessage, query: URLSearchParams, res: ServerResponse): void {
    const events = query.get('events');
    const only = events === null ? null : new Set(events.split(',').map((e) => e.trim()));
    if (only !== null) {
      const unknown = [...only].filter((e) => !STREAM_EVENTS.has(e));
      if (unknown.length > 0) throw new HttpError(400, `events: unknown ${unknown.join(', ')} (expected some of ${[...STREAM_EVENTS].join(', ')})`);
    }
    this.streams.admit();
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-security-policy': API_CSP, 'content-type': 'text/event-stream', connection: 'keep-alive' });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const remove = this.streams.add(res, [': gossip agent stream\n\n', sseEvent('members', this.members())], only);
    req.on('close', remove);
  }

  /** 200 always (the agent serves reads); `status` is `degraded` while the store refuses writes. */
  private health(): { status: 'ok' | 'degraded'; store: { ok: boolean; error: string | null; since: string | null; writeFailures: number } } {
    const h = this.o.storeHealth?.() ?? { failing: false, error: null, sinceMs: null, writeFailures: 0 };
    return {
      status: h.failing ? 'degraded' : 'ok',
      store: { ok: !h.failing, error: h.error, since: h.sinceMs === null ? null : new Date(h.sinceMs).toISOString(), writeFailures: h.writeFailures },
    };
  }

  private json(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
    this.send(res, status, `${JSON.stringify(body)}\n`, 'application/json; charset=utf-8', API_CSP, headers);
  }

  private send(res: ServerResponse, status: number, body: string | Uint8Array, contentType: string, csp = API_CSP, headers: Readonly<Record<string, string>> = {}): void {
    this.answered.set(status, (this.answered.get(status) ?? 0) + 1);
    res.writeHead(status, {
      ...SECURITY_HEADERS, 'content-security-policy': csp, ...headers,
      'content-type': contentType, 'content-length': typeof body === 'string' ? Buffer.byteLength(body) : body.length,
    });
    res.end(body);
  }

  private fail(res: ServerResponse, e: unknown): void {
    let status = 500;
    let message = e instanceof Error ? e.message : String(e);
    let headers: Readonly<Record<string, string>> = {};
    let extra: Readonly<Record<string, unknown>> = {};
    if (e instanceof HttpError) {
      status = e.status;
      headers = e.headers;
    } else if (e instanceof ReplicaError) status = e.code === 'wrong-type' || e.code === 'unsupported' ? 409 : 400;
    else if (e instanceof Error && e.name === 'NotWritableError') status = 503;
    else if (e instanceof QuorumError) {
      status = 503;
      extra = { quorum: { op: e.op, answered: e.answered, need: e.need, replicas: e.replicas, timeoutMs: e.timeoutMs, refused: Object.fromEntries(e.refused), unanswered: Object.fromEntries(e.unanswered) } };
    } else if (e instanceof Error && e.name === 'QuorumSizeError') status = 400;
    else if (this.o.storeHealth?.().failing === true) {
      // Refused by the store, which logged it once when it started failing: nothing was applied.
      status = 503;
      message = `the store refuses writes, nothing was written: ${message}`;
    } else this.o.log.error({ err: e }, 'request failed');
    if (status === 500) message = `internal error: ${message}`;
    if (res.headersSent) {
      res.end();
      return;
    }
    if (!res.req.complete) headers = { ...headers, connection: 'close' };
    this.json(res, status, { error: message, ...extra }, headers);
    if (!res.req.complete) cutAfterAnswer(res);
  }
}
