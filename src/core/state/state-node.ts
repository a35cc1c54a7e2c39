import type { Agreement } from '../convergence/tracker.js';
import { ConvergenceTracker } from '../convergence/tracker.js';
import type { PeerSampler } from '../dissemination/disseminator.js';
import type { Address, Millis, NodeName } from '../ids.js';
import type { CausalContext } from '../replica/dvv.js';
import type { Entry } from '../replica/entry.js';
import type { Read } from '../replica/read.js';
import { Replica } from '../replica/replica.js';
import type { Value } from '../replica/value.js';
import { Acknowledgements } from './acks.js';
import { Activity } from './activity.js';
import { AntiEntropy } from './anti-entropy.js';
import { BroadcastTree } from './broadcast-tree.js';
import type { StateBudgetStats } from './budget.js';
import { StateBudget } from './budget.js';
import { Digests } from './digests.js';
import type { MemberDigest, StateDigestsMsg, StateMessage, StateTreeMsg } from './messages.js';
import { isList, MalformedMessage } from './messages.js';
import type { StateNodeOptions, StateSettings } from './options.js';
import { resolveStateOptions } from './options.js';
import type { StateEvent, StateNodeStats, StateTransmit } from './outbox.js';
import { StateOutbox } from './outbox.js';
import { RepairTrigger } from './repair-trigger.js';
import { ReplicaTree } from './replica-tree.js';
import { Rumors } from './rumors.js';
import { Stability } from './stability.js';

/**
 * One node's replicated state, sans-IO: K's `Replica` and its Merkle tree kept in step
 * (`replica-tree.ts`), each local write spread as a rumor carrying the key's entry (`rumors.ts`),
 * periodic Merkle anti-entropy with a random live peer (`anti-entropy.ts`), convergence digests
 * relayed between members feeding M's `ConvergenceTracker` (`digests.ts`: the fraction of live
 * members that agree with this node, the time until every live member had sampled updates),
 * acknowledgements of sampled writes straight to their writer (`acks.ts`), tombstones collected
 * only once every live member has seen them, by stability generations (`stability.ts`), idle and
 * active mode (`activity.ts`), and everything sent through one byte budget (`outbox.ts`). Every
 * knob and its default: `options.ts`.
 *
 * A node that comes back after a collection is repaired by the replica's stale-dot rules
 * (seen-but-not-held dots dropped, death certificates re-issued), not resurrecting deleted keys.
 * Writes are acknowledged once applied locally and queued for spreading; durability is the
 * agent's (the simulator models it by handing the same `Replica` to the restarted node).
 *
 * This class is the surface and the lifecycle. Driver: `handleMessage(now, from, msg)`,
 * `handleTimeout(now)`, `pollTransmit()`, `pollEvent()`, `pollTimeout()`; membership through
 * `handleMemberAlive/Gone` (names, for digests and collection) and the `PeerSampler` (addresses,
 * for partners). A peer's message that is not one of ours is counted (`stats.malformed`),
 * reported as a `protocol-error` event and dropped; a broken invariant (a bug of ours, a
 * durability hook that throws) surfaces to the caller, never blamed on the peer.
 */
export class StateNode {
  readonly name: NodeName;
  readonly replica: Replica;
  readonly stats: StateNodeStats;

  private readonly settings: StateSettings;
  private readonly keys: ReplicaTree;
  private readonly tracker: ConvergenceTracker;
  private readonly out: StateOutbox;
  /** Live members by name, self included. */
  private readonly live = new Set<string>();
  private readonly rumors: Rumors;
  /** Local writes spread down the writer's tree instead of by rumor when `treeFanout` > 0; a node with 0 merges tree pushes and sends nothing on. */
  private readonly tree: BroadcastTree;
  private readonly acks: Acknowledgements;
  private readonly activity: Activity;
  private readonly digests: Digests;
  private readonly stability: Stability;
  private readonly antiEntropy: AntiEntropy;
  private readonly trigger: RepairTrigger;
  /** The time of the latest input (what a send from `pollTransmit` is charged at). */
  private latestMs: number;

