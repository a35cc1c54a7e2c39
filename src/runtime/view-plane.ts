import type { Millis } from '../core/ids.js';
import type { Rng } from '../core/rng.js';
import { MemberState } from '../core/messages.js';
import type { RingOptions } from '../core/ring/index.js';
import type { MovedRange } from '../core/ring/index.js';
import { diffRings, HashRing } from '../core/ring/index.js';
import type { SerfNode } from '../core/serf/index.js';
import type { MembershipView, QuorumStatus, ViewEvent, ViewMember, ViewState, ViewTrackerOptions } from '../core/views/index.js';
import { ViewTracker } from '../core/views/index.js';
import { decodeViewNote, encodeViewNoteMessage, VIEW_NOTE_TYPE } from '../wire/view-note.js';

/**
 * The default ring (every alive member of the stable view, default points) changed with a new
 * stable view: the ranges of the hash space that moved, and to whom. Reported only once the
 * application asked for a ring (`node.ring()`): building one costs 2,048 points per member.
 */
export interface RingChangedEvent {
  readonly type: 'ring-changed';
  readonly checksum: string;
  readonly previousChecksum: string;
  readonly moved: readonly MovedRange[];
}

/** Settings of the membership views (issue 16). */
export interface ViewOptions {
  /** A complete view must stay unchanged this long to be stable. Default 2,000 ms. */
  readonly settleMs?: number;
  /** View notes piggybacked after each change of view or bit learned. Default 4 × ceil(log10(members + 1)). */
  readonly noteRetransmits?: number;
  /** Failed and left members leave the view (and so the quorum basis) this long after. Default 24 h. */
  readonly forgetAfterMs?: number;
  /** A tag whose numeric value weighs a member in the quorum. Default: every member weighs 1. */
  readonly weightTag?: string;
}

const STATE_OF: Record<MemberState, ViewState> = {
  [MemberState.Alive]: 'alive',
  [MemberState.Suspect]: 'suspect',
  [MemberState.Dead]: 'failed',
  [MemberState.Left]: 'left',
};

/**
 * The membership views beside a running Serf node: a `ViewTracker` fed every memberlist record
 * change (`GossipNode.watchMembers`) and Serf's tags, its notes piggybacked on packets to data
 * peers (`SerfNode.setDataPiggyback`) and received as data messages of type 0xbc. Only members
 * advertising our data tag must report for a view to be stable (a serf agent cannot).
 */
export class ViewPlane {
  readonly tracker: ViewTracker;
  /** Notes that did not decode or were refused. */
  malformed = 0;
  private cached: { note: object; bytes: Uint8Array } | null = null;
  private rings = new Map<string, HashRing>();
  private ringsFor = -1;

  constructor(engine: SerfNode, now: () => Millis, o: ViewOptions, private readonly dataTag: string | null, private readonly rng: Rng) {
    const self = engine.name;
    const t: ViewTrackerOptions = {
      name: self, now: now(),
      ...(o.settleMs !== undefined ? { settleMs: o.settleMs } : {}),
      ...(o.noteRetransmits !== undefined ? { noteRetransmits: o.noteRetransmits } : {}),
      ...(o.forgetAfterMs !== undefined ? { forgetAfterMs: o.forgetAfterMs } : {}),
      ...(o.weightTag !== undefined ? { weightTag: o.weightTag } : {}),
      reports: (m: ViewMember) => m.name === self || (dataTag !== null && Number(m.tags[dataTag] ?? 0) >= 1),
    };
    const tracker = new ViewTracker(t);
    this.tracker = tracker;
    engine.gossip.watchMembers((name, state, inc) => {
      if (state === null) tracker.handleMemberGone(now(), name);
      else tracker.handleMember(now(), name, STATE_OF[state], inc, engine.member(name)?.tags);
    });
    engine.setDataPiggyback((room) => {
      const bytes = this.noteBytes(now());
      if (bytes === null || bytes.length > room) return null;
      tracker.noteSent(now());
      return bytes;
    }, () => tracker.notesInMotion());
    this.engine = engine;
  }

  private readonly engine: SerfNode;

  private noteBytes(now: Millis): Uint8Array | null {
    const note = this.tracker.noteToSend(now);
    if (note === null) return null;
    if (this.cached?.note !== note) this.cached = { note, bytes: encodeViewNoteMessage(note) };
    return this.cached.bytes;
  }

  /** A Serf member event: its tags (memberlist's records carry none). */
  handleTags(now: Millis, name: string, tags: Readonly<Record<string, string>>): void {
    this.tracker.handleTags(now, name, tags);
  }

