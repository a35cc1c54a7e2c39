import type { CausalContext, Dot, VersionVector } from './dvv.js';
import { EMPTY_VV, isVersionVector, joinStats, resetJoinStats } from './dvv.js';
import type { Entry, EntryType } from './entry.js';
import { emptyEntry, hasLiveData, hashEntry, isValidEntry, joinEntries, maxEntryHlc } from './entry.js';
import { ReplicaError } from './errors.js';
import { Hasher64 } from './hash.js';
import { DEFAULT_MAX_DRIFT_MS, Hlc } from './hlc.js';
import { counterValue, incrementCounter } from './crdt/counter.js';
import type { FieldValue } from './crdt/ormap.js';
import { mapAdd, mapIncrement, mapRemove, mapRemoveField, mapSet, mapValues } from './crdt/ormap.js';
import { addElement, removeElements, setMembers } from './crdt/orset.js';
import type { Sibling } from './crdt/register.js';
import { hasLiveSibling, lwwStamp, lwwWinner, makeSibling, makeTombstone, mvValues, writeRegister } from './crdt/register.js';
import type { VersionSummary } from './summary.js';
import { SeenDots } from './summary.js';
import type { Value } from './value.js';
import { valueBytes } from './value.js';

/**
 * How the keys under a prefix resolve concurrent writes (the same on every node):
 * - `lww`: LWW-Register, highest HLC wins, ties by node name (crdt/register.ts).
 * - `siblings`: MV-Register, concurrent values kept for the application (dotted version vectors).
 * - `custom`: siblings folded by `merge(a, b)` in dot order on read.
 * - `gcounter`, `pncounter`: counters; `orset`: add-wins set of strings; `ormap`: map of
 *   counter, set and LWW-register fields.
 */
export type Resolver =
  | { readonly type: 'lww' }
  | { readonly type: 'siblings' }
  | { readonly type: 'custom'; readonly merge: (a: Value, b: Value) => Value }
  | { readonly type: 'gcounter' }
  | { readonly type: 'pncounter' }
  | { readonly type: 'orset' }
  | { readonly type: 'ormap' };
export type ResolverType = Resolver['type'];

export interface ReplicaOptions {
  /** This node's name: the origin of its dots and the HLC tie-breaker. */
  readonly node: string;
  /** Resolver per key prefix; the longest matching prefix wins. */
  readonly resolvers?: Readonly<Record<string, Resolver>>;
  /** For keys no prefix matches (default `lww`). */
  readonly defaultResolver?: Resolver;
  /** HLC drift guard ε: remote l − local pt above this is not adopted (default 500 ms). */
  readonly maxDriftMs?: number;
  /**
   * The last dot counter this node used before a restart (default 0). Dots must never repeat:
   * restore it from durable storage, or restart under a new node name.
   */
  readonly counterStart?: number;
  /**
   * Called with a local write's new entry before the write takes effect (a durable store
   * writes it here). If it throws, the write has no effect at all (no state, no dot used, no
   * change event) and the error propagates to the operation's caller.
   */
  readonly commit?: (key: string, entry: Entry) => void;
}

/** What `get` returns; `context` is what a read-modify-write hands back to `put`/`delete`. */
export type Read =
  | {
      readonly type: 'register';
      /** lww and custom: at most one value; siblings: every concurrent value, in dot order. Empty when deleted. */
      readonly values: readonly Value[];
      readonly context: CausalContext;
    }
  | { readonly type: 'counter'; readonly value: number; readonly context: CausalContext }
  | { readonly type: 'set'; readonly elements: readonly string[]; readonly context: CausalContext }
  | { readonly type: 'map'; readonly fields: ReadonlyMap<string, FieldValue>; readonly context: CausalContext };

export interface ChangeEvent {
  readonly subscription: number;
  readonly key: string;
  /** local: an operation on this replica; merge: a peer's entry; collect: tombstone collected. */
  readonly cause: 'local' | 'merge' | 'collect';
  /** The key reads as absent now (deleted or collected). */
  readonly deleted: boolean;
}

export interface ReplicaStats {
  readonly keys: number;
  readonly tombstones: number;
  /** Entries merged that changed a key. */
  readonly merged: number;
  /** Peer entries refused: malformed, or of another type than the key's resolver. */
  readonly malformed: number;
  readonly typeMismatch: number;
  /** Peer dots dropped because this replica had seen them and deleted them (stale copies). */
  readonly staleDotsDropped: number;
  /** Death certificates re-issued for a stale copy of a collected key. */
  readonly reactivated: number;
  readonly collected: number;
  /** Remote HLC timestamps refused by the drift guard (data merged, clock not adopted). */
  readonly driftRejected: number;
  /** Counters seen beyond the contiguous prefix of the version summary. */
  readonly summaryGaps: number;
}

