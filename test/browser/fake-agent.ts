import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ConvergenceJson, InfoJson, KvReadJson, MemberJson, QuorumJson, StreamEventName, StreamEvents, TimelineEntry, ViewJson } from '../../src/dashboard/index.js';
import { dashboardPage, formatStreamEvent } from '../../src/dashboard/index.js';
import { freePort } from '../../src/clusterbench/ports.js';

const SESSION = 'gossip_session=fake-session';

/**
 * A stand-in for the agent's HTTP API (src/agent/http-api.ts) on 127.0.0.1: the dashboard at
 * `GET /`, `GET /v1/members`, `GET /v1/convergence`, `GET /v1/stream` (the member list first,
 * then whatever the test emits), `GET /metrics` (the byte counters the test sets), `GET /v1/info`,
 * `GET /v1/timeline`, `GET /v1/view` and `GET /v1/quorum` (a stable view of the members, with quorum)
 * and the key reads `GET /v1/kv?prefix=`, `GET /v1/kv/KEY`. Nothing
 * happens on a timer: what the page shows follows from what the test does.
 */
export class FakeAgent {
  members: MemberJson[];
  convergence: ConvergenceJson = { agreement: 1, keys: 0, timeToEveryoneMs: [], source: 'cluster' };
  /** The Prometheus text /metrics answers with. */
  metrics = '';
  /** What /v1/info says of the node serving the page (the part the dashboard reads). */
  info: Pick<InfoJson, 'agent'> = { agent: { name: 'node1', version: '0.0.0-fake', addr: '127.0.0.1:7946', incarnation: 1 } };
  /** The membership changes /v1/timeline answers with, oldest first. */
  timeline: TimelineEntry[] = [];
  /** The keys /v1/kv lists and reads. */
  readonly kv = new Map<string, KvReadJson>();
  /**
   * When set, every route wants it, as the agent does: `Authorization: Bearer …`, the session
   * cookie that `GET /?token=…` sets (then redirects to `/`), or `?token=` on `/v1/stream` only.
   */
  token: string | null = null;
  /** Every request path the server saw, in order. */
  readonly requests: string[] = [];
  /** Every request target (path and query) the server saw, in order. */
  readonly targets: string[] = [];
  private readonly streams = new Set<http.ServerResponse>();
  private readonly server: http.Server;

  private constructor(members: MemberJson[]) {
    this.members = members;
    this.server = http.createServer((req, res) => this.serve(req, res));
  }

  static async start(members: MemberJson[]): Promise<FakeAgent> {
    const agent = new FakeAgent(members);
    const port = await freePort();
    await new Promise<void>((resolve) => agent.server.listen(port, '127.0.0.1', resolve));
    return agent;
  }

  /** The members as one stable view (the checksum is a stand-in: the page only shows it). */
  view(): ViewJson {
    const current = { epoch: 1, checksum: '0000abcd', members: this.members.map((m) => ({ name: m.name, state: m.status, incarnation: m.incarnation ?? 0 })) };
    return { current, stable: true, stableView: current, disagreeing: [] };
  }

  /** Quorum over the members: those alive of all of them. */
  quorum(): QuorumJson {
    const total = this.members.length;
    const reachable = this.members.filter((m) => m.status === 'alive').length;
    return { hasQuorum: reachable > total / 2, reachable, total, needMoreThan: total / 2, basis: { epoch: 1, checksum: '0000abcd', members: this.members.map((m) => m.name) } };
  }

  get url(): string {
    const a = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${a.port}/`;
  }

  /** Sends one event to every open `/v1/stream`. */
  emit<K extends StreamEventName>(name: K, data: StreamEvents[K]): void {
    const text = formatStreamEvent(name, data);
    for (const s of this.streams) s.write(text);
  }

  async stop(): Promise<void> {
    for (const s of this.streams) s.end();
    this.streams.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    this.requests.push(path);
    this.targets.push(req.url ?? '/');
    if (this.token !== null) {
      const query = url.searchParams.get('token');
      if (path === '/' && query === this.token) {
        res.writeHead(303, { location: '/', 'set-cookie': `${SESSION}; Path=/; HttpOnly; SameSite=Strict` });
        res.end();
        return;
      }
      const ok = req.headers.authorization === `Bearer ${this.token}` || (req.headers.cookie ?? '').split(';').some((c) => c.trim() === SESSION) || (path === '/v1/stream' && query === this.token);
      if (!ok) return this.send(res, 401, 'application/json', JSON.stringify({ error: 'missing or wrong token' }));
    }
    if (req.method !== 'GET') return this.send(res, 405, 'application/json', JSON.stringify({ error: 'method not allowed' }));
    switch (path) {
      case '/': {
        const page = dashboardPage();
        res.setHeader('content-security-policy', page.csp);
        return this.send(res, 200, page.contentType, page.body);
      }
      case '/v1/members':
        return this.send(res, 200, 'application/json', JSON.stringify(this.members));
      case '/v1/convergence':
        return this.send(res, 200, 'application/json', JSON.stringify(this.convergence));
      case '/v1/info':
        return this.send(res, 200, 'application/json', JSON.stringify(this.info));
      case '/v1/timeline':
        return this.send(res, 200, 'application/json', JSON.stringify({ events: this.timeline }));
      case '/v1/view':
        return this.send(res, 200, 'application/json', JSON.stringify(this.view()));
      case '/v1/quorum':
        return this.send(res, 200, 'application/json', JSON.stringify(this.quorum()));
      case '/v1/kv': {
        const prefix = url.searchParams.get('prefix') ?? '';
        return this.send(res, 200, 'application/json', JSON.stringify({ prefix, keys: [...this.kv.keys()].filter((k) => k.startsWith(prefix)) }));
      }
      case '/metrics':
        return this.send(res, 200, 'text/plain; version=0.0.4; charset=utf-8', this.metrics);
      case '/v1/stream':
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
        res.write(': gossip agent stream\n\n');
        res.write(formatStreamEvent('members', this.members));
        this.streams.add(res);
        req.on('close', () => this.streams.delete(res));
        return;
      default: {
        const key = path.startsWith('/v1/kv/') ? decodeURIComponent(path.slice('/v1/kv/'.length)) : null;
        const read = key === null ? undefined : this.kv.get(key);
        if (read !== undefined) return this.send(res, 200, 'application/json', JSON.stringify(read));
        if (key !== null) return this.send(res, 404, 'application/json', JSON.stringify({ error: `no such key: ${key}` }));
      }
        return this.send(res, 404, 'application/json', JSON.stringify({ error: `no route for GET ${path}` }));
    }
  }

  private send(res: http.ServerResponse, status: number, contentType: string, body: string | Uint8Array): void {
    res.writeHead(status, { 'content-type': contentType });
    res.end(body);
  }
}
