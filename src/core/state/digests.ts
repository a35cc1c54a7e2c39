import type { ConvergenceTracker } from '../convergence/tracker.js';
import type { PeerSampler } from '../dissemination/disseminator.js';
import type { NodeName } from '../ids.js';
import type { Rng } from '../rng.js';
import type { VersionSummary } from '../replica/summary.js';
import type { MemberDigest, RootNote, StabilityNote, SummaryNote } from './messages.js';
import { MalformedMessage } from './messages.js';
import type { StateSettings } from './options.js';
import type { StateOutbox } from './outbox.js';
import type { ReplicaTree } from './replica-tree.js';

const NO_SUMMARY: VersionSummary = new Map<string, number>();

/** Other members' summary notes kept for relaying (the latest learned; older ones are dropped). */
export const RELAYED_SUMMARIES_KEPT = 8;

/** What is kept of a member's latest summary note: its stamp, and what it says of this node's own writes. */
interface SummaryHeard {
  readonly atMs: number;
  readonly seq: number;
  /** The note's counter for this node's own origin (`counterHeard`). */
  readonly own: number;
}

/**
 * Convergence digests: this node's root and version summary as notes stamped by it (newer =
 * higher `atMs`, `seq`), re-made lazily when the state changed; the latest root note of every
 * other member, learned from digests relayed between members and from anti-entropy; and the
 * `ConvergenceTracker` fed with each live member's latest root (agreement fraction) and each
 * newer summary as it arrives (time until every live member had a sampled write).
 *
 * A summary is O(writers) and there is one per member: holding every member's would cost
 * O(members × writers) per node (44 MB per node at 1,000 nodes and writers; the simulator ran out
 * of memory). So a member's summary is read as it arrives and only its stamp (newer or not) and
 * its counter for this node's own writes (`counterHeard`) are kept, plus the latest
 * `RELAYED_SUMMARIES_KEPT` notes to relay; tombstone collection takes stability generations'
 * bounds instead (`Stability`). A digest round sends to `digestFanout`
 * random peers this node's root, the recent roots of others (O(1) in the cluster size), its
 * summary plus a few known ones, and its stability aggregate while it takes part in a generation;
 * an idle node sends its root alone.
 */
export class Digests {
  ownRoot: RootNote;
  ownSummary: SummaryNote;
  /** Other members' latest root notes, by name. */
  readonly roots = new Map<string, RootNote>();
  /** Other members' latest summary notes: what is kept of them, by name. */
  private readonly summariesHeard = new Map<string, SummaryHeard>();
  /** The latest summary notes learned, to relay (a ring of `RELAYED_SUMMARIES_KEPT`). */
  private readonly relayable: SummaryNote[] = [];
  private relayNext = 0;
  private ownSeq = 0;

  constructor(
    private readonly name: NodeName,
    private readonly keys: ReplicaTree,
    private readonly tracker: ConvergenceTracker,
    private readonly live: ReadonlySet<string>,
    private readonly rng: Rng,
    private readonly peers: PeerSampler,
    private readonly out: StateOutbox,
    private readonly s: StateSettings,
    /** This node's stability aggregate when it takes part in a generation, else null (see `Stability`). */
    private readonly stabilityNote: (now: number) => StabilityNote | null,
    now: number,
  ) {
    this.ownRoot = this.makeRoot(now);
    this.ownSummary = this.makeSummary(now);
    // The tracker compares peers' roots with this one from the start. A node restarted on its
    // durable replica holds data already; until told, the tracker would compare with the empty
    // root, and with equal data (idle, no session, no change) it would never be told.
    this.tracker.handleLocalDigest(now, { rootHi: this.ownRoot.rootHi, rootLo: this.ownRoot.rootLo, summary: this.ownSummary.summary });
  }

  /** This node's current digest (what it piggybacks on anti-entropy). */
  digest(now: number): MemberDigest {
    this.refreshRoot(now);
    this.refreshSummary(now, true);
    return { root: this.ownRoot, summary: this.ownSummary, stability: this.stabilityNote(now) };
  }

  refreshRoot(now: number): void {
    if (!this.keys.rootDirty) return;
    const r = this.makeRoot(now);
    if (r.rootHi === this.ownRoot.rootHi && r.rootLo === this.ownRoot.rootLo) return; // back where it was: keep the older note
    this.ownRoot = r;
    this.tracker.handleLocalDigest(now, { rootHi: r.rootHi, rootLo: r.rootLo, summary: this.ownSummary.summary });
    this.out.drainConverged();
  }

  /** Re-makes the own summary when it may have changed, at most every `summaryIntervalMs` unless `force`. */
  refreshSummary(now: number, force: boolean): void {
    if (!this.keys.summaryDirty || (!force && now < this.ownSummary.atMs + this.s.summaryIntervalMs)) return;
    this.ownSummary = this.makeSummary(now);
    this.tracker.handleLocalDigest(now, { rootHi: this.ownRoot.rootHi, rootLo: this.ownRoot.rootLo, summary: this.ownSummary.summary });
    this.out.drainConverged();
  }

  /** A member's root note, kept when newer than the one known. */
  learnRoot(now: number, r: RootNote): void {
    if (typeof r !== 'object' || r === null || typeof r.member !== 'string' || !Number.isFinite(r.atMs) || !Number.isFinite(r.seq)) throw new MalformedMessage('malformed root note');
    if (r.member !== this.name && keepNewer(this.roots, r)) this.feedTracker(now, r.member);
  }

