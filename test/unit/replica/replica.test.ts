import { describe, expect, it } from 'vitest';
import type { ChangeEvent, Entry, Read, ReplicaErrorCode } from '../../../src/core/replica/index.js';
import { Hasher64, hashHex, hashString64, minSummary, Replica, ReplicaError } from '../../../src/core/replica/index.js';
import { RESOLVERS } from './harness.js';
import { nodeName } from '../../../src/core/ids.js';
import type { NodeName } from '../../../src/core/ids.js';

const mk = (node: string): Replica => new Replica({ node: nodeName(node), resolvers: RESOLVERS });
const reg = (r: Replica, k: string): readonly unknown[] => (r.get(k) as Read & { type: 'register' }).values;

function codeOf(f: () => unknown): ReplicaErrorCode | 'no error' {
  try {
    f();
  } catch (e) {
    if (e instanceof ReplicaError) return e.code;
    throw e;
  }
  return 'no error';
}

describe('Replica: typed errors when an operation does not fit the key', () => {
  const r = mk('a');
  it.each<[string, () => unknown, ReplicaErrorCode | 'no error']>([
    ['put on a G-Counter key', () => r.put(1, 'g/x', 1), 'wrong-type'],
    ['put on an OR-Set key', () => r.put(1, 'o/x', 1), 'wrong-type'],
    ['increment on an lww key', () => r.increment(1, 'l/x'), 'wrong-type'],
    ['add on a siblings key', () => r.add(1, 's/x', 'e'), 'wrong-type'],
    ['mapSet on an OR-Set key', () => r.mapSet(1, 'o/x', 'f', 1), 'wrong-type'],
    ['remove on an OR-Map key', () => r.remove(1, 'm/x', 'e'), 'wrong-type'],
    ['delete of a counter', () => r.delete(1, 'p/x'), 'unsupported'],
    ['decrement of a G-Counter', () => r.decrement(1, 'g/x'), 'unsupported'],
    ['a function as value', () => r.put(1, 'l/x', (() => 1) as never), 'bad-value'],
    ['NaN inside JSON', () => r.put(1, 'l/x', { a: [Number.NaN] }), 'bad-value'],
    ['undefined as value', () => r.put(1, 'l/x', undefined as never), 'bad-value'],
    ['a context that is not a version vector', () => r.put(1, 's/x', 1, [{ origin: 'a', counter: 0 }]), 'bad-context'],
    ['an unsorted context', () => r.put(1, 's/x', 1, [{ origin: 'b', counter: 1 }, { origin: 'a', counter: 1 }]), 'bad-context'],
    ['a negative increment', () => r.increment(1, 'g/x', -1), 'bad-argument'],
    ['a fractional increment', () => r.increment(1, 'p/x', 1.5), 'bad-argument'],
    ['an unknown resolver', () => new Replica({ node: nodeName('a'), resolvers: { 'x/': { type: 'nope' } as never } }), 'config'],
    ['custom without a merge function', () => new Replica({ node: nodeName('a'), resolvers: { 'x/': { type: 'custom' } as never } }), 'config'],
    ['an empty node name', () => new Replica({ node: '' as NodeName }), 'config'],
    ['a fitting operation', () => r.put(1, 'l/x', { ok: [1, 'two', null] }), 'no error'],
  ])('%s → %s', (_name, f, code) => {
    expect(codeOf(f)).toBe(code);
  });

  it('a failed operation leaves no trace (no dot used, no state)', () => {
    const x = mk('x');
    expect(codeOf(() => x.put(1, 'g/k', 1))).toBe('wrong-type');
    expect(x.size).toBe(0);
    expect(x.versionSummary().get('x') ?? 0).toBe(0);
  });
});

