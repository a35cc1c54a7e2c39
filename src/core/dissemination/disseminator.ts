import type { TrafficClass } from '../control/bandwidth.js';
import { duplicateShare, fanoutForShare, generationShare } from '../control/adaptive-fanout.js';
import { TokenBucket } from '../control/bandwidth.js';
import type { Address, Millis } from '../ids.js';
import type { Rng } from '../rng.js';
import type { DisseminationConfig } from './config.js';
import { validateDisseminationConfig } from './config.js';
import { halfwayRound } from './mean-field.js';
import type { DisseminationMessage, DisseminationSizes, GossipReply, GossipRequest, UpdateRef } from './messages.js';
import { layoutSizes, messageBytes } from './messages.js';
import type { Digest, Update } from './update-log.js';
import { checkUpdate, UpdateLog } from './update-log.js';
import { PollQueue } from '../poll-queue.js';
import { MalformedMessage } from '../malformed-message.js';
import { Plumtree } from './plumtree.js';
import { TreeRelay } from './tree-relay.js';
import type { PeerSampler, DisseminatorOptions, DisseminationTransmit, DisseminationEvent, DisseminationStats, Held, Outgoing } from './engine-types.js';
export type { PeerSampler, DisseminatorOptions, DisseminationTransmit, DisseminationEvent, DisseminationStats } from './engine-types.js';

const CLASS_RANK: Record<TrafficClass, number> = { membership: 0, critical: 1, normal: 2, repair: 3 };

/**
 * The update-dissemination engine: sans-IO, one per node, separate from the membership
 * broadcast queue but within the same packet budget. Each round (`intervalMs`) it contacts
 * peers from the `PeerSampler`:
 *
 * - push: hot updates go to `fanout` peers each (critical ones to `criticalFanout`, first);
 * - pull: the node's scuttlebutt digest goes to `fanout` peers, who answer with what it lacks;
 * - push-pull: both in one exchange.
 *
 * Rumors lose interest by Demers' rules (feedback/blind × counter/coin, `rumorK`), or by
 * push-then-pull termination, or, with adaptive fanout, once feedback shows most contacts
 * already had them. A token bucket caps bytes per second; membership traffic is charged
 * first; critical goes before normal before repair; what does not fit waits for a later round
 * (hot updates stay hot, pulls ask again), so nothing is lost.
 */
export class Disseminator<P = Uint8Array> {
  readonly origin: string;
  readonly config: DisseminationConfig;
  readonly log = new UpdateLog<P>();
  readonly stats: DisseminationStats = {
    messagesOut: 0, bytesOut: 0, payloadsOut: 0, pushPayloads: 0, pullPayloads: 0, payloadsIn: 0, duplicatesIn: 0,
    deferred: 0, bytesByClass: { membership: 0, critical: 0, normal: 0, repair: 0 }, malformed: 0, pruned: 0, skipped: 0,
  };

  private readonly rng: Rng;
  private readonly peers: PeerSampler;
  private readonly bucket: TokenBucket | null;
  private readonly overheadBytes: number;
  private readonly held = new Map<string, Map<number, Held<P>>>();
  private hot: Held<P>[] = [];
  private readonly outbox = new PollQueue<DisseminationTransmit<P>>();
  private readonly events = new PollQueue<DisseminationEvent<P>>();
  private readonly sizes: DisseminationSizes<P>;
  private readonly updateBytes: (u: Update<P>) => number;
  private version = 0;
  private nextId = 0;
  private round = 0;
  private nextTickMs: number;
  /** Adaptive fanout's further digest exchanges, spread over the round so their replies do not overlap. */
  private readonly extraPullsAtMs: number[] = [];
  private lastCriticalMs = -Infinity;
  private stopped = false;
  /** Mode 'plumtree': the tree's peer sets and rules. */
  private readonly tree: Plumtree | null;
  /** Mode 'plumtree': the tree's messages (null in other modes). */
  private readonly relay: TreeRelay<P> | null;