  /** A member's summary note, read when newer than the one known: the tracker settles what it covers, and it is kept to relay. */
  learnSummary(now: number, n: SummaryNote): void {
    if (typeof n !== 'object' || n === null || typeof n.member !== 'string' || !(n.summary instanceof Map) || !Number.isFinite(n.atMs) || !Number.isFinite(n.seq)) throw new MalformedMessage('malformed summary note');
    if (n.member === this.name) return;
    const k = this.summariesHeard.get(n.member);
    if (k !== undefined && (k.atMs > n.atMs || (k.atMs === n.atMs && k.seq >= n.seq))) return;
    const own: unknown = (n.summary as VersionSummary).get(this.name);
    this.summariesHeard.set(n.member, { atMs: n.atMs, seq: n.seq, own: typeof own === 'number' && own > 0 ? own : 0 });
    if (this.relayable.length < RELAYED_SUMMARIES_KEPT) this.relayable.push(n);
    else {
      this.relayable[this.relayNext] = n;
      this.relayNext = (this.relayNext + 1) % RELAYED_SUMMARIES_KEPT;
    }
    if (!this.live.has(n.member)) return;
    this.tracker.handleSummary(now, n.member, n.summary, n.atMs);
    this.out.drainConverged();
  }

  /** The tracker sees a live member's latest root. */
  feedTracker(now: number, member: string): void {
    if (!this.live.has(member)) return;
    const r = this.roots.get(member);
    if (r === undefined) return;
    this.tracker.handleDigest(now, member, { rootHi: r.rootHi, rootLo: r.rootLo, summary: NO_SUMMARY });
    this.out.drainConverged();
  }

  /** An active node's digest round. */
  relay(now: number): void {
    this.refreshRoot(now);
    this.refreshSummary(now, false);
    const peers = this.peers.sample(this.s.digestFanout, this.rng);
    if (peers.length === 0) return;
    const roots: RootNote[] = [this.ownRoot, ...this.recentRoots(now)];
    const all = this.relayable;
    const stability = this.stabilityNote(now);
    for (const to of peers) {
      const summaries: SummaryNote[] = [this.ownSummary];
      for (let k = 1; k < this.s.summariesPerMessage && all.length > 0; k++) summaries.push(all[this.rng.int(all.length)] as SummaryNote);
      this.out.sendWithin(now, to, { type: 'state-digests', roots, summaries, stability }, 'repair');
    }
  }

  /** A root probe on joining: this node's root alone, to `digestFanout` random peers (one whose root differs starts a session). */
  probe(now: number): void {
    this.refreshRoot(now);
    for (const to of this.peers.sample(this.s.digestFanout, this.rng)) if (this.out.sendWithin(now, to, { type: 'state-digests', roots: [this.ownRoot], summaries: [], stability: null }, 'repair')) this.out.stats.rootProbes++;
  }

  /** An idle node's digest: its root alone, to one random peer. */
  sendIdle(now: number): void {
    this.refreshRoot(now);
    const to = this.peers.sample(1, this.rng)[0];
    if (to === undefined) return;
    this.out.sendWithin(now, to, { type: 'state-digests', roots: [this.ownRoot], summaries: [], stability: null }, 'repair');
  }

  /**
   * The highest counter of this node's own writes that a live member's latest summary says it
   * has seen (0 if none).
   */
  counterHeard(): number {
    let n = 0;
    for (const [member, h] of this.summariesHeard) if (h.own > n && this.live.has(member)) n = h.own;
    return n;
  }

  /**
   * Other members' recent roots to relay, at most `rootsPerMessage`: those that differ from ours
   * first (they matter for repair), then a random choice of the rest (they spread agreement). A
   * digest stays O(1) in the cluster size.
   */
  private recentRoots(now: number): RootNote[] {
    const max = this.s.rootsPerMessage;
    const hi = this.keys.tree.rootHi();
    const lo = this.keys.tree.rootLo();
    const differing: RootNote[] = [];
    const equal: RootNote[] = [];
    for (const r of this.roots.values()) {
      if (r.atMs < now - this.s.rootRecentMs) continue;
      (r.rootHi === hi && r.rootLo === lo ? equal : differing).push(r);
    }
    const out = differing.length <= max ? differing : pick(differing, max, this.rng);
    const room = max - out.length;
    if (room > 0) out.push(...(equal.length <= room ? equal : pick(equal, room, this.rng)));
    return out;
  }

  private makeRoot(now: number): RootNote {
    this.keys.rootDirty = false;
    return { member: this.name, atMs: now, seq: ++this.ownSeq, rootHi: this.keys.tree.rootHi(), rootLo: this.keys.tree.rootLo() };
  }

  private makeSummary(now: number): SummaryNote {
    this.keys.summaryDirty = false;
    return { member: this.name, atMs: now, seq: ++this.ownSeq, summary: this.keys.replica.versionSummary() };
  }
}

/** Keeps a member's note when it is newer than the one known (higher `atMs`, then `seq`); false when it is not. */
function keepNewer<N extends { readonly member: string; readonly atMs: number; readonly seq: number }>(notes: Map<string, N>, n: N): boolean {
  const k = notes.get(n.member);
  if (k !== undefined && (k.atMs > n.atMs || (k.atMs === n.atMs && k.seq >= n.seq))) return false;
  notes.set(n.member, n);
  return true;
}

/** `k` distinct elements of `xs` drawn with `rng` (partial Fisher–Yates on a copy). */
function pick<T>(xs: readonly T[], k: number, rng: Rng): T[] {
  const a = [...xs];
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(a.length - i);
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
  return a.slice(0, k);
}