  /** A data message of type 0xbc. Never throws: a bad note is counted and dropped. */
  handleNote(now: Millis, payload: Uint8Array): void {
    const r = decodeViewNote(payload);
    if (!r.ok) {
      this.malformed++;
      return;
    }
    try {
      this.tracker.handleNote(now, r.value);
    } catch {
      this.malformed++;
    }
  }

  /** The timer; and when no note fitted in a packet for a while, one goes on its own to a random data peer. */
  handleTimeout(now: Millis): void {
    this.tracker.handleTimeout(now);
    const replyTo = this.tracker.replyDue();
    if (replyTo !== null) {
      // A peer's note missed bits we have, and we had nothing left to send: answer it.
      this.tracker.replySent(now);
      const note = encodeViewNoteMessage(this.tracker.noteForReply());
      this.engine.sendData(now, replyTo, VIEW_NOTE_TYPE, note.subarray(1), false);
    }
    if (!this.tracker.directDue(now)) return;
    this.tracker.noteSent(now);
    const bytes = this.noteBytes(now);
    const peers = this.engine.dataPeers();
    if (bytes === null || peers.length === 0) return;
    const to = peers[this.rng.int(peers.length)];
    if (to !== undefined) this.engine.sendData(now, to.name, VIEW_NOTE_TYPE, bytes.subarray(1), false);
  }

  pollTimeout(): number | undefined {
    return this.tracker.pollTimeout();
  }

  pollEvent(): ViewEvent | RingChangedEvent | undefined {
    const e = this.tracker.pollEvent();
    if (e?.type === 'view-stable' && this.defaultRing !== null) {
      const before = this.defaultRing;
      const after = this.ring();
      if (after.checksum !== before.checksum) {
        this.defaultRing = after;
        this.pendingRing = { type: 'ring-changed', checksum: after.checksum, previousChecksum: before.checksum, moved: diffRings(before, after) };
      }
      return e;
    }
    if (e === undefined && this.pendingRing !== null) {
      const r = this.pendingRing;
      this.pendingRing = null;
      return r;
    }
    return e;
  }

  /** The default ring last reported (null until the application asked for a ring). */
  private defaultRing: HashRing | null = null;
  private pendingRing: RingChangedEvent | null = null;

  view(): { readonly current: MembershipView; readonly stable: MembershipView | null; readonly isStable: boolean; readonly disagreeing: readonly { readonly name: string; readonly checksum: number | null }[] } {
    return { current: this.tracker.view(), stable: this.tracker.stableView(), isStable: this.tracker.isStable(), disagreeing: this.tracker.disagreeing() };
  }

  quorum(): QuorumStatus {
    return this.tracker.quorumStatus();
  }

  /**
   * The replicas of quorum writes and reads (issue 16): the members of the quorum basis (the last
   * stable view adopted with quorum, failed members included, so the count does not shrink on the
   * minority side of a split), or before any stable view the current view's members that have not
   * left; without the members the current view shows without our data tag (they hold no state).
   */
  replicas(): ReadonlySet<string> {
    const current = this.tracker.view();
    const tags = new Map(current.members.map((m) => [m.name, m.tags]));
    const basis = this.tracker.quorumStatus().basis;
    const names = basis !== null ? [...basis.weights.keys()] : current.members.filter((m) => m.state !== 'left').map((m) => m.name);
    const self = this.engine.name;
    return new Set(names.filter((n) => {
      if (n === self) return true;
      if (this.dataTag === null) return false;
      const t = tags.get(n);
      return t === undefined || Number(t[this.dataTag] ?? 0) >= 1;
    }));
  }

  /**
   * The consistent-hash ring of the last stable view's alive members (the current view's before
   * the first stable one), filtered by `opts.tags`: equal on every node with the same stable
   * view. Cached per stable view and options.
   */
  ring(opts: RingOptions = {}): HashRing {
    const v = this.tracker.stableView() ?? this.tracker.view();
    if (this.ringsFor !== v.epoch) {
      this.rings = new Map();
      this.ringsFor = v.epoch;
    }
    const key = JSON.stringify([opts.pointsPerMember ?? null, Object.entries(opts.tags ?? {}).sort()]);
    let r = this.rings.get(key);
    if (r === undefined) {
      r = HashRing.build(v.members.filter((m) => m.state === 'alive'), opts);
      this.rings.set(key, r);
    }
    if (this.defaultRing === null && opts.pointsPerMember === undefined && opts.tags === undefined) this.defaultRing = r;
    return r;
  }
}
