import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import type { ClusterNode, Member } from '../index.js';
import type { CausalContext, JsonValue } from '../core/replica/index.js';
import { isVersionVector, ReplicaError } from '../core/replica/index.js';
import { parseHostPort } from '../transport/address.js';
import type { KeyOp } from './keys.js';
import { decodeKey, runKeyOp } from './keys.js';
import type { KvService } from './kv-service.js';
import { RESOLVER_TYPES } from './kv-service.js';
import type { StoreHealth } from '../store/watched-store.js';
import type { AgentMetrics } from './metrics.js';

/** A page the agent serves at `GET /` (helper B's dashboard). */
export interface DashboardPage {
  readonly contentType: string;
  readonly body: string | Uint8Array;
}

export interface HttpApiOptions {
  readonly node: ClusterNode;
  readonly kv: KvService;
  readonly metrics: AgentMetrics;
  /** Required on every request when set (`Authorization: Bearer …`, or `?token=` for EventSource). */
  readonly token: string | null;
  /** Largest value a PUT accepts (its JSON encoding), bytes. A body may be this plus 4 KiB of envelope. */
  readonly valueBytesMax: number;
  readonly log: Logger;
  /** The dashboard for `GET /`, or null (404). */
  readonly dashboard: (() => DashboardPage) | null;
  /** `POST /v1/leave`: answered first, then this runs (the agent leaves and exits). */
  readonly onLeave: () => void;
  /** The store's health for `GET /v1/health` (absent: always ok). */
  readonly storeHealth?: () => StoreHealth;
  /** Interval of the convergence events on `/v1/stream`. */
  readonly streamConvergenceMs?: number;
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
}

/** Keys are at most this many UTF-8 bytes, without control characters. */
export const KEY_BYTES_MAX = 512;
const ENVELOPE_BYTES = 4096;

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

type Handler = (req: IncomingMessage, url: URL, params: readonly string[], res: ServerResponse) => Promise<void> | void;

export function memberJson(node: ClusterNode, m: Member): MemberJson {
  const hp = parseHostPort(m.addr);
  const rttMs = node.probeRttMs(m.name);
  const base = { name: m.name, addr: hp.host, port: hp.port, status: m.status, tags: m.tags, incarnation: node.memberIncarnation(m.name) ?? null };
  return rttMs === undefined ? base : { ...base, rttMs };
}

/**
 * The agent's HTTP API (JSON). Every error is a 4xx/5xx with `{"error": message}`; a bad
 * request writes nothing and the server keeps serving.
 */
export class HttpApi {
  private readonly server: Server;
  private readonly routes: { method: string; pattern: RegExp; handler: Handler }[] = [];
  private readonly streams = new Set<ServerResponse>();
  private readonly token: Buffer | null;
  /** Requests answered, by status code (for tests and logs). */
  readonly answered = new Map<number, number>();

