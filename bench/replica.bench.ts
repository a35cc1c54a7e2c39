/**
 * Writes applied per second on one node: `put` (LWW key, 100-byte value) + `entryHash` + the
 * Merkle tree update (M's `MerkleTree.set(key, hi, lo)` when it exists in this tree), over
 * 100,000 keys, then the same for siblings keys with read-modify-write contexts and for
 * counters. Run: `npx tsx bench/replica.bench.ts`.
 */
import { Replica } from '../src/core/replica/index.js';

interface TreeLike {
  set(key: string, hi: number, lo: number): void;
}

async function loadTree(keys: number): Promise<{ tree: TreeLike | undefined; name: string }> {
  try {
    const path = '../src/core/antientropy/merkle.js';
    const mod = (await import(path)) as { MerkleTree?: { new (o?: { fanout?: number; depth?: number }): TreeLike; depthFor?: (n: number, b: number) => number } };
    const M = mod.MerkleTree;
    if (M === undefined) return { tree: undefined, name: 'none' };
    const depth = M.depthFor?.(keys, 16) ?? 5;
    return { tree: new M({ fanout: 16, depth }), name: `MerkleTree(B=16, depth=${depth})` };
  } catch {
    return { tree: undefined, name: 'none (antientropy/merkle.ts not loadable)' };
  }
}

const KEYS = 100_000;
const WRITES = 1_000_000;

function makeKeys(prefix: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < KEYS; i++) out.push(`${prefix}${i.toString(36)}`);
  return out;
}

function xorshift(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
}

async function main(): Promise<void> {
  const { tree, name } = await loadTree(KEYS);
  const rows: string[][] = [];
  const value = new Uint8Array(100);
  for (let i = 0; i < value.length; i++) value[i] = i;

  {
    const r = new Replica({ node: 'bench-node' });
    const keys = makeKeys('lww/');
    const rnd = xorshift(1);
    const out = new Uint32Array(2);
    // warm-up
    for (let i = 0; i < 200_000; i++) {
      const k = keys[rnd() % KEYS] as string;
      r.put(i, k, value);
      const h = r.entryHash(k, out) as Uint32Array;
      tree?.set(k, h[0] as number, h[1] as number);
    }
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < WRITES; i++) {
      const k = keys[rnd() % KEYS] as string;
      r.put(1e6 + i, k, value);
      const h = r.entryHash(k, out) as Uint32Array;
      tree?.set(k, h[0] as number, h[1] as number);
    }
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    rows.push(['lww put + entryHash' + (tree ? ' + tree.set' : ''), String(WRITES), s.toFixed(3), Math.round(WRITES / s).toLocaleString('en-US')]);
  }

  {
    const r = new Replica({ node: 'bench-node', defaultResolver: { type: 'siblings' } });
    const keys = makeKeys('sib/');
    const rnd = xorshift(2);
    const out = new Uint32Array(2);
    const n = WRITES / 2;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      const k = keys[rnd() % KEYS] as string;
      const ctx = r.get(k)?.context;
      r.put(i, k, value, ctx);
      const h = r.entryHash(k, out) as Uint32Array;
      tree?.set(k, h[0] as number, h[1] as number);
    }
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    rows.push(['siblings get + put(context) + entryHash' + (tree ? ' + tree.set' : ''), String(n), s.toFixed(3), Math.round(n / s).toLocaleString('en-US')]);
  }

  {
    const r = new Replica({ node: 'bench-node', defaultResolver: { type: 'pncounter' } });
    const keys = makeKeys('cnt/');
    const rnd = xorshift(3);
    const out = new Uint32Array(2);
    const n = WRITES / 2;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      const k = keys[rnd() % KEYS] as string;
      r.increment(i, k, 1);
      const h = r.entryHash(k, out) as Uint32Array;
      tree?.set(k, h[0] as number, h[1] as number);
    }
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    rows.push(['pncounter increment + entryHash' + (tree ? ' + tree.set' : ''), String(n), s.toFixed(3), Math.round(n / s).toLocaleString('en-US')]);
  }

  {
    // Merge path: a second replica applies the first one's entries (what a rumor delivers).
    const a = new Replica({ node: 'a' });
    const b = new Replica({ node: 'b' });
    const keys = makeKeys('m/');
    const rnd = xorshift(4);
    const n = WRITES / 2;
    const entries = [];
    for (let i = 0; i < n; i++) {
      const k = keys[rnd() % KEYS] as string;
      a.put(i, k, value);
      entries.push(a.entry(k));
    }
    const out = new Uint32Array(2);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      const e = entries[i];
      if (e !== undefined && b.merge(n + i, e)) {
        const h = b.entryHash(e.key, out) as Uint32Array;
        tree?.set(e.key, h[0] as number, h[1] as number);
      }
    }
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    rows.push(['merge(entry) + entryHash' + (tree ? ' + tree.set' : ''), String(n), s.toFixed(3), Math.round(n / s).toLocaleString('en-US')]);
  }

  console.log(`replica bench: ${KEYS.toLocaleString('en-US')} keys, 100-byte values, Merkle tree: ${name}`);
  const head = ['operation', 'ops', 'seconds', 'ops/s'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (r: string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(w[i] as number) : c.padStart(w[i] as number))).join('  ');
  console.log(line(head));
  for (const r of rows) console.log(line(r));
  const first = rows[0]?.[3] ?? '?';
  console.log(`goal: 100,000 writes/s applied on one node; measured ${first} writes/s (put + hash${tree ? ' + tree update' : ''})`);
}

void main();
