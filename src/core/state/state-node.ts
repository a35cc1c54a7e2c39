import type { MerkleOptions } from '../antientropy/merkle.js';
import { MerkleTree } from '../antientropy/merkle.js';
import type { ReconcileHost } from '../antientropy/session.js';
import { ReconcileSession } from '../antientropy/session.js';
import type { Agreement, ConvergedUpdate } from '../convergence/tracker.js';
import { ConvergenceTracker } from '../convergence/tracker.js';
import type { DisseminationConfig } from '../dissemination/config.js';
import { DEFAULT_DISSEMINATION } from '../dissemination/config.js';
import type { PeerSampler } from '../dissemination/disseminator.js';
import { Disseminator } from '../dissemination/disseminator.js';
import type { DisseminationMessage, GossipReply, UpdateRef } from '../dissemination/messages.js';
import type { TrafficClass } from '../control/bandwidth.js';
import type { Address, Millis } from '../ids.js';
import type { Rng } from '../rng.js';
import type { CausalContext } from '../replica/dvv.js';
import type { Entry } from '../replica/entry.js';
import type { Read, ReplicaOptions } from '../replica/replica.js';
import { Replica } from '../replica/replica.js';
import type { VersionSummary } from '../replica/summary.js';
import { minSummary } from '../replica/summary.js';
import type { Value } from '../replica/value.js';
import type { StateBudgetOptions, StateBudgetStats } from './budget.js';
import { StateBudget, sessionBounds } from './budget.js';
import type { MemberDigest, RootNote, SampleAck, StabilityNote, StateAcksMsg, StateBytes, StateMessage, StateReconcileMsg, StateSizes, SummaryNote } from './messages.js';

/**
 * Rumor settings for state writes: push only (anti-entropy, not digest pulls, repairs what
 * rumors miss), fanout 2 every 100 ms, loss of interest after 2 "already knew" replies, never
 * pushed for more than 20 rounds.
 */
export const STATE_DISSEMINATION: DisseminationConfig = {
  ...DEFAULT_DISSEMINATION,
  mode: 'push',
  fanout: 2,
  intervalMs: 100,
  rumor: 'feedback-counter',
  rumorK: 2,
  maxHotRounds: 20,
  repairEveryRounds: 0,
};

export interface StateNodeOptions {
  /** This node's member name (the replica's origin). */
  readonly name: string;
  readonly rng: Rng;
  readonly now: number;
  /** Live peers' addresses, for rumors, anti-entropy partners and digest relays. */
  readonly peers: PeerSampler;
  /** Bytes of this node's messages on the wire: the wire layer's encoder, counting (`stateSizes(name)` in src/wire/state.ts). */
  readonly sizes: StateSizes;
  /**
   * The node's durable replica, when it restarts with one (an acknowledged write survives a
   * crash): its Merkle tree is rebuilt from it. Otherwise a new replica from `replica`.
   */
  readonly durable?: Replica;
  readonly replica?: Omit<ReplicaOptions, 'node'>;
  /** Restart count (restored by the agent): rumor origins of each life differ. Default 0. */
  readonly incarnation?: number;
  /** Spread local writes by rumor (default true); false leaves everything to anti-entropy. */
  readonly rumors?: boolean;
  readonly dissemination?: Partial<DisseminationConfig>;
  /**
   * A byte budget for everything this node sends: one token bucket for the node's life, shared
   * by the rumor engines of every epoch and the node's own messages (digests, acknowledgements:
   * left to a later round when they do not fit; anti-entropy steps: held until they do, repair
   * class, leaving a packet for rumors while some are hot), membership's bytes charged first
   * (`chargeMembership`). Default: `dissemination.budget` if set, else none.
   */
  readonly budget?: StateBudgetOptions;
  /**
   * The rumor engine keeps every update it has seen (to deduplicate); a new engine ("epoch")
   * starts every `rumorEpochMs` and the previous one is kept one more epoch to recognise late
   * duplicates, so memory is two epochs of updates. Default 4 × maxHotRounds × intervalMs.
   */
  readonly rumorEpochMs?: number;
  /** Merkle tree shape (same on every node); default fan-out 16, depth 3 (4,096 leaves: ~10⁴ keys). */
  readonly merkle?: MerkleOptions;
  /** One anti-entropy session with a random live peer every this often (± half, jittered). Default 1,000 ms. */
  readonly antiEntropyIntervalMs?: number;
  /** A session with no progress for this long is dropped (a lost message). Default 2,000 ms. */
  readonly sessionTimeoutMs?: number;
  /** Sessions answered at once; an open beyond it is ignored (the initiator times out). Default 4. */
  readonly responderSessionsMax?: number;
  /**
   * Digest round: to `digestFanout` random peers, the roots of every member that changed in
   * the last `rootRecentMs` (own included) and this node's summary plus a few known ones.
   * Default 1,000 ms.
   */
  readonly digestIntervalMs?: number;
  /**
   * A node is active for this long after its state changed, a member joined, or a peer's root
   * differed from its own (and while it has acknowledgements to send or takes part in a stability
   * generation): digest rounds every `digestIntervalMs` and anti-entropy sessions. Otherwise it is
   * idle: one digest (its root alone) to one random peer every `idleDigestIntervalMs`, no session
   * (a receiver whose root differs starts one), so an idle cluster costs a few bytes per node per
   * second, whatever its size. Default 10,000 ms.
   */
  readonly activeWindowMs?: number;
  /** Digest period of an idle node (see `activeWindowMs`). Default 30,000 ms (memberlist's push-pull period). */
  readonly idleDigestIntervalMs?: number;
  /**
   * Until one anti-entropy session has completed, a peer whose root is not known gets a session,
   * not a root probe: a node that must learn a peer's summary (restarted without its history)
   * cannot rely on roots alone, which may be equal. Default false.
   */
  readonly syncFirst?: boolean;
  /** Other members' roots relayed per digest message at most (see `recentRoots`). Default 16. */
  readonly rootsPerMessage?: number;
  /** Peers per digest round. Default 2. */
  readonly digestFanout?: number;
  /** Roots younger than this are relayed. Default 30,000 ms. */
  readonly rootRecentMs?: number;
  /** Own version summary re-made at most this often (and on every anti-entropy session). Default 2,000 ms. */
  readonly summaryIntervalMs?: number;
  /** Summaries per digest message, own included. Default 4. */
  readonly summariesPerMessage?: number;
  /**
   * Length of a stability generation (clock-aligned): in each, every member contributes its
   * version summary once to an aggregate the nodes merge as they relay digests (see
   * `StabilityNote`); a node that has every live member's contribution collects the tombstones
   * the aggregate's minimum covers, the same ones on every node. It must exceed the time the
   * aggregate takes to reach everyone (a few digest rounds × log n). Default 15,000 ms.
   */
  readonly stabilityGenerationMs?: number;
  /**
   * Collection is tried when a generation completes and also every this often, on multiples of it
   * (clock time), for members gone meanwhile. Default 5,000 ms.
   */
  readonly collectIntervalMs?: number;
  /**
   * A member that died or left still counts for tombstone collection, with its last summary,
   * for this long (until it would be reaped): a node down for less cannot bring back a write
   * concurrent with a collected delete (see `Replica.collectTombstones`). Default 60,000 ms.
   */
  readonly goneMemberHoldMs?: number;
  /**
   * A tombstone is collected only after it has been dead here this long, besides every
   * counted member's summary covering it. Default 0 (`goneMemberHoldMs` does the waiting).
   */
  readonly tombstoneGraceMs?: number;
  /**
   * Writes whose dot counter is a multiple of this are sampled: the writer times each until every
   * live member has it, and every member acknowledges the sampled writes of others straight to
   * their writer (`state-acks`) when its state first reflects them. The same on every node (a
   * member acknowledges by this rule). 1 samples every write; 0 none. Default 100.
   */
  readonly sampleEvery?: number;
  /**
   * A member's address from its name, to acknowledge sampled writes to their writer (undefined:
   * not reachable, the acknowledgement is dropped). Without it, no acknowledgements are sent and
   * writers time samples from summaries and stability generations only (upper bounds).
   */
  readonly addressOf?: (name: string) => Address | undefined;
  /** Acknowledgements per writer per digest round at most (the rest are dropped). Default 256. */
  readonly acksPerMessage?: number;
  /**
   * Each acknowledgement goes in this many consecutive digest rounds (the writer counts it once):
   * a sample needs every member's, so one lost packet would leave it to the slower bounds.
   * Default 3.
   */
  readonly ackRepeats?: number;
  /**
   * Durability hook: called with every change of a key's state (local writes, merged rumors and
   * repairs, collected tombstones as `undefined`) before the operation returns, so a local
   * write is on disk when it is acknowledged. The dot counter survives through
   * `replica.counterStart` (restart never reuses a dot).
   */
  readonly onEntryChange?: (key: string, entry: Entry | undefined) => void;
}

