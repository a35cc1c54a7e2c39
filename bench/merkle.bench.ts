/**
 * Merkle anti-entropy benchmark (issue 4): tree updates per second on the write hot path, and the
 * wall time of reconciling two 10⁶-key replicas that differ in 100 keys. Prints tables; asserts
 * nothing.   npx tsx bench/merkle.bench.ts
 */
import { performance } from 'node:perf_hooks';
import { reconcileLocally } from '../src/core/antientropy/exchange.js';
import { MerkleTree } from '../src/core/antientropy/merkle.js';
import type { ReconcileBytes, ReconcileMessage } from '../src/core/antientropy/messages.js';
import type { ReconcileHost } from '../src/core/antientropy/session.js';
import { seededRng } from '../src/core/rng.js';
import { keyHashEntries, reconcileMessageBytes } from '../src/wire/state-reconcile.js';

const entries = keyHashEntries();

const N = 1_000_000;
const rng = seededRng(1);
const u32 = (): number => Math.floor(rng.next() * 4294967296) >>> 0;
const keys = Array.from({ length: N }, (_, i) => `key:${i}`);
const his = Uint32Array.from({ length: N }, u32);
const los = Uint32Array.from({ length: N }, u32);

function rate(label: string, ops: number, run: () => void): void {
  const t0 = performance.now();
  run();
  const ms = performance.now() - t0;
  console.log(`| ${label} | ${ops.toLocaleString('en')} | ${ms.toFixed(0)} | ${Math.round((ops / ms) * 1000).toLocaleString('en')} |`);
}

console.log('| tree operation (B = 16, depth 5, 10⁶ keys) | operations | ms | per second |\n|---|---|---|---|');
const tree = new MerkleTree({ fanout: 16, depth: 5 });
rate('insert new keys', N, () => {
  for (let i = 0; i < N; i++) tree.set(keys[i] as string, his[i] as number, los[i] as number);
});
// Warm-up of the update path, then the measured runs: existing keys, changed hashes, random order.
const order = Uint32Array.from({ length: N }, () => rng.int(N));
for (let i = 0; i < 100_000; i++) tree.set(keys[order[i] as number] as string, i, i);
for (let round = 1; round <= 3; round++) {
  rate(`update existing keys (run ${round})`, N, () => {
    for (let i = 0; i < N; i++) tree.set(keys[order[i] as number] as string, (his[i] as number) ^ round, los[i] as number);
  });
}
const h = new Uint32Array(2);
for (let round = 1; round <= 3; round++) {
  rate(`setHash existing keys (run ${round})`, N, () => {
    for (let i = 0; i < N; i++) {
      h[0] = (his[i] as number) ^ (round + 8);
      h[1] = los[i] as number;
      tree.setHash(keys[order[i] as number] as string, h);
    }
  });
}
// Allocation on the update path: heap growth over 10⁶ setHash calls (exact with --expose-gc).
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const heap0 = process.memoryUsage().heapUsed;
for (let i = 0; i < N; i++) {
  h[0] = (his[i] as number) ^ 77;
  h[1] = los[i] as number;
  tree.setHash(keys[order[i] as number] as string, h);
}
const heap1 = process.memoryUsage().heapUsed;
console.log(`\nheap growth over 10⁶ setHash updates of existing keys: ${((heap1 - heap0) / 1e6).toFixed(2)} MB${gc === undefined ? ' (run with --expose-gc for an exact figure; a GC in between hides growth)' : ''}`);
rate('delete keys', 100_000, () => {
  for (let i = 0; i < 100_000; i++) tree.delete(keys[i] as string);
});

interface E { key: string; hi: number; lo: number }
class Host implements ReconcileHost<E> {
  readonly tree = new MerkleTree({ fanout: 16, depth: 5 });
  private readonly out = new Uint32Array(2);
  entryFor(key: string): E | undefined {
    return this.tree.entryHashOf(key, this.out) ? { key, hi: this.out[0] as number, lo: this.out[1] as number } : undefined;
  }
  messageBytes(m: ReconcileMessage<E>): ReconcileBytes {
    return reconcileMessageBytes(m, entries);
  }
  merge(e: E): void {
    if (!this.tree.entryHashOf(e.key, this.out) || e.hi > (this.out[0] as number) || (e.hi === this.out[0] && e.lo > (this.out[1] as number))) this.tree.set(e.key, e.hi, e.lo);
  }
}

const a = new Host();
const b = new Host();
for (let i = 0; i < N; i++) {
  a.tree.set(keys[i] as string, his[i] as number, los[i] as number);
  b.tree.set(keys[i] as string, his[i] as number, los[i] as number);
}
console.log('\n| reconcile 10⁶ keys, d = 100, B = 16 | wall ms | bytes | round trips | found |\n|---|---|---|---|---|');
for (let trial = 1; trial <= 5; trial++) {
  const changed = new Set<number>();
  while (changed.size < 100) changed.add(rng.int(N));
  for (const i of changed) b.tree.set(keys[i] as string, u32(), u32());
  const t0 = performance.now();
  const r = reconcileLocally(a, b, (e) => a.merge(e), (e) => b.merge(e));
  const ms = performance.now() - t0;
  const s = r.stats;
  console.log(`| trial ${trial} | ${ms.toFixed(1)} | ${s.bytesSent + s.bytesReceived} | ${s.roundTrips} | ${r.differingKeys.length}${a.tree.root() === b.tree.root() ? ', equal after' : ', NOT equal after'} |`);
}
