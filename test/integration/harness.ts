import type { NodeOptions } from '../../src/runtime/cluster-node.js';
import { ClusterNode } from '../../src/runtime/cluster-node.js';
import { v8Codec } from './v8-codec.js';

/** Our node on 127.0.0.1 (a free port unless `bind` says otherwise), lan profile, quiet logger that keeps lines. */
export async function createTestNode(name: string, o: Partial<NodeOptions> = {}): Promise<ClusterNode> {
  return ClusterNode.start({ name, bind: '127.0.0.1:0', codec: v8Codec, logger: () => undefined, ...o });
}
