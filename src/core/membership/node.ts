import type { Config } from '../config.js';
import { pushPullScale, retransmitLimit, validateConfig } from '../config.js';
import type { MemberView, NodeEvent, NodeEventType, ProtocolErrorReason } from '../events.js';
import type { Address, Incarnation, Millis, NodeName } from '../ids.js';
import { incarnation as toIncarnation } from '../ids.js';
import type { AckMsg, AliveMsg, DeadMsg, Message, StreamMessage, UserMsg, Vsn } from '../messages.js';
import { DEFAULT_VSN, MEMBER_STATE_NAMES, MemberState, messageBytes } from '../messages.js';
import type { Rng } from '../rng.js';
import { PacketBuilder } from '../broadcast/packet-builder.js';
import { Awareness } from './awareness.js';
import type { NodeDelegate } from './delegate.js';
import { NameDirectory } from './member-table.js';
import { MemberList } from './member-list.js';
import type { NodeStats, PendingStream, Transmit } from './outbox.js';
import { Outbox } from './outbox.js';
import { Prober, lateToleranceMs } from './probe.js';
import { PushPull } from './push-pull.js';

export type { NodeStats, Transmit } from './outbox.js';
export type { NodeDelegate, PushPullPeer } from './delegate.js';

export interface GossipNodeOptions {
  readonly name: NodeName;
  readonly addr: Address;
  readonly config: Config;
  readonly rng: Rng;
  readonly now: Millis;
  readonly meta?: Uint8Array | null;
  readonly vsn?: Vsn;
  /** Share one directory among many nodes in one process (the simulator does). */
  readonly directory?: NameDirectory;
  /** Event types to queue; others are not allocated at all. Default: all. */
  readonly events?: readonly NodeEventType[];
  /** Start above a previous life's incarnation (a restarted node). */
  readonly incarnation?: number;
  /** Delegate hooks (Serf's layer uses them); none: a bare memberlist node. */
  readonly delegate?: NodeDelegate;
}

const NO_DEADLINE = Infinity;

/**
 * A SWIM + Lifeguard member, as memberlist implements it, with no I/O: time and input come in
 * through `handle*`, output goes out through `poll*`. Drain after every input, in this order:
 * `pollTransmit()` until undefined, `pollEvent()` until undefined, then `pollTimeout()`.
 *
 * This class is the surface and the lifecycle; the protocol lives beside it: `probe.ts`
 * (failure detection), `state-rules.ts` and `member-list.ts` (alive/suspect/dead),
 * `push-pull.ts` (join and anti-entropy), `../broadcast/packet-builder.ts` (piggybacking).
 *
 * Bad input from peers never throws out of `handle*`: it is counted (`stats.protocolErrors`),
 * reported as a `protocol-error` event and dropped. Misuse by the caller throws, and so does a
 * broken invariant (a bug of ours or of a delegate): it is never blamed on a peer.
 */
export class GossipNode {
  readonly name: NodeName;
  readonly addr: Address;
  readonly config: Config;
  readonly stats: NodeStats;

  private readonly rng: Rng;
  private readonly awareness: Awareness;
  private readonly out: Outbox;
  private readonly packets: PacketBuilder;
  private readonly list: MemberList;
  private readonly prober: Prober;
  private readonly pushPull: PushPull;
  private readonly delegate: NodeDelegate | null;

  private nextGossipMs: number;
  /** The latest time an input brought (the gossip ticker catches up to it after an idle stretch). */
  private latestMs = -Infinity;
  private nextPushPullMs: number;
  /** memberlist's pushPullTrigger: a random stagger, then a full (scaled) interval before the first push-pull. */
  private pushPullStaggered = false;
  /** When the current push-pull wait started (its interval may be re-scaled when it ends). */
  private pushPullFromMs = 0;
  private selfAnnounced = false;
  private leaveDeadlineMs = NO_DEADLINE;
  private leaveBroadcastDone = false;
  private stopped = false;