describe('Replica: reads', () => {
  it('lww: highest HLC wins; equal HLC ties go to the greater node name', () => {
    const a = mk('a');
    const b = mk('b');
    a.put(100, 'l/k', 'from-a');
    b.put(100, 'l/k', 'from-b'); // same (l, c) = (100, 0)
    a.merge(100, b.entry('l/k') as Entry);
    b.merge(100, a.entry('l/k') as Entry);
    expect(reg(a, 'l/k')).toEqual(['from-b']);
    expect(reg(b, 'l/k')).toEqual(['from-b']);
    a.put(200, 'l/k', 'later-a');
    b.merge(200, a.entry('l/k') as Entry);
    expect(reg(b, 'l/k')).toEqual(['later-a']);
  });

  it('lww: a later delete beats an earlier concurrent write, an earlier delete loses to a later write', () => {
    const a = mk('a');
    const b = mk('b');
    a.put(100, 'l/k', 1);
    b.merge(100, a.entry('l/k') as Entry);
    a.put(150, 'l/k', 2);
    b.delete(160, 'l/k');
    b.merge(170, a.entry('l/k') as Entry);
    expect(reg(b, 'l/k')).toEqual([]);
    expect(b.list('l/')).toEqual([]);
    a.put(180, 'l/k', 3);
    b.merge(190, a.entry('l/k') as Entry);
    expect(reg(b, 'l/k')).toEqual([3]);
  });

  it('custom: concurrent values folded by the merge function; siblings: all kept, in dot order', () => {
    const a = mk('a');
    const b = mk('b');
    a.put(1, 'c/k', 5);
    b.put(1, 'c/k', 9);
    a.merge(2, b.entry('c/k') as Entry);
    expect(reg(a, 'c/k')).toEqual([9]);
    a.put(1, 's/k', 'x');
    b.put(1, 's/k', 'y');
    a.merge(2, b.entry('s/k') as Entry);
    expect(reg(a, 's/k')).toEqual(['x', 'y']);
    const ctx = (a.get('s/k') as Read).context;
    a.put(3, 's/k', 'merged', ctx);
    expect(reg(a, 's/k')).toEqual(['merged']);
  });

  it('counters, sets and maps read as their values', () => {
    const a = mk('a');
    const b = mk('b');
    a.increment(1, 'p/k', 5);
    b.decrement(1, 'p/k', 2);
    b.increment(1, 'g/k', 4);
    a.merge(2, b.entry('p/k') as Entry);
    a.merge(2, b.entry('g/k') as Entry);
    expect((a.get('p/k') as Read & { type: 'counter' }).value).toBe(3);
    expect((a.get('g/k') as Read & { type: 'counter' }).value).toBe(4);
    // OR-Set: a remove concurrent with an add of the same element: the add wins.
    a.add(1, 'o/k', 'e');
    b.merge(2, a.entry('o/k') as Entry);
    b.remove(3, 'o/k', 'e');
    a.add(3, 'o/k', 'e');
    a.add(3, 'o/k', 'f');
    a.merge(4, b.entry('o/k') as Entry);
    expect((a.get('o/k') as Read & { type: 'set' }).elements).toEqual(['e', 'f']);
    b.merge(4, a.entry('o/k') as Entry);
    b.remove(5, 'o/k', 'f');
    a.merge(6, b.entry('o/k') as Entry);
    expect((a.get('o/k') as Read & { type: 'set' }).elements).toEqual(['e']);
    a.mapIncrement(1, 'm/k', 'n', 3);
    a.mapIncrement(1, 'm/k', 'n', -1);
    a.mapAdd(1, 'm/k', 'tags', 't');
    a.mapSet(1, 'm/k', 'name', 'z');
    a.mapSet(2, 'm/k', 'name', 'zz');
    const fields = (a.get('m/k') as Read & { type: 'map' }).fields;
    expect(Object.fromEntries(fields)).toEqual({
      'n:counter': { type: 'counter', value: 2 },
      'tags:set': { type: 'set', elements: ['t'] },
      'name:register': { type: 'register', value: 'zz' },
    });
    a.mapRemoveField(3, 'm/k', 'tags');
    expect([...(a.get('m/k') as Read & { type: 'map' }).fields.keys()]).toEqual(['n:counter', 'name:register']);
  });

  it('list(prefix) gives present keys only, sorted; get of an unknown key is undefined', () => {
    const a = mk('a');
    a.put(1, 'l/b', 1);
    a.put(1, 'l/a', 1);
    a.put(1, 's/a', 1);
    a.put(1, 'l/c', 1);
    a.delete(2, 'l/c');
    a.add(1, 'o/x', 'e');
    a.remove(2, 'o/x', 'e');
    expect(a.list('l/')).toEqual(['l/a', 'l/b']);
    expect(a.list()).toEqual(['l/a', 'l/b', 's/a']);
    expect(a.get('nope')).toBeUndefined();
    expect(a.stats().tombstones).toBe(2);
  });
});

