/**
 * Temporary 64-bit string hash for the Merkle tree's key placement, until K's
 * `src/core/replica/hash.ts` lands (replica contract). Two murmur3-style 32-bit lanes over the
 * UTF-16 code units, cross-mixed at the end; written into `out` as `[hi, lo]` so the hot path
 * allocates nothing. Deterministic on every node (no seed from the environment).
 */
export function hashString64(s: string, out: Uint32Array): void {
  let h1 = 0x9747b28c ^ s.length;
  let h2 = 0x3c6ef372 ^ Math.imul(s.length, 0x85ebca6b);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let k = Math.imul(c, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h1 ^= k;
    h1 = (h1 << 13) | (h1 >>> 19);
    h1 = (Math.imul(h1, 5) + 0xe6546b64) | 0;
    h2 = Math.imul(h2 ^ c, 0x01000193);
    h2 = (h2 << 11) | (h2 >>> 21);
  }
  h1 = fmix32(h1 ^ Math.imul(h2, 0x27d4eb2f));
  h2 = fmix32(h2 ^ h1);
  out[0] = h1;
  out[1] = h2;
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
