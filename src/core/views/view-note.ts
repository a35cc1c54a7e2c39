/**
 * What a node piggybacks so that others learn who holds which view (issue 16): its view's
 * checksum and the members (by index in that view's canonical order) known to have held that
 * view, one bit each. Nodes holding the same view OR the bitmaps they receive, so every member's
 * bit reaches everyone in O(log N) gossip rounds with one small message per packet (N/8 bytes:
 * 125 at 1,000 members), never one message per member. Encoded by src/wire/view-note.ts.
 */
export interface ViewNote {
  /** The sender's name (for "which members disagree"). */
  readonly from: string;
  readonly checksum: number;
  /** Members in that view. */
  readonly size: number;
  /** ceil(size / 8) bytes; bit i (byte i >> 3, bit i & 7) = member i held the view. */
  readonly bits: Uint8Array;
}

export function bitmapBytes(size: number): number {
  return (size + 7) >>> 3;
}

export function hasBit(bits: Uint8Array, i: number): boolean {
  return (((bits[i >>> 3] as number) >>> (i & 7)) & 1) === 1;
}

export function setBit(bits: Uint8Array, i: number): void {
  bits[i >>> 3] = (bits[i >>> 3] as number) | (1 << (i & 7));
}
