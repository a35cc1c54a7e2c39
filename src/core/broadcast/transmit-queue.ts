/**
 * memberlist's TransmitLimitedQueue (reference §6.5), sized for big clusters.
 *
 * - Each broadcast is sent at most `limit = retransmitMult × ceil(log10(n + 1))` times; the
 *   limit is read at retrieval time, so it follows the cluster size.
 * - A broadcast with a key (memberlist names its own by node name) replaces any queued one
 *   with the same key; unkeyed broadcasts never replace anything.
 * - Picking order: fewest transmissions first; among equal counts, newest first, skipping
 *   those that do not fit the remaining bytes. (memberlist prefers the largest that fits
 *   among equal counts before recency; membership messages differ by a few bytes, so we keep
 *   the O(taken) scan and document the difference.)
 *
 * - Two tiers: urgent broadcasts (failure detection: suspect, dead, refutations) are taken
 *   before any normal one (join announcements). memberlist has one tier, and in a join storm
 *   of a thousand nodes a refutation waits behind hundreds of fresh `alive` messages until
 *   suspicion timers fire: a false positive. Urgent messages are few, so nothing starves.
 *
 * Buckets by transmit count hold items in insertion order; an item is valid in bucket t iff
 * it is live and has exactly t transmits. Stale entries are dropped lazily.
 */
export interface QueuedBroadcast<M> {
  readonly key: string | null;
  readonly message: M;
  readonly bytes: number;
  transmits: number;
  live: boolean;
  /** Called once when the broadcast leaves the queue: `true` if sent `limit` times, `false` if replaced. */
  readonly onFinished: ((sent: boolean) => void) | null;
  readonly urgent: boolean;
}

const MISFITS_MAX = 8;

export class TransmitLimitedQueue<M> {
  /** tiers[0] urgent, tiers[1] normal; each a list of buckets by transmit count. */
  private readonly tiers: [QueuedBroadcast<M>[][], QueuedBroadcast<M>[][]] = [[], []];
  private readonly byKey = new Map<string, QueuedBroadcast<M>>();
  private liveCount = 0;
  private smallestBytes = Infinity;
  /** Bytes (with overhead) of what the last `take` returned. */
  takenBytes = 0;

  /** Number of broadcasts waiting. */
  get length(): number {
    return this.liveCount;
  }

  enqueue(key: string | null, message: M, bytes: number, onFinished: ((sent: boolean) => void) | null = null, urgent = false): void {
    if (key !== null) {
      const old = this.byKey.get(key);
      if (old !== undefined) this.retire(old, false);
    }
    if (this.liveCount === 0) {
      // Everything left in the buckets is stale.
      this.tiers[0].length = 0;
      this.tiers[1].length = 0;
      this.smallestBytes = Infinity;
    }
    const item: QueuedBroadcast<M> = { key, message, bytes, transmits: 0, live: true, onFinished, urgent };
    if (key !== null) this.byKey.set(key, item);
    this.bucket(item, 0).push(item);
    this.liveCount++;
    if (bytes < this.smallestBytes) this.smallestBytes = bytes;
  }

  /**
   * Takes broadcasts for one packet: each costs `bytes + overheadBytes`, and the total stays
   * within `limitBytes`. Every broadcast taken counts one transmission.
   */
  take(overheadBytes: number, limitBytes: number, transmitLimit: number, out: M[] = []): M[] {
    this.takenBytes = 0;
    if (this.liveCount === 0) return out;
    let remaining = limitBytes;
    let misfits = 0;
    const moved: QueuedBroadcast<M>[] = [];
    for (const buckets of this.tiers)
    for (let t = 0; t < buckets.length && remaining >= this.smallestBytes + overheadBytes; t++) {
      const b = buckets[t];
      if (b === undefined || b.length === 0) continue;
      // Drop stale entries from the newest end first, then scan newest → oldest.
      while (b.length > 0) {
        const last = b[b.length - 1] as QueuedBroadcast<M>;
        if (last.live && last.transmits === t) break;
        b.pop();
      }
      let stale = 0;
      for (let i = b.length - 1; i >= 0 && remaining >= this.smallestBytes + overheadBytes; i--) {
        const item = b[i] as QueuedBroadcast<M>;
        if (!item.live || item.transmits !== t) {
          stale++;
          continue;
        }
        const cost = item.bytes + overheadBytes;
        if (cost > remaining) {
          // Nearly full: stop after a few that do not fit rather than scan a long bucket.
          if (++misfits >= MISFITS_MAX) break;
          continue;
        }
        remaining -= cost;
        out.push(item.message);
        item.transmits++;
        stale++;
        if (item.transmits >= transmitLimit) this.retire(item, true);
        else moved.push(item);
      }
      if (stale > 32 && stale * 2 > b.length) buckets[t] = b.filter((x) => x.live && x.transmits === t);
    }
    // Re-file after the scan so an item is not taken twice for one packet.
    for (const item of moved) this.bucket(item, item.transmits).push(item);
    this.takenBytes = limitBytes - remaining;
    return out;
  }

  /** Drops broadcasts already sent `transmitLimit` times or more (the limit shrank with n). */
  private retire(item: QueuedBroadcast<M>, sent: boolean): void {
    if (!item.live) return;
    item.live = false;
    this.liveCount--;
    if (item.key !== null && this.byKey.get(item.key) === item) this.byKey.delete(item.key);
    item.onFinished?.(sent);
  }

  /** Removes everything (e.g. on shutdown), reporting each as not sent. */
  reset(): void {
    for (const buckets of this.tiers) for (const b of buckets) for (const item of b) if (item.live) this.retire(item, false);
    this.tiers[0].length = 0;
    this.tiers[1].length = 0;
    this.byKey.clear();
    this.liveCount = 0;
    this.smallestBytes = Infinity;
  }

  private bucket(item: QueuedBroadcast<M>, t: number): QueuedBroadcast<M>[] {
    const buckets = this.tiers[item.urgent ? 0 : 1];
    while (buckets.length <= t) buckets.push([]);
    let b = buckets[t];
    if (b === undefined) buckets[t] = b = [];
    return b;
  }
}
