import { fmix32, hashString64 } from '../replica/hash.js';

/**
 * A Merkle tree over the hashed key space (theory.md §7.1), kept up to date on every write.
 *
 * Shape: fan-out `B`, `depth` levels below the root, `B^depth` leaves. A key lives in the leaf
 * given by the top bits of its 64-bit key hash, so both replicas put every key in the same leaf
 * without agreeing on anything but `(B, depth)`. Pick `depth ≈ log_B N` for N keys (≈ 1 key per
 * leaf); `MerkleTree.depthFor(N, B)` does that. Then a reconciliation finding d differences costs
 * about `B·d·log_B(N/d)` hashes over `log_B N` levels.
 *
 * Node hashes: every key contributes a 64-bit digest `mix(keyHash, entryHash)`; a node's hash is
 * the XOR of the digests of all keys below it (equivalently of its children's hashes). XOR makes
 * an update O(depth) with no rescan and no allocation (`node ^= old ^ new` on the leaf-to-root
 * path), makes the root independent of insertion order, and lets equal key→hash maps have equal
 * trees on every node. Two different sets collide only if their digests XOR to the same 64 bits
 * (≈ 2^-64 per compared node for unrelated changes); a reconciliation that misses a difference
 * that way is repaired once either side writes the key again.
 *
 * Storage is struct-of-arrays: node hashes interleaved `[hi, lo]` in one `Uint32Array`, level by
 * level from the root; keys in slots (typed arrays, grown by doubling) linked into per-leaf lists.
 */
export interface MerkleOptions {
  /** Children per inner node, B ≥ 2 (default 16). Hashes per differing node per level = B. */
  readonly fanout?: number;
  /** Levels below the root (default 5: 16^5 ≈ 10^6 leaves at B = 16). Leaves = B^depth ≤ 2^24. */
  readonly depth?: number;
}

export const DEFAULT_FANOUT = 16;
export const DEFAULT_DEPTH = 5;
export const MERKLE_LEAVES_MAX = 1 << 24;
const NONE = -1;
const TWO_32 = 4294967296;

// Scratch inputs and outputs in typed arrays: a uint32 above 2^30 passed to or returned from a
// function that is not inlined would be boxed (a heap allocation per update); typed-array slots
// never are.
const mixIn = new Uint32Array(4); // key hash hi, lo, entry hash hi, lo
const digestOut = new Uint32Array(2);
const delta = new Uint32Array(2);
const keyHashOut = new Uint32Array(2);
const hashIn = new Uint32Array(2);

/** A key's contribution to every node above it: a 64-bit mix of its key hash and entry hash (`mixIn` → `digestOut`). */
function mixDigest(): void {
  const a = fmix32(((mixIn[0] as number) ^ Math.imul((mixIn[3] as number) ^ 0x27d4eb2f, 0x9e3779b1)) >>> 0);
  const b = fmix32(((mixIn[1] as number) ^ Math.imul((mixIn[2] as number) ^ 0x165667b1, 0x85ebca77) ^ a) >>> 0);
  digestOut[0] = fmix32((a + Math.imul(b, 0xc2b2ae3d)) >>> 0);
  digestOut[1] = b;
}

export class MerkleTree {
  readonly fanout: number;
  readonly depth: number;
  readonly leafCount: number;
  /** Nodes on all levels, root included: (B^(depth+1) − 1) / (B − 1). */
  readonly nodeCount: number;
  /** Index of the first node of each level in node order (level 0 = the root). */
  private readonly levelStart: Int32Array;
  /** `[hi, lo]` per node. */
  private readonly nodes: Uint32Array;
  private readonly leafHead: Int32Array;
  private readonly leafSize: Int32Array;

  private readonly slotOf = new Map<string, number>();
  private keys: (string | undefined)[] = [];
  /** Per slot: key hash, entry hash (each `[hi, lo]`), leaf, next and previous slot in the leaf. */
  private keyHash: Uint32Array;
  private entryHash: Uint32Array;
  private slotLeaf: Int32Array;
  private next: Int32Array;
  private prev: Int32Array;
  private freeSlots: Int32Array;
  private freeCount = 0;
  private slotsUsed = 0;

