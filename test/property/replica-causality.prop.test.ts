import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CausalContext, Read } from '../../src/core/replica/index.js';
import { Replica } from '../../src/core/replica/index.js';
import { nodeName } from '../../src/core/ids.js';

/**
 * Causality of `siblings` keys (dotted version vectors), checked against a model that knows
 * the true happens-before relation: each write records the set of writes its client had read
 * (its causal past); the truly concurrent writes at a replica are the writes it has seen that
 * are in no other seen write's past. Siblings must be exactly those: no false siblings (a
 * write that superseded another was kept apart from it) and no lost ones.
 */
const KEY = 's/k';
const opts = (node: string) => ({ node: nodeName(node), resolvers: { 's/': { type: 'siblings' as const } } });

function values(r: Replica): number[] {
  const g = r.get(KEY);
  return g?.type === 'register' ? (g.values as number[]).slice().sort((a, b) => a - b) : [];
}

type ModelOp =
  | { kind: 'read'; client: number; replica: number }
  | { kind: 'write'; client: number; replica: number; withContext: boolean; del: boolean }
  | { kind: 'sync'; from: number; to: number };

const R = 3;
const C = 3;
const modelOpArb: fc.Arbitrary<ModelOp> = fc.oneof(
  fc.record({ kind: fc.constant('read' as const), client: fc.nat({ max: C - 1 }), replica: fc.nat({ max: R - 1 }) }),
  fc.record({ kind: fc.constant('write' as const), client: fc.nat({ max: C - 1 }), replica: fc.nat({ max: R - 1 }), withContext: fc.boolean(), del: fc.constant(false) }),
  fc.record({ kind: fc.constant('write' as const), client: fc.nat({ max: C - 1 }), replica: fc.nat({ max: R - 1 }), withContext: fc.constant(true), del: fc.constant(true) }),
  fc.record({ kind: fc.constant('sync' as const), from: fc.nat({ max: R - 1 }), to: fc.nat({ max: R - 1 }) }),
);

/** Runs ops on real replicas and on the model; returns, per replica, [actual, expected] live values. */
function run(ops: readonly ModelOp[]): { actual: number[]; expected: number[] }[] {
  const rs = Array.from({ length: R }, (_, i) => new Replica(opts(`r${i}`)));
  const seen: Set<number>[] = Array.from({ length: R }, () => new Set<number>());
  const past = new Map<number, Set<number>>(); // write id → its causal past
  const deleted = new Set<number>();
  const clientCtx: (CausalContext | undefined)[] = Array.from({ length: C }, () => undefined);
  const clientKnows: Set<number>[] = Array.from({ length: C }, () => new Set<number>());
  let now = 1000;
  let nextId = 1;
  for (const op of ops) {
    now += 3;
    if (op.kind === 'read') {
      clientCtx[op.client] = rs[op.replica]?.get(KEY)?.context;
      clientKnows[op.client] = new Set(seen[op.replica]);
    } else if (op.kind === 'write') {
      const r = rs[op.replica] as Replica;
      const ctx = op.withContext ? clientCtx[op.client] : undefined;
      const p = ctx !== undefined ? new Set(clientKnows[op.client]) : new Set<number>();
      const id = nextId++;
      if (op.del) {
        // A delete needs a context here: without one it would delete what the replica holds.
        r.delete(now, KEY, ctx ?? []);
        deleted.add(id);
      } else r.put(now, KEY, id, ctx);
      past.set(id, p);
      const s = seen[op.replica] as Set<number>;
      for (const x of p) s.add(x);
      s.add(id);
    } else if (op.from !== op.to) {
      const e = rs[op.from]?.entry(KEY);
      if (e !== undefined) rs[op.to]?.merge(now, e);
      for (const x of seen[op.from] as Set<number>) (seen[op.to] as Set<number>).add(x);
    }
  }
  return rs.map((r, i) => {
    const s = seen[i] as Set<number>;
    const superseded = new Set<number>();
    for (const w of s) for (const x of past.get(w) ?? []) superseded.add(x);
    const expected = [...s].filter((w) => !superseded.has(w) && !deleted.has(w)).sort((a, b) => a - b);
    return { actual: values(r), expected };
  });
}