  constructor(o: GossipNodeOptions) {
    this.config = validateConfig({ ...o.config });
    this.name = o.name;
    this.addr = o.addr;
    this.rng = o.rng;
    this.delegate = o.delegate ?? null;
    this.awareness = new Awareness(this.config.awarenessMaxMultiplier);
    this.out = new Outbox(o.events ? new Set(o.events) : null, this.config.streamTimeoutMs);
    this.stats = this.out.stats;
    this.packets = new PacketBuilder(
      this.config.packetBytesMax, () => retransmitLimit(this.config.retransmitMult, this.list.table.size), this.delegate, this.stats,
      (to, m, bytes) => this.out.pushPacket(to, m, bytes),
    );
    this.list = new MemberList({
      name: o.name, addr: o.addr, config: this.config, rng: o.rng, now: o.now, meta: o.meta ?? null, vsn: o.vsn ?? DEFAULT_VSN,
      incarnation: Math.max(1, o.incarnation ?? 1), directory: o.directory ?? new NameDirectory(), awareness: this.awareness,
      out: this.out, packets: this.packets,
    });
    // Tickers start with a random stagger, as memberlist's do.
    const now = o.now as number;
    const firstProbeMs = now + this.rng.next() * this.config.probeIntervalMs;
    const d = this.delegate;
    this.prober = new Prober(
      this.config, this.list, this.awareness, this.packets, this.out, (near) => (near === undefined ? d?.ackPayload?.() : d?.ackPayload?.(near)) ?? null, firstProbeMs,
      d?.notifyPingComplete !== undefined ? (now, node, rtt, payload) => d.notifyPingComplete?.(now, node, rtt, payload) : null,
      d?.extraPingTarget !== undefined ? (now, cycle, isAlive) => d.extraPingTarget?.(now, cycle, isAlive) ?? null : null,
      d?.notifyPinged !== undefined ? (now, from) => d.notifyPinged?.(now, from) : null,
    );
    this.pushPull = new PushPull(this.list, this.delegate, this.out);
    this.nextGossipMs = now + this.rng.next() * this.config.gossipIntervalMs;
    this.nextPushPullMs = this.config.pushPullIntervalMs > 0 ? now + this.rng.next() * this.config.pushPullIntervalMs : NO_DEADLINE;
  }

  // ------------------------------------------------------------------ getters

  get incarnation(): Incarnation {
    return toIncarnation(this.list.inc);
  }
  get healthScore(): number {
    return this.awareness.healthScore;
  }
  /** Known members in any state (dead and left included until reaped). */
  get knownCount(): number {
    return this.list.table.size;
  }
  /** Members alive or suspect, self included: memberlist's `NumMembers`. */
  get liveCount(): number {
    return this.list.liveCount;
  }
  countIn(status: 'alive' | 'suspect' | 'dead' | 'left'): number {
    return this.list.table.countIn(MEMBER_STATE_NAMES.indexOf(status));
  }
  get broadcastQueueLength(): number {
    return this.packets.queue.length;
  }
  get isStopped(): boolean {
    return this.stopped;
  }

  /** A snapshot of one member, or undefined if unknown. */
  member(name: string): MemberView | undefined {
    const slot = this.list.table.slotOf(name);
    return slot < 0 ? undefined : this.list.view(slot);
  }

  /** memberlist's `Members()`: every member that is not dead or left (suspect included). */
  members(): MemberView[] {
    return this.allMembers().filter((m) => m.status === 'alive' || m.status === 'suspect');
  }

  /** Every known member, whatever its state. */
  allMembers(): MemberView[] {
    const table = this.list.table;
    const out: MemberView[] = [];
    for (let s = 0; s < table.capacity; s++) if (table.inUse(s)) out.push(this.list.view(s));
    return out;
  }

  /** The round trip (ms) of the last answered probe of a member, or undefined. */
  probeRttMs(name: string): number | undefined {
    const slot = this.list.table.slotOf(name);
    return slot < 0 ? undefined : this.list.rtts.get(slot);
  }

  /** State of a member by name, without allocating: 'alive' | 'suspect' | 'dead' | 'left' | undefined. */
  statusOf(name: string): 'alive' | 'suspect' | 'dead' | 'left' | undefined {
    const slot = this.list.table.slotOf(name);
    return slot < 0 ? undefined : MEMBER_STATE_NAMES[this.list.table.state(slot)];
  }

  /**
   * Up to k distinct random live (alive or suspect) members, never self, drawn with `rng`:
   * the peer sampler of the dissemination engine (which brings its own RNG, so using it does
   * not change the membership protocol's random choices).
   */
  sampleMembers(k: number, rng: Rng): Address[] {
    return this.list.sampleMembers(k, rng);
  }

  // ------------------------------------------------------------------ outputs

  pollTransmit(): Transmit | undefined {
    return this.out.transmits.poll();
  }

  pollEvent(): NodeEvent | undefined {
    return this.out.events.poll();
  }

