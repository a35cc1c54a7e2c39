import type { ClusterNode } from '../index.js';
import { decodeSerfMessage, encodeSerfMessage } from '../wire/serf.js';

export type KeyOp = 'list' | 'install' | 'use' | 'remove';

/** What `serf keys` reports: how many members answered, their errors, and the keys seen (with how many members hold each). */
export interface KeyOpResult {
  readonly op: KeyOp;
  readonly numNodes: number;
  readonly numResp: number;
  readonly numErr: number;
  /** Node name → its error message. */
  readonly messages: Readonly<Record<string, string>>;
  /** For `list`: base64 key → number of members holding it. */
  readonly keys: Readonly<Record<string, number>>;
  /** For `list`: base64 primary key → number of members using it. */
  readonly primaryKeys: Readonly<Record<string, number>>;
}

const QUERY_NAME: Readonly<Record<KeyOp, string>> = {
  list: '_serf_list-keys', install: '_serf_install-key', use: '_serf_use-key', remove: '_serf_remove-key',
};

/** Decodes a base64 key of 16, 24 or 32 bytes; null if it is not one. */
export function decodeKey(b64: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) return null;
  const k = new Uint8Array(Buffer.from(b64, 'base64'));
  return k.length === 16 || k.length === 24 || k.length === 32 ? k : null;
}

/** Runs a key operation across the cluster as Serf's key manager does: one internal query, answers tallied. */
export async function runKeyOp(node: ClusterNode, op: KeyOp, key: Uint8Array | null, opts: { readonly filterNodes?: readonly string[] } = {}): Promise<KeyOpResult> {
  const payload = op === 'list' ? new Uint8Array(0) : encodeSerfMessage({ type: 'key-request', key });
  const numNodes = opts.filterNodes?.length ?? node.members().filter((m) => m.status === 'alive').length;
  const r = await node.query(QUERY_NAME[op], payload, opts.filterNodes !== undefined ? { filterNodes: opts.filterNodes } : {});
  const messages: Record<string, string> = {};
  const keys: Record<string, number> = {};
  const primaryKeys: Record<string, number> = {};
  let numErr = 0;
  for (const [from, bytes] of r.responses) {
    const d = decodeSerfMessage(bytes);
    if (!d.ok || d.value.type !== 'key-response') {
      numErr++;
      messages[from] = d.ok ? `unexpected answer ${d.value.type}` : `undecodable answer: ${d.detail}`;
      continue;
    }
    const v = d.value;
    if (!v.result) {
      numErr++;
      messages[from] = v.message;
    }
    for (const k of v.keys ?? []) keys[k] = (keys[k] ?? 0) + 1;
    if (v.primaryKey !== '') primaryKeys[v.primaryKey] = (primaryKeys[v.primaryKey] ?? 0) + 1;
  }
  return { op, numNodes, numResp: r.responses.size, numErr, messages, keys, primaryKeys };
}
