import { PollQueue } from '../poll-queue.js';
import type { QuorumBasis, QuorumStatus } from './quorum.js';
import { nextBasis, quorumStatus } from './quorum.js';
import type { MembershipView, ViewMember, ViewState } from './view.js';
import { canonicalMembers, checksumOfSums, isLive, memberHash } from './view.js';
import type { ViewNote } from './view-note.js';
import { bitmapBytes, hasBit, setBit } from './view-note.js';

/**
 * Agreed membership views, sans-IO (issue 16). The host feeds member records
 * (`handleMember`, this node's own included) and the view notes peers piggyback
 * (`handleNote`), asks `noteToSend(now)` for the note to piggyback, and drives the timer
 * (`handleTimeout`/`pollTimeout`). The tracker reports:
 * - `view-changed`: the canonical view's checksum changed (`epoch` + 1; a burst of records fed
 *   before the next `handleTimeout` is one change);
 * - `view-stable`: every live member (alive or suspect) that reports has been seen holding this
 *   view (`ViewNote` bitmaps) and nothing changed for `settleMs`;
 * - `quorum-lost` / `quorum-regained`: against the quorum basis of the last stable view
 *   (`quorum.ts`), whether the reachable members are a strict majority. The first gain is a
 *   `quorum-regained` too.
 *
 * What notes cost (issue 12 vs 16): a note is piggybacked (one per packet at most) only when it
 * has something to tell, as memberlist's broadcasts: `noteRetransmits` times after the view
 * changed or a peer's note taught us bits. A node whose view is still incomplete once that budget
 * is spent sends one now and then (`directAfterMs`, doubling up to 30 s) so that others can see
 * it lags; a node with nothing left to send that gets a note missing bits it has answers that
 * peer directly (`replyDue`). A note goes on its own to a random member only when the budget
 * could not go out piggybacked for `directAfterMs` (a joiner's packets are full of membership
 * gossip). A settled cluster sends none.
 */
export interface ViewTrackerOptions {
  /** This node's name (fed with `handleMember` like any other member). */
  readonly name: string;
  readonly now: number;
  /** A complete view must stay unchanged this long to be stable. Default 2,000 ms. */
  readonly settleMs?: number;
  /**
   * Notes sent after each change of view or bit learned. Default: memberlist's retransmit limit
   * for the view's size, 4 × ceil(log10(members + 1)) (16 at 1,000 members).
   */
  readonly noteRetransmits?: number;
  /** At most one note per this long (a packet goes out every few ms while gossip is busy). Default 200 ms (memberlist's LAN gossip interval). */
  readonly noteGapMs?: number;
  /**
   * While notes are due but none went out piggybacked for this long (a joiner's packets are full
   * of membership gossip for a while), `directDue` asks the host to send one on its own to a
   * random member; also the first gap between notes of a node whose view is incomplete. Default 1,000 ms.
   */
  readonly directAfterMs?: number;
  /** Failed and left members are dropped from the view this long after entering that state. Default 24 h (Serf's reconnect timeout). */
  readonly forgetAfterMs?: number;
  /** A tag whose numeric value weighs a member in the quorum (default: every member weighs 1). */
  readonly weightTag?: string;
  /** Whether a member runs a tracker and so must report for stability (default: all do). A Serf agent in the cluster does not. */
  readonly reports?: (m: ViewMember) => boolean;
}

export type ViewEvent =
  | { readonly type: 'view-changed'; readonly view: MembershipView; readonly previousChecksum: number }
  | { readonly type: 'view-stable'; readonly view: MembershipView }
  | { readonly type: 'quorum-lost'; readonly status: QuorumStatus }
  | { readonly type: 'quorum-regained'; readonly status: QuorumStatus };

export interface ViewTrackerStats {
  notesIn: number;
  notesForeign: number;
  notesOut: number;
  viewChanges: number;
  stableViews: number;
  /** Views rebuilt from all records (sorted); the others were updated member by member. */
  viewRebuilds: number;
}

interface MemberRecord {
  readonly state: ViewState;
  readonly incarnation: number;
  readonly tags: Readonly<Record<string, string>>;
  /** When it became failed or left (for forgetting); NaN while live. */
  readonly goneAt: number;
  /** `memberHash` of (name, state, incarnation): its share of the view's checksum. */
  readonly hHi: number;
  readonly hLo: number;
}

/** The longest gap between the notes of a node whose view stays incomplete. */
const TRICKLE_MAX_MS = 30_000;
/** More changed members than this in one refresh: the view is rebuilt and sorted. */
const PATCH_MAX = 16;
const scratch = new Uint32Array(2);