  constructor(o: DisseminatorOptions<P>) {
    this.config = validateDisseminationConfig({ ...o.config });
    this.origin = o.origin;
    this.rng = o.rng;
    this.peers = o.peers;
    const pb = o.payloadBytes ?? ((p: P): number => {
      if (p instanceof Uint8Array) return p.length;
      throw new TypeError('Disseminator: payloadBytes or sizes is required for payloads that are not Uint8Array');
    });
    this.sizes = o.sizes ?? layoutSizes(pb);
    this.updateBytes = this.sizes.update;
    const c = this.config;
    this.bucket = o.bucket ?? (c.budget === null ? null : new TokenBucket(c.budget.rateBytesPerSec, c.budget.burstBytes, o.now));
    this.overheadBytes = o.wireOverheadBytes ?? 0;
    if (!(this.overheadBytes >= 0)) throw new RangeError(`Disseminator: wireOverheadBytes must be ≥ 0, got ${this.overheadBytes}`);
    this.tree = c.mode === 'plumtree' ? new Plumtree(c.plumtree, this.rng.fork(), o.rtt ?? null) : null;
    this.relay = this.tree === null ? null : new TreeRelay<P>(this.tree, {
      stats: this.stats,
      send: (to, m, bytes, cls) => this.send(to, m, bytes, cls),
      frame: (m) => this.sizes.frame(m),
      nextRequestId: () => ++this.nextId,
      held: (r) => this.held.get(r.origin)?.get(r.version),
      covers: (r) => this.log.covers(r.origin, r.version),
      candidates: () => this.peers.sample(this.config.plumtree.candidates, this.rng),
    });
    const now = o.now as number;
    this.nextTickMs = c.alignedRounds ? (Math.floor(now / c.intervalMs) + 1) * c.intervalMs : now + this.rng.next() * c.intervalMs;
    // Plumtree opens its links at once (the GRAFTs wait in the outbox), so the first update finds a connected graph.
    this.relay?.start(now);
  }

  /** Updates held, own included. */
  get size(): number {
    return this.log.size;
  }
  /** Updates currently pushed. */
  get hotCount(): number {
    let n = 0;
    for (const h of this.hot) if (h.hot) n++;
    return n;
  }
  get isStopped(): boolean {
    return this.stopped;
  }

  has(origin: string, version: number): boolean {
    return this.log.has(origin, version);
  }

  /** Publishes an update from this node; it is hot (pushed) from the next round on. */
  publish(now: Millis, key: string, payload: P, opts: { critical?: boolean } = {}): Update<P> {
    if (this.stopped) throw new Error(`publish: disseminator ${this.origin} has stopped`);
    const update: Update<P> = { origin: this.origin, version: ++this.version, key, payload, critical: opts.critical ?? false, bornMs: now };
    if (this.updateBytes(update) + this.sizes.frame({ type: 'gossip', id: this.nextId + 1, updates: [], digest: null, feedback: true, hops: null }) > this.config.packetBytesMax) {
      this.version--;
      throw new RangeError(`publish: update of ${this.updateBytes(update)} bytes does not fit in a ${this.config.packetBytesMax}-byte packet`);
    }
    this.accept(now, update, null);
    return update;
  }

  /** Plumtree: origins whose tree this node keeps (0 in other modes). */
  get treeCount(): number {
    return this.tree?.treeCount ?? 0;
  }

  /**
   * Membership says `peer` (member `name`, the origin of its updates) is dead or has left.
   * Plumtree: it leaves every eager and lazy set at once and nothing more is sent to it; if it
   * was an eager link, a new one (the nearest live peer by RTT, else a random one) gets an
   * empty GRAFT, so this node stays on every tree; `name`'s tree is forgotten. Other modes draw
   * partners from the sampler, which membership keeps live: nothing to do.
   */
  handlePeerDown(now: Millis, peer: Address, name?: string): void {
    if (!this.stopped) this.relay?.peerDown(now, peer, name);
  }

  /** Membership says `peer` is alive again (back from a crash, or a refuted death): plumtree may link to it again, as to a new peer. */
  handlePeerUp(peer: Address): void {
    this.tree?.peerUp(peer);
  }

