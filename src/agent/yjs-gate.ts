/**
 * The agent's door to Yjs (issue 17), loaded with the agent but importing no Yjs code: the
 * websocket endpoint `ws://HOST/v1/yjs/{doc}` and the replication behind it are loaded on first
 * use (`./yjs-endpoint.js`, which brings `yjs`, `y-protocols`, `lib0` and `ws`): the first
 * `/v1/yjs` connection, or the first Yjs message from a peer (so every agent of a cluster that
 * uses Yjs keeps every document durably, not only those that serve clients). Messages that
 * arrive while it loads are kept (up to `BUFFERED_MAX`) and handed over in order.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AgentLog } from './agent-log.js';
import type { ClusterEventMap, ClusterNode } from '../runtime/cluster-node.js';
import type { DocStore } from '../store/doc-store.js';
import { AppDataType } from '../wire/data.js';
import type { AgentConfig } from './config.js';
import { HttpError } from './http-body.js';
import type { YjsEndpoint } from './yjs-endpoint.js';

/** Peer messages kept while the Yjs code loads; more are dropped (anti-entropy repairs them). */
const BUFFERED_MAX = 4096;

export type YjsConfig = AgentConfig['yjs'];

export interface YjsAccess {
  readonly read: boolean;
  readonly write: boolean;
}

/** What `yjs.read` / `yjs.write` allow on document `name` (write implies read). */
export function yjsAccess(c: Pick<YjsConfig, 'read' | 'write'>, name: string): YjsAccess {
  const write = c.write.some((p) => name.startsWith(p));
  return { write, read: write || c.read.some((p) => name.startsWith(p)) };
}

export class YjsGate {
  private endpoint: Promise<YjsEndpoint> | null = null;
  private ready: YjsEndpoint | null = null;
  private buffered: ClusterEventMap['data-message'][] = [];
  private readonly unsubscribe: () => void;
  private closed = false;

  constructor(private readonly o: { readonly node: ClusterNode; readonly store: DocStore; readonly config: YjsConfig; readonly log: AgentLog }) {
    this.unsubscribe = o.node.on('data-message', (e) => {
      if (e.dataType !== AppDataType.yjs || this.ready !== null || this.closed) return;
      if (this.buffered.length < BUFFERED_MAX) this.buffered.push(e);
      void this.activate().catch(() => undefined);
    });
  }

  /** Whether the Yjs code is loaded. */
  get active(): boolean {
    return this.ready !== null;
  }

  /** `GET /v1/yjs`: the replication's and the endpoint's counters (`{active: false}` before first use). */
  stats(): unknown {
    return this.ready === null ? { active: false } : { active: true, ...this.ready.stats() };
  }

  /**
   * An authorized upgrade request for document `name`: refused with an `HttpError` when the
   * configuration allows no access to it; else served once the Yjs code is loaded.
   */
  async accept(req: IncomingMessage, socket: Duplex, head: Buffer, name: string): Promise<void> {
    const access = yjsAccess(this.o.config, name);
    if (!access.read) throw new HttpError(403, `document '${name}' is not readable here (yjs.read / yjs.write prefixes)`);
    let ep: YjsEndpoint;
    try {
      ep = await this.activate();
    } catch (e) {
      throw new HttpError(501, `the Yjs endpoint needs the optional packages yjs, y-protocols, lib0 and ws (npm install yjs y-protocols lib0 ws): ${e instanceof Error ? e.message : String(e)}`);
    }
    if (this.closed) throw new HttpError(503, 'the agent is stopping');
    ep.accept(req, socket, head, name, access.write);
  }

  /** Closes the connections, stores what is pending and stops replicating. */
  close(): void {
    this.closed = true;
    this.unsubscribe();
    this.ready?.close();
  }

  private activate(): Promise<YjsEndpoint> {
    this.endpoint ??= import('./yjs-endpoint.js').then((m) => {
      const ep = new m.YjsEndpoint(this.o);
      // From here the replicator hears the node itself; what came meanwhile goes first.
      this.ready = ep;
      this.unsubscribe();
      const early = this.buffered;
      this.buffered = [];
      for (const e of early) ep.replicator.receive(e);
      if (this.closed) ep.close();
      this.o.log.info({ early: early.length }, 'yjs replication started');
      return ep;
    });
    return this.endpoint;
  }
}