interface KeyRecord {
  entry: Entry;
  /** When (this replica's latest `now`) the key last turned into a tombstone. */
  deadSinceMs: number;
  readonly resolver: Resolver;
  hashOk: boolean;
  hi: number;
  lo: number;
}

interface Subscriber {
  readonly id: number;
  readonly prefix: string;
  readonly callback: ((e: ChangeEvent) => void) | undefined;
}

const LWW: Resolver = { type: 'lww' };

function storeType(r: Resolver): EntryType {
  switch (r.type) {
    case 'lww':
      return 'lww';
    case 'siblings':
    case 'custom':
      return 'register';
    case 'gcounter':
    case 'pncounter':
      return 'counter';
    case 'orset':
      return 'set';
    case 'ormap':
      return 'map';
  }
}

/**
 * The replicated key-value state of one node (sans-IO: time comes in as `now`, in ms).
 *
 * Every operation is a write event named by a dot (node, counter) with the node's counter
 * running across all keys; each key keeps a causal context and a dot store (crdt/), so merging
 * any peer's `Entry` in any order, any number of times, converges (every merge is a join).
 *
 * **Deletes and their collection.** A delete is itself a write: a tombstone sibling (registers)
 * or an observed-remove of every dot (sets, maps), recorded in the key's context, the death
 * certificate of what it removed (theory.md §2.3). `collectTombstones(seenByAll)` drops a
 * deleted key only when `seenByAll` (the pointwise minimum of every live member's version
 * summary) covers every dot of its context: every live member then holds the delete or
 * something newer, so none can bring back what it removed.
 *
 * **A node that missed the collection** (down or partitioned while the others collected)
 * returns with stale copies. Two rules keep them from resurrecting anything:
 * 1. *Seen but not held means deleted.* This replica's version summary says which writes its
 *    state reflects. When a peer's entry carries a dot the summary covers but the replica does
 *    not hold, the replica has seen that write and it is gone here (superseded, deleted, or
 *    its key collected), so the dot is dropped (`staleDotsDropped`). For keys still held this
 *    is what the key's own context already says; for collected keys the summary remembers it
 *    after the tombstone is gone: "deletes are remembered in the causal context" of the node
 *    (its summary), at the cost of nothing per deleted key.
 * 2. *Re-issue the certificate.* If a stale entry arrives for a key this replica no longer has
 *    and everything live in it was dropped by rule 1, the replica writes a fresh delete over
 *    the entry's context (a new dot of its own: Demers' dormant death certificate, woken up;
 *    `reactivated`). It now holds that tombstone, so the next anti-entropy round sends it to the
 *    stale node, whose merge removes the stale value. The new dot is not in the stale node's
 *    summary, so the re-issued tombstone is not collected until the stale node has merged it.
 * For LWW keys the re-issued tombstone is stamped just above the stale copy's highest HLC
 * (not with the current time), so it never beats a concurrent write the original delete would
 * not have beaten. LWW states keep only their winner, the beaten writes' dots staying in the
 * context: a node that merged both a delete and a concurrent, older write holds just the
 * delete, so the older write cannot outlive the tombstone's collection.
 * A stale *tombstone* of a collected key is simply ignored by the receiver (it has seen all of
 * it); its holder collects it at its own next `collectTombstones`, since every dot of it is in
 * `seenByAll`. Until then the two Merkle trees differ in that key only.
 * Rule 1 relies on summaries being honest: a node marks a dot seen only when its state
 * reflects it, and `absorbSummary` only after a complete sync with the summary's owner. (A
 * stale node that absorbs the summary of a peer that had already collected a key it still
 * holds claims the collected delete; harmless: its stale value is still killed by the
 * certificate the peer re-issued, whose new dot it had not seen.)
 */
export class Replica {
  readonly node: string;
  readonly hlc: Hlc;
  private readonly records = new Map<string, KeyRecord>();
  private readonly tombstones = new Set<string>();
  private readonly seen = new SeenDots();
  private readonly prefixes: readonly (readonly [string, Resolver])[];
  private readonly defaultResolver: Resolver;
  private counter: number;
  private readonly commit: ((key: string, entry: Entry) => void) | undefined;
  /** The latest `now` any operation brought (tombstone ages). */
  private nowMs = 0;
  private readonly hasher = new Hasher64();
  private readonly hashOut = new Uint32Array(2);
  private readonly hlcScratch = { l: 0, c: 0 };
  private subscribers: Subscriber[] = [];
  private nextSubscription = 1;
  private readonly changes: ChangeEvent[] = [];
  private changeHead = 0;
  private nMerged = 0;
  private nMalformed = 0;
  private nTypeMismatch = 0;
  private nStale = 0;
  private nReactivated = 0;
  private nCollected = 0;