  /** The next time `handleTimeout` has work to do; undefined once stopped. */
  pollTimeout(): Millis | undefined {
    if (this.stopped) return undefined;
    // No gossip round while there is nothing to gossip: an idle node wakes for its probes only.
    // News after an idle stretch goes out on the ticker's next tick, as if it had kept ticking.
    let gossipAt = NO_DEADLINE;
    if (this.config.gossipIdleTicks || this.packets.gossipPending) {
      if (this.nextGossipMs < this.latestMs) this.nextGossipMs = this.tickAtOrAfter(this.latestMs);
      gossipAt = this.nextGossipMs;
    }
    let t = this.prober.nextDeadline(Math.min(gossipAt, this.nextPushPullMs, this.leaveDeadlineMs));
    const suspicions = this.list.suspicions;
    if (suspicions.size > 0) for (const s of suspicions.values()) if (s.deadlineMs < t) t = s.deadlineMs;
    const streams = this.out.streams;
    if (streams.size > 0) for (const s of streams.values()) if (s.deadlineMs < t) t = s.deadlineMs;
    return t === NO_DEADLINE ? undefined : (t as Millis);
  }

  // ------------------------------------------------------------------ lifecycle

  /** Contacts each seed with a full-state push-pull (join = true). Returns the id its `join-completed` will carry. */
  join(now: Millis, seeds: readonly Address[]): number {
    this.assertRunning('join');
    // Our own `alive` goes into the broadcast queue (memberlist's setAlive at Create), so the
    // cluster hears of us from us too, not only from the seeds' re-gossip of the push-pull.
    if (!this.selfAnnounced) {
      this.selfAnnounced = true;
      this.list.enqueueBroadcast(this.list.selfAlive());
    }
    return this.pushPull.join(now, seeds);
  }

  /**
   * Seeds the member list without any traffic: a restored membership snapshot, or a
   * simulation that starts from a converged cluster. Each record is merged as an `alive`
   * (the usual precedence rules apply) and nothing is re-broadcast.
   */
  /**
   * Calls `fn` on every change of a member's incarnation or state (`null`: forgotten), this
   * node's own included, synchronously from the input that changed it; the members already
   * known are reported at once. Unlike the events, an alive member's new incarnation is
   * reported too (the membership views need it). One watcher; `null` removes it.
   */
  watchMembers(fn: ((name: NodeName, state: MemberState | null, incarnation: Incarnation) => void) | null): void {
    const table = this.list.table;
    table.watcher = fn === null ? null : (slot, state) => fn(table.name(slot), state, table.incarnation(slot));
    if (fn !== null) for (let s = 0; s < table.capacity; s++) if (table.inUse(s)) fn(table.name(s), table.state(s), table.incarnation(s));
  }

  restoreMembers(now: Millis, records: readonly AliveMsg[]): void {
    this.assertRunning('restoreMembers');
    this.list.restore(now, records);
  }

  /** Updates this node's metadata (Serf tags) and announces it with a new incarnation. */
  setMeta(now: Millis, meta: Uint8Array | null): void {
    this.assertRunning('setMeta');
    this.list.meta = meta;
    this.list.inc++;
    this.list.announceSelf(now);
  }

  /**
   * Graceful leave: broadcast `dead{node: me, from: me}` and wait until it has been sent its
   * retransmit limit, or `leavePropagateMs`; then emit `left` and stop.
   */
  leave(now: Millis): void {
    this.assertRunning('leave');
    const members = this.list;
    if (members.leaving) return;
    members.leaving = true;
    const dead: DeadMsg = { type: 'dead', incarnation: toIncarnation(members.inc), node: this.name, from: this.name };
    members.table.setState(members.selfSlot, MemberState.Left, now);
    if (members.liveCount === 0) {
      this.finishLeave();
      return;
    }
    this.packets.queue.enqueue(this.name, dead, messageBytes(dead), () => {
      this.leaveBroadcastDone = true;
    }, true);
    this.leaveDeadlineMs = now + this.config.leavePropagateMs;
  }

  /** Stops without telling anyone (a crash, from the cluster's point of view). */
  shutdown(): void {
    this.stopped = true;
    this.packets.queue.reset();
  }

  private finishLeave(): void {
    this.leaveDeadlineMs = NO_DEADLINE;
    this.out.emit({ type: 'left' });
    this.stopped = true;
    this.packets.queue.reset();
  }

  // ------------------------------------------------------------------ inputs