describe('Replica: subscribe', () => {
  it('queues changes under the prefix for pollChange, calls callbacks, and stops after unsubscribe', () => {
    const a = mk('a');
    const b = mk('b');
    const polled = a.subscribe('l/');
    const seen: ChangeEvent[] = [];
    const cb = a.subscribe('o/', (e) => seen.push(e));
    a.put(1, 'l/x', 1);
    a.put(1, 's/x', 1); // not subscribed
    a.add(1, 'o/x', 'e');
    b.put(2, 'l/y', 2);
    a.merge(2, b.entry('l/y') as Entry);
    a.delete(3, 'l/x');
    const got: ChangeEvent[] = [];
    for (let e = a.pollChange(); e !== undefined; e = a.pollChange()) got.push(e);
    expect(got).toEqual([
      { subscription: polled, key: 'l/x', cause: 'local', deleted: false },
      { subscription: polled, key: 'l/y', cause: 'merge', deleted: false },
      { subscription: polled, key: 'l/x', cause: 'local', deleted: true },
    ]);
    expect(seen).toEqual([{ subscription: cb, key: 'o/x', cause: 'local', deleted: false }]);
    expect(a.unsubscribe(polled)).toBe(true);
    a.put(4, 'l/z', 1);
    expect(a.pollChange()).toBeUndefined();
    const collected = a.subscribe('l/');
    a.collectTombstones(new Map([['a', 100], ['b', 100]]));
    expect(a.pollChange()).toEqual({ subscription: collected, key: 'l/x', cause: 'collect', deleted: true });
  });
});

