/**
 * A small, fast, deterministic 64-bit hash for the replicated state: key placement in the Merkle
 * tree and the hash of a key's state (`Replica.entryHash`), equal on every node for equal input.
 *
 * Construction: two 32-bit lanes fed the same stream of 32-bit words. Lane 1 is murmur3_32's
 * body (c1 = 0xcc9e2d51, c2 = 0x1b873593, rotl 15/13, ×5 + 0xe6546b64); lane 2 is a different
 * multiply-rotate (×0x85ebca77, rotl 11, ×0x27d4eb2f + 0x165667b1), so the halves are not copies.
 * The finalizer cross-mixes the lanes with murmur3's fmix32, so every input bit reaches both
 * halves (the Merkle tree takes its leaf index from the top bits of `hi`).
 * - Strings are hashed as UTF-16 code units (one word each) followed by their length, so
 *   `"ab" + "c"` and `"a" + "bc"` differ when hashed as two fields.
 * - Bytes are packed four to a word, little-endian, followed by their length.
 * - Numbers: integers in the uint32 range are one word; any other number is hashed by its
 *   IEEE-754 bits (two words). `-0` and `0` hash alike.
 * Results are two uint32 halves written into a caller's `Uint32Array(2)` as `[hi, lo]`: the hot
 * path allocates nothing. Not cryptographic: a peer can craft collisions. Collisions only make
 * anti-entropy miss a difference until the key is written again (see antientropy/merkle.ts).
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;
const D1 = 0x85ebca77;
const D2 = 0x27d4eb2f;

/** murmur3's 32-bit finalizer (avalanche). */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const f64 = new Float64Array(1);
const f64Words = new Uint32Array(f64.buffer);

/**
 * A streaming 64-bit hasher. Reuse one instance: `reset()`, feed fields, `digest(out)`.
 * Field order matters; each field type is self-delimiting (strings and bytes end with their
 * length), so distinct field sequences of the same types hash differently.
 */
export class Hasher64 {
  private h1 = 0;
  private h2 = 0;
  private n = 0;

  constructor(private readonly seed = 0) {
    this.reset();
  }

  reset(): this {
    this.h1 = this.seed ^ 0x9747b28c;
    this.h2 = this.seed ^ 0x3c6ef372;
    this.n = 0;
    return this;
  }

  /** Feeds one 32-bit word (the low 32 bits of `k`). */
  word(k: number): this {
    let a = Math.imul(k, C1);
    a = (a << 15) | (a >>> 17);
    a = Math.imul(a, C2);
    let h1 = this.h1 ^ a;
    h1 = (h1 << 13) | (h1 >>> 19);
    this.h1 = (Math.imul(h1, 5) + 0xe6546b64) | 0;
    let h2 = Math.imul(this.h2 ^ k, D1);
    h2 = (h2 << 11) | (h2 >>> 21);
    this.h2 = (Math.imul(h2, D2) + 0x165667b1) | 0;
    this.n++;
    return this;
  }

  /** A string as UTF-16 code units, then its length. */
  string(s: string): this {
    const len = s.length;
    for (let i = 0; i < len; i++) this.word(s.charCodeAt(i));
    return this.word(len);
  }

  /** Bytes packed little-endian four to a word, then the length. */
  bytes(b: Uint8Array): this {
    const len = b.length;
    let i = 0;
    for (; i + 4 <= len; i += 4) this.word((b[i] as number) | ((b[i + 1] as number) << 8) | ((b[i + 2] as number) << 16) | ((b[i + 3] as number) << 24));
    if (i < len) {
      let k = 0;
      for (let s = 0; i < len; i++, s += 8) k |= (b[i] as number) << s;
      this.word(k);
    }
    return this.word(len);
  }

  /** A number: one word for integers in [0, 2^32), else a tag and its IEEE-754 bits. */
  number(x: number): this {
    if (x >>> 0 === x) return this.word(x);
    f64[0] = x === 0 ? 0 : x;
    return this.word(0x7ff8dead).word(f64Words[0] as number).word(f64Words[1] as number);
  }

  /** Writes `[hi, lo]` into `out` (the hasher may keep going afterwards). */
  digest(out: Uint32Array): Uint32Array {
    const a = fmix32((this.h1 ^ Math.imul(this.n, C2)) >>> 0);
    const b = fmix32((this.h2 ^ Math.imul(a, 0x9e3779b1)) >>> 0);
    out[0] = fmix32((a ^ Math.imul(b, 0xc2b2ae3d)) >>> 0);
    out[1] = b;
    return out;
  }
}

const shared = new Hasher64();

/** 64-bit hash of a string (its UTF-16 code units), written into `out` as `[hi, lo]`. */
export function hashString64(s: string, out: Uint32Array): Uint32Array {
  return shared.reset().string(s).digest(out);
}

/** 64-bit hash of bytes, written into `out` as `[hi, lo]`. */
export function hashBytes64(b: Uint8Array, out: Uint32Array): Uint32Array {
  return shared.reset().bytes(b).digest(out);
}

/** `[hi, lo]` as 16 lowercase hex digits (for logs and tests). */
export function hashHex(h: Uint32Array): string {
  return (h[0] as number).toString(16).padStart(8, '0') + (h[1] as number).toString(16).padStart(8, '0');
}