  constructor(options: MerkleOptions = {}) {
    const fanout = options.fanout ?? DEFAULT_FANOUT;
    const depth = options.depth ?? DEFAULT_DEPTH;
    if (!Number.isInteger(fanout) || fanout < 2 || fanout > 256) throw new RangeError(`MerkleTree: fanout must be an integer in [2, 256], got ${fanout}`);
    if (!Number.isInteger(depth) || depth < 1) throw new RangeError(`MerkleTree: depth must be an integer ≥ 1, got ${depth}`);
    const leafCount = fanout ** depth;
    if (leafCount > MERKLE_LEAVES_MAX) throw new RangeError(`MerkleTree: fanout^depth = ${leafCount} leaves exceeds ${MERKLE_LEAVES_MAX}`);
    this.fanout = fanout;
    this.depth = depth;
    this.leafCount = leafCount;
    this.levelStart = new Int32Array(depth + 2);
    let start = 0;
    for (let l = 0; l <= depth; l++) {
      this.levelStart[l] = start;
      start += fanout ** l;
    }
    this.levelStart[depth + 1] = start;
    this.nodeCount = start;
    this.nodes = new Uint32Array(2 * start);
    this.leafHead = new Int32Array(leafCount).fill(NONE);
    this.leafSize = new Int32Array(leafCount);
    const cap = 1024;
    this.keyHash = new Uint32Array(2 * cap);
    this.entryHash = new Uint32Array(2 * cap);
    this.slotLeaf = new Int32Array(cap);
    this.next = new Int32Array(cap);
    this.prev = new Int32Array(cap);
    this.freeSlots = new Int32Array(cap);
  }

  /** The depth that gives about one key per leaf: round(log_B keys), at least 1. */
  static depthFor(keys: number, fanout: number = DEFAULT_FANOUT): number {
    let depth = Math.max(1, Math.round(Math.log(Math.max(keys, 1)) / Math.log(fanout)));
    while (fanout ** depth > MERKLE_LEAVES_MAX) depth--;
    return depth;
  }

  /** Number of keys in the tree. */
  get size(): number {
    return this.slotOf.size;
  }

  /** Nodes on level `level` (0 = root, `depth` = leaves): B^level. */
  levelWidth(level: number): number {
    return (this.levelStart[level + 1] as number) - (this.levelStart[level] as number);
  }

  /** The leaf a key hash (high 32 bits) falls in: ⌊hi · leaves / 2^32⌋. */
  leafOfHash(hi: number): number {
    return Math.floor((hi / TWO_32) * this.leafCount);
  }

  /** The leaf `key` belongs to (whether or not it is in the tree). */
  leafOf(key: string): number {
    hashString64(key, keyHashOut);
    return this.leafOfHash(keyHashOut[0] as number);
  }

  /**
   * Inserts or updates `key` with its entry hash (two uint32 halves) in O(depth + |key|) for a new
   * key and O(depth) for a known one. Prefer `setHash` on the hot path: it takes the hash in a
   * `Uint32Array`, so nothing is boxed.
   */
  set(key: string, hashHi: number, hashLo: number): void {
    hashIn[0] = hashHi;
    hashIn[1] = hashLo;
    this.setHash(key, hashIn);
  }

  /** `set` with the entry hash as `[hi, lo]` in a `Uint32Array`: no allocation for a known key. */
  setHash(key: string, hash: Uint32Array): void {
    const hashHi = hash[0] as number;
    const hashLo = hash[1] as number;
    const eh = this.entryHash;
    let slot = this.slotOf.get(key);
    if (slot === undefined) {
      slot = this.allocSlot();
      this.slotOf.set(key, slot);
      this.keys[slot] = key;
      hashString64(key, keyHashOut);
      this.keyHash[2 * slot] = keyHashOut[0] as number;
      this.keyHash[2 * slot + 1] = keyHashOut[1] as number;
      this.entryHash[2 * slot] = hashHi;
      this.entryHash[2 * slot + 1] = hashLo;
      const leaf = this.leafOfHash(keyHashOut[0] as number);
      this.slotLeaf[slot] = leaf;
      const head = this.leafHead[leaf] as number;
      this.next[slot] = head;
      this.prev[slot] = NONE;
      if (head !== NONE) this.prev[head] = slot;
      this.leafHead[leaf] = slot;
      (this.leafSize[leaf] as number)++;
      mixIn[0] = keyHashOut[0] as number;
      mixIn[1] = keyHashOut[1] as number;
      mixIn[2] = hashHi;
      mixIn[3] = hashLo;
      mixDigest();
      delta[0] = digestOut[0] as number;
      delta[1] = digestOut[1] as number;
      this.xorPath(leaf);
      return;
    }
    if (eh[2 * slot] === hashHi && eh[2 * slot + 1] === hashLo) return;
    mixIn[0] = this.keyHash[2 * slot] as number;
    mixIn[1] = this.keyHash[2 * slot + 1] as number;
    mixIn[2] = eh[2 * slot] as number;
    mixIn[3] = eh[2 * slot + 1] as number;
    mixDigest();
    delta[0] = digestOut[0] as number;
    delta[1] = digestOut[1] as number;
    mixIn[2] = hashHi;
    mixIn[3] = hashLo;
    mixDigest();
    delta[0] = (delta[0]) ^ (digestOut[0] as number);
    delta[1] = (delta[1]) ^ (digestOut[1] as number);
    eh[2 * slot] = hashHi;
    eh[2 * slot + 1] = hashLo;
    this.xorPath(this.slotLeaf[slot] as number);
  }