describe('dotted version vectors: siblings are exactly the concurrent writes', () => {
  it('theory.md §8 X/Y/X: X writes A, Y writes B (no context), X writes C with its first context → [B, C], 0 false siblings', () => {
    const r = new Replica(opts('vnode'));
    const ctxX = r.put(1, KEY, 'A'); // X: (1,0) → [A]
    r.put(2, KEY, 'B'); // Y, empty context → [A, B]
    expect((r.get(KEY) as Read & { type: 'register' }).values).toEqual(['A', 'B']);
    r.put(3, KEY, 'C', ctxX); // X with (1,0): supersedes A only
    expect((r.get(KEY) as Read & { type: 'register' }).values).toEqual(['B', 'C']);
  });

  it('property: over 10^4 random interleavings (3 replicas, 3 clients, reads, writes with and without context, deletes, syncs) siblings equal the truly concurrent writes', () => {
    let maxSiblings = 0;
    fc.assert(
      fc.property(fc.array(modelOpArb, { minLength: 1, maxLength: 24, size: 'max' }), (ops) => {
        for (const { actual, expected } of run(ops)) {
          expect(actual).toEqual(expected);
          if (actual.length > maxSiblings) maxSiblings = actual.length;
        }
      }),
      { numRuns: 10_000 },
    );
    // The runs did produce concurrency (otherwise the property says little).
    expect(maxSiblings).toBeGreaterThanOrEqual(3);
  });

  it('property: a write carrying the context it read supersedes exactly what was read; writes it did not read stay as siblings', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 1, max: 1000 }), (before, after, seed) => {
        const a = new Replica(opts('a'));
        const others = [new Replica(opts('b')), new Replica(opts('c'))];
        let v = seed * 100;
        let now = 10;
        // `before` concurrent writes on other replicas, all delivered to a.
        for (let i = 0; i < before; i++) {
          const o = others[i % 2] as Replica;
          o.put((now += 1), KEY, ++v);
          a.merge(now, o.entry(KEY) as NonNullable<ReturnType<Replica['entry']>>);
        }
        const read = a.get(KEY);
        const readValues = read?.type === 'register' ? read.values : [];
        // `after` more concurrent writes arrive after the read.
        const unread: number[] = [];
        for (let i = 0; i < after; i++) {
          const o = others[i % 2] as Replica;
          o.put((now += 1), KEY, ++v, o.get(KEY)?.context);
          unread.push(v);
          a.merge(now, o.entry(KEY) as NonNullable<ReturnType<Replica['entry']>>);
        }
        // Of the unread writes on one replica, each superseded its predecessor there (it used a
        // context), so what is concurrent with the client's write is the latest per replica.
        const latestUnread = new Set<number>();
        for (let i = 0; i < after; i++) if (i >= after - 2) latestUnread.add(unread[i] as number);
        a.put(now + 1, KEY, -1, read?.context);
        const got = values(a);
        for (const x of readValues) if (!latestUnread.has(x as number)) expect(got).not.toContain(x);
        expect(got).toEqual([-1, ...latestUnread].sort((x, y) => x - y));
      }),
      { numRuns: 300 },
    );
  });
});

/**
 * The plain-version-vector model theory.md §8 describes (per-server actor, one vector for all
 * siblings): a write whose context does not dominate the stored vector cannot tell what it
 * supersedes, so it keeps everything.
 */
class PlainVvKey {
  private vv = new Map<string, number>();
  siblings: unknown[] = [];

  put(server: string, ctx: ReadonlyMap<string, number>, value: unknown): Map<string, number> {
    let dominates = true;
    for (const [s, n] of this.vv) if ((ctx.get(s) ?? 0) < n) dominates = false;
    this.siblings = dominates ? [value] : [...this.siblings, value];
    this.vv.set(server, (this.vv.get(server) ?? 0) + 1);
    return new Map(this.vv);
  }
}

describe('causal metadata size', () => {
  it('is O(replicas), not O(clients): 100 clients writing with their contexts through 3 replicas leave a 3-entry context', () => {
    const rs = [0, 1, 2].map((i) => new Replica(opts(`r${i}`)));
    const ctx: (CausalContext | undefined)[] = [];
    for (let i = 0; i < 1000; i++) {
      const client = (i * 37) % 100;
      const r = rs[i % 3] as Replica;
      ctx[client] = r.put(i, KEY, i, ctx[client]);
      const next = rs[(i + 1) % 3] as Replica;
      next.merge(i, r.entry(KEY) as NonNullable<ReturnType<Replica['entry']>>);
    }
    for (const r of rs) expect((r.get(KEY) as Read).context.length).toBeLessThanOrEqual(3);
  });
});

describe('sibling explosion: dotted version vectors against plain version vectors', () => {
  it('two clients alternately writing with the context of their own last write: DVV never holds more than 2 siblings, plain VV holds one per write', () => {
    const writes = 200;
    const dvv = new Replica(opts('vnode'));
    const plain = new PlainVvKey();
    const ctx: (CausalContext | undefined)[] = [undefined, undefined];
    const pctx: ReadonlyMap<string, number>[] = [new Map(), new Map()];
    const dvvCounts: number[] = [];
    const plainCounts: number[] = [];
    for (let i = 0; i < writes; i++) {
      const client = i % 2;
      ctx[client] = dvv.put(i, KEY, `${client}:${i}`, ctx[client]);
      pctx[client] = plain.put('vnode', pctx[client] as ReadonlyMap<string, number>, `${client}:${i}`);
      dvvCounts.push(values(dvv).length);
      plainCounts.push(plain.siblings.length);
    }
    expect(Math.max(...dvvCounts)).toBe(2);
    expect(dvvCounts.slice(1).every((n) => n === 2)).toBe(true);
    // Plain VV: false concurrency grows by one sibling per write, without bound (theory.md §8:
    // "100 siblings after 100 interleaved writes").
    expect(plainCounts[99]).toBe(100);
    expect(plainCounts[writes - 1]).toBe(writes);
    expect(plainCounts).toEqual(plainCounts.map((_, i) => i + 1));
  });

  it('the same with the two clients on two different replicas that sync after every write: still at most 2 siblings', () => {
    const rs = [new Replica(opts('r0')), new Replica(opts('r1'))];
    const ctx: (CausalContext | undefined)[] = [undefined, undefined];
    let max = 0;
    for (let i = 0; i < 200; i++) {
      const c = i % 2;
      const r = rs[c] as Replica;
      ctx[c] = r.put(i, KEY, i, ctx[c]);
      const other = rs[1 - c] as Replica;
      other.merge(i, r.entry(KEY) as NonNullable<ReturnType<Replica['entry']>>);
      max = Math.max(max, values(r).length, values(other).length);
    }
    expect(max).toBe(2);
  });
});