  handleTimeout(now: Millis): void {
    if (this.stopped) return;
    const t = now as number;
    if (t > this.latestMs) this.latestMs = t;
    if (this.list.leaving && (this.leaveBroadcastDone || t >= this.leaveDeadlineMs)) {
      this.finishLeave();
      return;
    }
    // Streams that never answered.
    const streams = this.out.streams;
    if (streams.size > 0) {
      for (const [id, s] of streams) {
        if (s.deadlineMs <= t) {
          streams.delete(id);
          this.streamFailed(s, 'stream-timeout');
        }
      }
    }
    this.prober.expireRelays(t);
    // Suspicion timers.
    const suspicions = this.list.suspicions;
    if (suspicions.size > 0) {
      for (const [slot, s] of suspicions) {
        if (s.deadlineMs > t) continue;
        // Handled late: the refutation may wait unread behind the stall (Lifeguard: the observer's health).
        if (this.config.lifeguard && !s.deferred && this.awareness.late(t - s.deadlineMs, lateToleranceMs(this.config))) {
          s.deferred = true;
          s.deadlineMs = t + this.config.probeTimeoutMs;
          this.out.stats.verdictsDeferred++;
          continue;
        }
        suspicions.delete(slot);
        this.list.suspicionExpired(now, slot, s);
      }
    }
    this.prober.handleTimeout(now);
    if (t >= this.nextGossipMs) {
      // The ticker's next tick after now (ticks skipped while idle or late are dropped, as a Go ticker drops them).
      this.nextGossipMs = this.tickAtOrAfter(t);
      if (this.nextGossipMs <= t) this.nextGossipMs += this.config.gossipIntervalMs;
      if (this.config.gossipIdleTicks || this.packets.gossipPending) this.gossip(now);
    }
    if (t >= this.nextPushPullMs) {
      const scaled = pushPullScale(this.config.pushPullIntervalMs, this.list.table.size) as number;
      if (this.pushPullStaggered && !this.config.pushPullScaleAtStart && this.pushPullFromMs + scaled > t) {
        // The cluster grew during the wait: the rest of the interval its size calls for.
        this.nextPushPullMs = this.pushPullFromMs + scaled;
      } else {
        this.pushPullFromMs = t;
        this.nextPushPullMs = t + scaled;
        if (this.pushPullStaggered) this.pushPull.periodic(now);
        this.pushPullStaggered = true;
      }
    }
  }

  /** A packet from a peer: one message, or a compound of several. Never throws for bad input. */
  handlePacket(now: Millis, from: Address, msg: Message): void {
    if (this.stopped) return;
    if ((now as number) > this.latestMs) this.latestMs = now;
    this.stats.packetsIn++;
    if (msg.type !== 'compound') {
      this.handleMessage(now, from, msg);
      return;
    }
    for (const part of msg.parts) {
      // Only a broken decoder hands us a part that is not a message.
      if (typeof part !== 'object' || part === null) this.out.protocolError(from, 'malformed', 'compound part is not a message');
      else if (part.type === 'compound') this.out.protocolError(from, 'compound-in-compound', 'nested compound message');
      else this.handleMessage(now, from, part);
    }
  }

  /** A stream request from a peer; the reply goes out as a `stream-reply` transmit with the same id. */
  handleStreamRequest(now: Millis, from: Address, streamId: number, msg: StreamMessage): void {
    if (this.stopped) return;
    if ((now as number) > this.latestMs) this.latestMs = now;
    switch (msg.type) {
      case 'push-pull':
        this.pushPull.handleRequest(now, from, streamId, msg);
        return;
      case 'ping': {
        if (msg.node !== '' && msg.node !== this.name) {
          this.out.protocolError(from, 'ping-for-other-node', `stream ping for ${msg.node}`);
          this.out.reply(streamId, null);
          return;
        }
        this.out.reply(streamId, { type: 'ack', seqNo: msg.seqNo, payload: null } satisfies AckMsg);
        return;
      }
      case 'user':
        this.out.reply(streamId, null);
        this.userMessage(now, from, msg.payload);
        return;
      case 'ack':
      case 'error':
        this.out.protocolError(from, 'unexpected-message', `${msg.type} as a stream request`);
        this.out.reply(streamId, null);
        return;
    }
  }