  /** Removes `key` in O(depth); false when it was not there. */
  delete(key: string): boolean {
    const slot = this.slotOf.get(key);
    if (slot === undefined) return false;
    this.slotOf.delete(key);
    mixIn[0] = this.keyHash[2 * slot] as number;
    mixIn[1] = this.keyHash[2 * slot + 1] as number;
    mixIn[2] = this.entryHash[2 * slot] as number;
    mixIn[3] = this.entryHash[2 * slot + 1] as number;
    mixDigest();
    delta[0] = digestOut[0] as number;
    delta[1] = digestOut[1] as number;
    const leaf = this.slotLeaf[slot] as number;
    this.xorPath(leaf);
    const p = this.prev[slot] as number;
    const n = this.next[slot] as number;
    if (p === NONE) this.leafHead[leaf] = n;
    else this.next[p] = n;
    if (n !== NONE) this.prev[n] = p;
    (this.leafSize[leaf] as number)--;
    this.keys[slot] = undefined;
    this.freeSlots[this.freeCount++] = slot;
    return true;
  }

  has(key: string): boolean {
    return this.slotOf.has(key);
  }

  /** The entry hash stored for `key` as `[hi, lo]` into `out`; false when absent. */
  entryHashOf(key: string, out: Uint32Array): boolean {
    const slot = this.slotOf.get(key);
    if (slot === undefined) return false;
    out[0] = this.entryHash[2 * slot] as number;
    out[1] = this.entryHash[2 * slot + 1] as number;
    return true;
  }

  rootHi(): number {
    return this.nodes[0] as number;
  }
  rootLo(): number {
    return this.nodes[1] as number;
  }
  /** The root as 16 hex digits (for display and digests in tests). */
  root(): string {
    return hex64(this.nodes[0] as number, this.nodes[1] as number);
  }

  /** High half of the hash of node `index` on `level`. */
  nodeHi(level: number, index: number): number {
    return this.nodes[2 * ((this.levelStart[level] as number) + index)] as number;
  }
  /** Low half of the hash of node `index` on `level`. */
  nodeLo(level: number, index: number): number {
    return this.nodes[2 * ((this.levelStart[level] as number) + index) + 1] as number;
  }

  /** Number of keys in `leaf`. */
  leafKeyCount(leaf: number): number {
    return this.leafSize[leaf] as number;
  }

  /** Calls `visit(key, entryHashHi, entryHashLo)` for each key of `leaf` (no order promised). */
  forEachLeafKey(leaf: number, visit: (key: string, hashHi: number, hashLo: number) => void): void {
    for (let s = this.leafHead[leaf] as number; s !== NONE; s = this.next[s] as number) {
      visit(this.keys[s] as string, this.entryHash[2 * s] as number, this.entryHash[2 * s + 1] as number);
    }
  }

  /** The keys of `leaf`, sorted. */
  keysOf(leaf: number): string[] {
    const out: string[] = [];
    for (let s = this.leafHead[leaf] as number; s !== NONE; s = this.next[s] as number) out.push(this.keys[s] as string);
    return out.sort();
  }

  /** Every key with its entry hash (tests, rebuilds). */
  *entries(): IterableIterator<[string, number, number]> {
    for (const [key, s] of this.slotOf) yield [key, this.entryHash[2 * s] as number, this.entryHash[2 * s + 1] as number];
  }

  /** XORs `delta` into every node from `leaf` up to the root. */
  private xorPath(leaf: number): void {
    const b = this.fanout;
    const nodes = this.nodes;
    const dh = delta[0] as number;
    const dl = delta[1] as number;
    let i = leaf;
    for (let l = this.depth; l >= 0; l--) {
      const at = 2 * ((this.levelStart[l] as number) + i);
      nodes[at] = (nodes[at] as number) ^ dh;
      nodes[at + 1] = (nodes[at + 1] as number) ^ dl;
      i = (i / b) | 0;
    }
  }

  private allocSlot(): number {
    if (this.freeCount > 0) return this.freeSlots[--this.freeCount] as number;
    const slot = this.slotsUsed++;
    if (slot >= this.slotLeaf.length) this.grow(2 * this.slotLeaf.length);
    return slot;
  }

  private grow(cap: number): void {
    const g32 = (a: Int32Array): Int32Array => {
      const n = new Int32Array(cap);
      n.set(a);
      return n;
    };
    const gu = (a: Uint32Array): Uint32Array => {
      const n = new Uint32Array(2 * cap);
      n.set(a);
      return n;
    };
    this.keyHash = gu(this.keyHash);
    this.entryHash = gu(this.entryHash);
    this.slotLeaf = g32(this.slotLeaf);
    this.next = g32(this.next);
    this.prev = g32(this.prev);
    this.freeSlots = g32(this.freeSlots);
  }
}

/** `hi:lo` as 16 hex digits. */
export function hex64(hi: number, lo: number): string {
  return (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
}
