/**
 * Serf's Lamport clock (reference §8.3): `time()` reads, `increment()` adds one and returns
 * the new value, `witness(v)` moves the clock to `v + 1` when `v ≥ time()`. Serf starts its
 * clocks at 1 (0 means "none").
 */
export class LamportClock {
  private t: number;

  constructor(start = 1) {
    this.t = start;
  }

  time(): number {
    return this.t;
  }

  increment(): number {
    return ++this.t;
  }

  witness(v: number): void {
    if (v >= this.t) this.t = v + 1;
  }
}