export type StateEvent =
  | { readonly type: 'update-everywhere'; readonly update: ConvergedUpdate }
  | {
      readonly type: 'session-end';
      readonly peer: Address;
      readonly role: 'initiator' | 'responder';
      readonly complete: boolean;
      readonly bytes: number;
      readonly error: string | null;
    }
  | { readonly type: 'protocol-error'; readonly from: Address; readonly detail: string };

export interface StateTransmit {
  readonly to: Address;
  readonly message: StateMessage;
  readonly bytes: number;
}

export interface StateNodeStats {
  /** Bytes sent, by what they carried. */
  rumorBytes: number;
  antiEntropyBytes: number;
  digestBytes: number;
  rumorsPublished: number;
  /** Local writes whose entry did not fit a rumor packet: left to anti-entropy. */
  rumorsTooLarge: number;
  /** Rumored entries that changed this replica. */
  rumorsApplied: number;
  /** Late duplicates of a previous epoch's rumors, answered as known. */
  rumorsLateDuplicate: number;
  sessionsStarted: number;
  sessionsAnswered: number;
  sessionsComplete: number;
  sessionsFailed: number;
  sessionsTimedOut: number;
  sessionsRefused: number;
  /** Sessions that ended well but left differing entries for a later one (a byte budget's bounded walk, entries gone meanwhile). */
  sessionsPartial: number;
  /** Anti-entropy rounds skipped because the chosen peer last reported this node's root. */
  sessionsSkippedEqual: number;
  /** Anti-entropy rounds that sent the root alone to a peer whose root was not known. */
  rootProbes: number;
  /** Entries received by anti-entropy that changed this replica. */
  repaired: number;
  summariesAbsorbed: number;
  tombstonesCollected: number;
  /** Of those, collected because an anti-entropy peer had collected them (`Replica.collectSeenBy`). */
  tombstonesCollectedFromPeers: number;
  /** Stability generations this node saw complete (every live member contributed). */
  generationsComplete: number;
  /** Acknowledgements of others' sampled writes sent; dropped (writer unreachable, or over the cap). */
  acksSent: number;
  acksDropped: number;
  /** Acknowledgements of this node's sampled writes that settled a member. */
  acksApplied: number;
  malformed: number;
  /** Stability notes refused because their generation length differs from this node's (a setting that must match everywhere). */
  stabilityMismatched: number;
}

/** A stability generation's aggregate as this node holds it (see `StabilityNote`). */
interface Stability {
  readonly gen: number;
  readonly min: Map<string, number>;
  readonly members: Set<string>;
  latestMs: number;
}

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

const NO_SUMMARY: VersionSummary = new Map<string, number>();

/**
 * One node's replicated state, sans-IO: K's `Replica`, a `Disseminator<Entry>` spreading each
 * local write as a rumor carrying the key's entry (receivers merge it), M's Merkle tree updated
 * on every local or remote change, periodic anti-entropy with a random live peer through M's
 * `ReconcileSession` (only differing subtrees are walked, only differing entries travel, both
 * ways), and M's `ConvergenceTracker` fed with digests (root + version summary) relayed between
 * members, from which the node reports the fraction of live members that agree with it and the
 * time until every live member had sampled updates. Tombstones are collected only when every
 * live member has seen them: time is cut into stability generations, in each every member
 * contributes its version summary once to an aggregate the nodes merge as they relay digests
 * (`StabilityNote`: pointwise minimum + contributors), and a node holding every live member's
 * contribution collects what the minimum covers (members that died within `goneMemberHoldMs`
 * counted with their last summary). Each member gave everyone the same snapshot, so the nodes
 * that complete a generation collect the same tombstones; one that did not follows when an
 * anti-entropy peer shows it has collected a tombstone it still holds (`Replica.collectSeenBy`).
 * A node that comes back after a collection is repaired by the replica's stale-dot rules
 * (seen-but-not-held dots dropped, death certificates re-issued), not resurrecting deleted keys.
 *
 * Writes are acknowledged once applied locally and queued for spreading; durability is the
 * agent's (the simulator models it by handing the same `Replica` to the restarted node).
 *
 * Driver: `handleMessage(now, from, msg)`, `handleTimeout(now)`, `pollTransmit()`,
 * `pollEvent()`, `pollTimeout()`; membership through `handleMemberAlive/Gone` (names, for
 * digests and collection) and the `PeerSampler` (addresses, for partners).
 */
export class StateNode {
  readonly name: string;
  readonly replica: Replica;
  readonly tree: MerkleTree;
  readonly tracker: ConvergenceTracker;
  readonly stats: StateNodeStats = {
    rumorBytes: 0, antiEntropyBytes: 0, digestBytes: 0, rumorsPublished: 0, rumorsTooLarge: 0, rumorsApplied: 0, rumorsLateDuplicate: 0,
    sessionsStarted: 0, sessionsAnswered: 0, sessionsComplete: 0, sessionsFailed: 0, sessionsTimedOut: 0, sessionsRefused: 0, sessionsPartial: 0, sessionsSkippedEqual: 0, rootProbes: 0,
    repaired: 0, summariesAbsorbed: 0, tombstonesCollected: 0, tombstonesCollectedFromPeers: 0, generationsComplete: 0, acksSent: 0, acksDropped: 0, acksApplied: 0, malformed: 0, stabilityMismatched: 0,
  };

