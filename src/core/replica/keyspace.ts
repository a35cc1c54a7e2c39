import type { NodeName } from '../ids.js';
import type { ChangeEvent } from './changes.js';
import { ChangeFeed } from './changes.js';
import type { Dot } from './dvv.js';
import type { Entry } from './entry.js';
import { hashEntry } from './entry.js';
import { ReplicaError } from './errors.js';
import { Hasher64 } from './hash.js';
import { Hlc } from './hlc.js';
import { isVisible } from './read.js';
import type { Resolver, ResolverTable } from './resolver.js';
import { SeenDots } from './summary.js';

export interface KeyRecord {
  entry: Entry;
  /** When (this replica's latest `now`) the key last turned into a tombstone. */
  deadSinceMs: number;
  readonly resolver: Resolver;
  hashOk: boolean;
  hi: number;
  lo: number;
}

/** What the replica counts of peers' entries and collection (`ReplicaStats`). */
export interface ReplicaCounts {
  merged: number;
  malformed: number;
  typeMismatch: number;
  staleDotsDropped: number;
  reactivated: number;
  collected: number;
}

/**
 * The state every replica rule works on: each key's record (entry, resolver, cached hash), the
 * tombstones, the dots this replica's state reflects (`SeenDots`: the version summary), its own
 * dot counter and HLC, and the one place a key's state changes (`store`: the commit hook for a
 * local write, tombstone bookkeeping, change events).
 */
export class Keyspace {
  readonly records = new Map<string, KeyRecord>();
  readonly tombstones = new Set<string>();
  readonly seen = new SeenDots();
  readonly hlc: Hlc;
  /** Scratch for HLC stamps (no allocation per write). */
  readonly hlcScratch = { l: 0, c: 0 };
  readonly changes = new ChangeFeed();
  readonly counts: ReplicaCounts = { merged: 0, malformed: 0, typeMismatch: 0, staleDotsDropped: 0, reactivated: 0, collected: 0 };
  /** The dot counter of this replica's latest local write. */
  counter: number;
  /** The latest `now` any operation brought (tombstone ages). */
  nowMs = 0;
  private readonly hasher = new Hasher64();
  private readonly hashOut = new Uint32Array(2);

  constructor(
    readonly node: NodeName,
    readonly resolvers: ResolverTable,
    maxDriftMs: number,
    counterStart: number,
    private readonly commit: ((key: string, entry: Entry) => void) | undefined,
  ) {
    this.hlc = new Hlc(maxDriftMs);
    if (!Number.isSafeInteger(counterStart) || counterStart < 0) throw new ReplicaError('config', `counterStart must be a non-negative integer, got ${counterStart}`);
    this.counter = counterStart;
    if (counterStart > 0) this.seen.absorb(new Map([[node, counterStart]]));
  }

  /** Time moves forward only. */
  advance(now: number): void {
    if (now > this.nowMs) this.nowMs = now;
  }

  /** The resolver a key gets (its record's, else the longest matching prefix's). */
  resolverOf(key: string): Resolver {
    const rec = this.records.get(key);
    return rec !== undefined ? rec.resolver : this.resolvers.of(key);
  }

  nextDot(): number {
    const c = ++this.counter;
    this.seen.mark(this.node, c);
    return c;
  }

  dot(): Dot {
    return { origin: this.node, counter: this.nextDot() };
  }

  /**
   * 64-bit hash of the key's state as `[hi, lo]` uint32 halves, written into `out` (default: a
   * scratch array owned by this replica). Cached until the key changes.
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

  /** A collected key: its record and tombstone go (the caller emits the change). */
  drop(key: string): void {
    this.records.delete(key);
    this.tombstones.delete(key);
  }

  /**
   * The key's new state. A local write goes through the commit hook first: refused, it has no
   * effect at all (its dot is given back) and the hook's error propagates.
   */
  store(key: string, rec: KeyRecord | undefined, resolver: Resolver, entry: Entry, cause: ChangeEvent['cause']): void {
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
    const visible = isVisible(entry);
    if (visible) {
      if (this.tombstones.size > 0) this.tombstones.delete(key);
    } else if (entry.type !== 'counter' && !this.tombstones.has(key)) {
      this.tombstones.add(key);
      rec.deadSinceMs = this.nowMs;
    }
    if (this.changes.active) this.changes.emit(key, cause, !visible);
  }
}