  /** Traffic that must not wait (membership) takes its bytes from the same budget first. */
  chargeMembership(now: Millis, bytes: number): void {
    if (this.bucket === null) return;
    this.bucket.charge(now, bytes);
    this.stats.bytesByClass.membership += bytes;
  }

  shutdown(): void {
    this.stopped = true;
  }

  // ------------------------------------------------------------------ outputs

  pollTransmit(): DisseminationTransmit<P> | undefined {
    return this.outbox.poll();
  }

  pollEvent(): DisseminationEvent<P> | undefined {
    return this.events.poll();
  }

  pollTimeout(): Millis | undefined {
    if (this.stopped) return undefined;
    const pull = this.extraPullsAtMs[0];
    if (pull === undefined && this.asleep()) return undefined;
    const next = pull !== undefined && pull < this.nextTickMs ? pull : this.nextTickMs;
    return Math.min(next, this.tree?.nextDeadline() ?? Infinity) as Millis;
  }

  /**
   * A push-only engine with nothing hot has nothing to do in a round (no digest travels in push
   * mode unless repair rounds are on): it asks for no timer until an update turns hot, so an
   * idle node does not wake ten times a second for nothing.
   */
  private asleep(): boolean {
    const c = this.config;
    if (c.mode !== 'push' || c.repairEveryRounds > 0) return false;
    for (const h of this.hot) if (h.hot) return false;
    return true;
  }

  /** An update turned hot: a round that slept resumes now (at the next boundary with aligned rounds). */
  private wake(now: number): void {
    if (this.nextTickMs >= now) return;
    const i = this.config.intervalMs;
    this.nextTickMs = this.config.alignedRounds ? Math.ceil(now / i) * i : now;
  }

  // ------------------------------------------------------------------ inputs

  handleTimeout(now: Millis): void {
    if (this.stopped) return;
    const t = now as number;
    this.relay?.due(t);
    while (this.extraPullsAtMs.length > 0 && (this.extraPullsAtMs[0] as number) <= t) {
      this.extraPullsAtMs.shift();
      this.pullOnce(t);
    }
    if (t < this.nextTickMs) return;
    const i = this.config.intervalMs;
    this.nextTickMs = this.config.alignedRounds ? (Math.floor(t / i) + 1) * i : Math.max(this.nextTickMs + i, t);
    this.tick(t);
  }

  /** A message from a peer. Never throws for bad input: it is counted and reported. */
  handleMessage(now: Millis, from: Address, m: DisseminationMessage<P>): void {
    if (this.stopped) return;
    // Only a peer's malformed input is counted as its error; anything else thrown is our bug and surfaces.
    try {
      if (m.type === 'gossip') this.handleRequest(now, from, m);
      else if (m.type === 'gossip-reply') this.handleReply(now, from, m);
      else if (this.tree !== null && (m.type === 'ihave' || m.type === 'graft' || m.type === 'prune')) this.relay?.handle(now, from, m);
      else throw new MalformedMessage(`unknown message type ${String((m as { type: unknown }).type)}`);
    } catch (e) {
      if (!(e instanceof MalformedMessage)) throw e;
      this.stats.malformed++;
      this.events.push({ type: 'protocol-error', from, detail: e.message });
    }
  }

  // ------------------------------------------------------------------ rounds

