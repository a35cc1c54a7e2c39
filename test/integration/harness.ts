import type { NodeOptions } from '../../src/runtime/cluster-node.js';
import { ClusterNode } from '../../src/runtime/cluster-node.js';
import { freeAddr } from './free-addr.js';

/** Our node on 127.0.0.1 (a free port unless `bind` says otherwise), lan profile, memberlist's wire format; log lines go to `logs`. */
export async function createTestNode(name: string, o: Partial<NodeOptions> = {}, logs: string[] = []): Promise<ClusterNode> {
  return ClusterNode.start({ name, bind: o.bind ?? await freeAddr(), logger: (level, line) => logs.push(`${name} [${level}] ${line}`), ...o });
}