  constructor(opts: ReplicaOptions) {
    if (typeof opts.node !== 'string' || opts.node.length === 0) throw new ReplicaError('config', 'node name must be a non-empty string');
    this.node = opts.node;
    this.hlc = new Hlc(opts.maxDriftMs ?? DEFAULT_MAX_DRIFT_MS);
    const start = opts.counterStart ?? 0;
    if (!Number.isSafeInteger(start) || start < 0) throw new ReplicaError('config', `counterStart must be a non-negative integer, got ${start}`);
    this.counter = start;
    this.commit = opts.commit;
    if (start > 0) this.seen.absorb(new Map([[this.node, start]]));
    this.defaultResolver = opts.defaultResolver ?? LWW;
    const prefixes = Object.entries(opts.resolvers ?? {});
    for (const [p, r] of prefixes) if (!isResolver(r)) throw new ReplicaError('config', `resolver for prefix "${p}" is not a known resolver`);
    if (!isResolver(this.defaultResolver)) throw new ReplicaError('config', 'defaultResolver is not a known resolver');
    this.prefixes = prefixes.sort((a, b) => b[0].length - a[0].length);
  }

  /** The resolver a key gets (longest matching prefix, else the default). */
  resolverOf(key: string): Resolver {
    const rec = this.records.get(key);
    if (rec !== undefined) return rec.resolver;
    for (let i = 0; i < this.prefixes.length; i++) {
      const p = this.prefixes[i] as readonly [string, Resolver];
      if (key.startsWith(p[0])) return p[1];
    }
    return this.defaultResolver;
  }

  // ---- register operations ----------------------------------------------------------------

  /**
   * Writes `value` (bytes or JSON; owned by the replica from now on: do not mutate it).
   * - `lww`: the write supersedes everything this replica holds for the key; `context` is
   *   ignored (the HLC orders it).
   * - `siblings`, `custom`: the write supersedes exactly what `context` covers (pass the
   *   context `get` returned: read-modify-write). Without a context it is concurrent with every
   *   existing value (as Riak does with no vclock), so it becomes a sibling.
   * Returns the key's context after the write: it covers every value the key now holds, so a
   * client that writes again with it supersedes them (Riak's put with `returnbody`).
   */
  put(now: number, key: string, value: Value, context?: CausalContext): CausalContext {
    if (now > this.nowMs) this.nowMs = now;
    const rec = this.records.get(key);
    const resolver = rec !== undefined ? rec.resolver : this.resolverOf(key);
    const type = storeType(resolver);
    if (type !== 'register' && type !== 'lww') throw wrongType(key, resolver, 'put');
    const vb = valueBytes(value);
    if (vb < 0) throw new ReplicaError('bad-value', `value for "${key}" is neither bytes nor JSON-compatible`);
    const local = rec?.entry;
    const ctx = local !== undefined ? local.context : EMPTY_VV;
    const read = type === 'lww' ? ctx : context === undefined ? EMPTY_VV : checkContext(context);
    this.hlc.tick(now);
    const siblings = local !== undefined && (local.type === 'register' || local.type === 'lww') ? local.siblings : NO_SIBLINGS;
    const stamp = this.hlcScratch;
    if (type === 'lww') lwwStamp(siblings, this.hlc.l, this.hlc.c, stamp);
    else {
      stamp.l = this.hlc.l;
      stamp.c = this.hlc.c;
    }
    const sib = makeSibling(this.node, this.nextDot(), stamp.l, stamp.c, value, vb);
    const s = writeRegister({ context: ctx, siblings }, read, sib);
    const entry: Entry = { type, key, context: s.context, siblings: s.siblings };
    this.store(key, rec, resolver, entry, 'local');
    return entry.context;
  }

  /**
   * Deletes: registers get a tombstone superseding what `context` covers (default: everything
   * this replica holds for the key, as Riak's delete fetches the context first; `lww` always
   * supersedes everything held here), sets and maps drop every dot `context` covers. Counters
   * cannot be deleted (`unsupported`). Returns the key's context after the delete.
   */
  delete(now: number, key: string, context?: CausalContext): CausalContext {
    if (now > this.nowMs) this.nowMs = now;
    const rec = this.records.get(key);
    const resolver = rec !== undefined ? rec.resolver : this.resolverOf(key);
    const type = storeType(resolver);
    if (type === 'counter') throw new ReplicaError('unsupported', `"${key}" is a ${resolver.type}: counters cannot be deleted`);
    const read = context === undefined || resolver.type === 'lww' ? undefined : checkContext(context);
    const local = rec?.entry ?? emptyEntry(key, type);
    const entry = this.deleteOn(now, local, read);
    this.store(key, rec, resolver, entry, 'local');
    return entry.context;
  }