/** Foreign bitmaps kept for views we may move to next. */
const FOREIGN_MAX = 8;

export class ViewTracker {
  readonly name: string;
  readonly stats: ViewTrackerStats = { notesIn: 0, notesForeign: 0, notesOut: 0, viewChanges: 0, stableViews: 0, viewRebuilds: 0 };
  private readonly settleMs: number;
  private readonly noteRetransmits: number | undefined;
  private readonly noteGapMs: number;
  private readonly forgetAfterMs: number;
  private readonly directAfterMs: number;
  private lastOutAt = -Infinity;
  private readonly weightTag: string | undefined;
  private readonly reports: (m: ViewMember) => boolean;
  private readonly records = new Map<string, MemberRecord>();
  /** Sums of the records' hashes (each mod 2^32): the checksum without rehashing the view. */
  private sumHi = 0;
  private sumLo = 0;
  /** Members whose record changed since the view was last computed. */
  private readonly touched = new Set<string>();
  /** Alive members of the quorum basis (kept up to date without weights; see `reachable`). */
  private basisAlive = 0;
  private readonly events = new PollQueue<ViewEvent>();
  private dirty = true;
  private current: MembershipView = { epoch: 0, checksum: 0, members: [] };
  private index = new Map<string, number>();
  private bits = new Uint8Array(0);
  /** Live reporting members of the current view, and how many of them have their bit. */
  private liveNeeded = 0;
  private liveHave = 0;
  private changedAt: number;
  private stable: MembershipView | null = null;
  private basis: QuorumBasis | null = null;
  private quorum = false;
  /** Notes still to send for the last progress, since when some are pending, and the incomplete view's gap between notes. */
  private sendsLeft = 0;
  private pendingSince = -Infinity;
  private trickleGapMs: number;
  /** A peer whose note missed bits we have while we had nothing left to send: answered directly. */
  private replyTo: string | null = null;
  private replyAt = 0;
  private nextForgetAt = Infinity;
  /** Each peer's last reported checksum, and the peers by checksum. */
  private readonly reported = new Map<string, number>();
  private readonly reporters = new Map<number, Set<string>>();
  private readonly foreign = new Map<number, { size: number; bits: Uint8Array }>();
  private noteCache: ViewNote | null = null;

  constructor(o: ViewTrackerOptions) {
    this.name = o.name;
    this.settleMs = o.settleMs ?? 2_000;
    this.noteRetransmits = o.noteRetransmits;
    this.noteGapMs = o.noteGapMs ?? 200;
    this.forgetAfterMs = o.forgetAfterMs ?? 24 * 3_600_000;
    this.directAfterMs = o.directAfterMs ?? 1_000;
    this.trickleGapMs = this.directAfterMs;
    this.weightTag = o.weightTag;
    this.reports = o.reports ?? (() => true);
    for (const [k, v] of [['settleMs', this.settleMs], ['noteRetransmits', this.noteRetransmits ?? 0], ['noteGapMs', this.noteGapMs], ['forgetAfterMs', this.forgetAfterMs], ['directAfterMs', this.directAfterMs]] as const) {
      if (!(v >= 0) || !Number.isFinite(v)) throw new RangeError(`ViewTracker: ${k} must be a finite number ≥ 0, got ${v}`);
    }
    this.changedAt = o.now;
  }

  /** A member's record as membership now has it (this node's own too); without `newTags` its tags stay. Unchanged records cost nothing. */
  handleMember(now: number, name: string, state: ViewState, incarnation: number, newTags?: Readonly<Record<string, string>>): void {
    const r = this.records.get(name);
    const tags = newTags ?? r?.tags ?? {};
    if (r !== undefined && r.state === state && r.incarnation === incarnation && sameTags(r.tags, tags)) return;
    const goneAt = isLive(state) ? NaN : r !== undefined && !isLive(r.state) ? r.goneAt : now;
    memberHash(name, state, incarnation, scratch);
    const hHi = scratch[0] as number;
    const hLo = scratch[1] as number;
    if (r !== undefined) this.unsum(r);
    this.sumHi = (this.sumHi + hHi) >>> 0;
    this.sumLo = (this.sumLo + hLo) >>> 0;
    if (this.basis !== null && this.basis.weights.has(name)) this.basisAlive += (state === 'alive' ? 1 : 0) - (r?.state === 'alive' ? 1 : 0);
    this.records.set(name, { state, incarnation, tags, goneAt, hHi, hLo });
    this.touched.add(name);
    if (!Number.isNaN(goneAt)) this.nextForgetAt = Math.min(this.nextForgetAt, goneAt + this.forgetAfterMs);
    this.dirty = true;
    this.changedAt = now;
  }

