import { CommanderError } from 'commander';
import type { Io } from './io.js';
import { ConfigError, readTokenFile } from '../agent/config-values.js';
import { UsageError } from './parse.js';

/** The agent's HTTP API address the CLI talks to by default (`--http`, `GOSSIP_HTTP`). */
export const DEFAULT_AGENT_HTTP = '127.0.0.1:7380';

/** A failed call: the agent's status and message, or why it could not be reached. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export interface ClientOptions {
  /** `host:port` or a full `http://` URL. */
  readonly http?: string | undefined;
  readonly token?: string | undefined;
  /** A file holding the token (`--token-file`, `GOSSIP_HTTP_TOKEN_FILE`). */
  readonly tokenFile?: string | undefined;
}

/** Shared `--http`, `--token-file` and `--token` options of every client command. */
export interface ClientFlags {
  http?: string;
  token?: string;
  tokenFile?: string;
}

/** A client of the agent's HTTP API (used by the CLI commands; JSON in and out). */
export class AgentClient {
  readonly base: string;
  private readonly token: string | undefined;

  constructor(o: ClientOptions = {}, env: Readonly<Record<string, string | undefined>> = process.env) {
    const http = o.http ?? env.GOSSIP_HTTP ?? DEFAULT_AGENT_HTTP;
    this.base = /^https?:\/\//.test(http) ? http.replace(/\/$/, '') : `http://${http}`;
    const tokenFile = o.tokenFile ?? (o.token === undefined ? env.GOSSIP_HTTP_TOKEN_FILE : undefined);
    this.token = o.token ?? (tokenFile !== undefined && tokenFile !== '' ? tokenFromFile(tokenFile) : env.GOSSIP_HTTP_TOKEN);
    try {
      new URL(this.base);
    } catch {
      throw new UsageError(`--http: expected host:port, got '${http}'`);
    }
  }

  /** Calls the API; resolves with the parsed JSON body, rejects with an `ApiError`. */
  async call<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.request(method, path, body);
    const text = res.text;
    let parsed: unknown;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      parsed = text;
    }
    if (res.status < 200 || res.status > 299) {
      const msg = typeof parsed === 'object' && parsed !== null && 'error' in parsed ? String((parsed).error) : text;
      throw new ApiError(res.status, `${res.status}: ${msg}`);
    }
    return parsed as T;
  }

  /** A response as a stream (`gossip monitor`, the demo's event watch). */
  async fetch(method: string, path: string, body?: unknown): Promise<Response> {
    try {
      return await fetch(`${this.base}${path}`, { method, headers: this.headers(method, body), ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    } catch (e) {
      throw this.unreachable(e);
    }
  }

  /**
   * One request and its whole answer, with node:http rather than fetch: loading fetch (undici)
   * alone costs a client command about 8 MB and 0.03 s of CPU (issue 12).
   */
  private async request(method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
    const url = new URL(`${this.base}${path}`);
    const { request } = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
    const payload = body !== undefined ? JSON.stringify(body) : undefined;
    try {
      return await new Promise((resolve, reject) => {
        // agent: false: one connection, closed after the answer, so the command exits at once.
        const req = request(url, { method, headers: this.headers(method, body), agent: false }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.once('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.once('error', reject);
        });
        req.once('error', reject);
        req.end(payload);
      });
    } catch (e) {
      throw this.unreachable(e);
    }
  }

  private headers(method: string, body: unknown): Record<string, string> {
    const headers: Record<string, string> = {};
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
    // The agent wants it on every state-changing request, with a body or not (its cross-site check).
    if (body !== undefined || (method !== 'GET' && method !== 'HEAD')) headers['content-type'] = 'application/json';
    return headers;
  }

  private unreachable(e: unknown): ApiError {
    const cause = e instanceof Error && e.cause instanceof Error ? e.cause.message : e instanceof Error ? e.message : String(e);
    return new ApiError(0, `cannot reach the agent at ${this.base}: ${cause}`);
  }
}

function tokenFromFile(path: string): string {
  try {
    return readTokenFile(path);
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(e.problems.join('; '));
    throw e;
  }
}

/** Adds `--http`, `--token-file` and `--token` to a client command. */
export function clientOptions<C extends { option(flags: string, description: string): C }>(cmd: C): C {
  return cmd
    .option('--http <addr>', `the agent's HTTP API (default GOSSIP_HTTP or ${DEFAULT_AGENT_HTTP})`)
    .option('--token-file <file>', 'file holding the bearer token for the HTTP API (default GOSSIP_HTTP_TOKEN_FILE)')
    .option('--token <token>', 'the bearer token itself (default GOSSIP_HTTP_TOKEN); visible in ps: prefer --token-file');
}

export function clientFrom(o: ClientFlags): AgentClient {
  return new AgentClient({ http: o.http, token: o.token, tokenFile: o.tokenFile });
}

/** Runs a client command: an `ApiError` (agent unreachable, a 4xx/5xx) prints `error: …` and exits 1. */
export async function runClient(io: Io, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    io.err(`error: ${e.message}`);
    throw new CommanderError(1, 'gossip.api', e.message);
  }
}