  // ---- CRDT operations ----------------------------------------------------------------------

  /** Adds `by` (a non-negative integer, default 1) to a `gcounter` or `pncounter` key. */
  increment(now: number, key: string, by = 1): number {
    return this.count(now, key, checkAmount(by), 0, 'increment');
  }

  /** Subtracts `by` from a `pncounter` key (`unsupported` on a `gcounter`). */
  decrement(now: number, key: string, by = 1): number {
    return this.count(now, key, 0, checkAmount(by), 'decrement');
  }

  private count(now: number, key: string, dp: number, dn: number, op: string): number {
    if (now > this.nowMs) this.nowMs = now;
    const rec = this.records.get(key);
    const resolver = rec !== undefined ? rec.resolver : this.resolverOf(key);
    if (resolver.type !== 'gcounter' && resolver.type !== 'pncounter') throw wrongType(key, resolver, op);
    if (dn > 0 && resolver.type === 'gcounter') throw new ReplicaError('unsupported', `"${key}" is a gcounter: it cannot be decremented`);
    const local = rec?.entry.type === 'counter' ? rec.entry : { context: EMPTY_VV, counts: [] };
    const s = incrementCounter(local, this.dot(), dp, dn);
    this.store(key, rec, resolver, { type: 'counter', key, context: s.context, counts: s.counts }, 'local');
    return counterValue(s.counts);
  }

  /** Adds `element` to an `orset` key. */
  add(now: number, key: string, element: string): void {
    if (now > this.nowMs) this.nowMs = now;
    const { rec, resolver, local } = this.setOp(key, element, 'add');
    const s = addElement(local, this.dot(), element);
    this.store(key, rec, resolver, { type: 'set', key, context: s.context, elements: s.elements }, 'local');
  }

  /** Removes `element` (the adds observed here) from an `orset` key. */
  remove(now: number, key: string, element: string): void {
    if (now > this.nowMs) this.nowMs = now;
    const { rec, resolver, local } = this.setOp(key, element, 'remove');
    const s = removeElements(local, this.dot(), element);
    this.store(key, rec, resolver, { type: 'set', key, context: s.context, elements: s.elements }, 'local');
  }

  private setOp(key: string, element: string, op: string) {
    if (typeof element !== 'string') throw new ReplicaError('bad-argument', 'set elements are strings');
    const rec = this.records.get(key);
    const resolver = rec !== undefined ? rec.resolver : this.resolverOf(key);
    if (resolver.type !== 'orset') throw wrongType(key, resolver, op);
    const local = rec?.entry.type === 'set' ? rec.entry : { context: EMPTY_VV, elements: [] };
    return { rec, resolver, local };
  }

  /** Adds `by` to (or, negative, subtracts from) the counter field `field` of an `ormap` key. */
  mapIncrement(now: number, key: string, field: string, by = 1): void {
    if (now > this.nowMs) this.nowMs = now;
    if (!Number.isSafeInteger(by)) throw new ReplicaError('bad-argument', `increment must be an integer, got ${by}`);
    const { rec, resolver, local } = this.mapOp(key, field, 'mapIncrement');
    const s = mapIncrement(local, this.dot(), field, by > 0 ? by : 0, by < 0 ? -by : 0);
    this.store(key, rec, resolver, { type: 'map', key, context: s.context, fields: s.fields }, 'local');
  }

  /** Adds `element` to the set field `field` of an `ormap` key. */
  mapAdd(now: number, key: string, field: string, element: string): void {
    if (now > this.nowMs) this.nowMs = now;
    if (typeof element !== 'string') throw new ReplicaError('bad-argument', 'set elements are strings');
    const { rec, resolver, local } = this.mapOp(key, field, 'mapAdd');
    const s = mapAdd(local, this.dot(), field, element);
    this.store(key, rec, resolver, { type: 'map', key, context: s.context, fields: s.fields }, 'local');
  }

  /** Removes `element` from the set field `field` of an `ormap` key. */
  mapRemove(now: number, key: string, field: string, element: string): void {
    if (now > this.nowMs) this.nowMs = now;
    const { rec, resolver, local } = this.mapOp(key, field, 'mapRemove');
    const s = mapRemove(local, this.dot(), field, element);
    this.store(key, rec, resolver, { type: 'map', key, context: s.context, fields: s.fields }, 'local');
  }

