import type { IncomingMessage } from 'node:http';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { HttpError } from './http-body.js';

/** The dashboard's session cookie (set by `GET /?token=…`). */
export const SESSION_COOKIE = 'gossip_session';
/** How long a dashboard session lasts. */
export const SESSION_MS = 12 * 3600_000;
/** Sessions kept at once (the oldest goes first). */
const SESSIONS_MAX = 256;

/** Routes where a browser cannot send a header, so `?token=` is accepted: the page and the event stream. */
const QUERY_TOKEN_PATHS: ReadonlySet<string> = new Set(['/', '/v1/stream']);

/** Headers on every answer: no sniffing, no framing, no referrer, no caching. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};
/** The CSP of API answers (JSON, text): nothing to load, never framed. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'";
/** The page's CSP when the dashboard names none (it inlines its scripts; the dashboard module gives hashes). */
export const PAGE_CSP_FALLBACK = "frame-ancestors 'none'; base-uri 'none'; form-action 'none'; object-src 'none'";

export interface HttpGuardOptions {
  /** Required when set: `Authorization: Bearer …`, the session cookie, or `?token=` on the page and the stream. */
  readonly token: string | null;
  /** Extra names the `Host` header may carry (DNS names the agent is reached by). */
  readonly hosts: readonly string[];
}

/**
 * What every request passes before its route: the `Host` check (against DNS rebinding), the
 * cross-site checks on state-changing requests (a browser form or a `no-cors` fetch from
 * another origin cannot pass them), and the token.
 */
export class HttpGuard {
  /** sha256 of the token: a given token is hashed and compared with timingSafeEqual, so neither its bytes nor its length show in the time taken. */
  private readonly token: Buffer | null;
  private readonly names: Set<string>;
  private anyIp = false;
  /** sha256 of the session id → expiry (ms). */
  private readonly sessions = new Map<string, number>();

  constructor(o: HttpGuardOptions) {
    this.token = o.token === null ? null : sha256(o.token);
    this.names = new Set(['localhost', '127.0.0.1', '::1', ...o.hosts.map((h) => h.toLowerCase())]);
  }

  /** The bound address joins the names; a wildcard bind (0.0.0.0, ::) accepts any IP literal (which no DNS can rebind). */
  bound(host: string): void {
    if (host === '0.0.0.0' || host === '::') this.anyIp = true;
    else this.names.add(host.toLowerCase());
  }

  /** 403 unless `Host` is one of the agent's names (or absent: no browser omits it). */
  checkHost(req: IncomingMessage): void {
    const h = req.headers.host;
    if (h === undefined) return;
    const name = hostName(h);
    if (name !== null && (this.names.has(name) || (this.anyIp && isIP(name) !== 0))) return;
    throw new HttpError(403, `Host '${h}' is not a name of this agent (${[...this.names].join(', ')}; add others with httpHosts): refused against DNS rebinding`);
  }

  /**
   * State-changing methods (anything but GET and HEAD) must come from the same origin when a
   * browser says where they come from, and must say `Content-Type: application/json` (which a
   * cross-site form or `no-cors` fetch cannot send without a CORS preflight, which we never answer).
   */
  checkWrite(req: IncomingMessage): void {
    const m = req.method ?? 'GET';
    if (m === 'GET' || m === 'HEAD') return;
    const origin = req.headers.origin;
    if (origin !== undefined && !sameOrigin(origin, req.headers.host)) {
      throw new HttpError(403, `cross-origin request refused (Origin ${origin})`);
    }
    const site = req.headers['sec-fetch-site'];
    if (site === 'cross-site' || site === 'same-site') throw new HttpError(403, `cross-site request refused (Sec-Fetch-Site: ${site})`);
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/json') {
      throw new HttpError(415, `${m} requests need Content-Type: application/json${type === '' ? '' : `, not ${type}`} (even without a body)`);
    }
  }

  /** 401/403 unless the request carries the token (see `HttpGuardOptions.token`). */
  authorize(req: IncomingMessage, path: string, query: URLSearchParams): void {
    if (this.token === null) return;
    const h = req.headers.authorization;
    if (h !== undefined && h.startsWith('Bearer ')) return this.checkToken(h.slice(7));
    if (this.hasSession(req)) return;
    const q = query.get('token');
    if (q !== null && QUERY_TOKEN_PATHS.has(path)) return this.checkToken(q);
    if (q !== null) throw new HttpError(401, `?token= is accepted only on / and /v1/stream: send Authorization: Bearer <token>`);
    throw new HttpError(401, 'a bearer token is required (Authorization: Bearer <token>)');
  }

  /**
   * A websocket upgrade (`/v1/yjs/…`): the token as a bearer header or `?token=` (a browser's
   * WebSocket cannot send headers), or the session cookie, which a browser also sends on a
   * cross-site upgrade: with it, a browser `Origin` must be this agent's own. Without a token,
   * a browser from another origin is refused too (a page must not reach a loopback agent).
   */
  authorizeSocket(req: IncomingMessage, query: URLSearchParams): void {
    const origin = req.headers.origin;
    const sameSite = origin === undefined || sameOrigin(origin, req.headers.host);
    if (this.token === null) {
      if (!sameSite) throw new HttpError(403, `cross-origin websocket refused (Origin ${origin ?? ''})`);
      return;
    }
    const h = req.headers.authorization;
    if (h !== undefined && h.startsWith('Bearer ')) return this.checkToken(h.slice(7));
    const q = query.get('token');
    if (q !== null) return this.checkToken(q);
    if (this.hasSession(req)) {
      if (!sameSite) throw new HttpError(403, `cross-origin websocket refused (Origin ${origin ?? ''}): a session cookie counts only from this agent's own pages`);
      return;
    }
    throw new HttpError(401, 'a token is required (Authorization: Bearer <token>, or ?token=)');
  }

  /** A new dashboard session; its `Set-Cookie` value (HttpOnly, SameSite=Strict). */
  newSession(): string {
    const now = Date.now();
    for (const [k, until] of this.sessions) if (until <= now || this.sessions.size >= SESSIONS_MAX) this.sessions.delete(k);
    const id = randomBytes(32).toString('base64url');
    this.sessions.set(digest(id), now + SESSION_MS);
    return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_MS / 1000}`;
  }

  /** Whether a token is needed at all. */
  get guarded(): boolean {
    return this.token !== null;
  }

  private checkToken(given: string): void {
    if (this.token === null) return;
    if (given === '') throw new HttpError(401, 'a bearer token is required (Authorization: Bearer <token>)');
    if (!timingSafeEqual(sha256(given), this.token)) throw new HttpError(403, 'wrong token');
  }

  private hasSession(req: IncomingMessage): boolean {
    const id = cookie(req.headers.cookie, SESSION_COOKIE);
    if (id === null) return false;
    const until = this.sessions.get(digest(id));
    return until !== undefined && until > Date.now();
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function digest(id: string): string {
  return createHash('sha256').update(id).digest('base64');
}

/** The host name of a `Host` header, lowercased, brackets of an IPv6 literal removed; null if malformed. */
export function hostName(host: string): string | null {
  const h = host.trim().toLowerCase();
  const m = /^\[([0-9a-f:.]+)\](?::\d+)?$/.exec(h) ?? /^([^:[\]]+)(?::\d+)?$/.exec(h);
  return m?.[1] ?? null;
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    const o = new URL(origin);
    return (o.protocol === 'http:' || o.protocol === 'https:') && o.host === new URL(`http://${host}`).host;
  } catch {
    return false;
  }
}

function cookie(header: string | undefined, name: string): string | null {
  if (header === undefined) return null;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return null;
}