  private readonly rng: Rng;
  private readonly peers: PeerSampler;
  private readonly sizes: StateSizes;
  private readonly rumorsOn: boolean;
  private readonly dissemination: DisseminationConfig;
  /** The byte budget (null: none), one for the node's whole life. */
  private readonly budget: StateBudget | null;
  private readonly incarnation: number;
  private readonly rumorEpochMs: number;
  private epoch = 0;
  private rumor: Disseminator<Entry> | null;
  private previous: Disseminator<Entry> | null = null;
  private nextEpochMs: number;
  private readonly aeIntervalMs: number;
  private readonly sessionTimeoutMs: number;
  private readonly responderMax: number;
  private readonly digestIntervalMs: number;
  private readonly digestFanout: number;
  private readonly rootRecentMs: number;
  private readonly summaryIntervalMs: number;
  private readonly summariesPerMessage: number;
  private readonly holdMs: number;
  /** Members gone, still counted for collection until the time given. */
  private readonly gone = new Map<string, number>();
  private readonly collectIntervalMs: number;
  private readonly generationMs: number;
  /** This generation's partial aggregate, and the last complete one (null: none yet). */
  private agg: Stability | null = null;
  private stable: Stability | null = null;
  private readonly graceMs: number;
  private readonly sampleEvery: number;
  private readonly addressOf: ((name: string) => Address | undefined) | undefined;
  private readonly acksPerMessage: number;
  private readonly ackRepeats: number;
  /** Acknowledgements to send, by writer, at the next digest rounds (each `left` more times). */
  private readonly acks = new Map<string, { readonly ack: SampleAck; left: number }[]>();
  private readonly activeWindowMs: number;
  private readonly rootsPerMessage: number;
  private readonly syncFirst: boolean;
  private readonly idleDigestIntervalMs: number;
  /** When this node last had a reason to be active (see `activeWindowMs`). */
  private lastActiveMs: number;
  /** The root each direct peer last reported as its own (digests and session digests), by address. */
  private readonly peerRoots = new Map<Address, { readonly hi: number; readonly lo: number }>();
  private nextAeMs: number;
  private nextDigestMs: number;
  private nextCollectMs: number;
  private initiated: Session | null = null;
  private readonly answering = new Map<string, Session>();
  private nextSessionId = 0;
  private readonly host: ReconcileHost<Entry>;
  private readonly outbox: StateTransmit[] = [];
  private outHead = 0;
  private readonly events: StateEvent[] = [];
  private eventHead = 0;
  private readonly live = new Set<string>();
  private readonly roots = new Map<string, RootNote>();
  private readonly summaries = new Map<string, SummaryNote>();
  private ownRoot: RootNote;
  private ownSummary: SummaryNote;
  private rootDirty = true;
  private summaryDirty = true;
  private ownSeq = 0;
  private readonly hashScratch = new Uint32Array(2);
  private readonly onEntryChange: ((key: string, entry: Entry | undefined) => void) | undefined;

  constructor(o: StateNodeOptions) {
    this.name = o.name;
    this.rng = o.rng;
    this.peers = o.peers;
    this.sizes = o.sizes;
    this.replica = o.durable ?? new Replica({ ...o.replica, node: o.name });
    if (this.replica.node !== o.name) throw new RangeError(`StateNode: durable replica belongs to ${this.replica.node}, not ${o.name}`);
    this.tree = new MerkleTree({ fanout: o.merkle?.fanout ?? 16, depth: o.merkle?.depth ?? 3 });
    for (const key of this.replica.keys()) this.syncKey(key);
    this.onEntryChange = o.onEntryChange;
    this.rumorsOn = o.rumors ?? true;
    this.dissemination = { ...STATE_DISSEMINATION, ...o.dissemination };
    const b = o.budget ?? this.dissemination.budget;
    this.budget = b === null || b === undefined ? null : new StateBudget(b, o.now);
    this.incarnation = o.incarnation ?? 0;
    this.rumorEpochMs = o.rumorEpochMs ?? 4 * this.dissemination.maxHotRounds * this.dissemination.intervalMs;
    this.rumor = this.rumorsOn ? this.newRumorEngine(o.now) : null;
    this.nextEpochMs = o.now + this.rumorEpochMs;
    this.aeIntervalMs = o.antiEntropyIntervalMs ?? 1000;
    this.sessionTimeoutMs = o.sessionTimeoutMs ?? 2000;
    this.responderMax = o.responderSessionsMax ?? 4;
    this.digestIntervalMs = o.digestIntervalMs ?? 1000;
    this.digestFanout = o.digestFanout ?? 2;
    this.rootRecentMs = o.rootRecentMs ?? 30_000;
    this.summaryIntervalMs = o.summaryIntervalMs ?? 2000;
    this.summariesPerMessage = o.summariesPerMessage ?? 4;
    this.holdMs = o.goneMemberHoldMs ?? 60_000;
    this.collectIntervalMs = o.collectIntervalMs ?? 5000;
    this.generationMs = o.stabilityGenerationMs ?? 15_000;
    if (!(this.generationMs > 0)) throw new RangeError(`StateNode: stabilityGenerationMs must be > 0, got ${this.generationMs}`);
    this.graceMs = o.tombstoneGraceMs ?? 0;
    this.sampleEvery = o.sampleEvery ?? 100;
    if (!Number.isSafeInteger(this.sampleEvery) || this.sampleEvery < 0) throw new RangeError(`StateNode: sampleEvery must be a whole number ≥ 0, got ${this.sampleEvery}`);
    this.addressOf = o.addressOf;
    this.acksPerMessage = o.acksPerMessage ?? 256;
    this.ackRepeats = o.ackRepeats ?? 3;
    if (!Number.isSafeInteger(this.ackRepeats) || this.ackRepeats < 1) throw new RangeError(`StateNode: ackRepeats must be a whole number ≥ 1, got ${this.ackRepeats}`);
    if (this.addressOf !== undefined) this.replica.watchSampled(this.sampleEvery);
    this.tracker = new ConvergenceTracker(o.name);
    this.live.add(o.name);
    this.activeWindowMs = o.activeWindowMs ?? 10_000;
    this.rootsPerMessage = o.rootsPerMessage ?? 16;
    this.syncFirst = o.syncFirst ?? false;
    this.idleDigestIntervalMs = o.idleDigestIntervalMs ?? 30_000;
    this.lastActiveMs = o.now;
    this.nextAeMs = o.now + this.rng.next() * this.aeIntervalMs;
    this.nextDigestMs = o.now + this.rng.next() * this.digestIntervalMs;
    this.nextCollectMs = alignedAfter(o.now, this.collectIntervalMs);
    this.host = {
      tree: this.tree,
      entryFor: (key: string) => this.replica.entry(key),
      messageBytes: (m) => this.sizes.reconcile(m),
      ...(this.budget === null ? {} : sessionBounds(this.budget, this.tree.fanout)),
    };
    this.ownRoot = this.makeRoot(o.now);
    this.ownSummary = this.makeSummary(o.now);
  }

  // ---- replica operations (acknowledged when applied here; spread afterwards) ----------------

  put(now: number, key: string, value: Value, context?: CausalContext): CausalContext {
    const ctx = this.replica.put(now, key, value, context);
    this.wrote(now, key);
    return ctx;
  }