  /** Sets the LWW-register field `field` of an `ormap` key. */
  mapSet(now: number, key: string, field: string, value: Value): void {
    if (now > this.nowMs) this.nowMs = now;
    const vb = valueBytes(value);
    if (vb < 0) throw new ReplicaError('bad-value', `value for "${key}".${field} is neither bytes nor JSON-compatible`);
    const { rec, resolver, local } = this.mapOp(key, field, 'mapSet');
    this.hlc.tick(now);
    const sib = makeSibling(this.node, this.nextDot(), this.hlc.l, this.hlc.c, value, vb);
    const s = mapSet(local, field, sib);
    this.store(key, rec, resolver, { type: 'map', key, context: s.context, fields: s.fields }, 'local');
  }

  /** Removes field `field` (all its types, as observed here) from an `ormap` key. */
  mapRemoveField(now: number, key: string, field: string): void {
    if (now > this.nowMs) this.nowMs = now;
    const { rec, resolver, local } = this.mapOp(key, field, 'mapRemoveField');
    const s = mapRemoveField(local, this.dot(), field);
    this.store(key, rec, resolver, { type: 'map', key, context: s.context, fields: s.fields }, 'local');
  }

  private mapOp(key: string, field: string, op: string) {
    if (typeof field !== 'string') throw new ReplicaError('bad-argument', 'map field names are strings');
    const rec = this.records.get(key);
    const resolver = rec !== undefined ? rec.resolver : this.resolverOf(key);
    if (resolver.type !== 'ormap') throw wrongType(key, resolver, op);
    const local = rec?.entry.type === 'map' ? rec.entry : { context: EMPTY_VV, fields: [] };
    return { rec, resolver, local };
  }

  // ---- reads --------------------------------------------------------------------------------

  /** The key's value(s) and causal context; undefined when this replica has no state for it. */
  get(key: string): Read | undefined {
    const rec = this.records.get(key);
    if (rec === undefined) return undefined;
    const e = rec.entry;
    switch (e.type) {
      case 'register':
      case 'lww':
        return { type: 'register', values: readRegister(rec.resolver, e.siblings), context: e.context };
      case 'counter':
        return { type: 'counter', value: counterValue(e.counts), context: e.context };
      case 'set':
        return { type: 'set', elements: setMembers(e), context: e.context };
      case 'map':
        return { type: 'map', fields: mapValues(e), context: e.context };
    }
  }

  /** Keys under `prefix` that read as present (not deleted), sorted. */
  list(prefix = ''): string[] {
    const out: string[] = [];
    for (const [key, rec] of this.records) if (key.startsWith(prefix) && !this.tombstones.has(key) && isVisible(rec)) out.push(key);
    return out.sort();
  }

  /** Keys held only as tombstones (waiting for collection). */
  get tombstoneCount(): number {
    return this.tombstones.size;
  }

  /** Number of keys with state (tombstones included). */
  get size(): number {
    return this.records.size;
  }

  /** Every key with state, tombstones included (for anti-entropy and tests). */
  keys(): IterableIterator<string> {
    return this.records.keys();
  }

  // ---- change notification ------------------------------------------------------------------

  /**
   * Changes to keys under `prefix`: passed to `callback` as they happen, or (without one)
   * queued for `pollChange()`. Returns the subscription id for `unsubscribe`.
   */
  subscribe(prefix: string, callback?: (e: ChangeEvent) => void): number {
    const id = this.nextSubscription++;
    this.subscribers = [...this.subscribers, { id, prefix, callback }];
    return id;
  }

  unsubscribe(id: number): boolean {
    const n = this.subscribers.length;
    this.subscribers = this.subscribers.filter((s) => s.id !== id);
    return this.subscribers.length < n;
  }

  /** The next queued change, oldest first. */
  pollChange(): ChangeEvent | undefined {
    if (this.changeHead >= this.changes.length) return undefined;
    const e = this.changes[this.changeHead++];
    if (this.changeHead === this.changes.length) {
      this.changes.length = 0;
      this.changeHead = 0;
    }
    return e;
  }

  private emit(key: string, cause: ChangeEvent['cause'], deleted: boolean): void {
    const subs = this.subscribers;
    for (let i = 0; i < subs.length; i++) {
      const s = subs[i] as Subscriber;
      if (!key.startsWith(s.prefix)) continue;
      const e: ChangeEvent = { subscription: s.id, key, cause, deleted };
      if (s.callback !== undefined) s.callback(e);
      else this.changes.push(e);
    }
  }

