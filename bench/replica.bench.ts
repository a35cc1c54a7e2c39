/**
 * Writes applied per second on one node: the operation + `entryHash` + the Merkle tree update
 * (`MerkleTree.set(key, hi, lo)` from src/core/antientropy), over 100,000 keys with 100-byte
 * values. Each row: a fresh replica and tree, every key written once first (untimed), then
 * 500,000 timed operations on random keys; three trials, the median reported.
 * Run: `npx tsx bench/replica.bench.ts`.
 */
import { MerkleTree } from '../src/core/antientropy/index.js';
import type { Entry, Resolver } from '../src/core/replica/index.js';
import { Replica } from '../src/core/replica/index.js';
import { nodeName } from '../src/core/ids.js';

const KEYS = 100_000;
const OPS = 500_000;
const TRIALS = 3;

const keys: string[] = [];
for (let i = 0; i < KEYS; i++) keys.push(`key/${i.toString(36)}`);
const value = new Uint8Array(100);
for (let i = 0; i < value.length; i++) value[i] = i;
const out = new Uint32Array(2);

function xorshift(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
}

type Op = (r: Replica, key: string, now: number) => void;

function trial(resolver: Resolver, op: Op, seed: number): number {
  const r = new Replica({ node: nodeName('bench-node'), defaultResolver: resolver });
  const tree = new MerkleTree({ fanout: 16, depth: MerkleTree.depthFor(KEYS, 16) });
  let now = 1;
  for (const k of keys) {
    op(r, k, now++);
    const h = r.entryHash(k, out) as Uint32Array;
    tree.set(k, h[0] as number, h[1] as number);
  }
  const rnd = xorshift(seed);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < OPS; i++) {
    const k = keys[rnd() % KEYS] as string;
    op(r, k, now++);
    const h = r.entryHash(k, out) as Uint32Array;
    tree.set(k, h[0] as number, h[1] as number);
  }
  return OPS / (Number(process.hrtime.bigint() - t0) / 1e9);
}

function mergeTrial(seed: number): number {
  // What a rumor delivers: a second replica merges the first one's entries.
  const a = new Replica({ node: nodeName('a') });
  const b = new Replica({ node: nodeName('b') });
  const tree = new MerkleTree({ fanout: 16, depth: MerkleTree.depthFor(KEYS, 16) });
  let now = 1;
  for (const k of keys) {
    a.put(now, k, value);
    b.merge(now++, a.entry(k) as Entry);
  }
  const rnd = xorshift(seed);
  const entries: Entry[] = [];
  for (let i = 0; i < OPS; i++) {
    const k = keys[rnd() % KEYS] as string;
    a.put(now++, k, value);
    entries.push(a.entry(k) as Entry);
  }
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < OPS; i++) {
    const e = entries[i] as Entry;
    if (b.merge(now, e)) {
      const h = b.entryHash(e.key, out) as Uint32Array;
      tree.set(e.key, h[0] as number, h[1] as number);
    }
  }
  return OPS / (Number(process.hrtime.bigint() - t0) / 1e9);
}

const median = (xs: number[]): number => xs.slice().sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number;

const rows: [string, number][] = [];
const run = (name: string, f: (seed: number) => number): void => {
  const xs: number[] = [];
  for (let t = 0; t < TRIALS; t++) xs.push(f(t + 1));
  rows.push([name, median(xs)]);
};

run('lww put', (s) => trial({ type: 'lww' }, (r, k, now) => void r.put(now, k, value), s));
run('siblings get + put(context)', (s) => trial({ type: 'siblings' }, (r, k, now) => void r.put(now, k, value, r.get(k)?.context), s));
run('pncounter increment', (s) => trial({ type: 'pncounter' }, (r, k, now) => void r.increment(now, k, 1), s));
run('orset add', (s) => trial({ type: 'orset' }, (r, k, now) => r.add(now, k, `e${now % 8}`), s));
run('merge(entry) from a peer', mergeTrial);

console.log(`replica bench: ${KEYS.toLocaleString('en-US')} keys, 100-byte values, ${OPS.toLocaleString('en-US')} ops per trial, median of ${TRIALS}; each op + entryHash + MerkleTree.set (B=16, depth=${MerkleTree.depthFor(KEYS, 16)})`);
const w = Math.max(...rows.map(([n]) => n.length));
console.log(`${'operation'.padEnd(w)}  ${'ops/s'.padStart(10)}`);
for (const [n, v] of rows) console.log(`${n.padEnd(w)}  ${Math.round(v).toLocaleString('en-US').padStart(10)}`);
console.log(`goal: 100,000 writes/s applied on one node (put + tree update); measured ${Math.round(rows[0]?.[1] ?? 0).toLocaleString('en-US')} writes/s`);