  /** The reply to a stream we opened; `null` when the stream failed or closed without a reply. */
  handleStreamReply(now: Millis, streamId: number, msg: StreamMessage | null): void {
    if (this.stopped) return;
    if ((now as number) > this.latestMs) this.latestMs = now;
    const s = this.out.streams.get(streamId);
    if (s === undefined) return; // timed out already, or not ours
    this.out.streams.delete(streamId);
    if (msg === null) {
      this.streamFailed(s, 'stream-failed');
      return;
    }
    if (msg.type === 'error') {
      this.out.protocolError(null, 'remote-error', msg.error);
      this.streamFailed(s, 'remote-error');
      return;
    }
    switch (s.kind) {
      case 'user':
        return; // one message per stream: any answer is the close
      case 'join':
      case 'push-pull':
        if (msg.type !== 'push-pull') {
          this.out.protocolError(null, 'unexpected-message', `${msg.type} in reply to push-pull`);
          this.streamFailed(s, 'stream-failed');
          return;
        }
        this.pushPull.handleReply(now, s.to, msg, s.kind === 'join' ? s.seqNo : null);
        return;
      case 'ping':
        if (msg.type === 'ack' && msg.seqNo === s.seqNo) this.prober.handleAck(now, msg, true);
        return;
    }
  }

  /**
   * Sends a user message (a delegate's bytes, e.g. a Serf message) to one address: a best
   * effort packet (memberlist's `SendToAddress`/`SendBestEffort`, no piggybacking), or, with
   * `reliable`, one stream carrying it (`SendReliable`); the driver reports that stream's end
   * with `handleStreamReply(streamId, null)`.
   */
  sendUserMessage(now: Millis, to: Address, payload: Uint8Array, reliable = false): void {
    this.assertRunning('sendUserMessage');
    const m: UserMsg = { type: 'user', payload };
    this.stats.userMessagesOut++;
    if (reliable) this.out.openStream(now, to, 'user', m, 0);
    else this.out.pushPacket(to, m, messageBytes(m));
  }

  // ------------------------------------------------------------------ dispatch

  private handleMessage(now: Millis, from: Address, m: Exclude<Message, { type: 'compound' }>): void {
    switch (m.type) {
      case 'ping':
        return this.prober.handlePing(now, from, m);
      case 'indirect-ping':
        return this.prober.handleIndirectPing(now, from, m);
      case 'ack':
        return this.prober.handleAck(now, m, false);
      case 'nack':
        return this.prober.handleNack(m);
      case 'alive':
        return this.list.aliveNode(now, m, false);
      case 'suspect':
        return this.list.suspectNode(now, m, from);
      case 'dead':
        return this.list.deadNode(now, m, from);
      case 'user':
        return this.userMessage(now, from, m.payload);
    }
  }

  private userMessage(now: Millis, from: Address, payload: Uint8Array): void {
    const d = this.delegate;
    if (d !== null && d.notifyMsg !== undefined) d.notifyMsg(now, from, payload);
    else this.out.emit({ type: 'user-message', from, payload });
  }

  /** One gossip round: up to `gossipNodes` random members (the recently dead included) each get a packet of queued broadcasts. */
  /** The gossip ticker's first tick at or after `t` (its phase is `nextGossipMs`). */
  private tickAtOrAfter(t: number): number {
    const step = this.config.gossipIntervalMs;
    const next = this.nextGossipMs;
    return t <= next ? next : next + step * Math.ceil((t - next) / step);
  }

  private gossip(now: Millis): void {
    const userBroadcasts = this.packets.hasUserBroadcasts;
    if (this.packets.queue.length === 0 && !userBroadcasts) return;
    const t = now as number;
    const table = this.list.table;
    const peers = this.list.randomMembers(this.config.gossipNodes, (s) => {
      const st = table.state(s);
      if (st === MemberState.Alive || st === MemberState.Suspect) return true;
      return st === MemberState.Dead && t - table.changedAt(s) < this.config.gossipToTheDeadTimeMs;
    });
    for (const s of peers) {
      // With nothing left to send and no delegate to ask, the round is over.
      if (!this.packets.gossip(table.addr(s)) && !userBroadcasts) return;
    }
  }

  private streamFailed(s: PendingStream, reason: ProtocolErrorReason): void {
    if (s.kind === 'join') {
      this.pushPull.joinStreamFailed(s.seqNo);
    } else if (reason === 'stream-timeout' && s.kind === 'push-pull') {
      this.out.protocolError(null, reason, 'push-pull timed out');
    } else if (reason !== 'stream-failed' && s.kind === 'user') {
      this.out.protocolError(null, reason, `reliable user message to ${s.to} failed`);
    }
  }

  private assertRunning(op: string): void {
    if (this.stopped) throw new Error(`${op}: node ${this.name} has stopped`);
  }
}
