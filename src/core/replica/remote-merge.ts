import type { Dot, VersionVector } from './dvv.js';
import { joinStats, resetJoinStats } from './dvv.js';
import type { Entry } from './entry.js';
import { emptyEntry, hasLiveData, isValidEntry, joinEntries, maxEntryHlc } from './entry.js';
import type { Keyspace } from './keyspace.js';
import { deleteOn } from './local-writes.js';
import { storeType } from './resolver.js';

/**
 * Merges a peer's entry (a rumor or an anti-entropy delivery; any order, any number of times)
 * as a join, with the two rules that keep a node that missed a collection from resurrecting
 * anything (see `Replica`): seen-but-not-held dots are dropped, and a stale copy of a collected
 * key gets its death certificate re-issued. True when the key's state changed. Never throws on
 * bad input: malformed entries and entries of another type than the key's resolver are counted
 * and ignored.
 */
export function merge(ks: Keyspace, now: number, entry: Entry): boolean {
  ks.advance(now);
  if (!isValidEntry(entry)) {
    ks.counts.malformed++;
    return false;
  }
  const key = entry.key;
  const rec = ks.records.get(key);
  const resolver = rec !== undefined ? rec.resolver : ks.resolvers.of(key);
  if (storeType(resolver) !== entry.type) {
    ks.counts.typeMismatch++;
    return false;
  }
  const h = ks.hlcScratch;
  maxEntryHlc(entry, h);
  if (h.l >= 0) ks.hlc.observe(h.l, h.c, now);
  const local = rec !== undefined ? rec.entry : emptyEntry(key, entry.type);
  resetJoinStats();
  let joined = joinEntries(local, entry, ks.seen);
  const stale = joinStats.filteredBySeen;
  ks.counts.staleDotsDropped += stale;
  let changed = joined !== local;
  if (rec === undefined && changed) {
    if (stale > 0 && hasLiveData(entry) && !hasLiveData(joined)) {
      // A stale copy of a key collected here: re-issue its death certificate, stamped with
      // the stale copy's highest HLC (a lower bound of the original delete's), so it
      // removes the stale values causally and never outranks a concurrent newer write.
      joined = deleteOn(ks, now, joined, undefined, h.l >= 0 ? h : undefined);
      ks.counts.reactivated++;
    } else if (!hasLiveData(joined) && coversContext(ks, entry.context)) {
      // A tombstone for a delete this replica has already seen and collected.
      changed = false;
    }
  }
  markSeen(ks, entry.context);
  if (!changed) return false;
  ks.counts.merged++;
  ks.store(key, rec, resolver, joined, 'merge');
  return true;
}

function coversContext(ks: Keyspace, vv: VersionVector): boolean {
  for (const d of vv) if (!ks.seen.covers(d.origin, d.counter)) return false;
  return true;
}

/** Marks the highest dot per origin of a merged context as seen (see summary.ts). */
function markSeen(ks: Keyspace, vv: VersionVector): void {
  for (let i = 0; i < vv.length; i++) {
    const d = vv[i] as Dot;
    ks.seen.mark(d.origin, d.counter);
    // Our own dots coming back ahead of our counter: we restarted without it. Never reuse.
    if (d.origin === ks.node && d.counter > ks.counter) ks.counter = d.counter;
  }
}