  private tick(now: number): void {
    this.round++;
    const c = this.config;
    if (c.retainMs > 0 && this.round % 10 === 0) this.prune(now - c.retainMs);
    const n = this.peers.size() + 1;
    const hot: Held<P>[] = [];
    for (const h of this.hot) {
      if (!h.hot) continue;
      if (this.retire(h, now, n)) {
        h.hot = false;
        continue;
      }
      hot.push(h);
    }
    // Critical first, then the rumors pushed least so far (the freshest).
    hot.sort((a, b) => (a.update.critical === b.update.critical ? a.pushes - b.pushes : a.update.critical ? -1 : 1));
    this.hot = hot;
    const fan: number[] = hot.map((h) => this.fanoutFor(h, n));
    // Plumtree: a node that starts (or restarts, empty) pulls in its first round rather than after a repair interval.
    const repairRound = c.repairEveryRounds > 0 && (this.round % c.repairEveryRounds === 0 || (this.tree !== null && this.round === 1));
    if (this.relay !== null && !this.relay.tree.isStarted) this.relay.start(now);
    const digestContacts = c.mode === 'push' || c.mode === 'plumtree' ? (repairRound ? 1 : 0) : c.adaptive !== null ? 1 : c.fanout;
    if (c.adaptive !== null && c.mode !== 'push') {
      // The other exchanges go later in the round, each with the digest as it is then.
      this.extraPullsAtMs.length = 0;
      for (let k = 1; k < c.adaptive.pullContacts; k++) this.extraPullsAtMs.push(now + (k * c.intervalMs) / c.adaptive.pullContacts);
    }
    let contacts = digestContacts;
    for (const f of fan) if (f > contacts) contacts = f;
    if (contacts === 0) return;
    const peers = this.peers.sample(contacts, this.rng);
    if (peers.length === 0) return;
    const digest = digestContacts > 0 ? this.log.digest() : null;
    const frameOf = (d: Digest | null): number => this.sizes.frame({ type: 'gossip', id: this.nextId + 1, updates: [], digest: d, feedback: true, hops: c.adaptive === null ? null : [] });
    const frameBytes = frameOf(null);
    const digestBytes = digest === null ? 0 : frameOf(digest) - frameBytes;
    const out: Outgoing<P>[] = [];
    for (let p = 0; p < peers.length; p++) {
      const d = p < digestContacts ? digest : null;
      let bytes = frameBytes + (d === null ? 0 : digestBytes);
      const hopBytes = c.adaptive === null ? 0 : 1;
      const carried: Held<P>[] = [];
      let critical = false;
      for (let k = 0; k < hot.length; k++) {
        if (p >= (fan[k] as number)) continue;
        const h = hot[k] as Held<P>;
        const ub = h.bytes + hopBytes;
        if (bytes + ub > c.packetBytesMax) continue;
        bytes += ub;
        carried.push(h);
        if (h.update.critical) critical = true;
      }
      if (carried.length === 0 && d === null) continue;
      const cls: TrafficClass = critical ? 'critical' : carried.length > 0 || c.mode !== 'push' ? 'normal' : 'repair';
      out.push({ to: peers[p] as Address, held: carried, digest: d, bytes, cls, frameBytes, digestBytes });
    }
    out.sort((a, b) => CLASS_RANK[a.cls] - CLASS_RANK[b.cls]);
    const pushedThisRound = new Set<Held<P>>();
    for (const o of out) {
      if (!this.fits(now, o)) {
        this.stats.deferred++;
        break; // a lower class never overtakes a waiting higher one
      }
      const wantFeedback = (c.rumor === 'feedback-counter' || c.rumor === 'feedback-coin' || c.adaptive !== null) && o.held.length > 0;
      const hops = c.adaptive === null || o.held.length === 0 ? null : o.held.map((h) => Math.min(255, h.hops + 1));
      const msg: GossipRequest<P> = { type: 'gossip', id: ++this.nextId, updates: o.held.map((h) => h.update), digest: o.digest, feedback: wantFeedback, hops };
      let bytes = this.sizes.frame(msg);
      for (const h of o.held) bytes += h.bytes;
      this.send(o.to, msg, bytes, o.cls);
      this.stats.pushPayloads += o.held.length;
      this.stats.payloadsOut += o.held.length;
      for (const h of o.held) {
        h.pushes++;
        pushedThisRound.add(h);
        if (c.rumor === 'blind-counter') {
          if (++h.counter >= c.rumorK) h.hot = false;
        } else if (c.rumor === 'blind-coin') {
          if (this.rng.next() * c.rumorK < 1) h.hot = false;
        }
      }
    }
    for (const h of pushedThisRound) h.rounds++;
  }