  /** A member's tags (Serf's, which arrive apart from memberlist's records); unknown members are ignored. */
  handleTags(now: number, name: string, tags: Readonly<Record<string, string>>): void {
    const r = this.records.get(name);
    if (r !== undefined) this.handleMember(now, name, r.state, r.incarnation, tags);
  }

  /** A member membership forgot (memberlist reaps dead members after a while): kept as failed or left until `forgetAfterMs`. */
  handleMemberGone(now: number, name: string): void {
    const r = this.records.get(name);
    if (r !== undefined && isLive(r.state)) this.handleMember(now, name, 'failed', r.incarnation, r.tags);
  }

  /** A peer's note. Malformed notes throw (the host counts and drops them). */
  handleNote(now: number, n: ViewNote): void {
    if (typeof n.from !== 'string' || !Number.isInteger(n.checksum) || !Number.isInteger(n.size) || n.size < 0 || n.bits.length !== bitmapBytes(n.size)) throw new Error('malformed view note');
    this.refresh(now);
    this.stats.notesIn++;
    this.report(n.from, n.checksum);
    const cur = this.current;
    if (n.checksum !== cur.checksum || n.size !== cur.members.length) {
      this.stats.notesForeign++;
      this.keepForeign(n);
      return;
    }
    const learned = this.merge(n.bits);
    const i = this.index.get(n.from);
    const gained = (i !== undefined && this.setMember(i)) || learned;
    if (gained) {
      this.noteCache = null;
      this.refill(now);
    } else if (this.sendsLeft === 0 && n.from !== this.name && lacksBits(n.bits, this.bits)) {
      this.replyTo = n.from;
      this.replyAt = now;
    }
    this.checkStable(now);
  }

  handleTimeout(now: number): void {
    if (now >= this.nextForgetAt) this.forget(now);
    this.refresh(now);
    this.checkStable(now);
  }

  pollTimeout(): number | undefined {
    if (this.dirty) return this.changedAt;
    let t = this.nextForgetAt;
    if (!this.isStable() && this.liveHave >= this.liveNeeded) t = Math.min(t, this.changedAt + this.settleMs);
    if (this.replyTo !== null) t = Math.min(t, this.replyAt);
    if (this.sendsLeft > 0) t = Math.min(t, Math.max(this.lastOutAt, this.pendingSince) + this.directAfterMs);
    return t === Infinity ? undefined : t;
  }

  pollEvent(): ViewEvent | undefined {
    return this.events.poll();
  }

  /** The note to piggyback now, or null when nothing is in motion. Call `noteSent` if it went out. */
  noteToSend(now: number): ViewNote | null {
    this.refresh(now);
    if ((this.sendsLeft === 0 || now < this.lastOutAt + this.noteGapMs) && !this.trickleDue(now)) return null;
    return this.noteForReply();
  }

  /**
   * Whether `noteToSend` may return a note now or later without new input: records fed since
   * the view was computed, notes left to send after a change, or a view still incomplete (the
   * trickle). False in a settled cluster: the host need not offer packets to piggyback on.
   */
  notesInMotion(): boolean {
    return this.dirty || this.sendsLeft > 0 || this.liveHave < this.liveNeeded;
  }

  /** This node's note, whether or not one is due (for `replyDue`). */
  noteForReply(): ViewNote {
    this.noteCache ??= { from: this.name, checksum: this.current.checksum, size: this.current.members.length, bits: this.bits.slice() };
    return this.noteCache;
  }

  /** The note from `noteToSend` went out (piggybacked or on its own). */
  noteSent(now: number): void {
    this.stats.notesOut++;
    if (this.sendsLeft > 0) this.sendsLeft--;
    else if (this.trickleDue(now)) this.trickleGapMs = Math.min(TRICKLE_MAX_MS, this.trickleGapMs * 2);
    this.lastOutAt = now;
  }

  /**
   * A peer whose note missed bits we have, to be sent `noteToSend(now)` directly (then call
   * `replySent`), or null.
   */
  replyDue(): string | null {
    return this.replyTo;
  }

  replySent(now: number): void {
    this.stats.notesOut++;
    this.replyTo = null;
    this.lastOutAt = Math.max(this.lastOutAt, now);
  }

  /**
   * Notes are due but none went out for `directAfterMs`: the host should send `noteToSend(now)`
   * on its own to one random member (and call `noteSent`).
   */
  directDue(now: number): boolean {
    return this.sendsLeft > 0 && now >= Math.max(this.lastOutAt, this.pendingSince) + this.directAfterMs;
  }

