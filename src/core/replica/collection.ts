import type { Keyspace } from './keyspace.js';
import type { VersionSummary } from './summary.js';

/*
 * Tombstone collection: a deleted key is dropped only once every live member has seen its
 * delete (`collectTombstones`), or once an anti-entropy peer shows it has collected it
 * (`collectSeenBy`). See `Replica` for why each is safe.
 */

/** Drops the deleted keys whose every context dot `seenByAll` covers, dead here since before `now - graceMs` when given. */
export function collectTombstones(ks: Keyspace, seenByAll: VersionSummary, now?: number, graceMs?: number): string[] {
  const horizon = now !== undefined && graceMs !== undefined ? now - graceMs : Infinity;
  const out: string[] = [];
  for (const key of ks.tombstones) {
    const rec = ks.records.get(key);
    if (rec === undefined) {
      ks.tombstones.delete(key);
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
    ks.drop(key);
    out.push(key);
  }
  ks.counts.collected += out.length;
  for (const key of out) ks.changes.emit(key, 'collect', true);
  return out;
}

/** Drops the deleted `key` when a peer's summary covers every dot of its context while the peer holds nothing for it. */
export function collectSeenBy(ks: Keyspace, key: string, peerSummary: VersionSummary): boolean {
  if (!ks.tombstones.has(key)) return false;
  const rec = ks.records.get(key);
  if (rec === undefined) {
    ks.tombstones.delete(key);
    return false;
  }
  for (const d of rec.entry.context) if (d.counter > (peerSummary.get(d.origin) ?? 0)) return false;
  ks.drop(key);
  ks.counts.collected++;
  ks.changes.emit(key, 'collect', true);
  return true;
}