  delete(now: number, key: string, context?: CausalContext): void {
    this.replica.delete(now, key, context);
    this.wrote(now, key);
  }

  increment(now: number, key: string, by = 1): number {
    const v = this.replica.increment(now, key, by);
    this.wrote(now, key);
    return v;
  }

  decrement(now: number, key: string, by = 1): number {
    const v = this.replica.decrement(now, key, by);
    this.wrote(now, key);
    return v;
  }

  add(now: number, key: string, element: string): void {
    this.replica.add(now, key, element);
    this.wrote(now, key);
  }

  remove(now: number, key: string, element: string): void {
    this.replica.remove(now, key, element);
    this.wrote(now, key);
  }

  mapIncrement(now: number, key: string, field: string, by = 1): void {
    this.replica.mapIncrement(now, key, field, by);
    this.wrote(now, key);
  }

  mapAdd(now: number, key: string, field: string, element: string): void {
    this.replica.mapAdd(now, key, field, element);
    this.wrote(now, key);
  }

  mapRemove(now: number, key: string, field: string, element: string): void {
    this.replica.mapRemove(now, key, field, element);
    this.wrote(now, key);
  }

  mapSet(now: number, key: string, field: string, value: Value): void {
    this.replica.mapSet(now, key, field, value);
    this.wrote(now, key);
  }

  mapRemoveField(now: number, key: string, field: string): void {
    this.replica.mapRemoveField(now, key, field);
    this.wrote(now, key);
  }

  get(key: string): Read | undefined {
    return this.replica.get(key);
  }

  list(prefix = ''): string[] {
    return this.replica.list(prefix);
  }

  // ---- membership -----------------------------------------------------------------------------

  /** A member is alive: its digest counts for agreement and tombstone collection. */
  handleMemberAlive(now: number, name: string): void {
    if (name === this.name || this.live.has(name)) return;
    // Our first peer (we joined): exchange digests and reconcile now. Others joining an existing
    // cluster do not wake it: a joiner is active itself and its digests show any difference.
    if (this.live.size === 1) this.markActive(now);
    this.live.add(name);
    this.gone.delete(name);
    this.tracker.handleMemberAlive(now, name);
    this.feedTracker(now, name);
  }

  /** A member died or left: it no longer holds up collection or agreement. */
  handleMemberGone(now: number, name: string): void {
    if (name === this.name || !this.live.delete(name)) return;
    this.gone.set(name, now + this.holdMs);
    this.tracker.handleMemberGone(now, name);
  }

  /** Replaces the live member set (names, self optional). */
  setMembers(now: number, names: Iterable<string>): void {
    const next = new Set(names);
    for (const n of [...this.live]) if (n !== this.name && !next.has(n)) this.handleMemberGone(now, n);
    for (const n of next) this.handleMemberAlive(now, n);
  }

  /**
   * The highest counter of `origin`'s writes that a live member's latest summary says it has
   * seen (0 if none). A node that restarted without its history learns from it how far its
   * previous life got: it must not write (reuse a dot) until its own counter reaches it.
   */
  counterHeard(origin: string = this.name): number {
    let n = 0;
    for (const [member, note] of this.summaries) {
      if (!this.live.has(member)) continue;
      const c = note.summary.get(origin) ?? 0;
      if (c > n) n = c;
    }
    return n;
  }

  get liveMembers(): number {
    return this.live.size;
  }

  // ---- convergence ----------------------------------------------------------------------------

  /** Merkle root as 16 hex digits (equal roots ⇔ equal states, up to 64-bit collisions). */
  root(): string {
    return this.tree.root();
  }

  /** Fraction of live members whose latest root equals this node's. */
  agreement(now: number): Agreement {
    this.refreshRoot(now);
    return this.tracker.agreement(now);
  }

  /** This node's current digest (what it piggybacks on anti-entropy). */
  digest(now: number): MemberDigest {
    this.refreshRoot(now);
    this.refreshSummary(now, true);
    return { root: this.ownRoot, summary: this.ownSummary, stability: this.stabilityWanted(now) ? this.stabilityNote(now) : null };
  }

  // ---- driver ---------------------------------------------------------------------------------

  pollTransmit(): StateTransmit | undefined {
    if (this.outHead >= this.outbox.length) {
      if (this.outHead > 0) {
        this.outbox.length = 0;
        this.outHead = 0;
      }
      return undefined;
    }
    const t = this.outbox[this.outHead] as StateTransmit;
    this.outbox[this.outHead++] = undefined as unknown as StateTransmit;
    return t;
  }

  pollEvent(): StateEvent | undefined {
    if (this.eventHead >= this.events.length) {
      if (this.eventHead > 0) {
        this.events.length = 0;
        this.eventHead = 0;
      }
      return undefined;
    }
    const e = this.events[this.eventHead] as StateEvent;
    this.events[this.eventHead++] = undefined as unknown as StateEvent;
    return e;
  }

  pollTimeout(): Millis | undefined {
    let t = Math.min(this.nextAeMs, this.nextDigestMs, this.nextCollectMs);
    if (this.rumor !== null) {
      t = Math.min(t, this.nextEpochMs);
      const r = this.rumor.pollTimeout();
      if (r !== undefined && r < t) t = r;
    }
    if (this.previous !== null) {
      const r = this.previous.pollTimeout();
      if (r !== undefined && r < t) t = r;
    }
    const held = this.budget?.heldReadyAtMs(this.reserveFor('repair'));
    if (held !== undefined && held < t) t = held;
    if (this.initiated !== null && this.initiated.deadlineMs < t) t = this.initiated.deadlineMs;
    for (const s of this.answering.values()) if (s.deadlineMs < t) t = s.deadlineMs;
    return t as Millis;
  }

  /** Membership's bytes are charged to the node's byte budget first (on credit: they never wait). */
  chargeMembership(now: Millis, bytes: number): void {
    this.budget?.charge(now, bytes, 'membership');
  }

  /**
   * Bytes a message of this node takes on the wire beyond what the node counted for it (the
   * runtime's encoding, a stream's TCP segments), charged on credit: the runtime holds the
   * message until the debt is repaid (`budgetClear`), and everything else waits behind it.
   */
  chargeUncounted(now: Millis, bytes: number): void {
    this.budget?.charge(now, bytes, 'normal');
  }

  /** Whether the budget is out of debt now (always, without one). */
  budgetClear(now: Millis): boolean {
    return this.budget === null || this.budget.available(now) >= 0;
  }

  /** When the budget will be out of debt (as of the latest input). */
  budgetClearAtMs(): number {
    return this.budget === null ? -Infinity : this.budget.readyAtLatestMs(0, false);
  }

  /** The byte budget's counters (null without a budget). */
  get budgetStats(): Readonly<StateBudgetStats> | null {
    return this.budget?.stats ?? null;
  }

