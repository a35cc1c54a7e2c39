import type { ReconcileHost } from '../antientropy/session.js';
import { ReconcileSession } from '../antientropy/session.js';
import type { PeerSampler } from '../dissemination/disseminator.js';
import type { Address } from '../ids.js';
import type { Rng } from '../rng.js';
import type { Entry } from '../replica/entry.js';
import { sessionBounds } from './budget.js';
import type { Activity } from './activity.js';
import type { Digests } from './digests.js';
import type { MemberDigest, RootNote, StateReconcileMsg, StateSizes } from './messages.js';
import { MalformedMessage } from './messages.js';
import type { StateSettings } from './options.js';
import type { StateOutbox } from './outbox.js';
import type { RepairTrigger } from './repair-trigger.js';
import type { ReplicaTree } from './replica-tree.js';
import type { Stability } from './stability.js';

interface Session {
  readonly id: number;
  readonly peer: Address;
  readonly s: ReconcileSession<Entry>;
  deadlineMs: number;
  peerDigest: MemberDigest | null;
  sentDigest: boolean;
  /** Keys the peer sent entries for in this session. */
  readonly received: Set<string>;
}

/**
 * Merkle anti-entropy: each round, one session with a random live peer through `ReconcileSession`
 * (only differing subtrees are walked, only differing entries travel, both ways), each side's
 * first message carrying its digest. A peer that last reported this node's root is skipped; a
 * peer whose root is not known gets a root probe (the root alone: it starts a session if its root
 * differs). A complete session absorbs the peer's version summary and collects the tombstones the
 * peer has collected (`Replica.collectSeenBy`). One session initiated at a time, at most
 * `responderSessionsMax` answered; a session with no progress for `sessionTimeoutMs` is dropped.
 * Within a byte budget, a session starts only with half a burst available and its walk is bounded.
 * While rumors run, a session starts only when the difference persists (`RepairTrigger`).
 */
export class AntiEntropy {
  /** The root each direct peer last reported as its own (digests and session digests), by address. */
  private readonly peerRoots = new Map<Address, { readonly hi: number; readonly lo: number }>();
  private initiated: Session | null = null;
  private readonly answering = new Map<string, Session>();
  private nextSessionId = 0;
  private readonly host: ReconcileHost<Entry>;

  constructor(
    private readonly keys: ReplicaTree,
    private readonly rng: Rng,
    private readonly peers: PeerSampler,
    sizes: StateSizes,
    private readonly out: StateOutbox,
    private readonly s: StateSettings,
    private readonly digests: Digests,
    private readonly stability: Stability,
    private readonly activity: Activity,
    private readonly trigger: RepairTrigger,
  ) {
    const budget = out.budget;
    this.host = {
      tree: keys.tree,
      entryFor: (key: string) => keys.replica.entry(key),
      messageBytes: (m) => sizes.reconcile(m),
      ...(budget === null ? {} : sessionBounds(budget, keys.tree.fanout)),
    };
  }

  /** Sessions in progress (the node stays active while there are). */
  get open(): boolean {
    return this.initiated !== null || this.answering.size > 0;
  }

  /** This node's own session is in progress. */
  get initiating(): boolean {
    return this.initiated !== null;
  }

  /** `syncFirst` and no session has completed yet: sessions run even where roots agree (the runtime waits for one). */
  get syncing(): boolean {
    return this.s.syncFirst && this.out.stats.sessionsComplete === 0;
  }

  /** Records a direct peer's own root; true when it differs from this node's (the node turns active). */
  notePeerRoot(now: number, from: Address, r: RootNote): boolean {
    this.peerRoots.set(from, { hi: r.rootHi, lo: r.rootLo });
    const differs = !this.keys.rootEquals(r.rootHi, r.rootLo);
    if (differs) this.activity.markActive(now);
    return differs;
  }

  /** A session with `target`, or with a random peer unless that peer last reported this node's root. */
  start(now: number, target: Address | null): void {
    if (this.initiated !== null) return;
    const peer = target ?? this.peers.sample(1, this.rng)[0];
    if (peer === undefined) return;
    const budget = this.out.budget;
    if (budget !== null && budget.available(now) < budget.bucket.burstBytes / 2) {
      budget.stats.sessionsDeferred++; // a later round, when the budget has room for it
      return;
    }
    if (target === null) {
      const known = this.peerRoots.get(peer);
      if (known !== undefined && this.keys.rootEquals(known.hi, known.lo) && !this.syncing) {
        this.out.stats.sessionsSkippedEqual++;
        return;
      }
      if (known === undefined && !this.syncing) {
        // Not known: our root alone; the peer starts a session if its root differs (equal roots
        // cost a digest, never a session).
        this.digests.refreshRoot(now);
        if (this.out.sendWithin(now, peer, { type: 'state-digests', roots: [this.digests.ownRoot], summaries: [], stability: null }, 'repair')) this.out.stats.rootProbes++;
        return;
      }
    }
    if (!this.syncing && !this.trigger.warranted(now)) {
      this.out.stats.sessionsHeldForRumors++; // the difference is rumors in flight (so far)
      return;
    }
    const s: Session = { id: ++this.nextSessionId, peer, s: new ReconcileSession<Entry>(this.host, 'initiator'), deadlineMs: now + this.s.sessionTimeoutMs, peerDigest: null, sentDigest: false, received: new Set<string>() };
    this.initiated = s;
    this.out.stats.sessionsStarted++;
    s.s.start();
    this.pump(now, s, true);
  }

