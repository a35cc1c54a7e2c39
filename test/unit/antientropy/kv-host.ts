import { MerkleTree } from '../../../src/core/antientropy/merkle.js';
import type { MerkleOptions } from '../../../src/core/antientropy/merkle.js';
import type { ReconcileBytes, ReconcileMessage } from '../../../src/core/antientropy/messages.js';
import type { ReconcileHost } from '../../../src/core/antientropy/session.js';
import { keyHashEntries, reconcileMessageBytes } from '../../../src/wire/state-reconcile.js';

const entries = keyHashEntries();

/** A reconciliation message's bytes on the wire, with (key, hash) entries. */
export const kvMessageBytes = (m: ReconcileMessage<KvEntry>): ReconcileBytes => reconcileMessageBytes(m, entries);

/** A test replica: key → 64-bit entry hash, feeding a Merkle tree. Entries are (key, hash). */
export interface KvEntry {
  readonly key: string;
  readonly hi: number;
  readonly lo: number;
}

export class KvHost implements ReconcileHost<KvEntry> {
  readonly tree: MerkleTree;
  readonly map = new Map<string, [number, number]>();

  constructor(options: MerkleOptions = {}) {
    this.tree = new MerkleTree(options);
  }

  set(key: string, hi: number, lo: number): void {
    this.map.set(key, [hi >>> 0, lo >>> 0]);
    this.tree.set(key, hi, lo);
  }

  delete(key: string): void {
    this.map.delete(key);
    this.tree.delete(key);
  }

  entryFor(key: string): KvEntry | undefined {
    const h = this.map.get(key);
    return h === undefined ? undefined : { key, hi: h[0], lo: h[1] };
  }

  messageBytes(m: ReconcileMessage<KvEntry>): ReconcileBytes {
    return kvMessageBytes(m);
  }

  /** A merge for tests: the higher hash wins, so both sides end equal whatever the order. */
  merge(e: KvEntry): void {
    const mine = this.map.get(e.key);
    if (mine === undefined || e.hi > mine[0] || (e.hi === mine[0] && e.lo > mine[1])) this.set(e.key, e.hi, e.lo);
  }
}

/** The keys whose entries differ between two hosts (present on one side only or different hashes). */
export function trueDiff(a: KvHost, b: KvHost): string[] {
  const out = new Set<string>();
  for (const [k, h] of a.map) {
    const o = b.map.get(k);
    if (o === undefined || o[0] !== h[0] || o[1] !== h[1]) out.add(k);
  }
  for (const k of b.map.keys()) if (!a.map.has(k)) out.add(k);
  return [...out].sort();
}
