import type { NodeName } from '../ids.js';
import type { ChangeEvent } from './changes.js';
import { collectSeenBy, collectTombstones } from './collection.js';
import type { CausalContext } from './dvv.js';
import type { Entry } from './entry.js';
import { ReplicaError } from './errors.js';
import { DEFAULT_MAX_DRIFT_MS } from './hlc.js';
import type { Hlc } from './hlc.js';
import { Keyspace } from './keyspace.js';
import { add, checkAmount, count, del, mapAddOp, mapIncrementOp, mapRemoveFieldOp, mapRemoveOp, mapSetOp, put, remove } from './local-writes.js';
import type { Read } from './read.js';
import { isVisible, readEntry } from './read.js';
import { merge } from './remote-merge.js';
import type { Resolver } from './resolver.js';
import { ResolverTable } from './resolver.js';
import type { VersionSummary } from './summary.js';
import type { Value } from './value.js';

export interface ReplicaOptions {
  /** This node's name: the origin of its dots and the HLC tie-breaker. */
  readonly node: NodeName;
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

/**
 * The replicated key-value state of one node (sans-IO: time comes in as `now`, in ms). This
 * class is the surface; the rules live beside it: `local-writes.ts` (every operation a dot),
 * `remote-merge.ts` (peers' entries, rules 1 and 2 below), `read.ts` (values as the resolver
 * reads them), `collection.ts` (tombstones), over `keyspace.ts` (records, seen dots, counter,
 * HLC, the one place a key's state changes); `resolver.ts`, `changes.ts`.
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
  readonly node: NodeName;
  private readonly ks: Keyspace;

  constructor(opts: ReplicaOptions) {
    if (typeof opts.node !== 'string' || opts.node.length === 0) throw new ReplicaError('config', 'node name must be a non-empty string');
    this.node = opts.node;
    this.ks = new Keyspace(opts.node, new ResolverTable(opts.resolvers, opts.defaultResolver), opts.maxDriftMs ?? DEFAULT_MAX_DRIFT_MS, opts.counterStart ?? 0, opts.commit);
  }

  get hlc(): Hlc {
    return this.ks.hlc;
  }

  /** The resolver a key gets (longest matching prefix, else the default). */
  resolverOf(key: string): Resolver {
    return this.ks.resolverOf(key);
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
    return put(this.ks, now, key, value, context);
  }

  /**
   * Deletes: registers get a tombstone superseding what `context` covers (default: everything
   * this replica holds for the key, as Riak's delete fetches the context first; `lww` always
   * supersedes everything held here), sets and maps drop every dot `context` covers. Counters
   * cannot be deleted (`unsupported`). Returns the key's context after the delete.
   */
  delete(now: number, key: string, context?: CausalContext): CausalContext {
    return del(this.ks, now, key, context);
  }

  // ---- CRDT operations ----------------------------------------------------------------------

  /** Adds `by` (a non-negative integer, default 1) to a `gcounter` or `pncounter` key. */
  increment(now: number, key: string, by = 1): number {
    return count(this.ks, now, key, checkAmount(by), 0, 'increment');
  }

  /** Subtracts `by` from a `pncounter` key (`unsupported` on a `gcounter`). */
  decrement(now: number, key: string, by = 1): number {
    return count(this.ks, now, key, 0, checkAmount(by), 'decrement');
  }

  /** Adds `element` to an `orset` key. */
  add(now: number, key: string, element: string): void {
    add(this.ks, now, key, element);
  }

  /** Removes `element` (the adds observed here) from an `orset` key. */
  remove(now: number, key: string, element: string): void {
    remove(this.ks, now, key, element);
  }

  /** Adds `by` to (or, negative, subtracts from) the counter field `field` of an `ormap` key. */
  mapIncrement(now: number, key: string, field: string, by = 1): void {
    mapIncrementOp(this.ks, now, key, field, by);
  }

  /** Adds `element` to the set field `field` of an `ormap` key. */
  mapAdd(now: number, key: string, field: string, element: string): void {
    mapAddOp(this.ks, now, key, field, element);
  }

  /** Removes `element` from the set field `field` of an `ormap` key. */
  mapRemove(now: number, key: string, field: string, element: string): void {
    mapRemoveOp(this.ks, now, key, field, element);
  }

  /** Sets the LWW-register field `field` of an `ormap` key. */
  mapSet(now: number, key: string, field: string, value: Value): void {
    mapSetOp(this.ks, now, key, field, value);
  }

  /** Removes field `field` (all its types, as observed here) from an `ormap` key. */
  mapRemoveField(now: number, key: string, field: string): void {
    mapRemoveFieldOp(this.ks, now, key, field);
  }

  // ---- reads --------------------------------------------------------------------------------

  /** The key's value(s) and causal context; undefined when this replica has no state for it. */
  get(key: string): Read | undefined {
    const rec = this.ks.records.get(key);
    return rec === undefined ? undefined : readEntry(rec.resolver, rec.entry);
  }

