/**
 * What `YjsGate` loads on first use: the node's Yjs replicator over the agent's store, and the
 * y-websocket endpoint (`ws` in noServer mode: the agent's HTTP server hands it upgrades it has
 * already authorized).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AgentLog } from './agent-log.js';
import { WebSocketServer } from 'ws';
import type { ClusterNode } from '../runtime/cluster-node.js';
import type { DocStore } from '../store/doc-store.js';
import { YjsReplicator } from '../yjs/replicator.js';
import { YjsWsEndpoint } from '../yjs/ws-endpoint.js';
import type { YjsConfig } from './yjs-gate.js';

/** Largest websocket message accepted (a client's whole document at its first sync). */
const WS_PAYLOAD_BYTES_MAX = 32 * 1024 * 1024;

export class YjsEndpoint {
  readonly replicator: YjsReplicator;
  private readonly ws: YjsWsEndpoint;
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: WS_PAYLOAD_BYTES_MAX, perMessageDeflate: false });
  private refused = 0;

  constructor(private readonly o: { readonly node: ClusterNode; readonly store: DocStore; readonly config: YjsConfig; readonly log: AgentLog }) {
    this.replicator = new YjsReplicator(o.node, {
      store: o.store, idleMs: o.config.idleMs, antiEntropyIntervalMs: o.config.antiEntropyMs,
      onProblem: (line) => o.log.warn(line),
    });
    this.ws = new YjsWsEndpoint(this.replicator);
  }

  accept(req: IncomingMessage, socket: Duplex, head: Buffer, name: string, write: boolean): void {
    if (this.ws.stats.connections >= this.o.config.connectionsMax) {
      this.refused++;
      socket.end(`HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n${JSON.stringify({ error: `${this.o.config.connectionsMax} Yjs connections open (yjs.connectionsMax)` })}`);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      try {
        this.ws.connect(ws, name, { write });
      } catch (e) {
        ws.close(1011, (e instanceof Error ? e.message : String(e)).slice(0, 120));
      }
    });
  }

  stats(): Record<string, unknown> {
    return { replicator: this.replicator.stats, endpoint: { ...this.ws.stats, refused: this.refused }, docs: this.replicator.loaded().length };
  }

  close(): void {
    this.ws.close();
    this.replicator.close();
    this.wss.close();
  }
}