  /**
   * Takes budget for a message, shrinking it when the whole does not fit: critical updates
   * go before the digest (the pull request), which goes before normal updates. Traffic below
   * the critical class leaves one packet of tokens in reserve, so a critical reply can still
   * go out between ticks. False when nothing of it fits: it waits for a later round.
   */
  private fits(now: number, o: Outgoing<P>): boolean {
    const bucket = this.bucket;
    if (bucket === null) return true;
    const take = (bytes: number, cls: TrafficClass): boolean => {
      const wire = bytes + this.overheadBytes;
      if (bucket.available(now) < wire + this.reserveFor(now, cls)) return false;
      return bucket.tryTake(now, wire);
    };
    if (take(o.bytes, o.cls)) return true;
    const hopBytes = this.config.adaptive === null ? 0 : 1;
    const critical = o.held.filter((h) => h.update.critical);
    let critBytes = 0;
    for (const h of critical) critBytes += h.bytes + hopBytes;
    const digestBytes = o.digest === null ? 0 : o.digestBytes;
    const options: [boolean, boolean][] = [];
    if (critical.length < o.held.length) options.push([critical.length > 0, o.digest !== null]);
    if (critical.length > 0 && o.digest !== null) options.push([true, false]);
    for (const [withCrit, withDigest] of options) {
      if (!withCrit && !withDigest) continue;
      const bytes = o.frameBytes + (withCrit ? critBytes : 0) + (withDigest ? digestBytes : 0);
      const cls: TrafficClass = withCrit ? 'critical' : this.config.mode === 'push' ? 'repair' : 'normal';
      if (!take(bytes, cls)) continue;
      o.held.length = 0;
      if (withCrit) o.held.push(...critical);
      if (!withDigest) o.digest = null;
      o.bytes = bytes;
      o.cls = cls;
      this.stats.deferred++;
      return true;
    }
    return false;
  }

  /**
   * Tokens that traffic below the critical class leaves untouched: while a critical update
   * is recent here (seen within `maxHotRounds` rounds), half the burst or one packet,
   * whichever is less, so critical replies are not starved by this node's own normal sends.
   */
  private reserveFor(now: number, cls: TrafficClass): number {
    if (cls === 'critical' || now - this.lastCriticalMs > this.config.maxHotRounds * this.config.intervalMs) return 0;
    const burst = this.bucket?.burstBytes ?? 0;
    return Math.min(this.config.packetBytesMax, Math.floor(burst / 2));
  }

  private prune(cutoffMs: number): void {
    const dropped = this.log.prune(cutoffMs, (u) => this.heldOf(u).hot);
    for (const u of dropped) {
      const versions = this.held.get(u.origin);
      versions?.delete(u.version);
      if (versions?.size === 0) this.held.delete(u.origin);
    }
    this.stats.pruned += dropped.length;
  }

  /** One digest-only exchange (a pull) with a random peer. */
  private pullOnce(now: number): void {
    const peer = this.peers.sample(1, this.rng)[0];
    if (peer === undefined) return;
    const digest = this.log.digest();
    const msg: GossipRequest<P> = { type: 'gossip', id: this.nextId + 1, updates: [], digest, feedback: false, hops: null };
    const bytes = this.sizes.frame(msg);
    const frameBytes = this.sizes.frame({ ...msg, digest: null });
    const o: Outgoing<P> = { to: peer, held: [], digest, bytes, cls: 'normal', frameBytes, digestBytes: bytes - frameBytes };
    if (!this.fits(now, o)) {
      this.stats.deferred++;
      return;
    }
    this.nextId++;
    this.send(peer, msg, o.bytes, o.cls);
  }

  /** Replies: a critical one may use every token; others leave a packet's worth for critical traffic. */
  private takeForReply(now: number, bytes: number, cls: TrafficClass): boolean {
    const bucket = this.bucket as TokenBucket;
    const wire = bytes + this.overheadBytes;
    if (bucket.available(now) < wire + this.reserveFor(now, cls)) return false;
    return bucket.tryTake(now, wire);
  }