  // ---- replication --------------------------------------------------------------------------

  /** The key's transmissible state (immutable; share it freely), undefined when none. */
  entry(key: string): Entry | undefined {
    return this.records.get(key)?.entry;
  }


  /**
   * 64-bit hash of the key's state as `[hi, lo]` uint32 halves, written into `out` (default: a
   * scratch array owned by this replica, overwritten by the next call). Equal states hash
   * equal on every node. Undefined when the key has no state. Cached until the key changes.
   */
  entryHash(key: string, out: Uint32Array = this.hashOut): Uint32Array | undefined {
    const rec = this.records.get(key);
    if (rec === undefined) return undefined;
    if (!rec.hashOk) {
      hashEntry(this.hasher.reset(), rec.entry);
      this.hasher.digest(out);
      rec.hi = out[0] as number;
      rec.lo = out[1] as number;
      rec.hashOk = true;
      return out;
    }
    out[0] = rec.hi;
    out[1] = rec.lo;
    return out;
  }

  /**
   * Merges a peer's entry (a rumor or an anti-entropy delivery; any order, any number of
   * times). True when the key's state changed (re-hash it and update the Merkle tree). Never
   * throws on bad input: malformed entries and entries of another type than the key's
   * resolver are counted and ignored.
   */
  merge(now: number, entry: Entry): boolean {
    if (now > this.nowMs) this.nowMs = now;
    if (!isValidEntry(entry)) {
      this.nMalformed++;
      return false;
    }
    const key = entry.key;
    const rec = this.records.get(key);
    const resolver = rec !== undefined ? rec.resolver : this.resolverOf(key);
    if (storeType(resolver) !== entry.type) {
      this.nTypeMismatch++;
      return false;
    }
    const h = this.hlcScratch;
    maxEntryHlc(entry, h);
    if (h.l >= 0) this.hlc.observe(h.l, h.c, now);
    const local = rec !== undefined ? rec.entry : emptyEntry(key, entry.type);
    resetJoinStats();
    let joined = joinEntries(local, entry, this.seen);
    const stale = joinStats.filteredBySeen;
    this.nStale += stale;
    let changed = joined !== local;
    if (rec === undefined && changed) {
      if (stale > 0 && hasLiveData(entry) && !hasLiveData(joined)) {
        // A stale copy of a key collected here: re-issue its death certificate, stamped with
        // the stale copy's highest HLC (a lower bound of the original delete's), so it
        // removes the stale values causally and never outranks a concurrent newer write.
        joined = this.deleteOn(now, joined, undefined, h.l >= 0 ? h : undefined);
        this.nReactivated++;
      } else if (!hasLiveData(joined) && this.coversContext(entry.context)) {
        // A tombstone for a delete this replica has already seen and collected.
        changed = false;
      }
    }
    this.markSeen(entry.context);
    if (!changed) return false;
    this.nMerged++;
    this.store(key, rec, resolver, joined, 'merge');
    return true;
  }

  /**
   * From now on, notes every write of another origin whose counter is a multiple of `every` when
   * this replica's state first reflects it (held, or seen superseded), for `pollSampledSeen`: a
   * node acknowledging sampled writes to their writer (convergence monitoring). 0 stops it.
   */
  watchSampled(every: number): void {
    if (!Number.isSafeInteger(every) || every < 0) throw new RangeError(`watchSampled: every must be a whole number ≥ 0, got ${every}`);
    this.seen.sampleEvery = every;
    if (every === 0) this.seen.sampled.length = 0;
  }

  /** Sampled writes of other origins this replica came to reflect since the last call (see `watchSampled`). */
  pollSampledSeen(): { origin: string; counter: number }[] {
    const list = this.seen.sampled;
    if (list.length === 0) return [];
    const out = list.filter((d) => d.origin !== this.node);
    list.length = 0;
    return out;
  }

  /** The dot counter of this replica's latest local write (0 before any). */
  get lastCounter(): number {
    return this.counter;
  }

  /** Whether this replica's state reflects write `counter` of `origin` (held, or seen and superseded). */
  hasSeen(origin: string, counter: number): boolean {
    return this.seen.covers(origin, counter);
  }

  /** Per origin, the highest n such that this replica's state reflects writes 1..n of it. */
  versionSummary(): Map<string, number> {
    return this.seen.summary();
  }

