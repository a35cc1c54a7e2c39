/**
 * Application updates as a scuttlebutt log (van Renesse et al., theory.md §6): every update is
 * (origin, version), versions counting up from 1 per origin. A node summarises what it has as a
 * digest, origin → highest *contiguous* version plus any versions held beyond it, so a pull
 * asks with a few bytes per origin and only what is missing travels back.
 */
import { MalformedMessage } from '../malformed-message.js';

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
  /** Per origin: the highest v such that every version up to v is held or at most the floor. */
  private readonly contiguous = new Map<string, number>();
  /**
   * Per origin: versions up to the floor count as covered whether held or not: they were
   * pruned here, or a peer had pruned them before this node got them (anti-entropy's job).
   */
  private readonly floors = new Map<string, number>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  has(origin: string, version: number): boolean {
    return this.byOrigin.get(origin)?.has(version) ?? false;
  }

  /** Whether the digest covers a version (held, or at most the floor). */
  covers(origin: string, version: number): boolean {
    return version <= (this.floors.get(origin) ?? 0) || this.has(origin, version);
  }

  floorOf(origin: string): number {
    return this.floors.get(origin) ?? 0;
  }

  /** Origins with a floor, and the floor. */
  floorEntries(): IterableIterator<[string, number]> {
    return this.floors.entries();
  }

  /** Stores an update; false when it was already covered (a duplicate) or malformed. */
  apply(u: Update<P>): boolean {
    if (!Number.isSafeInteger(u.version) || u.version < 1) return false;
    if (u.version <= (this.floors.get(u.origin) ?? 0)) return false;
    let versions = this.byOrigin.get(u.origin);
    if (versions === undefined) this.byOrigin.set(u.origin, (versions = new Map<number, Update<P>>()));
    if (versions.has(u.version)) return false;
    versions.set(u.version, u);
    this.count++;
    this.extend(u.origin, versions);
    return true;
  }

  get(origin: string, version: number): Update<P> | undefined {
    return this.byOrigin.get(origin)?.get(version);
  }

  /** The next version for updates this node originates as `origin`. */
  nextVersion(origin: string): number {
    let max = Math.max(this.floors.get(origin) ?? 0, this.contiguous.get(origin) ?? 0);
    for (const v of this.byOrigin.get(origin)?.keys() ?? []) if (v > max) max = v;
    return max + 1;
  }

  /**
   * Forgets updates born before `cutoffMs` that lie under the contiguous mark (the digest
   * keeps covering them, so peers are not asked for them again); `keep` vetoes one (an update
   * still being pushed). Returns the updates dropped.
   */
  prune(cutoffMs: number, keep: (u: Update<P>) => boolean = () => false): Update<P>[] {
    const dropped: Update<P>[] = [];
    for (const [origin, versions] of this.byOrigin) {
      const c = this.contiguous.get(origin) ?? 0;
      let floor = this.floors.get(origin) ?? 0;
      for (const [v, u] of versions) {
        if (v > c || u.bornMs >= cutoffMs || keep(u)) continue;
        versions.delete(v);
        this.count--;
        dropped.push(u);
        if (v > floor) floor = v;
      }
      if (floor > 0) this.floors.set(origin, floor);
      if (versions.size === 0 && floor === 0) this.byOrigin.delete(origin);
    }
    return dropped;
  }

  /**
   * A peer pruned everything of `origin` up to `version`: count it covered here too (what was
   * never received from it is anti-entropy's to repair). Returns how many versions were
   * skipped without being held.
   */
  advanceFloor(origin: string, version: number): number {
    if (!Number.isSafeInteger(version) || version < 1) return 0;
    const floor = this.floors.get(origin) ?? 0;
    if (version <= floor) return 0;
    let versions = this.byOrigin.get(origin);
    if (versions === undefined) this.byOrigin.set(origin, (versions = new Map<number, Update<P>>()));
    const c = this.contiguous.get(origin) ?? 0;
    let skipped = 0;
    for (let v = c + 1; v <= version; v++) if (!versions.has(v)) skipped++;
    this.floors.set(origin, version);
    this.extend(origin, versions);
    return skipped;
  }

  digest(): Map<string, OriginDigest> {
    const out = new Map<string, OriginDigest>();
    for (const [origin, versions] of this.byOrigin) {
      const upTo = this.contiguous.get(origin) ?? 0;
      const above: number[] = [];
      for (const v of versions.keys()) if (v > upTo) above.push(v);
      out.set(origin, { upTo, above: above.sort((a, b) => a - b) });
    }
    return out;
  }

  private extend(origin: string, versions: Map<number, Update<P>>): void {
    let c = Math.max(this.contiguous.get(origin) ?? 0, this.floors.get(origin) ?? 0);
    while (versions.has(c + 1)) c++;
    this.contiguous.set(origin, c);
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

/** Rejects an update a peer could not have meant (thrown inside the receive path, caught and counted there). */
export function checkUpdate<P>(u: Update<P>): void {
  if (typeof u.origin !== 'string' || u.origin.length === 0) throw new MalformedMessage('update without an origin');
  if (!Number.isSafeInteger(u.version) || u.version < 1) throw new MalformedMessage(`update ${u.origin} with version ${String(u.version)}`);
  if (typeof u.key !== 'string' || u.payload === undefined || u.payload === null) throw new MalformedMessage(`update ${u.origin}/${u.version} without key or payload`);
  if (!Number.isFinite(u.bornMs)) throw new MalformedMessage(`update ${u.origin}/${u.version} without a birth time`);
}
