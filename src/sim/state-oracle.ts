import type { Dot, VersionVector } from '../core/replica/dvv.js';
import type { Replica } from '../core/replica/replica.js';

/** What the oracle found missing from a replica, by write type. */
export interface LostWrites {
  readonly lww: number;
  readonly counter: number;
  readonly orset: number;
}

interface LwwAck {
  readonly l: number;
  readonly c: number;
  readonly dot: Dot;
  /** null: a delete. */
  readonly value: string | null;
}

/**
 * The oracle: acknowledged operations only. What each acknowledgement carries is what a client
 * gets back from the node: an LWW write's HLC timestamp and dot, an add's dot, a remove's causal
 * context (the adds it observed), an increment's amount.
 */
export class StateOracle {
  readonly lww = new Map<string, LwwAck>();
  readonly counters = new Map<string, number>();
  /** Per set key, per element: the dots of its adds. */
  readonly adds = new Map<string, Map<string, Dot[]>>();
  /** Per set key, per element: the contexts of its removes. */
  readonly removes = new Map<string, Map<string, VersionVector[]>>();
  acknowledged = { lww: 0, counter: 0, orset: 0 };

  ackLww(key: string, a: LwwAck): void {
    this.acknowledged.lww++;
    const cur = this.lww.get(key);
    if (cur === undefined || compareAck(a, cur) > 0) this.lww.set(key, a);
  }

  ackCount(key: string, by: number): void {
    this.acknowledged.counter++;
    this.counters.set(key, (this.counters.get(key) ?? 0) + by);
  }

  ackAdd(key: string, element: string, dot: Dot): void {
    this.acknowledged.orset++;
    push(this.adds, key, element, dot);
  }

  ackRemove(key: string, element: string, context: VersionVector): void {
    this.acknowledged.orset++;
    push(this.removes, key, element, context);
  }

  /** Elements of a set key that must be present: some add not covered by any remove's context. */
  expectedSet(key: string): string[] {
    const out: string[] = [];
    const adds = this.adds.get(key);
    if (adds === undefined) return out;
    const rms = this.removes.get(key);
    for (const [element, dots] of adds) {
      const ctxs = rms?.get(element) ?? [];
      if (dots.some((d) => !ctxs.some((c) => covers(c, d)))) out.push(element);
    }
    return out.sort();
  }

  /**
   * Checks a replica: counters equal the sum of acknowledged increments; an LWW key holds the
   * value of its highest-HLC acknowledged write (absent when that was a delete); a set holds
   * every add not causally removed (lost) and nothing else (resurrected).
   */
  check(r: Replica): { lost: LostWrites; resurrected: number } {
    let lww = 0;
    let counter = 0;
    let orset = 0;
    let resurrected = 0;
    for (const [key, a] of this.lww) {
      const got = r.get(key);
      const values = got !== undefined && got.type === 'register' ? got.values : [];
      if (a.value === null) {
        if (values.length > 0) resurrected++;
      } else if (values.length !== 1 || values[0] !== a.value) lww++;
    }
    for (const [key, sum] of this.counters) {
      const got = r.get(key);
      if (got === undefined || got.type !== 'counter' || got.value !== sum) counter++;
    }
    for (const key of this.adds.keys()) {
      const want = this.expectedSet(key);
      const got = r.get(key);
      const have = new Set(got !== undefined && got.type === 'set' ? got.elements : []);
      for (const e of want) if (!have.delete(e)) orset++;
      resurrected += have.size;
    }
    return { lost: { lww, counter, orset }, resurrected };
  }
}

function compareAck(a: LwwAck, b: LwwAck): number {
  if (a.l !== b.l) return a.l - b.l;
  if (a.c !== b.c) return a.c - b.c;
  if (a.dot.origin !== b.dot.origin) return a.dot.origin < b.dot.origin ? -1 : 1;
  return a.dot.counter - b.dot.counter;
}

function covers(vv: VersionVector, d: Dot): boolean {
  for (const x of vv) if (x.origin === d.origin) return x.counter >= d.counter;
  return false;
}

function push<T>(m: Map<string, Map<string, T[]>>, key: string, element: string, v: T): void {
  let byEl = m.get(key);
  if (byEl === undefined) m.set(key, (byEl = new Map<string, T[]>()));
  const list = byEl.get(element);
  if (list === undefined) byEl.set(element, [v]);
  else list.push(v);
}

/** The highest dot of `origin` in a context (the write just made there). */
export function ownDot(vv: VersionVector, origin: string): Dot {
  for (const d of vv) if (d.origin === origin) return d;
  throw new Error(`no dot of ${origin} in the context`);
}