  /** The current view (call `handleTimeout` first if records were fed since). */
  view(): MembershipView {
    return this.current;
  }

  /** The last stable view, or null before the first. */
  stableView(): MembershipView | null {
    return this.stable;
  }

  isStable(): boolean {
    return this.stable !== null && this.stable.checksum === this.current.checksum && this.stable.epoch === this.current.epoch;
  }

  hasQuorum(): boolean {
    return this.quorum;
  }

  quorumStatus(): QuorumStatus {
    return quorumStatus(this.basis, (n) => this.records.get(n)?.state);
  }

  /** Live members not (yet) seen holding the current view, with the checksum they last reported (null: none heard). */
  disagreeing(): { readonly name: string; readonly checksum: number | null }[] {
    const out: { name: string; checksum: number | null }[] = [];
    this.current.members.forEach((m, i) => {
      if (isLive(m.state) && this.reports(m) && !hasBit(this.bits, i)) out.push({ name: m.name, checksum: this.reported.get(m.name) ?? null });
    });
    return out;
  }

  /** Records were fed since the view was last computed (`view()` is then behind them until `handleTimeout`). */
  get pending(): boolean {
    return this.dirty;
  }

  /** Member records as fed (for checkers and tests). */
  recordsView(): ReadonlyMap<string, { readonly state: ViewState; readonly incarnation: number }> {
    return this.records;
  }

  // ------------------------------------------------------------------ internals

  private refresh(now: number): void {
    if (!this.dirty) return;
    this.dirty = false;
    const prev = this.current;
    const { members, reindex } = this.nextMembers(prev.members);
    const checksum = checksumOfSums(members.length, this.sumHi, this.sumLo);
    const changed = checksum !== prev.checksum || members.length !== prev.members.length;
    if (reindex) this.index = new Map(members.map((m, i) => [m.name, i]));
    this.current = { epoch: changed ? prev.epoch + 1 : prev.epoch, checksum, members };
    if (changed) {
      this.bits = new Uint8Array(bitmapBytes(members.length));
      this.liveNeeded = 0;
      this.liveHave = 0;
      for (const m of members) if (isLive(m.state) && this.reports(m)) this.liveNeeded++;
      this.setMember(this.index.get(this.name) ?? -1);
      // Peers already seen holding this view (a peer's record only moves forward after it, so
      // an earlier report is as good as a fresh one).
      for (const peer of this.reporters.get(checksum) ?? []) this.setMember(this.index.get(peer) ?? -1);
      const f = this.foreign.get(checksum);
      if (f !== undefined && f.size === members.length) this.merge(f.bits);
      this.foreign.delete(checksum);
      this.noteCache = null;
      this.stats.viewChanges++;
      this.refill(now);
      this.events.push({ type: 'view-changed', view: this.current, previousChecksum: prev.checksum });
    }
    // (Tags only: same checksum, the members' tags were refreshed in place.)
    this.checkQuorum();
  }

