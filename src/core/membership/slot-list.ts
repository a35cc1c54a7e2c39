/**
 * A growable list of member slots in an Int32Array (4 bytes an entry, where a JS array of
 * numbers costs 8): the probe order, which every node keeps over its whole member list.
 */
export class SlotList {
  private items: Int32Array;
  private n = 0;

  constructor(capacity = 16) {
    this.items = new Int32Array(Math.max(1, capacity));
  }

  get length(): number {
    return this.n;
  }

  at(i: number): number {
    return this.items[i] as number;
  }

  set(i: number, slot: number): void {
    this.items[i] = slot;
  }

  push(slot: number): void {
    if (this.n === this.items.length) this.reserve(this.n * 2);
    this.items[this.n++] = slot;
  }

  reserve(capacity: number): void {
    if (capacity <= this.items.length) return;
    const grown = new Int32Array(capacity);
    grown.set(this.items.subarray(0, this.n));
    this.items = grown;
  }

  /** Keeps the entries for which `keep` is true, in order. */
  retain(keep: (slot: number) => boolean): void {
    let w = 0;
    for (let r = 0; r < this.n; r++) {
      const s = this.items[r] as number;
      if (keep(s)) this.items[w++] = s;
    }
    this.n = w;
  }

  /** Fisher–Yates with the caller's random source. */
  shuffle(randomInt: (bound: number) => number): void {
    for (let i = this.n - 1; i > 0; i--) {
      const j = randomInt(i + 1);
      const x = this.items[i] as number;
      this.items[i] = this.items[j] as number;
      this.items[j] = x;
    }
  }
}