  handleTimeout(now: Millis): void {
    const t = now as number;
    if (this.rumor !== null) {
      if (t >= this.nextEpochMs) {
        this.previous?.shutdown();
        this.previous = this.rumor;
        this.rumor = this.newRumorEngine(t);
        this.nextEpochMs = t + this.rumorEpochMs;
      }
      this.rumor.handleTimeout(now);
      this.drainRumor(t, this.rumor);
    }
    if (this.previous !== null) {
      this.previous.handleTimeout(now);
      this.drainRumor(t, this.previous);
    }
    this.releaseHeld(t);
    this.expireSessions(t);
    if (this.rootDirty) this.markActive(t);
    const active = this.isActive(t);
    if (t >= this.nextAeMs) {
      if (active) {
        this.nextAeMs = t + this.aeIntervalMs * (0.5 + this.rng.next());
        this.startSession(t, null);
      } else this.nextAeMs = t + this.idleDigestIntervalMs; // idle: sessions start from a differing digest
    }
    if (t >= this.nextDigestMs) {
      if (active) {
        this.nextDigestMs = t + this.digestIntervalMs;
        this.relayDigests(t);
        this.sendAcks(t);
      } else {
        this.nextDigestMs = t + this.idleDigestIntervalMs;
        this.sendIdleDigest(t);
      }
    }
    if (t >= this.nextCollectMs) {
      this.nextCollectMs = alignedAfter(t, this.collectIntervalMs);
      this.collect(t);
    }
  }

  /** A message from a peer. Never throws on bad input: it is counted and reported. */
  handleMessage(now: Millis, from: Address, m: StateMessage): void {
    const t = now as number;
    try {
      switch (m.type) {
        case 'state-rumor':
          this.onRumor(t, from, m.gossip);
          return;
        case 'state-reconcile':
          this.onReconcile(t, from, m);
          return;
        case 'state-digests': {
          for (const r of m.roots) this.learnRoot(t, r);
          for (const n of m.summaries) this.learnSummary(t, n);
          if (m.stability !== null) this.learnStability(t, m.stability);
          // The first root is the sender's own: a difference is a reason to reconcile with it now.
          const own = m.roots[0];
          if (own !== undefined && this.notePeerRoot(t, from, own) && this.initiated === null) this.startSession(t, from);
          return;
        }
        case 'state-acks':
          this.onAcks(t, m);
          return;
        default:
          throw new Error(`unknown state message type ${String((m as { type?: unknown }).type)}`);
      }
    } catch (e) {
      this.stats.malformed++;
      this.events.push({ type: 'protocol-error', from, detail: e instanceof Error ? e.message : String(e) });
    } finally {
      this.noteSampled(t);
      if (this.rootDirty) this.markActive(t);
    }
  }

  // ---- activity -------------------------------------------------------------------------------

  /** Something changed or differs: digest rounds and anti-entropy resume now, not at the idle period. */
  private markActive(now: number): void {
    const wasIdle = !this.isActive(now);
    this.lastActiveMs = now;
    if (!wasIdle) return;
    if (this.nextDigestMs > now + this.digestIntervalMs) this.nextDigestMs = now + this.rng.next() * this.digestIntervalMs;
    if (this.nextAeMs > now + this.aeIntervalMs) this.nextAeMs = now + this.aeIntervalMs * (0.5 + this.rng.next());
  }

  private isActive(now: number): boolean {
    return now < this.lastActiveMs + this.activeWindowMs || this.acks.size > 0 || this.initiated !== null || this.answering.size > 0 || this.stabilityWanted(now) || this.syncing;
  }

  /** `syncFirst` and no session has completed yet: sessions run even where roots agree (the runtime waits for one). */
  private get syncing(): boolean {
    return this.syncFirst && this.stats.sessionsComplete === 0;
  }

  /** Records a direct peer's own root; true when it differs from this node's (the node turns active). */
  private notePeerRoot(now: number, from: Address, r: RootNote): boolean {
    this.peerRoots.set(from, { hi: r.rootHi, lo: r.rootLo });
    const differs = r.rootHi !== this.tree.rootHi() || r.rootLo !== this.tree.rootLo();
    if (differs) this.markActive(now);
    return differs;
  }

  /** An idle node's digest: its root alone, to one random peer. */
  private sendIdleDigest(now: number): void {
    this.refreshRoot(now);
    const to = this.peers.sample(1, this.rng)[0];
    if (to === undefined) return;
    this.sendWithin(now, to, { type: 'state-digests', roots: [this.ownRoot], summaries: [], stability: null }, 'repair');
  }

  // ---- acknowledgements of sampled writes -----------------------------------------------------

  /** Sampled writes of others this replica came to reflect: acknowledged to their writers at the next digest round. */
  private noteSampled(now: number): void {
    if (this.addressOf === undefined) return;
    for (const d of this.replica.pollSampledSeen()) {
      let list = this.acks.get(d.origin);
      if (list === undefined) this.acks.set(d.origin, (list = []));
      if (list.length < this.acksPerMessage) list.push({ ack: { counter: d.counter, atMs: now }, left: this.ackRepeats });
      else this.stats.acksDropped++;
    }
  }

  private sendAcks(now: number): void {
    if (this.acks.size === 0 || this.addressOf === undefined) return;
    for (const [origin, pending] of this.acks) {
      const to = this.addressOf(origin);
      if (to === undefined) {
        this.stats.acksDropped += pending.length;
        this.acks.delete(origin);
        continue;
      }
      // Over the budget: they wait for a later round, repeats and all.
      if (!this.sendWithin(now, to, { type: 'state-acks', member: this.name, acks: pending.map((p) => p.ack) }, 'repair')) continue;
      this.stats.acksSent += pending.length;
      let kept = 0;
      for (const p of pending) if (--p.left > 0) pending[kept++] = p;
      pending.length = kept;
      if (kept === 0) this.acks.delete(origin);
    }
  }

  private onAcks(now: number, m: StateAcksMsg): void {
    if (typeof m.member !== 'string' || !Array.isArray(m.acks)) throw new Error('state-acks without a member or acks');
    const acks: SampleAck[] = [];
    for (const a of m.acks as readonly unknown[]) {
      if (typeof a !== 'object' || a === null) throw new Error('state-acks: an ack is not a record');
      const { counter, atMs } = a as { counter?: unknown; atMs?: unknown };
      if (typeof counter !== 'number' || !Number.isSafeInteger(counter) || counter < 1 || typeof atMs !== 'number' || !Number.isFinite(atMs)) throw new Error('state-acks: a bad counter or time');
      acks.push({ counter, atMs });
    }
    for (const a of acks) if (this.tracker.handleAck(now, m.member, this.name, a.counter, a.atMs)) this.stats.acksApplied++;
    this.drainConverged();
  }

  // ---- rumors ---------------------------------------------------------------------------------

  private newRumorEngine(now: number): Disseminator<Entry> {
    const origin = `${this.name}~${this.incarnation}.${this.epoch++}`;
    // One bucket for the node's life: every epoch's engine draws from it (the sizes count the frame with its type byte; the rest is framing).
    const b = this.budget === null ? {} : { bucket: this.budget.bucket, wireOverheadBytes: this.budget.overheadBytes };
    return new Disseminator<Entry>({ origin, config: this.dissemination, rng: this.rng.fork(), now: now as Millis, peers: this.peers, sizes: { update: this.sizes.rumorUpdate, frame: this.sizes.rumorFrame }, ...b });
  }