describe('Replica: replication surface', () => {
  it('entryHash: equal states hash equal on different nodes, different states differ, the cache follows changes', () => {
    const a = mk('a');
    const b = mk('b');
    a.put(1, 's/k', 'x');
    b.merge(1, a.entry('s/k') as Entry);
    const ha = hashHex(a.entryHash('s/k') as Uint32Array);
    expect(hashHex(b.entryHash('s/k') as Uint32Array)).toBe(ha);
    b.put(2, 's/k', 'y');
    const hb = hashHex(b.entryHash('s/k') as Uint32Array);
    expect(hb).not.toBe(ha);
    a.merge(2, b.entry('s/k') as Entry);
    expect(hashHex(a.entryHash('s/k') as Uint32Array)).toBe(hb);
    expect(a.entryHash('missing')).toBeUndefined();
    // JSON object key order does not matter.
    const c = mk('c');
    const d = mk('c');
    c.put(1, 'l/j', { x: 1, y: [true, null] });
    d.put(1, 'l/j', { y: [true, null], x: 1 });
    expect(hashHex(c.entryHash('l/j') as Uint32Array)).toBe(hashHex(d.entryHash('l/j') as Uint32Array));
  });

  it('merge never throws on bad peer input: malformed entries and type mismatches are counted and ignored', () => {
    const a = mk('a');
    const bad: unknown[] = [
      null,
      { key: 'l/x', type: 'register', context: [], siblings: 'no' },
      { key: 'l/x', type: 'blob', context: [], siblings: [] },
      { key: 'l/x', type: 'register', context: [{ origin: 'b', counter: -1 }], siblings: [] },
      { key: 'l/x', type: 'register', context: [], siblings: [{ dot: { origin: 'b', counter: 1 }, l: 1, c: 0, deleted: false, value: 1, valueBytes: 1 }] },
    ];
    for (const e of bad) expect(a.merge(1, e as Entry)).toBe(false);
    const b = new Replica({ node: nodeName('b'), defaultResolver: { type: 'orset' } });
    b.add(1, 'l/x-as-set', 'e'); // a set entry…
    const e = b.entry('l/x-as-set') as Entry;
    expect(a.merge(1, e)).toBe(false); // …for a key that is lww here
    expect(a.stats()).toMatchObject({ malformed: 5, typeMismatch: 1, keys: 0 });
  });

  it('a remote HLC beyond the drift guard: the entry is still merged (replicas converge), the clock is not pulled forward, the refusal is counted', () => {
    const a = new Replica({ node: nodeName('a'), maxDriftMs: 500 });
    const b = new Replica({ node: nodeName('b'), maxDriftMs: 500 });
    b.put(10_000, 'k', 'future');
    expect(a.merge(1000, b.entry('k') as Entry)).toBe(true);
    expect(reg(a, 'k')).toEqual(['future']);
    expect(a.stats().driftRejected).toBe(1);
    expect(a.hlc.l).toBeLessThan(10_000);
  });

  it('a restarted node never reuses a dot: its own dots coming back push its counter past them', () => {
    const a = mk('a');
    a.put(1, 'l/k', 1);
    a.put(2, 'l/k', 2);
    const restarted = mk('a'); // lost its counter
    restarted.merge(3, a.entry('l/k') as Entry);
    const ctx = restarted.put(4, 'l/q', 3);
    expect(ctx).toEqual([{ origin: 'a', counter: 3 }]);
    expect(new Replica({ node: nodeName('a'), counterStart: 41 }).put(1, 'k', 1)).toEqual([{ origin: 'a', counter: 42 }]);
  });
});

