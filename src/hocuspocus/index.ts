/**
 * `gossip-coordinator/hocuspocus`: several Hocuspocus servers share their documents through a
 * cluster node embedded in each, instead of Redis (issue 17). Each loaded Hocuspocus document
 * (a `Y.Doc`) is replicated with `gossip-coordinator/yjs`: an edit on one server reaches the
 * clients of every server that has the document loaded; a server that loads a document catches
 * up from its peers with only what it lacks; awareness travels too. No broker, no single point
 * of failure: a server that restarts rejoins through any other.
 *
 *   import { Server } from '@hocuspocus/server';
 *   import { Gossip } from 'gossip-coordinator/hocuspocus';
 *   const server = new Server({ port: 1234, extensions: [
 *     new Gossip({ node: { name: 'hp1', bind: '0.0.0.0:7946' }, join: ['10.0.0.2:7946'] }),
 *   ] });
 *   await server.listen();
 *
 * Persistence stays Hocuspocus's (its Database extension, or `store` here: a `DocStore` such as
 * `SqliteStore`, which keeps every document this server has seen and serves peers from it).
 */
import type { afterLoadDocumentPayload, afterUnloadDocumentPayload, Extension, onConfigurePayload } from '@hocuspocus/server';
import { createNode } from '../index.js';
import type { ClusterNode, NodeOptions } from '../runtime/cluster-node.js';
import type { DocStore } from '../store/doc-store.js';
import type { DocHandle, ReplicatorOptions } from '../yjs/replicator.js';
import { YjsReplicator } from '../yjs/replicator.js';

export interface GossipOptions {
  /** The node to replicate through: one of yours, or the options to start one at `onConfigure` (shut down at `onDestroy`). */
  readonly node: ClusterNode | NodeOptions;
  /** Addresses to join when the node starts here (`host:port` of other servers' nodes). */
  readonly join?: readonly string[];
  /** Keeps documents across restarts and for peers, beyond what Hocuspocus loads. */
  readonly store?: DocStore;
  /** The replication's knobs (anti-entropy period, fanout, packet size). */
  readonly replication?: Omit<ReplicatorOptions, 'store'>;
}

const isNode = (n: ClusterNode | NodeOptions): n is ClusterNode => typeof (n as ClusterNode).sendData === 'function';

export class Gossip implements Extension {
  readonly extensionName = 'gossip-coordinator';
  /** The cluster node, once configured. */
  node: ClusterNode | null = null;
  replicator: YjsReplicator | null = null;
  private readonly handles = new Map<string, DocHandle>();
  private owned = false;

  constructor(private readonly o: GossipOptions) {}

  async onConfigure(_data: onConfigurePayload): Promise<void> {
    await this.start();
  }

  /** Starts the node (if the extension owns it) and the replicator; `onConfigure` calls it. */
  async start(): Promise<YjsReplicator> {
    if (this.replicator !== null) return this.replicator;
    const node = isNode(this.o.node) ? this.o.node : await createNode(this.o.node);
    this.owned = !isNode(this.o.node);
    this.node = node;
    if (this.o.join !== undefined && this.o.join.length > 0) {
      // A server that finds nobody yet still serves; peers that start later join it.
      await node.join(this.o.join).catch(() => 0);
    }
    this.replicator = new YjsReplicator(node, { ...this.o.replication, store: this.o.store ?? null });
    return this.replicator;
  }

  async afterLoadDocument({ documentName, document }: afterLoadDocumentPayload): Promise<void> {
    const r = await this.start();
    if (this.handles.has(documentName)) return;
    this.handles.set(documentName, r.open(documentName, { doc: document, awareness: document.awareness }));
  }

  async afterUnloadDocument({ documentName }: afterUnloadDocumentPayload): Promise<void> {
    const h = this.handles.get(documentName);
    if (h === undefined) return Promise.resolve();
    this.handles.delete(documentName);
    this.replicator?.detach(h);
    return Promise.resolve();
  }

  async onDestroy(): Promise<void> {
    for (const h of this.handles.values()) this.replicator?.detach(h);
    this.handles.clear();
    this.replicator?.close();
    this.replicator = null;
    if (this.owned && this.node !== null) await this.node.shutdown();
    this.node = null;
  }
}