  /** Whether a hot update stops being pushed this round. */
  private retire(h: Held<P>, now: number, n: number): boolean {
    const c = this.config;
    if (h.rounds >= c.maxHotRounds) return true;
    if (c.termination === 'push-then-pull') {
      const age = Math.round((now - h.update.bornMs) / c.intervalMs);
      if (age > halfwayRound(n)) return true;
    }
    if (c.adaptive !== null && !h.update.critical) {
      if (this.share(h, n, c.adaptive.maxFanout) >= c.adaptive.stopAtDuplicateShare) return true;
    }
    return false;
  }

  /** The estimated informed fraction of an update: feedback once there is some, its push generation before. */
  private share(h: Held<P>, n: number, maxFanout: number): number {
    return duplicateShare(h.pushes, h.dups, h.received) ?? generationShare(h.hops, n, maxFanout);
  }

  /**
   * Push fanout for one update. Fixed: `fanout` (`criticalFanout` for critical updates).
   * Adaptive: `maxFanout × (1 − p̂)` within [minFanout, maxFanout], p̂ the duplicate share,
   * capped by the cluster size: wide while the rumor is new, narrowing as it saturates.
   */
  private fanoutFor(h: Held<P>, n: number): number {
    const c = this.config;
    if (h.update.critical) return c.criticalFanout;
    if (c.mode === 'pull' || c.mode === 'plumtree') return 0;
    const a = c.adaptive;
    if (a === null) return c.fanout;
    return fanoutForShare(this.share(h, n, a.maxFanout), a);
  }

  // ------------------------------------------------------------------ receiving

  private handleRequest(now: number, from: Address, m: GossipRequest<P>): void {
    const known: UpdateRef[] = [];
    const tree = this.tree;
    if (tree !== null && ((m.digest === null && m.updates.length > 0) || tree.isDown(from))) {
      // An eager push: the tree's rules (a late request from a peer declared down gets no reply).
      const prune: UpdateRef[] = [];
      for (const u of m.updates) {
        checkUpdate(u);
        if (!this.accept(now, u, from, 1) && tree.duplicate(now, from, u.origin)) prune.push({ origin: u.origin, version: u.version });
      }
      if (prune.length > 0) this.relay?.send([{ to: from, refs: prune }], 'prune');
      return;
    }
    for (let k = 0; k < m.updates.length; k++) {
      const u = m.updates[k] as Update<P>;
      checkUpdate(u);
      const hops = m.hops === null ? 1 : Math.min(255, Math.max(1, m.hops[k] ?? 1));
      if (!this.accept(now, u, from, hops) && m.feedback) known.push({ origin: u.origin, version: u.version });
    }
    if (m.digest === null && known.length === 0) return;
    const c = this.config;
    const floors: UpdateRef[] = [];
    if (m.digest !== null) {
      for (const [origin, floor] of this.log.floorEntries()) {
        if ((m.digest.get(origin)?.upTo ?? 0) < floor) floors.push({ origin, version: floor });
      }
    }
    let room = c.packetBytesMax - this.sizes.frame({ type: 'gossip-reply', id: m.id, updates: [], known, floors });
    let updates: readonly Update<P>[] = [];
    if (m.digest !== null && room > 0) {
      // Synchronous rounds: serve only what was held when this round began.
      const roundStart = Math.floor(now / c.intervalMs) * c.intervalMs;
      // Plumtree: what arrived here lately is still travelling down the tree; the repair serves only older updates.
      const fresh = this.tree === null ? Infinity : now - 2 * c.plumtree.graftTimeoutMs;
      const servable = (u: Update<P>): boolean => (!c.alignedRounds || this.heldOf(u).receivedMs < roundStart) && this.heldOf(u).receivedMs <= fresh;
      // Critical updates first, then the rest in the room left.
      const critical = this.log.missingFor(m.digest, room, this.updateBytes, (u) => u.critical && servable(u)).updates;
      for (const u of critical) room -= this.updateBytes(u);
      const normal = room > 0 ? this.log.missingFor(m.digest, room, this.updateBytes, (u) => !u.critical && servable(u)).updates : [];
      updates = critical.length === 0 ? normal : normal.length === 0 ? critical : critical.concat(normal);
    }
    if (updates.length === 0 && known.length === 0 && floors.length === 0) return;
    let reply: GossipReply<P> = { type: 'gossip-reply', id: m.id, updates, known, floors };
    let bytes = messageBytes(reply, this.sizes);
    const critical = updates.some((u) => u.critical);
    const cls: TrafficClass = critical ? 'critical' : c.mode === 'push' && known.length === 0 ? 'repair' : 'normal';
    if (this.bucket !== null && !this.takeForReply(now, bytes, cls)) {
      // What does not fit waits: the peer asks again next round. Feedback alone is small.
      this.stats.deferred++;
      if (known.length === 0 && floors.length === 0) return;
      reply = { type: 'gossip-reply', id: m.id, updates: [], known, floors };
      bytes = messageBytes(reply, this.sizes);
      if (!this.bucket.tryTake(now, bytes + this.overheadBytes)) return;
    }
    this.stats.pullPayloads += reply.updates.length;
    this.stats.payloadsOut += reply.updates.length;
    this.send(from, reply, bytes, cls);
  }