  /**
   * Takes a peer's summary as its own, origin by origin where it is ahead. Call only after a
   * reconciliation that brought every entry the peer held when it produced `summary` (Merkle
   * roots equal, or every differing entry merged): this replica's state then reflects
   * everything the peer's did, including writes superseded before they got here, whose dots
   * no entry carries any more.
   */
  absorbSummary(summary: VersionSummary): void {
    this.seen.absorb(summary);
    const own = summary.get(this.node) ?? 0;
    if (own > this.counter) this.counter = own;
  }

  /**
   * Drops deleted keys whose every context dot `seenByAll` covers (`minSummary` over the live
   * members' summaries) and, when `graceMs` is given, that have been deleted here for at least
   * `graceMs` before `now`. Returns the collected keys (remove them from the Merkle tree).
   *
   * Why a grace period: a member left out of `seenByAll` (down, or cut off and declared dead)
   * may hold an acknowledged LWW write made concurrently with the delete that no live member
   * has seen. Once the tombstone is gone, that write comes back and wins, even if the delete's
   * HLC was higher (nothing remembers it). Rule 1 above cannot help: that write's dot is new to
   * everyone. Set `graceMs` ≥ the longest partition or downtime to tolerate (Cassandra's
   * gc_grace_seconds, theory.md §2.3); or count such members in `seenByAll` until they are
   * reaped. Values superseded by the delete never come back either way.
   */
  collectTombstones(seenByAll: VersionSummary, now?: number, graceMs?: number): string[] {
    const horizon = now !== undefined && graceMs !== undefined ? now - graceMs : Infinity;
    const out: string[] = [];
    for (const key of this.tombstones) {
      const rec = this.records.get(key);
      if (rec === undefined) {
        this.tombstones.delete(key);
        continue;
      }
      let all = true;
      for (const d of rec.entry.context) {
        if (d.counter > (seenByAll.get(d.origin) ?? 0)) {
          all = false;
          break;
        }
      }
      if (!all || rec.deadSinceMs > horizon) continue;
      this.records.delete(key);
      this.tombstones.delete(key);
      out.push(key);
    }
    this.nCollected += out.length;
    for (const key of out) this.emit(key, 'collect', true);
    return out;
  }

  /**
   * Drops the deleted `key` when a peer's version summary covers every dot of its context while
   * the peer holds nothing for it: the peer has seen the delete and its key is gone there, which
   * only collection does (seen but not held means deleted, rule 1, the other way round), and a
   * key is collected only when every live member has seen its delete. So the collection a peer
   * made under its `seenByAll` spreads by anti-entropy instead of waiting for every node to
   * learn every summary itself. Call only when a complete reconciliation with the peer showed
   * it holds no entry for `key`, with the summary the peer sent before that reconciliation.
   * Returns whether the key was collected here.
   */
  collectSeenBy(key: string, peerSummary: VersionSummary): boolean {
    if (!this.tombstones.has(key)) return false;
    const rec = this.records.get(key);
    if (rec === undefined) {
      this.tombstones.delete(key);
      return false;
    }
    for (const d of rec.entry.context) if (d.counter > (peerSummary.get(d.origin) ?? 0)) return false;
    this.records.delete(key);
    this.tombstones.delete(key);
    this.nCollected++;
    this.emit(key, 'collect', true);
    return true;
  }

  stats(): ReplicaStats {
    return {
      keys: this.records.size,
      tombstones: this.tombstones.size,
      merged: this.nMerged,
      malformed: this.nMalformed,
      typeMismatch: this.nTypeMismatch,
      staleDotsDropped: this.nStale,
      reactivated: this.nReactivated,
      collected: this.nCollected,
      driftRejected: this.hlc.driftRejected,
      summaryGaps: this.seen.pending(),
    };
  }

  // ---- internals ----------------------------------------------------------------------------

  private nextDot(): number {
    const c = ++this.counter;
    this.seen.mark(this.node, c);
    return c;
  }

  private dot(): Dot {
    return { origin: this.node, counter: this.nextDot() };
  }