  constructor(private readonly o: HttpApiOptions) {
    this.token = o.token === null ? null : Buffer.from(o.token);
    this.route('GET', /^\/v1\/health$/, () => this.health());
    this.route('GET', /^\/v1\/members$/, () => this.members());
    this.route('GET', /^\/v1\/kv$/, (_q, url) => this.kvList(url));
    this.route('GET', /^\/v1\/kv\/(.+)$/, (_q, _u, p) => this.kvGet(p));
    this.route('PUT', /^\/v1\/kv\/(.+)$/, (req, _u, p) => this.kvPut(req, p));
    this.route('DELETE', /^\/v1\/kv\/(.+)$/, (req, _u, p) => this.kvDelete(req, p));
    this.route('POST', /^\/v1\/event$/, (req) => this.event(req));
    this.route('GET', /^\/v1\/convergence$/, () => this.o.kv.convergence());
    this.route('GET', /^\/v1\/stream$/, (req, _u, _p, res) => this.stream(req, res));
    this.route('POST', /^\/v1\/leave$/, () => {
      setImmediate(this.o.onLeave);
      return { leaving: true };
    });
    this.route('GET', /^\/v1\/keys$/, () => runKeyOp(this.o.node, 'list', null));
    this.route('POST', /^\/v1\/keys\/(install|use|remove)$/, (req, _u, p) => this.keyOp(req, p[0] as KeyOp));
    this.route('GET', /^\/metrics$/, async (_q, _u, _p, res) => {
      const text = await this.o.metrics.text();
      this.send(res, 200, text, this.o.metrics.contentType);
    });
    this.route('GET', /^\/$/, (_q, _u, _p, res) => {
      if (this.o.dashboard === null) throw new HttpError(404, 'no dashboard in this build');
      const page = this.o.dashboard();
      this.send(res, 200, page.body, page.contentType);
    });
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => this.fail(res, e));
    });
    // Slow or stuck clients must not pin the agent.
    this.server.requestTimeout = 30_000;
    this.server.headersTimeout = 10_000;
  }

  /** Listens on `host:port` (port 0: any); resolves with the bound `host:port`. */
  listen(hostPort: string): Promise<string> {
    const { host, port } = parseHostPort(hostPort);
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => reject(new Error(`http ${hostPort}: ${e.message}`));
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        const a = this.server.address();
        if (a === null || typeof a === 'string') return reject(new Error('http: no address'));
        resolve(a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`);
      });
    });
  }

  close(): Promise<void> {
    for (const s of this.streams) s.end();
    this.streams.clear();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private route(method: string, pattern: RegExp, handler: (req: IncomingMessage, url: URL, params: readonly string[], res: ServerResponse) => unknown): void {
    this.routes.push({
      method, pattern,
      handler: async (req, url, params, res) => {
        const body = await handler(req, url, params, res);
        if (!res.headersSent && body !== undefined) this.json(res, 200, body);
      },
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://agent');
    this.authorize(req, url);
    let pathMatched = false;
    for (const r of this.routes) {
      const m = r.pattern.exec(url.pathname);
      if (m === null) continue;
      pathMatched = true;
      if (r.method !== req.method) continue;
      let params: string[];
      try {
        params = m.slice(1).map((s) => decodeURIComponent(s));
      } catch {
        throw new HttpError(400, `bad percent-encoding in ${url.pathname}`);
      }
      await r.handler(req, url, params, res);
      return;
    }
    if (pathMatched) throw new HttpError(405, `${req.method ?? '?'} is not allowed on ${url.pathname}`);
    throw new HttpError(404, `no such endpoint: ${url.pathname}`);
  }

  private authorize(req: IncomingMessage, url: URL): void {
    if (this.token === null) return;
    const h = req.headers.authorization;
    const given = h !== undefined && h.startsWith('Bearer ') ? h.slice(7) : url.searchParams.get('token');
    if (given === null || given === '') throw new HttpError(401, 'a bearer token is required (Authorization: Bearer <token>)');
    const g = Buffer.from(given);
    if (g.length !== this.token.length || !timingSafeEqual(g, this.token)) throw new HttpError(403, 'wrong token');
  }

  private members(): MemberJson[] {
    return this.o.node.members().map((m) => memberJson(this.o.node, m));
  }

  private kvList(url: URL): { prefix: string; keys: string[] } {
    const prefix = url.searchParams.get('prefix') ?? '';
    return { prefix, keys: this.o.kv.list(prefix) };
  }

  private kvGet(p: readonly string[]): unknown {
    const key = checkKey(p[0] ?? '');
    const r = this.o.kv.get(key);
    if (r === null) throw new HttpError(404, `no such key: ${key}`);
    return r;
  }

  private async kvPut(req: IncomingMessage, p: readonly string[]): Promise<unknown> {
    const key = checkKey(p[0] ?? '');
    const body = await this.readJson(req, this.o.valueBytesMax + ENVELOPE_BYTES);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'body: expected a JSON object {"value": …, "context"?: …, "type"?: …}');
    const b = body as Record<string, unknown>;
    const unknownFields = Object.keys(b).filter((k) => k !== 'value' && k !== 'context' && k !== 'type');
    if (unknownFields.length > 0) throw new HttpError(400, `body: unknown field${unknownFields.length > 1 ? 's' : ''} ${unknownFields.join(', ')}`);
    if (!('value' in b)) throw new HttpError(400, 'body: "value" is required');
    const valueBytes = Buffer.byteLength(JSON.stringify(b.value));
    if (valueBytes > this.o.valueBytesMax) throw new HttpError(413, `value is ${valueBytes} bytes, over the limit of ${this.o.valueBytesMax}`);
    this.checkType(key, b.type);
    const context = checkContext(b.context);
    const ctx = await this.o.kv.put(key, b.value as JsonValue, ...(context === undefined ? [] : [context]));
    return { key, context: ctx };
  }

  private async kvDelete(req: IncomingMessage, p: readonly string[]): Promise<unknown> {
    const key = checkKey(p[0] ?? '');
    const body = await this.readJson(req, ENVELOPE_BYTES, true);
    let context: CausalContext | undefined;
    if (body !== undefined) {
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'body: expected a JSON object {"context"?: …}');
      context = checkContext((body as Record<string, unknown>).context);
    }
    const ctx = await this.o.kv.delete(key, ...(context === undefined ? [] : [context]));
    return { key, deleted: true, context: ctx };
  }

  private checkType(key: string, type: unknown): void {
    if (type === undefined) return;
    if (typeof type !== 'string' || !(RESOLVER_TYPES as readonly string[]).includes(type)) {
      throw new HttpError(400, `unknown key type ${JSON.stringify(type)}: expected one of ${RESOLVER_TYPES.join(', ')}`);
    }
    const actual = this.o.kv.resolverOf(key);
    if (actual !== type) throw new HttpError(409, `key ${key} is of type ${actual}, not ${type}`);
  }

  private async event(req: IncomingMessage): Promise<unknown> {
    const body = await this.readJson(req, ENVELOPE_BYTES);
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
    const body = await this.readJson(req, ENVELOPE_BYTES);
    const k = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).key : undefined;
    const key = typeof k === 'string' ? decodeKey(k) : null;
    if (key === null) throw new HttpError(400, 'key: expected a base64 key of 16, 24 or 32 bytes');
    return runKeyOp(this.o.node, op, key);
  }

  private stream(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.write(': gossip agent stream\n\n');
    const send = (event: string, data: unknown): void => {
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    const { node, kv } = this.o;
    send('members', this.members());
    const offs = [
      ...(['member-joined', 'member-updated', 'member-left', 'member-failed', 'member-reaped'] as const).map((t) =>
        node.on(t, (e) => send('member', { type: t, member: memberJson(node, e.member) }))),
      node.on('member-suspected', (e) => send('member', { type: 'member-suspected', name: e.member.name })),
      node.on('member-recovered', (e) => send('member', { type: 'member-recovered', name: e.member.name })),
      node.on('user-event', (e) => send('user-event', { name: e.name, payload: Buffer.from(e.payload).toString('utf8'), ltime: e.ltime })),
      kv.onChange((c) => send('kv', c)),
    ];
    const timer = setInterval(() => send('convergence', kv.convergence()), this.o.streamConvergenceMs ?? 1000);
    this.streams.add(res);
    req.on('close', () => {
      clearInterval(timer);
      for (const off of offs) off();
      this.streams.delete(res);
    });
  }

  /** Reads and parses a JSON body of at most `maxBytes`; `optional`: an empty body is undefined. */
  private async readJson(req: IncomingMessage, maxBytes: number, optional = false): Promise<unknown> {
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > maxBytes) {
      req.resume();
      throw new HttpError(413, `body is ${declared} bytes, over the limit of ${maxBytes}`);
    }
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const c of req) {
      const chunk = c as Buffer;
      n += chunk.length;
      if (n > maxBytes) {
        req.resume();
        throw new HttpError(413, `body is over the limit of ${maxBytes} bytes`);
      }
      chunks.push(chunk);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    if (text.trim() === '') {
      if (optional) return undefined;
      throw new HttpError(400, 'body: expected JSON, got nothing');
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      throw new HttpError(400, `malformed JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** 200 always (the agent serves reads); `status` is `degraded` while the store refuses writes. */
  private health(): { status: 'ok' | 'degraded'; store: { ok: boolean; error: string | null; since: string | null; writeFailures: number } } {
    const h = this.o.storeHealth?.() ?? { failing: false, error: null, sinceMs: null, writeFailures: 0 };
    return {
      status: h.failing ? 'degraded' : 'ok',
      store: { ok: !h.failing, error: h.error, since: h.sinceMs === null ? null : new Date(h.sinceMs).toISOString(), writeFailures: h.writeFailures },
    };
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    this.send(res, status, `${JSON.stringify(body)}\n`, 'application/json; charset=utf-8');
  }

  private send(res: ServerResponse, status: number, body: string | Uint8Array, contentType: string): void {
    this.answered.set(status, (this.answered.get(status) ?? 0) + 1);
    res.writeHead(status, { 'content-type': contentType, 'content-length': typeof body === 'string' ? Buffer.byteLength(body) : body.length });
    res.end(body);
  }

  private fail(res: ServerResponse, e: unknown): void {
    let status = 500;
    let message = e instanceof Error ? e.message : String(e);
    if (e instanceof HttpError) status = e.status;
    else if (e instanceof ReplicaError) status = e.code === 'wrong-type' || e.code === 'unsupported' ? 409 : 400;
    else if (e instanceof Error && e.name === 'NotWritableError') status = 503;
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
    this.json(res, status, { error: message });
  }
}

function checkKey(key: string): string {
  if (key.length === 0) throw new HttpError(400, 'key: empty');
  if (Buffer.byteLength(key) > KEY_BYTES_MAX) throw new HttpError(400, `key: over ${KEY_BYTES_MAX} bytes`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(key)) throw new HttpError(400, 'key: control characters are not allowed');
  return key;
}

function checkContext(c: unknown): CausalContext | undefined {
  if (c === undefined || c === null) return undefined;
  if (!isVersionVector(c)) throw new HttpError(400, 'context: expected a causal context as returned by GET (an array of {origin, counter})');
  return c;
}