  private handleReply(now: number, from: Address, m: GossipReply<P>): void {
    for (const u of m.updates) {
      checkUpdate(u);
      // A pulled update came to a node that asked for it: it is past the push phase here
      // (adaptive fanout does not push it; fixed fanout ignores hops).
      if (this.accept(now, u, from, 255)) this.tree?.received(u);
    }
    // Plumtree repairs by rare pulls: one that brought something asks again at once (a restarted node catches up).
    if (this.tree !== null && m.updates.length > 0) this.pullOnce(now);
    for (const r of m.floors) this.stats.skipped += this.log.advanceFloor(r.origin, r.version);
    const c = this.config;
    for (const r of m.known) {
      const h = this.held.get(r.origin)?.get(r.version);
      if (h === undefined) continue;
      h.dups++;
      if (!h.hot) continue;
      if (c.rumor === 'feedback-counter') {
        if (++h.counter >= c.rumorK) h.hot = false;
      } else if (c.rumor === 'feedback-coin') {
        if (this.rng.next() * c.rumorK < 1) h.hot = false;
      }
    }
  }

  /** Stores an update; true when it was new here. */
  private accept(now: number, u: Update<P>, from: Address | null, hops = 0): boolean {
    let versions = this.held.get(u.origin);
    const existing = versions?.get(u.version);
    if (existing !== undefined) {
      existing.received++;
      if (hops < existing.hops) existing.hops = hops;
      this.stats.duplicatesIn++;
      return false;
    }
    if (this.log.covers(u.origin, u.version)) {
      this.stats.duplicatesIn++; // pruned here already
      return false;
    }
    if (!this.log.apply(u)) throw new Error(`update ${u.origin}/${u.version} rejected`);
    if (versions === undefined) this.held.set(u.origin, (versions = new Map<number, Held<P>>()));
    const h: Held<P> = { update: u, bytes: this.updateBytes(u), receivedMs: now, hot: (this.config.mode !== 'pull' && this.config.mode !== 'plumtree') || u.critical, counter: 0, pushes: 0, dups: 0, received: 1, rounds: 0, hops };
    versions.set(u.version, h);
    if (u.critical) this.lastCriticalMs = now;
    if (h.hot) {
      if (this.asleep()) this.wake(now);
      this.hot.push(h);
    }
    if (from !== null) this.stats.payloadsIn++;
    // Plumtree: a pushed (or own) update goes on along the tree at once; pulled ones (hops 255) do not.
    if (this.relay !== null && hops < 255) this.relay.forward(now, h, from);
    this.events.push({ type: 'update', update: u, from, receivedMs: now });
    return true;
  }

  private heldOf(u: Update<P>): Held<P> {
    return this.held.get(u.origin)?.get(u.version) as Held<P>;
  }

  private send(to: Address, message: DisseminationMessage<P>, bytes: number, cls: TrafficClass): void {
    this.stats.messagesOut++;
    this.stats.bytesOut += bytes;
    this.stats.bytesByClass[cls] += bytes;
    this.outbox.push({ to, message, bytes, cls });
  }
}