  /**
   * A delete event over `local`, superseding what `read` covers (default: all held); register
   * tombstones take the HLC `stamp` when given, else a fresh one.
   */
  private deleteOn(now: number, local: Entry, read: VersionVector | undefined, stamp?: { readonly l: number; readonly c: number }): Entry {
    const key = local.key;
    switch (local.type) {
      case 'register':
      case 'lww': {
        const t = this.hlcScratch;
        if (stamp !== undefined) {
          // Just above the stale copy's highest timestamp.
          const l = stamp.l;
          const c = stamp.c;
          t.l = c >= 0xffff ? l + 1 : l;
          t.c = c >= 0xffff ? 0 : c + 1;
        }
        else {
          this.hlc.tick(now);
          if (local.type === 'lww') lwwStamp(local.siblings, this.hlc.l, this.hlc.c, t);
          else lwwStamp(NO_SIBLINGS, this.hlc.l, this.hlc.c, t);
        }
        const tomb = makeTombstone(this.node, this.nextDot(), t.l, t.c);
        const s = writeRegister(local, read ?? local.context, tomb);
        return { type: local.type, key, context: s.context, siblings: s.siblings };
      }
      case 'set': {
        const s = removeElements(local, this.dot(), undefined, read);
        return { type: 'set', key, context: s.context, elements: s.elements };
      }
      case 'map': {
        const s = mapRemoveField(local, this.dot(), undefined, read);
        return { type: 'map', key, context: s.context, fields: s.fields };
      }
      case 'counter':
        return local;
    }
  }

  private coversContext(vv: VersionVector): boolean {
    for (const d of vv) if (!this.seen.covers(d.origin, d.counter)) return false;
    return true;
  }

  /** Marks the highest dot per origin of a merged context as seen (see summary.ts). */
  private markSeen(vv: VersionVector): void {
    for (let i = 0; i < vv.length; i++) {
      const d = vv[i] as Dot;
      this.seen.mark(d.origin, d.counter);
      // Our own dots coming back ahead of our counter: we restarted without it. Never reuse.
      if (d.origin === this.node && d.counter > this.counter) this.counter = d.counter;
    }
  }

  private store(key: string, rec: KeyRecord | undefined, resolver: Resolver, entry: Entry, cause: ChangeEvent['cause']): void {
    if (cause === 'local' && this.commit !== undefined) {
      try {
        this.commit(key, entry);
      } catch (e) {
        // Refused: the one dot this operation took is given back (nothing carries it).
        this.seen.unmark(this.node, this.counter);
        this.counter--;
        throw e;
      }
    }
    if (rec === undefined) {
      rec = { entry, resolver, deadSinceMs: this.nowMs, hashOk: false, hi: 0, lo: 0 };
      this.records.set(key, rec);
    } else {
      rec.entry = entry;
      rec.hashOk = false;
    }
    const visible = isVisible(rec);
    if (visible) {
      if (this.tombstones.size > 0) this.tombstones.delete(key);
    } else if (entry.type !== 'counter' && !this.tombstones.has(key)) {
      this.tombstones.add(key);
      rec.deadSinceMs = this.nowMs;
    }
    if (this.subscribers.length > 0) this.emit(key, cause, !visible);
  }
}

const NO_SIBLINGS: readonly Sibling[] = [];

function readRegister(resolver: Resolver, siblings: readonly Sibling[]): Value[] {
  if (resolver.type === 'lww') {
    const w = lwwWinner(siblings);
    return w === undefined || w.deleted ? [] : [w.value];
  }
  const values = mvValues(siblings);
  if (resolver.type !== 'custom' || values.length <= 1) return values;
  let acc = values[0] as Value;
  for (let i = 1; i < values.length; i++) acc = resolver.merge(acc, values[i] as Value);
  return [acc];
}

/** Does the key read as present (a tombstone-only state does not). */
function isVisible(rec: KeyRecord): boolean {
  const e = rec.entry;
  if (e.type === 'register' || e.type === 'lww') {
    if (e.type === 'lww') {
      const w = lwwWinner(e.siblings);
      return w !== undefined && !w.deleted;
    }
    return hasLiveSibling(e.siblings);
  }
  return e.type === 'counter' || hasLiveData(e);
}

function wrongType(key: string, resolver: Resolver, op: string): ReplicaError {
  return new ReplicaError('wrong-type', `"${key}" is a ${resolver.type} key: ${op} does not apply`);
}

function checkContext(c: CausalContext): CausalContext {
  if (!isVersionVector(c)) throw new ReplicaError('bad-context', 'context must be the causal context returned by get or put');
  return c;
}

function checkAmount(by: number): number {
  if (!Number.isSafeInteger(by) || by < 0) throw new ReplicaError('bad-argument', `amount must be a non-negative integer, got ${by}`);
  return by;
}

const RESOLVER_TYPES: ReadonlySet<string> = new Set<ResolverType>(['lww', 'siblings', 'custom', 'gcounter', 'pncounter', 'orset', 'ormap']);

function isResolver(r: unknown): r is Resolver {
  if (typeof r !== 'object' || r === null) return false;
  const t = (r as { type?: unknown }).type;
  if (typeof t !== 'string' || !RESOLVER_TYPES.has(t)) return false;
  return t !== 'custom' || typeof (r as { merge?: unknown }).merge === 'function';
}