describe('Replica: version summaries and collection', () => {
  it('a tombstone is collected only once every live member has seen the delete; a superseded write leaves a gap that absorbSummary fills', () => {
    const a = mk('a');
    const b = mk('b');
    const c = mk('c');
    a.put(1, 'l/k', 'v1'); // (a,1)
    a.put(2, 'l/k', 'v2'); // (a,2) supersedes (a,1) before anyone saw it
    b.merge(3, a.entry('l/k') as Entry);
    c.merge(3, a.entry('l/k') as Entry);
    expect(b.versionSummary().get('a') ?? 0).toBe(0); // (a,1) never reached b: a gap
    expect(b.stats().summaryGaps).toBe(1);
    a.delete(4, 'l/k'); // (a,3)
    b.merge(5, a.entry('l/k') as Entry);
    const sums = () => [a, b, c].map((r) => r.versionSummary());
    expect(minSummary(sums()).get('a') ?? 0).toBe(0);
    expect(a.collectTombstones(minSummary(sums()))).toEqual([]);
    // b syncs completely with a and absorbs its summary; c still has not seen the delete.
    b.absorbSummary(a.versionSummary());
    expect(b.versionSummary().get('a')).toBe(3);
    c.absorbSummary(new Map([['a', 2]])); // c has everything up to (a,2)
    expect(minSummary(sums()).get('a')).toBe(2);
    expect(a.collectTombstones(minSummary(sums()))).toEqual([]);
    c.merge(6, a.entry('l/k') as Entry);
    expect(minSummary(sums()).get('a')).toBe(3);
    for (const r of [a, b, c]) expect(r.collectTombstones(minSummary(sums()))).toEqual(['l/k']);
    expect(a.stats()).toMatchObject({ keys: 0, tombstones: 0, collected: 1 });
  });

  it('collectSeenBy: a tombstone is dropped only when the peer has seen every dot of it', () => {
    const a = mk('a');
    const b = mk('b');
    a.put(1, 'l/k', 'v'); // (a,1)
    a.put(2, 'l/live', 'x'); // (a,2)
    b.merge(2, a.entry('l/k') as Entry);
    b.delete(3, 'l/k'); // (b,1) supersedes (a,1)
    a.merge(4, b.entry('l/k') as Entry);
    // A live key is never collected this way, whatever the summary says.
    expect(a.collectSeenBy('l/live', new Map([['a', 9], ['b', 9]]))).toBe(false);
    // The peer has not seen the delete (b,1): kept.
    expect(a.collectSeenBy('l/k', new Map([['a', 2]]))).toBe(false);
    expect(a.entry('l/k')).toBeDefined();
    // Nor the write it removed (a,1).
    expect(a.collectSeenBy('l/k', new Map([['b', 1]]))).toBe(false);
    const changes = a.subscribe('l/');
    expect(a.collectSeenBy('l/k', new Map([['a', 1], ['b', 1]]))).toBe(true);
    expect(a.entry('l/k')).toBeUndefined();
    expect(a.pollChange()).toEqual({ subscription: changes, key: 'l/k', cause: 'collect', deleted: true });
    expect(a.stats()).toMatchObject({ tombstones: 0, collected: 1 });
    expect(a.collectSeenBy('l/k', new Map([['a', 1], ['b', 1]]))).toBe(false);
    // A stale copy of the collected value is not taken back (rule 1: seen, not held).
    a.merge(5, { ...(b.entry('l/k') as Entry) });
    expect(a.entry('l/k')).toBeUndefined();
  });

  it('a node back after the collection: its stale value is dropped, the certificate re-issued, and it is repaired', () => {
    const a = mk('a');
    const b = mk('b');
    const c = mk('c');
    a.put(1, 's/k', 'v');
    b.merge(1, a.entry('s/k') as Entry);
    c.merge(1, a.entry('s/k') as Entry);
    const staleCopy = c.entry('s/k') as Entry;
    // c goes down; a deletes; a and b collect.
    a.delete(2, 's/k');
    b.merge(3, a.entry('s/k') as Entry);
    const live = minSummary([a.versionSummary(), b.versionSummary()]);
    expect(a.collectTombstones(live)).toEqual(['s/k']);
    expect(b.collectTombstones(live)).toEqual(['s/k']);
    // c returns and offers its stale copy.
    expect(a.merge(4, c.entry('s/k') as Entry)).toBe(true);
    expect(a.stats()).toMatchObject({ staleDotsDropped: 1, reactivated: 1 });
    expect(a.list()).toEqual([]);
    expect(reg(a, 's/k')).toEqual([]);
    // The re-issued certificate carries a new dot c has not seen: not collectable yet.
    expect(a.collectTombstones(minSummary([a.versionSummary(), b.versionSummary(), c.versionSummary()]))).toEqual([]);
    expect(c.merge(5, a.entry('s/k') as Entry)).toBe(true);
    expect(c.list()).toEqual([]);
    b.merge(5, a.entry('s/k') as Entry);
    // c never saw the original delete (a,2), so its summary stops at (a,1) …
    expect(c.versionSummary().get('a')).toBe(1);
    expect(a.collectTombstones(minSummary([a.versionSummary(), b.versionSummary(), c.versionSummary()]))).toEqual([]);
    // … until the end of a complete sync with a (a's every entry merged) lets it take a's summary.
    c.absorbSummary(a.versionSummary());
    b.absorbSummary(a.versionSummary());
    const all = minSummary([a.versionSummary(), b.versionSummary(), c.versionSummary()]);
    for (const r of [a, b, c]) expect(r.collectTombstones(all)).toEqual(['s/k']);
    // A write after all this is a new key, not a resurrection, and stale copies stay dead.
    a.put(6, 's/k', 'new');
    expect(a.merge(7, staleCopy)).toBe(false); // (a,1) is covered by the new context: nothing to do
    expect(reg(a, 's/k')).toEqual(['new']);
    // On b, which re-created the key with its own write, the stale (a,1) is not covered by the
    // key's context; only the summary knows it is dead.
    b.put(8, 's/k', 'b-new');
    expect(b.merge(9, staleCopy)).toBe(true); // the context grows by (a,1); the value stays out
    expect(reg(b, 's/k')).toEqual(['b-new']);
  });
});