  private wrote(now: number, key: string): void {
    this.syncKey(key);
    this.markActive(now);
    const entry = this.replica.entry(key);
    if (entry === undefined) return;
    const own = this.replica.lastCounter;
    if (this.sampleEvery > 0 && own % this.sampleEvery === 0) this.tracker.sampleUpdate(now, this.name, own);
    if (this.rumor === null) return;
    try {
      this.rumor.publish(now as Millis, key, entry);
      this.stats.rumorsPublished++;
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      this.stats.rumorsTooLarge++;
    }
    this.drainRumor(now, this.rumor);
  }

  private onRumor(now: number, from: Address, g: DisseminationMessage<Entry>): void {
    if (typeof g !== 'object' || g === null) throw new Error('state-rumor without a gossip message');
    if (this.rumor === null) return;
    if (g.type === 'gossip-reply') {
      this.rumor.handleMessage(now as Millis, from, g);
      this.drainRumor(now, this.rumor);
      if (this.previous !== null) {
        this.previous.handleMessage(now as Millis, from, g);
        this.drainRumor(now, this.previous);
      }
      return;
    }
    let req = g;
    const prev = this.previous;
    if (prev !== null && g.updates.some((u) => prev.has(u.origin, u.version))) {
      // Late duplicates of the previous epoch: answer "known" instead of taking them as new.
      const known: UpdateRef[] = [];
      const keep: number[] = [];
      g.updates.forEach((u, k) => (prev.has(u.origin, u.version) ? known.push({ origin: u.origin, version: u.version }) : keep.push(k)));
      this.stats.rumorsLateDuplicate += known.length;
      req = { ...g, updates: keep.map((k) => g.updates[k] as (typeof g.updates)[number]), hops: g.hops === null ? null : keep.map((k) => g.hops?.[k] ?? 1) };
      if (g.feedback) {
        const reply: GossipReply<Entry> = { type: 'gossip-reply', id: g.id, updates: [], known, floors: [] };
        this.sendWithin(now, from, { type: 'state-rumor', gossip: reply }, 'normal');
      }
    }
    this.rumor.handleMessage(now as Millis, from, req);
    this.drainRumor(now, this.rumor);
  }

  private drainRumor(now: number, d: Disseminator<Entry>): void {
    // The engine counted each message's bytes as it packed it: 1 type byte more here.
    for (let t = d.pollTransmit(); t !== undefined; t = d.pollTransmit()) this.sendRumor(t.to, { type: 'state-rumor', gossip: t.message }, t.bytes);
    for (let e = d.pollEvent(); e !== undefined; e = d.pollEvent()) {
      if (e.type === 'protocol-error') {
        this.stats.malformed++;
        this.events.push({ type: 'protocol-error', from: e.from, detail: e.detail });
        continue;
      }
      if (e.from === null) continue; // our own write, applied already
      if (this.replica.merge(now, e.update.payload)) {
        this.stats.rumorsApplied++;
        this.syncKey(e.update.payload.key);
      }
    }
  }

  // ---- anti-entropy ---------------------------------------------------------------------------

  /** A session with `target`, or with a random peer unless that peer last reported this node's root. */
  private startSession(now: number, target: Address | null): void {
    if (this.initiated !== null) return;
    const peer = target ?? this.peers.sample(1, this.rng)[0];
    if (peer === undefined) return;
    if (this.budget !== null && this.budget.available(now) < this.budget.bucket.burstBytes / 2) {
      this.budget.stats.sessionsDeferred++; // a later round, when the budget has room for it
      return;
    }
    if (target === null) {
      const known = this.peerRoots.get(peer);
      if (known !== undefined && known.hi === this.tree.rootHi() && known.lo === this.tree.rootLo() && !this.syncing) {
        this.stats.sessionsSkippedEqual++;
        return;
      }
      if (known === undefined && !this.syncing) {
        // Not known: our root alone; the peer starts a session if its root differs (equal roots
        // cost a digest, never a session).
        this.refreshRoot(now);
        if (this.sendWithin(now, peer, { type: 'state-digests', roots: [this.ownRoot], summaries: [], stability: null }, 'repair')) this.stats.rootProbes++;
        return;
      }
    }
    const s: Session = { id: ++this.nextSessionId, peer, s: new ReconcileSession<Entry>(this.host, 'initiator'), deadlineMs: now + this.sessionTimeoutMs, peerDigest: null, sentDigest: false, received: new Set<string>() };
    this.initiated = s;
    this.stats.sessionsStarted++;
    s.s.start();
    this.pump(now, s, true);
  }

  private onReconcile(now: number, from: Address, m: StateReconcileMsg): void {
    if (typeof m.rc !== 'object' || m.rc === null || !Number.isSafeInteger(m.session)) throw new Error('state-reconcile without a session or message');
    let s: Session | undefined;
    if (m.fromInitiator) {
      const key = `${from}#${m.session}`;
      s = this.answering.get(key);
      if (s === undefined) {
        if (m.rc.type !== 'rc-open') return; // the rest of a session we dropped
        if (this.answering.size >= this.responderMax) {
          this.stats.sessionsRefused++;
          return;
        }
        s = { id: m.session, peer: from, s: new ReconcileSession<Entry>(this.host, 'responder'), deadlineMs: 0, peerDigest: null, sentDigest: false, received: new Set<string>() };
        this.answering.set(key, s);
        this.stats.sessionsAnswered++;
      }
    } else {
      s = this.initiated ?? undefined;
      if (s === undefined || s.id !== m.session || s.peer !== from) return; // a session we gave up on
    }
    if (m.digest !== null) {
      s.peerDigest = m.digest;
      this.notePeerRoot(now, from, m.digest.root);
      this.learnRoot(now, m.digest.root);
      this.learnSummary(now, m.digest.summary);
      if (m.digest.stability !== null) this.learnStability(now, m.digest.stability);
    }
    s.deadlineMs = now + this.sessionTimeoutMs;
    s.s.handleMessage(m.rc);
    this.pump(now, s, m.fromInitiator === false);
  }

  /** Sends what the session produced, merges what it received, and ends it when done. */
  private pump(now: number, s: Session, initiator: boolean): void {
    for (let rc = s.s.pollMessage(); rc !== undefined; rc = s.s.pollMessage()) {
      const digest = s.sentDigest ? null : this.digest(now);
      s.sentDigest = true;
      this.sendRepair(now, s.peer, { type: 'state-reconcile', session: s.id, fromInitiator: initiator, rc, digest });
    }
    for (let e = s.s.pollEntry(); e !== undefined; e = s.s.pollEntry()) {
      s.received.add(e.key);
      if (this.replica.merge(now, e)) {
        this.stats.repaired++;
        this.syncKey(e.key);
      }
    }
    if (!s.s.done) return;
    const complete = s.s.complete;
    if (complete) {
      this.stats.sessionsComplete++;
      if (s.peerDigest !== null) {
        // Everything the peer held when it made this digest is here now (theory: absorb only
        // after a complete sync), so its summary fills our gaps (superseded writes).
        const peerSummary = s.peerDigest.summary.summary;
        // A tombstone of ours the peer has no entry for while it has seen the delete: the peer
        // collected it (see `Replica.collectSeenBy`), so collect it here too.
        for (const key of s.s.differingKeys()) {
          if (s.received.has(key) || !this.replica.collectSeenBy(key, peerSummary)) continue;
          this.tree.delete(key);
          this.onEntryChange?.(key, undefined);
          this.stats.tombstonesCollected++;
          this.stats.tombstonesCollectedFromPeers++;
          this.rootDirty = true;
        }
        this.replica.absorbSummary(peerSummary);
        this.stats.summariesAbsorbed++;
        this.summaryDirty = true;
      }
    } else if (s.s.error === null) this.stats.sessionsPartial++;
    else this.stats.sessionsFailed++;
    this.endSession(s, initiator, complete, s.s.error);
  }

