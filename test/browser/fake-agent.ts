import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ConvergenceJson, DashboardAsset, MemberJson, StreamEventName, StreamEvents } from '../../src/dashboard/index.js';
import { formatStreamEvent, loadDashboardAssets } from '../../src/dashboard/index.js';

/**
 * A stand-in for the agent's HTTP API, on 127.0.0.1: the dashboard's assets, `GET /v1/members`,
 * `GET /v1/convergence` and `GET /v1/stream` in the agreed format. The test changes the state
 * and pushes events explicitly (no timers), so what the page shows follows from the test.
 */
export class FakeAgent {
  members: MemberJson[];
  convergence: ConvergenceJson = { agreement: 1, keys: 0, timeToEveryoneMs: [], source: 'cluster' };
  /** Every request path the server saw, in order. */
  readonly requests: string[] = [];
  private readonly streams = new Set<http.ServerResponse>();
  private readonly server: http.Server;

  private constructor(
    private readonly assets: ReadonlyMap<string, DashboardAsset>,
    members: MemberJson[],
  ) {
    this.members = members;
    this.server = http.createServer((req, res) => this.serve(req, res));
  }

  static async start(members: MemberJson[]): Promise<FakeAgent> {
    const agent = new FakeAgent(await loadDashboardAssets(), members);
    await new Promise<void>((resolve) => agent.server.listen(0, '127.0.0.1', resolve));
    return agent;
  }

  get url(): string {
    const a = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${a.port}/`;
  }

  get streamCount(): number {
    return this.streams.size;
  }

  /** Sends one event to every open `/v1/stream`. */
  emit<K extends StreamEventName>(name: K, data: StreamEvents[K]): void {
    const text = formatStreamEvent(name, data);
    for (const s of this.streams) s.write(text);
  }

  /** Changes one member's status and streams the new member list, as the agent does on a change. */
  setStatus(name: string, status: string): void {
    this.members = this.members.map((m) => (m.name === name ? { ...m, status } : m));
    this.emit('members', this.members);
  }

  async stop(): Promise<void> {
    for (const s of this.streams) s.end();
    this.streams.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    this.requests.push(path);
    const asset = this.assets.get(path);
    if (req.method === 'GET' && asset !== undefined) {
      res.writeHead(200, { 'content-type': asset.contentType, 'cache-control': 'no-cache' });
      res.end(asset.body);
    } else if (req.method === 'GET' && path === '/v1/members') {
      json(res, this.members);
    } else if (req.method === 'GET' && path === '/v1/convergence') {
      json(res, this.convergence);
    } else if (req.method === 'GET' && path === '/v1/stream') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      res.write(formatStreamEvent('members', this.members));
      this.streams.add(res);
      req.on('close', () => this.streams.delete(res));
    } else {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: `no route for ${req.method ?? '?'} ${path}` }));
    }
  }
}

function json(res: http.ServerResponse, value: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}