describe('hash', () => {
  it('is deterministic (fixed vectors) and self-delimiting', () => {
    const out = new Uint32Array(2);
    expect(hashHex(hashString64('', out))).toBe('a0c05002a2ada0f9');
    expect(hashHex(hashString64('a', out))).toBe('81b08c8d0cca31ce');
    const h = new Hasher64();
    const ab = hashHex(h.reset().string('ab').string('c').digest(out));
    expect(hashHex(h.reset().string('a').string('bc').digest(out))).not.toBe(ab);
    expect(hashHex(h.reset().bytes(new Uint8Array([1, 2, 3])).digest(out))).not.toBe(hashHex(h.reset().bytes(new Uint8Array([1, 2, 3, 0])).digest(out)));
    expect(hashHex(h.reset().number(-0).digest(out))).toBe(hashHex(h.reset().number(0).digest(out)));
    expect(hashHex(h.reset().number(1.5).digest(out))).not.toBe(hashHex(h.reset().number(1).digest(out)));
  });

  it('spreads keys evenly over the top byte (Merkle leaf placement)', () => {
    const out = new Uint32Array(2);
    const buckets = new Array<number>(64).fill(0);
    for (let i = 0; i < 64_000; i++) {
      hashString64(`key/${i}`, out);
      buckets[(out[0] as number) >>> 26] = (buckets[(out[0] as number) >>> 26] as number) + 1;
    }
    // 1,000 expected per bucket, σ ≈ 31: ±20 % is over 6σ.
    expect(Math.min(...buckets)).toBeGreaterThan(800);
    expect(Math.max(...buckets)).toBeLessThan(1200);
  });
});

describe('Replica: LWW deletes and collection', () => {
  it('a node holding both a delete and a concurrent earlier write keeps only the delete (the loser stays dead after collection)', () => {
    const a = mk('a');
    const b = mk('b');
    const c = mk('c');
    b.put(100, 'l/k', 'w'); // concurrent with the delete below, lower HLC
    a.delete(200, 'l/k');
    b.merge(201, a.entry('l/k') as Entry);
    expect((b.entry('l/k') as Entry & { type: 'lww' }).siblings.map((s) => s.deleted)).toEqual([true]);
    // c gets w alone first (an old rumor), then b's state: the delete wins there too.
    c.merge(150, { type: 'lww', key: 'l/k', context: [{ origin: 'b', counter: 1 }], siblings: [{ dot: { origin: 'b', counter: 1 }, l: 100, c: 0, deleted: false, value: 'w', valueBytes: 3 }] });
    expect(reg(c, 'l/k')).toEqual(['w']);
    c.merge(202, b.entry('l/k') as Entry);
    expect(reg(c, 'l/k')).toEqual([]);
  });

  it('a write stamped after what it supersedes even when the drift guard keeps the clock behind', () => {
    const a = new Replica({ node: nodeName('a'), maxDriftMs: 500 });
    const b = new Replica({ node: nodeName('b'), maxDriftMs: 500 });
    b.put(60_000, 'k', 'future'); // b's clock is a minute ahead
    a.merge(1000, b.entry('k') as Entry); // refused by the guard: a's clock stays near 1000
    a.put(1001, 'k', 'after'); // causally after "future": must win
    const stamped = (a.entry('k') as Entry & { type: 'lww' }).siblings[0];
    expect([stamped?.l, stamped?.c]).toEqual([60_000, 1]); // just above what it superseded
    expect(a.hlc.l).toBeLessThan(2000); // the clock itself was not dragged forward
    b.merge(60_001, a.entry('k') as Entry);
    expect(reg(a, 'k')).toEqual(['after']);
    expect(reg(b, 'k')).toEqual(['after']);
  });

  it('a member left out of seenByAll can bring back a concurrent LWW write after the collection; a grace period prevents it', () => {
    const run = (graceMs: number | undefined): readonly unknown[] => {
      const [a, b, x] = [mk('a'), mk('b'), mk('x')];
      x.put(100, 'l/k', 'x-write'); // x is cut off right after: no one sees this write
      a.delete(200, 'l/k'); // concurrent, higher HLC: the delete should win
      b.merge(201, a.entry('l/k') as Entry);
      const live = minSummary([a.versionSummary(), b.versionSummary()]);
      a.collectTombstones(live, 300, graceMs);
      b.collectTombstones(live, 300, graceMs);
      // x returns.
      a.merge(400, x.entry('l/k') as Entry);
      return reg(a, 'l/k');
    };
    expect(run(undefined)).toEqual(['x-write']); // the documented hazard
    expect(run(10_000)).toEqual([]); // tombstone kept through the grace period: HLC decides
  });

  it('collectTombstones with a grace period keeps a tombstone until it has been deleted that long', () => {
    const a = mk('a');
    a.put(1000, 'l/k', 1);
    a.delete(2000, 'l/k');
    const all = a.versionSummary();
    expect(a.collectTombstones(all, 2500, 1000)).toEqual([]);
    expect(a.collectTombstones(all, 3000, 1000)).toEqual(['l/k']);
  });
});