  /** Keys under `prefix` that read as present (not deleted), sorted. */
  list(prefix = ''): string[] {
    const out: string[] = [];
    for (const [key, rec] of this.ks.records) if (key.startsWith(prefix) && !this.ks.tombstones.has(key) && isVisible(rec.entry)) out.push(key);
    return out.sort();
  }

  /** Keys held only as tombstones (waiting for collection). */
  get tombstoneCount(): number {
    return this.ks.tombstones.size;
  }

  /** Number of keys with state (tombstones included). */
  get size(): number {
    return this.ks.records.size;
  }

  /** Every key with state, tombstones included (for anti-entropy and tests). */
  keys(): IterableIterator<string> {
    return this.ks.records.keys();
  }

  // ---- change notification ------------------------------------------------------------------

  /**
   * Changes to keys under `prefix`: passed to `callback` as they happen, or (without one)
   * queued for `pollChange()`. Returns the subscription id for `unsubscribe`.
   */
  subscribe(prefix: string, callback?: (e: ChangeEvent) => void): number {
    return this.ks.changes.subscribe(prefix, callback);
  }

  unsubscribe(id: number): boolean {
    return this.ks.changes.unsubscribe(id);
  }

  /** The next queued change, oldest first. */
  pollChange(): ChangeEvent | undefined {
    return this.ks.changes.poll();
  }

  // ---- replication --------------------------------------------------------------------------

  /** The key's transmissible state (immutable; share it freely), undefined when none. */
  entry(key: string): Entry | undefined {
    return this.ks.records.get(key)?.entry;
  }

  /**
   * 64-bit hash of the key's state as `[hi, lo]` uint32 halves, written into `out` (default: a
   * scratch array owned by this replica, overwritten by the next call). Equal states hash
   * equal on every node. Undefined when the key has no state. Cached until the key changes.
   */
  entryHash(key: string, out?: Uint32Array): Uint32Array | undefined {
    return this.ks.entryHash(key, out);
  }

  /**
   * Merges a peer's entry (a rumor or an anti-entropy delivery; any order, any number of
   * times). True when the key's state changed (re-hash it and update the Merkle tree). Never
   * throws on bad input: malformed entries and entries of another type than the key's
   * resolver are counted and ignored.
   */
  merge(now: number, entry: Entry): boolean {
    return merge(this.ks, now, entry);
  }

  /**
   * From now on, notes every write of another origin whose counter is a multiple of `every` when
   * this replica's state first reflects it (held, or seen superseded), for `pollSampledSeen`: a
   * node acknowledging sampled writes to their writer (convergence monitoring). 0 stops it.
   */
  watchSampled(every: number): void {
    if (!Number.isSafeInteger(every) || every < 0) throw new RangeError(`watchSampled: every must be a whole number ≥ 0, got ${every}`);
    this.ks.seen.sampleEvery = every;
    if (every === 0) this.ks.seen.sampled.length = 0;
  }

  /** Sampled writes of other origins this replica came to reflect since the last call (see `watchSampled`). */
  pollSampledSeen(): { origin: string; counter: number }[] {
    const list = this.ks.seen.sampled;
    if (list.length === 0) return [];
    const out = list.filter((d) => d.origin !== this.node);
    list.length = 0;
    return out;
  }

  /** The dot counter of this replica's latest local write (0 before any). */
  get lastCounter(): number {
    return this.ks.counter;
  }

  /** Whether this replica's state reflects write `counter` of `origin` (held, or seen and superseded). */
  hasSeen(origin: string, counter: number): boolean {
    return this.ks.seen.covers(origin, counter);
  }

  /** The highest n such that this replica's state reflects writes 1..n of `origin` (its entry in `versionSummary`). */
  seenUpTo(origin: string): number {
    return this.ks.seen.contiguous(origin);
  }

  /** Per origin, the highest n such that this replica's state reflects writes 1..n of it. */
  versionSummary(): Map<string, number> {
    return this.ks.seen.summary();
  }

  /**
   * Takes a peer's summary as its own, origin by origin where it is ahead. Call only after a
   * reconciliation that brought every entry the peer held when it produced `summary` (Merkle
   * roots equal, or every differing entry merged): this replica's state then reflects
   * everything the peer's did, including writes superseded before they got here, whose dots
   * no entry carries any more.
   */
  absorbSummary(summary: VersionSummary): void {
    this.ks.seen.absorb(summary);
    const own = summary.get(this.node) ?? 0;
    if (own > this.ks.counter) this.ks.counter = own;
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
    return collectTombstones(this.ks, seenByAll, now, graceMs);
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
    return collectSeenBy(this.ks, key, peerSummary);
  }

  stats(): ReplicaStats {
    const c = this.ks.counts;
    return {
      keys: this.ks.records.size,
      tombstones: this.ks.tombstones.size,
      merged: c.merged,
      malformed: c.malformed,
      typeMismatch: c.typeMismatch,
      staleDotsDropped: c.staleDotsDropped,
      reactivated: c.reactivated,
      collected: c.collected,
      driftRejected: this.ks.hlc.driftRejected,
      summaryGaps: this.ks.seen.pending(),
    };
  }
}
