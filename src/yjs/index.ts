/**
 * `gossip-coordinator/yjs`: Yjs documents replicated across the cluster (issue 17). Needs the
 * optional packages `yjs`, `y-protocols`, `lib0` (and `ws` for the websocket endpoint); nothing
 * else in the package loads them.
 *
 *   import { createNode } from 'gossip-coordinator';
 *   import { replicateDoc } from 'gossip-coordinator/yjs';
 *   const node = await createNode({ name: 'a', bind: '127.0.0.1:7946' });
 *   const doc = new Y.Doc();
 *   const r = replicateDoc(node, 'notes', doc);   // edits to doc reach every node replicating 'notes'
 *   r.stop();
 */
import type { Awareness } from 'y-protocols/awareness';
import type * as Y from 'yjs';
import type { ClusterNode } from '../runtime/cluster-node.js';
import type { DocHandle, ReplicatorOptions } from './replicator.js';
import { YjsReplicator } from './replicator.js';

export { YjsReplicator, checkDocName } from './replicator.js';
export type { DocHandle, ReplicatorOptions, ReplicatorStats } from './replicator.js';
export { YjsWsEndpoint } from './ws-endpoint.js';
export type { WsEndpointOptions, WsEndpointStats } from './ws-endpoint.js';
export { decodeYjsMessage, encodeYjsMessage, DOC_NAME_BYTES_MAX } from './messages.js';
export type { YjsMessage, DigestEntry } from './messages.js';

export interface ReplicatedDoc {
  readonly name: string;
  readonly doc: Y.Doc;
  /** Presence shared with the cluster (the one given, else a new one on `doc`). */
  readonly awareness: Awareness;
  readonly replicator: YjsReplicator;
  /** Stops replicating this document (the Y.Doc is left as it is). */
  stop(): void;
}

/**
 * Replicates `ydoc` under `name` through `node`: its local updates spread to every node that
 * replicates `name`, theirs arrive here, and a node that was away catches up with only what it
 * lacks. The node's replicator is made at the first call, with `options` (a `store` keeps
 * documents across restarts).
 */
export function replicateDoc(node: ClusterNode, name: string, ydoc: Y.Doc, options: ReplicatorOptions & { readonly awareness?: Awareness } = {}): ReplicatedDoc {
  const replicator = YjsReplicator.for(node, options);
  const handle: DocHandle = replicator.open(name, { doc: ydoc, ...(options.awareness !== undefined ? { awareness: options.awareness } : {}) });
  return { name, doc: ydoc, awareness: handle.awareness, replicator, stop: () => replicator.detach(handle) };
}