  private endSession(s: Session, initiator: boolean, complete: boolean, error: string | null): void {
    if (initiator) this.initiated = null;
    else this.answering.delete(`${s.peer}#${s.id}`);
    const st = s.s.stats();
    this.events.push({ type: 'session-end', peer: s.peer, role: initiator ? 'initiator' : 'responder', complete, bytes: st.bytesSent + st.bytesReceived, error });
  }

  private expireSessions(now: number): void {
    const s = this.initiated;
    if (s !== null && now >= s.deadlineMs) {
      this.stats.sessionsTimedOut++;
      this.endSession(s, true, false, 'timed out');
      this.budget?.dropSession(s.peer, s.id, true);
    }
    for (const r of [...this.answering.values()]) {
      if (now < r.deadlineMs) continue;
      this.stats.sessionsTimedOut++;
      this.endSession(r, false, false, 'timed out');
      this.budget?.dropSession(r.peer, r.id, false);
    }
  }

  // ---- digests, convergence, collection -------------------------------------------------------

  private makeRoot(now: number): RootNote {
    this.rootDirty = false;
    return { member: this.name, atMs: now, seq: ++this.ownSeq, rootHi: this.tree.rootHi(), rootLo: this.tree.rootLo() };
  }

  private makeSummary(now: number): SummaryNote {
    this.summaryDirty = false;
    return { member: this.name, atMs: now, seq: ++this.ownSeq, summary: this.replica.versionSummary() };
  }

  private refreshRoot(now: number): void {
    if (!this.rootDirty) return;
    const r = this.makeRoot(now);
    if (r.rootHi === this.ownRoot.rootHi && r.rootLo === this.ownRoot.rootLo) return; // back where it was: keep the older note
    this.ownRoot = r;
    this.tracker.handleLocalDigest(now, { rootHi: r.rootHi, rootLo: r.rootLo, summary: this.ownSummary.summary });
    this.drainConverged();
  }

  /** Re-makes the own summary when it may have changed, at most every `summaryIntervalMs` unless `force`. */
  private refreshSummary(now: number, force: boolean): void {
    if (!this.summaryDirty || (!force && now < this.ownSummary.atMs + this.summaryIntervalMs)) return;
    this.ownSummary = this.makeSummary(now);
    this.tracker.handleLocalDigest(now, { rootHi: this.ownRoot.rootHi, rootLo: this.ownRoot.rootLo, summary: this.ownSummary.summary });
    this.drainConverged();
  }

  private learnRoot(now: number, r: RootNote): void {
    if (typeof r !== 'object' || r === null || typeof r.member !== 'string' || !Number.isFinite(r.atMs) || !Number.isFinite(r.seq)) throw new Error('malformed root note');
    if (r.member === this.name) return;
    const k = this.roots.get(r.member);
    if (k !== undefined && (k.atMs > r.atMs || (k.atMs === r.atMs && k.seq >= r.seq))) return;
    this.roots.set(r.member, r);
    this.feedTracker(now, r.member);
  }

  private learnSummary(now: number, n: SummaryNote): void {
    if (typeof n !== 'object' || n === null || typeof n.member !== 'string' || !(n.summary instanceof Map) || !Number.isFinite(n.atMs)) throw new Error('malformed summary note');
    if (n.member === this.name) return;
    const k = this.summaries.get(n.member);
    if (k !== undefined && (k.atMs > n.atMs || (k.atMs === n.atMs && k.seq >= n.seq))) return;
    this.summaries.set(n.member, n);
    this.feedTracker(now, n.member);
  }

  /** The tracker sees a live member's latest root with its latest summary. */
  private feedTracker(now: number, member: string): void {
    if (!this.live.has(member)) return;
    const r = this.roots.get(member);
    if (r === undefined) return;
    const n = this.summaries.get(member);
    this.tracker.handleDigest(now, member, { rootHi: r.rootHi, rootLo: r.rootLo, summary: n?.summary ?? NO_SUMMARY }, n?.atMs ?? now);
    this.drainConverged();
  }

  private relayDigests(now: number): void {
    this.refreshRoot(now);
    this.refreshSummary(now, false);
    const peers = this.peers.sample(this.digestFanout, this.rng);
    if (peers.length === 0) return;
    const roots: RootNote[] = [this.ownRoot, ...this.recentRoots(now)];
    const all = [...this.summaries.values()];
    const stability = this.stabilityWanted(now) ? this.stabilityNote(now) : null;
    for (const to of peers) {
      const summaries: SummaryNote[] = [this.ownSummary];
      for (let k = 1; k < this.summariesPerMessage && all.length > 0; k++) summaries.push(all[this.rng.int(all.length)] as SummaryNote);
      this.sendWithin(now, to, { type: 'state-digests', roots, summaries, stability }, 'repair');
    }
  }

  /**
   * Other members' recent roots to relay, at most `rootsPerMessage`: those that differ from ours
   * first (they matter for repair), then a random choice of the rest (they spread agreement). A
   * digest stays O(1) in the cluster size.
   */
  private recentRoots(now: number): RootNote[] {
    const hi = this.tree.rootHi();
    const lo = this.tree.rootLo();
    const differing: RootNote[] = [];
    const equal: RootNote[] = [];
    for (const r of this.roots.values()) {
      if (r.atMs < now - this.rootRecentMs) continue;
      (r.rootHi === hi && r.rootLo === lo ? equal : differing).push(r);
    }
    const out = differing.length <= this.rootsPerMessage ? differing : pick(differing, this.rootsPerMessage, this.rng);
    const room = this.rootsPerMessage - out.length;
    if (room > 0) out.push(...(equal.length <= room ? equal : pick(equal, room, this.rng)));
    return out;
  }

  private drainConverged(): void {
    for (let u = this.tracker.pollConverged(); u !== undefined; u = this.tracker.pollConverged()) this.events.push({ type: 'update-everywhere', update: u });
  }

  // ---- stability generations and collection -------------------------------------------------

  /** Moves to the current generation (or `atLeast`), starting its aggregate with this node's summary. */
  private enterGeneration(now: number, atLeast = 0): Stability {
    const gen = Math.max(Math.floor(now / this.generationMs), atLeast);
    if (this.agg !== null && this.agg.gen >= gen) return this.agg;
    this.refreshSummary(now, true);
    const agg: Stability = { gen, min: new Map(this.ownSummary.summary), members: new Set([this.name]), latestMs: now };
    this.agg = agg;
    this.checkStable(now);
    return agg;
  }