  constructor(o: StateNodeOptions) {
    const s = resolveStateOptions(o);
    this.settings = s;
    this.name = o.name;
    this.latestMs = o.now;
    this.replica = o.durable ?? new Replica({ ...o.replica, node: o.name });
    if (this.replica.node !== o.name) throw new RangeError(`StateNode: durable replica belongs to ${this.replica.node}, not ${o.name}`);
    this.keys = new ReplicaTree(this.replica, s.merkle, o.onEntryChange);
    this.tracker = new ConvergenceTracker(o.name);
    this.live.add(o.name);
    const budget = s.budget === null ? null : new StateBudget(s.budget, o.now);
    this.out = new StateOutbox(o.sizes, budget, s.dissemination.packetBytesMax, () => this.rumors.hotCount, this.tracker);
    this.stats = this.out.stats;
    const peers: PeerSampler = o.peers;
    // The order of these draws from `rng` is part of a seeded run's identity: the rumor engine's
    // fork first, then the two round phases.
    this.rumors = new Rumors(o.name, this.keys, o.rng, peers, o.sizes, this.out, s, o.now);
    this.tree = new BroadcastTree(o.name, this.keys, this.live, this.out, s, s.addressOf ?? (() => undefined), (m: StateTreeMsg) => o.sizes.message(m).total);
    this.acks = new Acknowledgements(o.name, this.replica, this.tracker, this.out, s);
    this.activity = new Activity(o.rng, s, o.now, (now) => this.acks.waiting || this.antiEntropy.open || this.stability.wanted(now) || this.antiEntropy.syncing);
    this.digests = new Digests(o.name, this.keys, this.tracker, this.live, o.rng, peers, this.out, s, (now) => this.stability.noteIfWanted(now), o.now);
    this.stability = new Stability(o.name, this.keys, this.tracker, this.live, this.digests, this.out, s, o.now);
    this.trigger = new RepairTrigger(this.keys, s, o.now);
    this.antiEntropy = new AntiEntropy(this.keys, o.rng, peers, o.sizes, this.out, s, this.digests, this.stability, this.activity, this.trigger);
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

  /**
   * A peer's entry handed over outside rumors and anti-entropy (a quorum write, a quorum read's
   * reply): merged as a rumor's would be (a bad entry is counted by the replica and ignored).
   * True when it changed the state.
   */
  mergeEntry(now: number, entry: Entry): boolean {
    if (!this.replica.merge(now, entry)) return false;
    this.keys.syncKey(entry.key);
    this.acks.noteSampled(now);
    this.activity.markActive(now);
    this.trigger.noteOwnRoot(now);
    return true;
  }

  list(prefix = ''): string[] {
    return this.replica.list(prefix);
  }

  // ---- membership -----------------------------------------------------------------------------

  /** A member is alive: its digest counts for agreement and tombstone collection. */
  handleMemberAlive(now: number, name: NodeName): void {
    if (name === this.name || this.live.has(name)) return;
    this.live.add(name);
    this.tree.membersChanged();
    // Our first peer (we joined, or were joined): our root alone to a few peers, no active window.
    // A peer whose root differs turns active and starts a session; equal roots (both empty, or a
    // restart with the same data) cost these few bytes. Others joining an existing cluster do not
    // wake it either: their probes show any difference.
    if (this.live.size === 2) this.digests.probe(now);
    this.stability.memberAlive(name);
    this.tracker.handleMemberAlive(now, name);
    this.digests.feedTracker(now, name);
  }

  /** A member died or left: it no longer holds up collection or agreement. */
  handleMemberGone(now: number, name: NodeName): void {
    if (name === this.name || !this.live.delete(name)) return;
    this.tree.membersChanged();
    this.stability.memberGone(name, now + this.settings.goneMemberHoldMs);
    this.tracker.handleMemberGone(now, name);
  }

  /** Replaces the live member set (names, self optional). */
  setMembers(now: number, names: Iterable<NodeName>): void {
    const next = new Set<string>(names);
    for (const n of [...this.live]) if (n !== this.name && !next.has(n)) this.handleMemberGone(now, n as NodeName);
    for (const n of next) this.handleMemberAlive(now, n as NodeName);
  }

  /**
   * The highest counter of this node's own writes that a live member's latest summary says it
   * has seen (0 if none). A node that restarted without its history learns from it how far its
   * previous life got: it must not write (reuse a dot) until its own counter reaches it.
   */
  counterHeard(): number {
    return this.digests.counterHeard();
  }

  get liveMembers(): number {
    return this.live.size;
  }

  // ---- convergence ----------------------------------------------------------------------------

  /** Merkle root as 16 hex digits (equal roots ⇔ equal states, up to 64-bit collisions). */
  root(): string {
    return this.keys.tree.root();
  }

  /** Fraction of live members whose latest root equals this node's. */
  agreement(now: number): Agreement {
    this.digests.refreshRoot(now);
    return this.tracker.agreement(now);
  }

  /** This node's current digest (what it piggybacks on anti-entropy). */
  digest(now: number): MemberDigest {
    return this.digests.digest(now);
  }

  // ---- the byte budget ------------------------------------------------------------------------

  /** Membership's bytes are charged to the node's byte budget first (on credit: they never wait). */
  chargeMembership(now: Millis, bytes: number): void {
    this.out.budget?.charge(now, bytes, 'membership');
  }

  /**
   * Bytes a message of this node takes on the wire beyond what the node counted for it (the
   * runtime's encoding, a stream's TCP segments), charged on credit: the runtime holds the
   * message until the debt is repaid (`budgetClear`), and everything else waits behind it.
   */
  chargeUncounted(now: Millis, bytes: number): void {
    this.out.budget?.charge(now, bytes, 'normal');
  }

  /** Whether the budget is out of debt now (always, without one). */
  budgetClear(now: Millis): boolean {
    const b = this.out.budget;
    return b === null || b.available(now) >= 0;
  }

  /** When the budget will be out of debt (as of the latest input). */
  budgetClearAtMs(): number {
    const b = this.out.budget;
    return b === null ? -Infinity : b.readyAtLatestMs(0, false);
  }

  /** The byte budget's counters (null without a budget). */
  get budgetStats(): Readonly<StateBudgetStats> | null {
    return this.out.budget?.stats ?? null;
  }

  // ---- driver ---------------------------------------------------------------------------------

  pollTransmit(): StateTransmit | undefined {
    this.tree.flush(this.latestMs);
    return this.out.transmits.poll();
  }

  pollEvent(): StateEvent | undefined {
    return this.out.events.poll();
  }

  pollTimeout(): Millis | undefined {
    let t = Math.min(this.activity.nextRoundMs(), this.stability.nextCollectMs);
    t = this.rumors.pollTimeout(t);
    const held = this.out.heldReadyAtMs();
    if (held !== undefined && held < t) t = held;
    return this.antiEntropy.pollTimeout(t) as Millis;
  }

  handleTimeout(now: Millis): void {
    const t = now as number;
    this.latestMs = t;
    this.rumors.handleTimeout(t);
    this.out.releaseHeld(t);
    this.antiEntropy.expire(t);
    if (this.keys.rootDirty) this.activity.markActive(t);
    const active = this.activity.isActive(t);
    if (this.activity.antiEntropyDue(t, active)) this.antiEntropy.start(t, null);
    if (this.activity.digestDue(t, active)) {
      if (active) {
        this.digests.relay(t);
        this.acks.send(t);
      } else this.digests.sendIdle(t);
    }
    this.stability.handleTimeout(t);
  }

  /**
   * A message from a peer. A message that is not one of ours (an unknown kind, a bad shape) is
   * counted and reported, never thrown; anything else thrown is a bug of ours and surfaces.
   */
  handleMessage(now: Millis, from: Address, m: StateMessage): void {
    const t = now as number;
    this.latestMs = t;
    try {
      this.dispatch(t, from, m);
    } catch (e) {
      if (!(e instanceof MalformedMessage)) throw e;
      this.out.protocolError(from, e.message);
    }
    this.acks.noteSampled(t);
    if (this.keys.rootDirty) {
      this.activity.markActive(t);
      this.trigger.noteOwnRoot(t);
    }
  }

  private dispatch(t: number, from: Address, m: StateMessage): void {
    if (typeof m !== 'object' || m === null) throw new MalformedMessage('not a state message');
    switch (m.type) {
      case 'state-rumor':
        return this.rumors.handle(t, from, m.gossip);
      case 'state-reconcile':
        return this.antiEntropy.handle(t, from, m);
      case 'state-digests':
        return this.handleDigests(t, from, m);
      case 'state-acks':
        return this.acks.handle(t, m);
      case 'state-tree':
        return this.tree.handle(t, m);
      default:
        throw new MalformedMessage(`unknown state message type ${String((m as { type?: unknown }).type)}`);
    }
  }

  /** Relayed digests: roots, summaries, a stability aggregate; the sender's own root differing from ours starts a session with it. */
  private handleDigests(t: number, from: Address, m: StateDigestsMsg): void {
    if (!isList(m.roots) || !isList(m.summaries)) throw new MalformedMessage('state-digests without roots or summaries');
    for (const r of m.roots) this.digests.learnRoot(t, r);
    for (const n of m.summaries) {
      this.digests.learnSummary(t, n);
      this.trigger.noteSummary(t, n.summary);
    }
    if (m.stability !== null) this.stability.learn(t, m.stability);
    // The first root is the sender's own: a difference is a reason to reconcile with it now.
    const own = m.roots[0];
    if (own !== undefined && this.antiEntropy.notePeerRoot(t, from, own) && !this.antiEntropy.initiating) this.antiEntropy.start(t, from);
  }

  /** After a local write: the tree, the activity, the sample, the rumor. */
  private wrote(now: number, key: string): void {
    this.latestMs = now;
    this.keys.syncKey(key);
    this.activity.markActive(now);
    this.trigger.noteOwnRoot(now);
    const entry = this.replica.entry(key);
    if (entry === undefined) return;
    this.acks.sampleOwnWrite(now, this.replica.lastCounter);
    if (this.settings.rumors && this.settings.treeFanout > 0) this.tree.publish(entry);
    else this.rumors.publish(now, key, entry);
  }
}