describe('OR-Map fields', () => {
  it('removing a field drops what the remover observed; a concurrent update to it survives with its own contribution', () => {
    const a = mk('a');
    const b = mk('b');
    a.mapIncrement(1, 'm/k', 'n', 5);
    a.mapAdd(1, 'm/k', 's', 'x');
    b.merge(2, a.entry('m/k') as Entry);
    a.mapRemoveField(3, 'm/k', 'n'); // a resets n
    a.mapRemoveField(3, 'm/k', 's');
    b.mapIncrement(3, 'm/k', 'n', 2); // concurrently, b adds to n
    b.mapAdd(3, 'm/k', 's', 'y');
    a.merge(4, b.entry('m/k') as Entry);
    b.merge(4, a.entry('m/k') as Entry);
    for (const r of [a, b]) {
      expect(Object.fromEntries((r.get('m/k') as Read & { type: 'map' }).fields)).toEqual({
        'n:counter': { type: 'counter', value: 2 }, // b's own contribution only: a's 5 was observed and removed
        's:set': { type: 'set', elements: ['y'] }, // x observed and removed, y added concurrently
      });
    }
  });

  it('a field is named by (name, type): a counter and a set called alike coexist', () => {
    const a = mk('a');
    a.mapIncrement(1, 'm/k', 'likes', 1);
    a.mapAdd(1, 'm/k', 'likes', 'bob');
    expect([...(a.get('m/k') as Read & { type: 'map' }).fields.keys()]).toEqual(['likes:counter', 'likes:set']);
  });
});

describe('custom resolver', () => {
  it('folds siblings in dot order, so even a non-commutative merge reads the same on every node', () => {
    const resolvers = { 'c/': { type: 'custom' as const, merge: (a: unknown, b: unknown) => `${String(a)}+${String(b)}` } };
    const [a, b, c] = ['a', 'b', 'c'].map((node) => new Replica({ node: nodeName(node), resolvers })) as [Replica, Replica, Replica];
    c.put(1, 'c/k', 'C');
    a.put(1, 'c/k', 'A');
    b.put(1, 'c/k', 'B');
    for (const [x, y] of [[a, b], [a, c], [b, c], [c, a], [b, a], [c, b]] as const) x.merge(2, y.entry('c/k') as Entry);
    for (const r of [a, b, c]) expect(reg(r, 'c/k')).toEqual(['A+B+C']);
  });
});