  /**
   * Generations run only where they are needed: a node holding tombstones starts one, and a node
   * that received a note of the current generation takes part (contributes and relays) until it
   * ends. With no tombstone anywhere, no stability note travels (it is O(members) bytes).
   */
  private stabilityWanted(now: number): boolean {
    if (this.replica.tombstoneCount > 0) return true;
    const a = this.agg;
    return a !== null && a.gen >= Math.floor(now / this.generationMs) && a.members.size > 1;
  }

  /** The current aggregate as sent (a copy: the aggregate changes after the message leaves). */
  private stabilityNote(now: number): StabilityNote {
    const a = this.enterGeneration(now);
    return { gen: a.gen, genMs: this.generationMs, min: new Map(a.min), members: [...a.members], latestMs: a.latestMs };
  }

  /** Merges a peer's aggregate of the same generation (a later one, up to one ahead, is joined first: clock skew). */
  private learnStability(now: number, n: StabilityNote): void {
    if (typeof n !== 'object' || n === null || !Number.isSafeInteger(n.gen) || n.gen < 0 || !Number.isSafeInteger(n.genMs) || !isMap(n.min) || !Array.isArray(n.members) || !Number.isFinite(n.latestMs)) throw new Error('malformed stability note');
    if (n.genMs !== this.generationMs) {
      // Generation numbers of another length mean other times: merging would count contributions wrongly.
      this.stats.stabilityMismatched++;
      return;
    }
    const current = Math.floor(now / this.generationMs);
    if (n.gen > current + 1) throw new Error(`stability note of generation ${n.gen}, this node is at ${current}: clocks too far apart`);
    const a = this.enterGeneration(now, n.gen);
    if (n.gen < a.gen) return;
    // Checked whole before anything is merged: a contributor counted without its minimum would be unsafe.
    const min = n.min as ReadonlyMap<unknown, unknown>;
    for (const [origin, c] of min) if (typeof origin !== 'string' || typeof c !== 'number' || !Number.isSafeInteger(c) || c < 0) throw new Error('malformed stability note: a bad minimum');
    const fresh: string[] = [];
    for (const m of n.members as readonly unknown[]) {
      if (typeof m !== 'string') throw new Error('malformed stability note: a member is not a name');
      if (!a.members.has(m)) fresh.push(m);
    }
    if (fresh.length === 0) return; // nothing new: its minimum is of contributors already counted
    for (const [origin, c] of a.min) {
      const p = n.min.get(origin) ?? 0;
      if (!(p > 0)) a.min.delete(origin);
      else if (p < c) a.min.set(origin, p);
    }
    for (const m of fresh) a.members.add(m);
    if (n.latestMs > a.latestMs) a.latestMs = n.latestMs;
    this.checkStable(now);
  }

  /** A generation is complete when every live member contributed: its minimum becomes the collection bound. */
  private checkStable(now: number): void {
    const a = this.agg;
    if (a === null || (this.stable !== null && this.stable.gen >= a.gen)) return;
    for (const name of this.live) if (!a.members.has(name)) return;
    this.stable = { gen: a.gen, min: new Map(a.min), members: new Set(a.members), latestMs: a.latestMs };
    this.stats.generationsComplete++;
    // Every member held the minimum by `latestMs`: an upper bound for sampled writes it covers.
    this.tracker.handleStable(now, this.stable.min, this.stable.members, this.stable.latestMs);
    this.drainConverged();
    this.collect(now);
  }

  /**
   * Collects the tombstones the last complete generation's minimum covers, with the last summary
   * of members gone within `goneMemberHoldMs` (none while one is missing, or while a live member
   * did not contribute to that generation: it joined since).
   */
  private collect(now: number): void {
    for (const [name, until] of this.gone) if (now >= until) this.gone.delete(name);
    const st = this.stable;
    if (st === null) return;
    for (const name of this.live) if (!st.members.has(name)) return;
    const summaries: VersionSummary[] = [st.min];
    for (const name of this.gone.keys()) {
      if (st.members.has(name)) continue;
      const n = this.summaries.get(name);
      if (n === undefined) return;
      summaries.push(n.summary);
    }
    const collected = this.replica.collectTombstones(minSummary(summaries), now, this.graceMs);
    if (collected.length === 0) return;
    for (const key of collected) {
      this.tree.delete(key);
      this.onEntryChange?.(key, undefined);
    }
    this.stats.tombstonesCollected += collected.length;
    this.rootDirty = true;
  }

  /** Brings the key's Merkle leaf in line with the replica. */
  private syncKey(key: string): void {
    const h = this.replica.entryHash(key, this.hashScratch);
    if (h === undefined) this.tree.delete(key);
    else this.tree.setHash(key, h);
    this.onEntryChange?.(key, this.replica.entry(key));
    this.rootDirty = true;
    this.summaryDirty = true;
  }

  private sendRumor(to: Address, message: StateMessage, bytes: number): void {
    this.stats.rumorBytes += bytes;
    this.outbox.push({ to, message, bytes });
  }

  /** A message of the node's own within the budget; false (nothing sent) when it does not fit now: the caller leaves it to a later round. */
  private sendWithin(now: number, to: Address, message: StateMessage, cls: TrafficClass): boolean {
    const p = this.sizes.message(message);
    // A held anti-entropy step goes first within its class: digests and acknowledgements do not starve it.
    if (this.budget !== null && ((cls === 'repair' && this.budget.heldCount > 0) || !this.budget.take(now, p.total, cls, this.reserveFor(cls)))) {
      this.budget.stats.deferred++;
      return false;
    }
    this.send(to, message, p);
    return true;
  }

  /** An anti-entropy step: sent now if the budget allows, else held, in order, until it does. */
  private sendRepair(now: number, to: Address, message: StateMessage): void {
    if (this.budget === null) {
      this.send(to, message);
      return;
    }
    this.budget.hold(to, message, this.sizes.message(message));
    this.releaseHeld(now);
  }

  private releaseHeld(now: number): void {
    if (this.budget === null || this.budget.heldCount === 0) return;
    for (const h of this.budget.release(now, this.reserveFor('repair'))) this.send(h.to, h.message, h.parts);
  }

  /** Repair leaves a packet's worth of tokens to rumors while some are hot (critical > normal > repair). */
  private reserveFor(cls: TrafficClass): number {
    if (cls !== 'repair') return 0;
    const hot = (this.rumor?.hotCount ?? 0) + (this.previous?.hotCount ?? 0);
    return hot > 0 ? this.dissemination.packetBytesMax : 0;
  }

  private send(to: Address, message: StateMessage, p: StateBytes = this.sizes.message(message)): void {
    this.stats.rumorBytes += p.rumor;
    this.stats.antiEntropyBytes += p.antiEntropy;
    this.stats.digestBytes += p.digest;
    this.outbox.push({ to, message, bytes: p.total });
  }
}

/** A Map (not a type guard: the note's declared types stay as they are). */
function isMap(v: unknown): boolean {
  return v instanceof Map;
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

/** The first multiple of `intervalMs` after `now`. */
function alignedAfter(now: number, intervalMs: number): number {
  return (Math.floor(now / intervalMs) + 1) * intervalMs;
}
