/**
 * Application updates as a scuttlebutt log (van Renesse et al., theory.md §6): every update is
 * (origin, version), versions counting up from 1 per origin. A node summarises what it has as a
 * digest, origin → highest *contiguous* version plus any versions held beyond it, so a pull
 * asks with a few bytes per origin and only what is missing travels back.
 */
export interface Update<P = Uint8Array> {
  readonly origin: string;
  readonly version: number;
  readonly key: string;
  /** Bytes on the wire; typed values in the simulator (their size counted by the engine's `payloadBytes`). */
  readonly payload: P;
  /** Sent first, with a higher fanout (dissemination's critical class). */
  readonly critical: boolean;
  /**
   * When the origin published it (its clock, ms). Ages in rounds (push-then-pull's switch) and
   * time-to-everyone are measured from it; clock skew between nodes shifts both by the skew.
   */
  readonly bornMs: number;
}

/**
 * Per origin: `upTo`, the highest version v such that versions 1..v are all present, and
 * `above`, the versions present beyond it (a rumor that overtook an earlier one): a version
 * vector with dots, so a sender never resends what the receiver holds.
 */
export interface OriginDigest {
  readonly upTo: number;
  readonly above: readonly number[];
}
export type Digest = ReadonlyMap<string, OriginDigest>;

export class UpdateLog<P = Uint8Array> {
  /** Per origin: updates by version. */
  private readonly byOrigin = new Map<string, Map<number, Update<P>>>();
  private readonly contiguous = new Map<string, number>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  has(origin: string, version: number): boolean {
    return this.byOrigin.get(origin)?.has(version) ?? false;
  }

  /** Stores an update; false when it was already here (a duplicate) or malformed. */
  apply(u: Update<P>): boolean {
    if (!Number.isSafeInteger(u.version) || u.version < 1) return false;
    let versions = this.byOrigin.get(u.origin);
    if (versions === undefined) this.byOrigin.set(u.origin, (versions = new Map<number, Update<P>>()));
    if (versions.has(u.version)) return false;
    versions.set(u.version, u);
    this.count++;
    let c = this.contiguous.get(u.origin) ?? 0;
    while (versions.has(c + 1)) c++;
    this.contiguous.set(u.origin, c);
    return true;
  }

  get(origin: string, version: number): Update<P> | undefined {
    return this.byOrigin.get(origin)?.get(version);
  }

  /** The next version for updates this node originates as `origin`. */
  nextVersion(origin: string): number {
    let max = 0;
    for (const v of this.byOrigin.get(origin)?.keys() ?? []) if (v > max) max = v;
    return max + 1;
  }

  digest(): Map<string, OriginDigest> {
    const out = new Map<string, OriginDigest>();
    for (const [origin, versions] of this.byOrigin) {
      const upTo = this.contiguous.get(origin) ?? 0;
      const above: number[] = [];
      if (versions.size > upTo) for (const v of versions.keys()) if (v > upTo) above.push(v);
      out.set(origin, { upTo, above: above.sort((a, b) => a - b) });
    }
    return out;
  }

  /** Encoded size of a digest: each origin's name plus varint versions. */
  static digestBytes(d: Digest): number {
    const varint = (v: number): number => (v < 128 ? 1 : v < 16384 ? 2 : v < 2097152 ? 3 : 5);
    let b = 0;
    for (const [origin, o] of d) {
      b += origin.length + 1 + varint(o.upTo) + varint(o.above.length);
      for (const v of o.above) b += varint(v);
    }
    return b;
  }

  /**
   * What a peer with digest `theirs` lacks, oldest first per origin, origins the peer is most
   * behind on first, until `budgetBytes` (counted with `sizeOf`) is spent; `eligible` leaves
   * out updates the sender may not serve yet. Returns the updates and whether everything
   * missing (and eligible) fitted.
   */
  missingFor(theirs: Digest, budgetBytes: number, sizeOf: (u: Update<P>) => number, eligible?: (u: Update<P>) => boolean): { updates: Update<P>[]; complete: boolean } {
    const behind: { origin: string; wanted: number[] }[] = [];
    for (const [origin, versions] of this.byOrigin) {
      const theirsHere = theirs.get(origin);
      const from = theirsHere?.upTo ?? 0;
      const held = theirsHere === undefined || theirsHere.above.length === 0 ? null : new Set(theirsHere.above);
      const wanted: number[] = [];
      for (const v of versions.keys()) if (v > from && (held === null || !held.has(v))) wanted.push(v);
      if (wanted.length > 0) behind.push({ origin, wanted: wanted.sort((a, b) => a - b) });
    }
    behind.sort((a, b) => b.wanted.length - a.wanted.length || (a.origin < b.origin ? -1 : a.origin > b.origin ? 1 : 0));
    const updates: Update<P>[] = [];
    let left = budgetBytes;
    let complete = true;
    for (const { origin, wanted } of behind) {
      const versions = this.byOrigin.get(origin) as Map<number, Update<P>>;
      for (const v of wanted) {
        const u = versions.get(v) as Update<P>;
        if (eligible !== undefined && !eligible(u)) continue;
        const cost = sizeOf(u);
        if (cost > left) {
          complete = false;
          break;
        }
        left -= cost;
        updates.push(u);
      }
    }
    return { updates, complete };
  }
}