  /**
   * The canonical members after the touched records: a few are patched into a copy of the
   * previous array (binary search by name), more rebuild and sort it. `reindex`: names were added
   * or removed, so indexes moved.
   */
  private nextMembers(prev: readonly ViewMember[]): { members: ViewMember[]; reindex: boolean } {
    const rec = (name: string, r: MemberRecord): ViewMember => ({ name, state: r.state, incarnation: r.incarnation, tags: r.tags });
    if (this.touched.size > PATCH_MAX) {
      this.touched.clear();
      this.stats.viewRebuilds++;
      return { members: canonicalMembers([...this.records].map(([name, r]) => rec(name, r))), reindex: true };
    }
    const members = prev.slice();
    let reindex = false;
    for (const name of this.touched) {
      let lo = 0;
      let hi = members.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((members[mid] as ViewMember).name < name) lo = mid + 1;
        else hi = mid;
      }
      const found = members[lo]?.name === name;
      const r = this.records.get(name);
      if (r === undefined) {
        if (found) {
          members.splice(lo, 1);
          reindex = true;
        }
      } else if (found) members[lo] = rec(name, r);
      else {
        members.splice(lo, 0, rec(name, r));
        reindex = true;
      }
    }
    this.touched.clear();
    return { members, reindex };
  }

  /** Progress (a new view, bits learned): the note goes out `noteRetransmits` more times. */
  private refill(now: number): void {
    if (this.sendsLeft === 0) this.pendingSince = now;
    const n = this.current.members.length;
    this.sendsLeft = this.noteRetransmits ?? 4 * Math.max(1, Math.ceil(Math.log10(n + 1)));
    this.trickleGapMs = this.directAfterMs;
  }

  /** The view is incomplete, the budget is spent, and the gap since the last note has passed. */
  private trickleDue(now: number): boolean {
    return this.liveHave < this.liveNeeded && now >= this.lastOutAt + this.trickleGapMs;
  }

  private unsum(r: MemberRecord): void {
    this.sumHi = (this.sumHi - r.hHi) >>> 0;
    this.sumLo = (this.sumLo - r.hLo) >>> 0;
  }

  private report(from: string, checksum: number): void {
    const before = this.reported.get(from);
    if (before === checksum) return;
    if (before !== undefined) {
      const set = this.reporters.get(before);
      set?.delete(from);
      if (set?.size === 0) this.reporters.delete(before);
    }
    this.reported.set(from, checksum);
    let set = this.reporters.get(checksum);
    if (set === undefined) this.reporters.set(checksum, (set = new Set()));
    set.add(from);
  }

  private unreport(from: string): void {
    const before = this.reported.get(from);
    if (before === undefined) return;
    this.reported.delete(from);
    const set = this.reporters.get(before);
    set?.delete(from);
    if (set?.size === 0) this.reporters.delete(before);
  }

  /** Weight of the basis members alive now: counted as records change, summed with weights. */
  private reachable(): number {
    if (this.basis === null) return 0;
    return this.weightTag === undefined ? this.basisAlive : quorumStatus(this.basis, (n) => this.records.get(n)?.state).reachable;
  }

  private setMember(i: number): boolean {
    if (i < 0 || hasBit(this.bits, i)) return false;
    setBit(this.bits, i);
    const m = this.current.members[i];
    if (m !== undefined && isLive(m.state) && this.reports(m)) this.liveHave++;
    return true;
  }

  /** ORs `bits` into ours; whether we learned any. */
  private merge(bits: Uint8Array): boolean {
    let learned = false;
    for (let b = 0; b < bits.length; b++) {
      const add = (bits[b] as number) & ~(this.bits[b] as number);
      if (add === 0) continue;
      for (let k = 0; k < 8; k++) if ((add >>> k) & 1) learned = this.setMember(b * 8 + k) || learned;
    }
    return learned;
  }

  private keepForeign(n: ViewNote): void {
    const f = this.foreign.get(n.checksum);
    if (f !== undefined && f.size === n.size) {
      for (let b = 0; b < n.bits.length; b++) f.bits[b] = (f.bits[b] as number) | (n.bits[b] as number);
      return;
    }
    if (this.foreign.size >= FOREIGN_MAX) this.foreign.delete(this.foreign.keys().next().value as number);
    this.foreign.set(n.checksum, { size: n.size, bits: n.bits.slice() });
  }

  private checkStable(now: number): void {
    if (this.dirty || this.isStable() || this.liveHave < this.liveNeeded || now < this.changedAt + this.settleMs) return;
    this.stable = this.current;
    this.stats.stableViews++;
    this.events.push({ type: 'view-stable', view: this.current });
    const basis = nextBasis(this.basis, this.current, this.weightTag);
    if (basis !== this.basis) {
      this.basis = basis;
      this.basisAlive = 0;
      for (const name of basis.weights.keys()) if (this.records.get(name)?.state === 'alive') this.basisAlive++;
    }
    this.checkQuorum();
  }

  private checkQuorum(): void {
    if (this.basis !== null && this.reachable() > this.basis.total / 2 === this.quorum) return;
    if (this.basis === null && !this.quorum) return;
    const s = this.quorumStatus();
    if (s.hasQuorum === this.quorum) return;
    this.quorum = s.hasQuorum;
    this.events.push({ type: s.hasQuorum ? 'quorum-regained' : 'quorum-lost', status: s });
  }

  private forget(now: number): void {
    let next = Infinity;
    for (const [name, r] of this.records) {
      if (Number.isNaN(r.goneAt)) continue;
      if (r.goneAt + this.forgetAfterMs <= now) {
        this.records.delete(name);
        this.unsum(r);
        this.touched.add(name);
        this.unreport(name);
        this.dirty = true;
        this.changedAt = now;
      } else next = Math.min(next, r.goneAt + this.forgetAfterMs);
    }
    this.nextForgetAt = next;
  }
}

function sameTags(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  if (a === b) return true;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (a[k] !== b[k]) return false;
  return true;
}

/** Whether `theirs` misses a bit that `ours` has. */
function lacksBits(theirs: Uint8Array, ours: Uint8Array): boolean {
  for (let b = 0; b < ours.length; b++) if (((ours[b] as number) & ~(theirs[b] as number)) !== 0) return true;
  return false;
}