  /** A step of a session: ours (from the responder), or a peer's (opened by it). */
  handle(now: number, from: Address, m: StateReconcileMsg): void {
    if (typeof m.rc !== 'object' || m.rc === null || !Number.isSafeInteger(m.session)) throw new MalformedMessage('state-reconcile without a session or message');
    const d: unknown = m.digest;
    if (d !== null && (typeof d !== 'object' || d === undefined || typeof (d as { root?: unknown }).root !== 'object' || (d as { root?: unknown }).root === null)) throw new MalformedMessage('state-reconcile with a malformed digest');
    let s: Session | undefined;
    if (m.fromInitiator) {
      const key = `${from}#${m.session}`;
      s = this.answering.get(key);
      if (s === undefined) {
        if (m.rc.type !== 'rc-open') return; // the rest of a session we dropped
        if (this.answering.size >= this.s.responderSessionsMax) {
          this.out.stats.sessionsRefused++;
          return;
        }
        s = { id: m.session, peer: from, s: new ReconcileSession<Entry>(this.host, 'responder'), deadlineMs: 0, peerDigest: null, sentDigest: false, received: new Set<string>() };
        this.answering.set(key, s);
        this.out.stats.sessionsAnswered++;
      }
    } else {
      s = this.initiated ?? undefined;
      if (s === undefined || s.id !== m.session || s.peer !== from) return; // a session we gave up on
    }
    if (m.digest !== null) {
      s.peerDigest = m.digest;
      this.notePeerRoot(now, from, m.digest.root);
      this.digests.learnRoot(now, m.digest.root);
      this.digests.learnSummary(now, m.digest.summary);
      this.trigger.noteSummary(now, m.digest.summary.summary);
      if (m.digest.stability !== null) this.stability.learn(now, m.digest.stability);
    }
    s.deadlineMs = now + this.s.sessionTimeoutMs;
    s.s.handleMessage(m.rc);
    this.pump(now, s, m.fromInitiator === false);
  }

  /** Drops the sessions that made no progress for `sessionTimeoutMs`. */
  expire(now: number): void {
    const s = this.initiated;
    if (s !== null && now >= s.deadlineMs) {
      this.out.stats.sessionsTimedOut++;
      this.end(s, true, false, 'timed out');
      this.out.budget?.dropSession(s.peer, s.id, true);
    }
    for (const r of [...this.answering.values()]) {
      if (now < r.deadlineMs) continue;
      this.out.stats.sessionsTimedOut++;
      this.end(r, false, false, 'timed out');
      this.out.budget?.dropSession(r.peer, r.id, false);
    }
  }

  /** The earliest session deadline, if before `t`. */
  pollTimeout(t: number): number {
    if (this.initiated !== null && this.initiated.deadlineMs < t) t = this.initiated.deadlineMs;
    for (const s of this.answering.values()) if (s.deadlineMs < t) t = s.deadlineMs;
    return t;
  }

  /** Sends what the session produced, merges what it received, and ends it when done. */
  private pump(now: number, s: Session, initiator: boolean): void {
    for (let rc = s.s.pollMessage(); rc !== undefined; rc = s.s.pollMessage()) {
      const digest = s.sentDigest ? null : this.digests.digest(now);
      s.sentDigest = true;
      this.out.sendRepair(now, s.peer, { type: 'state-reconcile', session: s.id, fromInitiator: initiator, rc, digest });
    }
    for (let e = s.s.pollEntry(); e !== undefined; e = s.s.pollEntry()) {
      s.received.add(e.key);
      if (this.keys.replica.merge(now, e)) {
        this.out.stats.repaired++;
        this.keys.syncKey(e.key);
      }
    }
    if (!s.s.done) return;
    const complete = s.s.complete;
    if (complete) {
      this.out.stats.sessionsComplete++;
      if (s.peerDigest !== null) this.absorb(s);
    } else if (s.s.error === null) this.out.stats.sessionsPartial++;
    else this.out.stats.sessionsFailed++;
    this.end(s, initiator, complete, s.s.error);
  }

  /**
   * After a complete session, everything the peer held when it made its digest is here (theory:
   * absorb only after a complete sync), so its summary fills our gaps (superseded writes); and a
   * tombstone of ours the peer has no entry for while it has seen the delete was collected by the
   * peer (see `Replica.collectSeenBy`): collected here too.
   */
  private absorb(s: Session): void {
    const peerSummary = (s.peerDigest as MemberDigest).summary.summary;
    const replica = this.keys.replica;
    for (const key of s.s.differingKeys()) {
      if (s.received.has(key) || !replica.collectSeenBy(key, peerSummary)) continue;
      this.keys.collected(key);
      this.out.stats.tombstonesCollected++;
      this.out.stats.tombstonesCollectedFromPeers++;
    }
    replica.absorbSummary(peerSummary);
    this.out.stats.summariesAbsorbed++;
    this.keys.summaryDirty = true;
  }

  private end(s: Session, initiator: boolean, complete: boolean, error: string | null): void {
    if (initiator) this.initiated = null;
    else this.answering.delete(`${s.peer}#${s.id}`);
    const st = s.s.stats();
    this.out.events.push({ type: 'session-end', peer: s.peer, role: initiator ? 'initiator' : 'responder', complete, bytes: st.bytesSent + st.bytesReceived, error });
  }
}
