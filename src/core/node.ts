import type { Config } from './config.js';
import { pushPullScale, retransmitLimit, validateConfig } from './config.js';
import type { NodeEvent, NodeEventType, MemberView, ProtocolErrorReason } from './events.js';
import type { Address, Incarnation, Millis, NodeName } from './ids.js';
import { incarnation as toIncarnation } from './ids.js';
import type {
  AckMsg, AliveMsg, DeadMsg, IndirectPingMsg, MembershipMsg, Message, NackMsg, PingMsg,
  PushPullMsg, StreamMessage, SuspectMsg, UserMsg, Vsn,
} from './messages.js';
import {
  COMPOUND_HEADER_BYTES, COMPOUND_PART_BYTES, DEFAULT_VSN, MEMBER_STATE_NAMES, MemberState, messageBytes,
} from './messages.js';
import { Awareness } from './membership/awareness.js';
import { MemberTable, NameDirectory } from './membership/member-table.js';
import { SlotList } from './membership/slot-list.js';
import { Suspicion } from './membership/suspicion.js';
import { TransmitLimitedQueue } from './broadcast/transmit-queue.js';
import type { Rng } from './rng.js';

/** What the node asks its driver to send. `bytes` is the encoded size (Go's msgpack). */
export type Transmit =
  | { readonly kind: 'packet'; readonly to: Address; readonly message: Message; readonly bytes: number }
  /** Open a stream to `to`, send `message`, deliver the reply with `handleStreamReply(streamId)`. */
  | { readonly kind: 'stream'; readonly to: Address; readonly streamId: number; readonly message: StreamMessage; readonly bytes: number }
  /** Answer the stream request the driver delivered as `streamId`; `null` closes it without a reply. */
  | { readonly kind: 'stream-reply'; readonly streamId: number; readonly message: StreamMessage | null; readonly bytes: number };

/**
 * Which push-pull a delegate's user state belongs to. The initiator knows whom it contacts;
 * the responder knows only the peer's (ephemeral) stream address and the user state the peer
 * sent, so a delegate can answer extra state only to peers that sent some.
 */
export type PushPullPeer =
  | { readonly role: 'initiator'; readonly to: Address }
  | { readonly role: 'responder'; readonly from: Address; readonly remoteState: Uint8Array | null };

/**
 * memberlist's `Delegate` and `PingDelegate`, as optional plain callbacks (sans-IO: they are
 * called synchronously from `handle*`, must not throw for peer input, and do no I/O; output
 * goes through the node's own `send*` methods). With no delegate the node behaves exactly as
 * a bare memberlist node with no delegate.
 */
export interface NodeDelegate {
  /**
   * User broadcasts to piggyback on a packet to `to`, after the node's own membership gossip
   * (memberlist's `GetBroadcasts`). Each returned buffer costs `length + overheadBytes`
   * (the compound part length and the user-message type byte) and their total must stay
   * within `limitBytes`; buffers that would overshoot are dropped and counted
   * (`stats.userBroadcastsDropped`), so a packet never exceeds `packetBytesMax`.
   */
  getBroadcasts?(overheadBytes: number, limitBytes: number, to: Address): readonly Uint8Array[];
  /** A user message from a peer (packet or stream), without its `08` type byte (memberlist's `NotifyMsg`). Replaces the `user-message` event. */
  notifyMsg?(now: Millis, from: Address, payload: Uint8Array): void;
  /** User state for a push-pull (memberlist's `LocalState`); null or empty sends `UserStateLen: 0`. */
  localState?(join: boolean, peer: PushPullPeer): Uint8Array | null;
  /** A peer's non-empty push-pull user state, after its member list was merged (memberlist's `MergeRemoteState`). */
  mergeRemoteState?(now: Millis, buf: Uint8Array, join: boolean, peer: PushPullPeer): void;
  /** Payload of the acks this node sends for direct UDP pings (memberlist's `PingDelegate.AckPayload`). */
  ackPayload?(): Uint8Array | null;
}

/** memberlist v0.2.2 mis-parses compounds of 128 parts or more (reference §3.2): delegate parts stop at this count. */
export const COMPOUND_PARTS_MAX = 127;
/** A user message adds its `08` type byte to the delegate's bytes. */
export const USER_MSG_BYTES = 1;

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

export interface NodeStats {
  packetsOut: number;
  bytesOut: number;
  packetsIn: number;
  streamsOut: number;
  streamBytesOut: number;
  protocolErrors: number;
  probes: number;
  probesFailed: number;
  indirectProbes: number;
  suspicionsRaised: number;
  refutations: number;
  broadcastsQueued: number;
  /** Probes answered, and the sum of their round-trip times (ms): the mean is the ratio. */
  probeRtts: number;
  probeRttSumMs: number;
  /** User messages sent: delegate broadcasts piggybacked on packets, plus `sendUserMessage`. */
  userMessagesOut: number;
  /** Delegate broadcasts refused because they did not fit the packet budget (a delegate bug). */
  userBroadcastsDropped: number;
}

interface ProbeState {
  readonly seqNo: number;
  readonly target: NodeName;
  readonly targetSlot: number;
  /** The target's incarnation when the probe started: a refutation during the probe makes the suspicion stale, as in memberlist. */
  readonly targetIncarnation: number;
  readonly sentMs: number;
  readonly timeoutMs: number;
  readonly deadlineMs: number;
  indirectSent: boolean;
  expectedNacks: number;
  nacks: number;
  done: boolean;
}

/** An indirect ping we relay for a peer: ack back on success, nack on timeout if asked. */
interface RelayState {
  readonly origSeqNo: number;
  readonly replyTo: Address;
  readonly nack: boolean;
  readonly deadlineMs: number;
}

interface PendingStream {
  readonly kind: 'push-pull' | 'ping' | 'join' | 'user';
  readonly to: Address;
  readonly deadlineMs: number;
  readonly seqNo: number;
}

const NO_DEADLINE = Infinity;

/**
 * A SWIM + Lifeguard member, as memberlist implements it, with no I/O: time and input come in
 * through `handle*`, output goes out through `poll*`. Drain after every input, in this order:
 * `pollTransmit()` until undefined, `pollEvent()` until undefined, then `pollTimeout()`.
 *
 * Bad input from peers never throws out of `handle*`: it is counted (`stats.protocolErrors`),
 * reported as a `protocol-error` event and dropped. Misuse by the caller throws.
 */
export class GossipNode {
  readonly name: NodeName;
  readonly addr: Address;
  readonly config: Config;
  readonly stats: NodeStats = {
    packetsOut: 0, bytesOut: 0, packetsIn: 0, streamsOut: 0, streamBytesOut: 0, protocolErrors: 0,
    probes: 0, probesFailed: 0, indirectProbes: 0, suspicionsRaised: 0, refutations: 0, broadcastsQueued: 0,
    probeRtts: 0, probeRttSumMs: 0, userMessagesOut: 0, userBroadcastsDropped: 0,
  };

  private readonly rng: Rng;
  private readonly table: MemberTable;
  private readonly selfSlot: number;
  private readonly awareness: Awareness;
  private readonly queue = new TransmitLimitedQueue<MembershipMsg>();
  private readonly suspicions = new Map<number, Suspicion>();
  private readonly relays = new Map<number, RelayState>();
  private readonly streams = new Map<number, PendingStream>();
  private readonly outbox: Transmit[] = [];
  private outHead = 0;
  private readonly eventQueue: NodeEvent[] = [];
  private eventHead = 0;
  private readonly eventMask: Set<NodeEventType> | null;
  private readonly delegate: NodeDelegate | null;

  private meta: Uint8Array | null;
  private readonly vsn: Vsn;
  private inc: number;
  private seqNo = 0;
  private streamSeq = 0;

  private readonly probeOrder = new SlotList();
  private probeIndex = 0;
  private probe: ProbeState | null = null;
  private nextProbeMs: number;
  private nextGossipMs: number;
  private nextPushPullMs: number;

  private joinPending = 0;
  private joinContacted = 0;
  private joinFailed = 0;

  private selfAnnounced = false;
  /** Last probe round trip (ms) by member slot: only members probed successfully. */
  private readonly rtts = new Map<number, number>();
  private leaving = false;
  private leaveDeadlineMs = NO_DEADLINE;
  private leaveBroadcastDone = false;
  private stopped = false;

  constructor(o: GossipNodeOptions) {
    this.config = validateConfig({ ...o.config });
    this.name = o.name;
    this.addr = o.addr;
    this.rng = o.rng;
    this.meta = o.meta ?? null;
    this.vsn = o.vsn ?? DEFAULT_VSN;
    this.inc = Math.max(1, o.incarnation ?? 1);
    this.eventMask = o.events ? new Set(o.events) : null;
    this.delegate = o.delegate ?? null;
    this.awareness = new Awareness(this.config.awarenessMaxMultiplier);
    this.table = new MemberTable(o.directory ?? new NameDirectory());
    const self = this.selfAlive();
    this.selfSlot = this.table.add(o.name, self, o.now);
    this.table.setIncarnation(this.selfSlot, this.inc);
    this.table.setState(this.selfSlot, MemberState.Alive, o.now);
    this.probeOrder.push(this.selfSlot);
    // Tickers start with a random stagger, as memberlist's do.
    const now = o.now as number;
    this.nextProbeMs = now + this.rng.next() * this.config.probeIntervalMs;
    this.nextGossipMs = now + this.rng.next() * this.config.gossipIntervalMs;
    this.nextPushPullMs = this.config.pushPullIntervalMs > 0 ? now + this.rng.next() * this.config.pushPullIntervalMs : NO_DEADLINE;
  }

  // ------------------------------------------------------------------ getters

  get incarnation(): Incarnation {
    return toIncarnation(this.inc);
  }
  get healthScore(): number {
    return this.awareness.healthScore;
  }
  /** Known members in any state (dead and left included until reaped). */
  get knownCount(): number {
    return this.table.size;
  }
  /** Members alive or suspect, self included: memberlist's `NumMembers`. */
  get liveCount(): number {
    return this.table.countIn(MemberState.Alive) + this.table.countIn(MemberState.Suspect);
  }
  countIn(status: 'alive' | 'suspect' | 'dead' | 'left'): number {
    return this.table.countIn(MEMBER_STATE_NAMES.indexOf(status));
  }
  get broadcastQueueLength(): number {
    return this.queue.length;
  }
  get isStopped(): boolean {
    return this.stopped;
  }

  /** A snapshot of one member, or undefined if unknown. */
  member(name: string): MemberView | undefined {
    const slot = this.table.slotOf(name);
    return slot < 0 ? undefined : this.view(slot);
  }

  /** memberlist's `Members()`: every member that is not dead or left (suspect included). */
  members(): MemberView[] {
    return this.allMembers().filter((m) => m.status === 'alive' || m.status === 'suspect');
  }

  /** Every known member, whatever its state. */
  allMembers(): MemberView[] {
    const out: MemberView[] = [];
    for (let s = 0; s < this.table.capacity; s++) if (this.table.inUse(s)) out.push(this.view(s));
    return out;
  }

  /** The round trip (ms) of the last answered probe of a member, or undefined. */
  probeRttMs(name: string): number | undefined {
    const slot = this.table.slotOf(name);
    return slot < 0 ? undefined : this.rtts.get(slot);
  }

  /** State of a member by name, without allocating: 'alive' | 'suspect' | 'dead' | 'left' | undefined. */
  statusOf(name: string): 'alive' | 'suspect' | 'dead' | 'left' | undefined {
    const slot = this.table.slotOf(name);
    return slot < 0 ? undefined : MEMBER_STATE_NAMES[this.table.state(slot)];
  }

  /**
   * Up to k distinct random live (alive or suspect) members, never self, drawn with `rng`:
   * the peer sampler of the dissemination engine (which brings its own RNG, so using it does
   * not change the membership protocol's random choices).
   */
  sampleMembers(k: number, rng: Rng): Address[] {
    const out: Address[] = [];
    const n = this.probeOrder.length;
    if (k <= 0 || n <= 1) return out;
    const slots: number[] = [];
    for (let i = 0; i < 3 * n && slots.length < k; i++) {
      const slot = this.probeOrder.at(rng.int(n));
      if (slot === this.selfSlot || !this.table.inUse(slot) || slots.includes(slot)) continue;
      const st = this.table.state(slot);
      if (st === MemberState.Alive || st === MemberState.Suspect) slots.push(slot);
    }
    for (const s of slots) out.push(this.table.addr(s));
    return out;
  }

  // ------------------------------------------------------------------ outputs

  pollTransmit(): Transmit | undefined {
    if (this.outHead >= this.outbox.length) {
      if (this.outHead > 0) {
        this.outbox.length = 0;
        this.outHead = 0;
      }
      return undefined;
    }
    const t = this.outbox[this.outHead] as Transmit;
    this.outbox[this.outHead++] = undefined as unknown as Transmit;
    return t;
  }

  pollEvent(): NodeEvent | undefined {
    if (this.eventHead >= this.eventQueue.length) {
      if (this.eventHead > 0) {
        this.eventQueue.length = 0;
        this.eventHead = 0;
      }
      return undefined;
    }
    const e = this.eventQueue[this.eventHead] as NodeEvent;
    this.eventQueue[this.eventHead++] = undefined as unknown as NodeEvent;
    return e;
  }

  /** The next time `handleTimeout` has work to do; undefined once stopped. */
  pollTimeout(): Millis | undefined {
    if (this.stopped) return undefined;
    let t = Math.min(this.nextProbeMs, this.nextGossipMs, this.nextPushPullMs, this.leaveDeadlineMs);
    const p = this.probe;
    if (p !== null && !p.done) t = Math.min(t, p.indirectSent ? p.deadlineMs : p.timeoutMs);
    if (this.suspicions.size > 0) for (const s of this.suspicions.values()) if (s.deadlineMs < t) t = s.deadlineMs;
    if (this.relays.size > 0) for (const r of this.relays.values()) if (r.deadlineMs < t) t = r.deadlineMs;
    if (this.streams.size > 0) for (const s of this.streams.values()) if (s.deadlineMs < t) t = s.deadlineMs;
    return t === NO_DEADLINE ? undefined : (t as Millis);
  }

  // ------------------------------------------------------------------ inputs

  /** Contacts each seed with a full-state push-pull (join = true). Emits `join-completed`. */
  join(now: Millis, seeds: readonly Address[]): void {
    this.assertRunning('join');
    // Our own `alive` goes into the broadcast queue (memberlist's setAlive at Create), so the
    // cluster hears of us from us too, not only from the seeds' re-gossip of the push-pull.
    if (!this.selfAnnounced) {
      this.selfAnnounced = true;
      this.enqueueBroadcast(this.selfAlive());
    }
    for (const seed of seeds) {
      if (seed === this.addr) continue;
      this.joinPending++;
      this.openStream(now, seed, 'join', this.pushPullMessage(true, { role: 'initiator', to: seed }), 0);
    }
    if (this.joinPending === 0) this.emit({ type: 'join-completed', contacted: 0, failed: 0 });
  }

  /**
   * Seeds the member list without any traffic: a restored membership snapshot, or a
   * simulation that starts from a converged cluster. Each record is merged as an `alive`
   * (the usual precedence rules apply) and nothing is re-broadcast.
   */
  restoreMembers(now: Millis, records: readonly AliveMsg[]): void {
    this.assertRunning('restoreMembers');
    const table = this.table;
    const ids = new Int32Array(records.length);
    for (let i = 0; i < records.length; i++) ids[i] = table.directory.intern((records[i] as AliveMsg).node);
    table.reserve(table.directory.size);
    this.probeOrder.reserve(this.probeOrder.length + records.length);
    const t = now as number;
    let added = false;
    for (let i = 0; i < records.length; i++) {
      const r = records[i] as AliveMsg;
      const id = ids[i] as number;
      if (r.incarnation === 0 || table.inUse(id)) {
        this.aliveNode(now, r, false, true);
        continue;
      }
      // Bulk path for members not known yet: no precedence to check, nothing to broadcast.
      const slot = table.addAt(id, r, t);
      table.setIncarnation(slot, r.incarnation);
      table.setState(slot, MemberState.Alive, t);
      this.probeOrder.push(slot);
      added = true;
      if (this.wants('member-joined')) this.emit({ type: 'member-joined', member: this.view(slot) });
    }
    if (added) this.probeOrder.shuffle((bound) => this.rng.int(bound));
  }

  /** Updates this node's metadata (Serf tags) and announces it with a new incarnation. */
  setMeta(now: Millis, meta: Uint8Array | null): void {
    this.assertRunning('setMeta');
    this.meta = meta;
    this.inc++;
    this.announceSelf(now);
  }

  /**
   * Graceful leave: broadcast `dead{node: me, from: me}` and wait until it has been sent its
   * retransmit limit, or `leavePropagateMs`; then emit `left` and stop.
   */
  leave(now: Millis): void {
    this.assertRunning('leave');
    if (this.leaving) return;
    this.leaving = true;
    const dead: DeadMsg = { type: 'dead', incarnation: toIncarnation(this.inc), node: this.name, from: this.name };
    this.table.setState(this.selfSlot, MemberState.Left, now);
    const anyAlive = this.liveCount > 0;
    if (!anyAlive) {
      this.finishLeave();
      return;
    }
    this.queue.enqueue(this.name, dead, messageBytes(dead), () => {
      this.leaveBroadcastDone = true;
    }, true);
    this.leaveDeadlineMs = now + this.config.leavePropagateMs;
  }

  /** Stops without telling anyone (a crash, from the cluster's point of view). */
  shutdown(): void {
    this.stopped = true;
    this.queue.reset();
  }

  handleTimeout(now: Millis): void {
    if (this.stopped) return;
    const t = now as number;
    if (this.leaving) {
      if (this.leaveBroadcastDone || t >= this.leaveDeadlineMs) {
        this.finishLeave();
        return;
      }
    }
    // Streams that never answered.
    if (this.streams.size > 0) {
      for (const [id, s] of this.streams) {
        if (s.deadlineMs <= t) {
          this.streams.delete(id);
          this.streamFailed(s, 'stream-timeout');
        }
      }
    }
    // Relayed indirect pings that timed out: nack if the requester asked for it.
    if (this.relays.size > 0) {
      for (const [seq, r] of this.relays) {
        if (r.deadlineMs <= t) {
          this.relays.delete(seq);
          if (r.nack) this.sendPacket(r.replyTo, { type: 'nack', seqNo: r.origSeqNo } satisfies NackMsg);
        }
      }
    }
    // Suspicion timers.
    if (this.suspicions.size > 0) {
      for (const [slot, s] of this.suspicions) {
        if (s.deadlineMs <= t) {
          this.suspicions.delete(slot);
          if (this.table.inUse(slot) && this.table.state(slot) === MemberState.Suspect && this.table.changedAt(slot) === s.startMs) {
            this.deadNode(now, {
              type: 'dead', incarnation: this.table.incarnation(slot), node: this.table.name(slot), from: this.name,
            });
          }
        }
      }
    }
    // The current probe.
    const p = this.probe;
    if (p !== null && !p.done) {
      if (!p.indirectSent && t >= p.timeoutMs) this.startIndirectProbe(now, p);
      if (p.indirectSent && t >= p.deadlineMs) this.probeFailed(now, p);
    }
    if (t >= this.nextProbeMs) this.probeTick(now);
    if (t >= this.nextGossipMs) {
      this.nextGossipMs = Math.max(this.nextGossipMs + this.config.gossipIntervalMs, t);
      this.gossip(now);
    }
    if (t >= this.nextPushPullMs) {
      this.nextPushPullMs = t + pushPullScale(this.config.pushPullIntervalMs, this.table.size);
      this.periodicPushPull(now);
    }
  }

  /** A packet from a peer: one message, or a compound of several. Never throws for bad input. */
  handlePacket(now: Millis, from: Address, msg: Message): void {
    if (this.stopped) return;
    this.stats.packetsIn++;
    try {
      if (msg.type === 'compound') {
        for (const part of msg.parts) {
          if (part.type === 'compound') this.protocolError(from, 'compound-in-compound', 'nested compound message');
          else this.handleMessage(now, from, part);
        }
      } else {
        this.handleMessage(now, from, msg);
      }
    } catch (e) {
      this.protocolError(from, 'malformed', e instanceof Error ? e.message : String(e));
    }
  }

  /** A stream request from a peer; the reply goes out as a `stream-reply` transmit with the same id. */
  handleStreamRequest(now: Millis, from: Address, streamId: number, msg: StreamMessage): void {
    if (this.stopped) return;
    try {
      switch (msg.type) {
        case 'push-pull': {
          // Reply with our state first (Join echoed), then merge theirs, as memberlist does.
          const peer: PushPullPeer = { role: 'responder', from, remoteState: msg.userState };
          const reply = this.pushPullMessage(msg.join, peer);
          this.push({ kind: 'stream-reply', streamId, message: reply, bytes: messageBytes(reply) });
          this.mergeRemoteState(now, msg, from, peer);
          return;
        }
        case 'ping': {
          if (msg.node !== '' && msg.node !== this.name) {
            this.protocolError(from, 'ping-for-other-node', `stream ping for ${msg.node}`);
            this.push({ kind: 'stream-reply', streamId, message: null, bytes: 0 });
            return;
          }
          const ack: AckMsg = { type: 'ack', seqNo: msg.seqNo, payload: null };
          this.push({ kind: 'stream-reply', streamId, message: ack, bytes: messageBytes(ack) });
          return;
        }
        case 'user':
          this.push({ kind: 'stream-reply', streamId, message: null, bytes: 0 });
          this.userMessage(now, from, msg.payload);
          return;
        case 'ack':
        case 'error':
          this.protocolError(from, 'unexpected-message', `${msg.type} as a stream request`);
          this.push({ kind: 'stream-reply', streamId, message: null, bytes: 0 });
          return;
      }
    } catch (e) {
      this.protocolError(from, 'malformed', e instanceof Error ? e.message : String(e));
    }
  }

  /** The reply to a stream we opened; `null` when the stream failed or closed without a reply. */
  handleStreamReply(now: Millis, streamId: number, msg: StreamMessage | null): void {
    if (this.stopped) return;
    const s = this.streams.get(streamId);
    if (s === undefined) return; // timed out already, or not ours
    this.streams.delete(streamId);
    try {
      if (msg === null) {
        this.streamFailed(s, 'stream-failed');
        return;
      }
      if (msg.type === 'error') {
        this.protocolError(null, 'remote-error', msg.error);
        this.streamFailed(s, 'remote-error');
        return;
      }
      switch (s.kind) {
        case 'user':
          return; // one message per stream: any answer is the close
        case 'join':
        case 'push-pull':
          if (msg.type !== 'push-pull') {
            this.protocolError(null, 'unexpected-message', `${msg.type} in reply to push-pull`);
            this.streamFailed(s, 'stream-failed');
            return;
          }
          this.mergeRemoteState(now, msg, s.to, { role: 'initiator', to: s.to });
          if (s.kind === 'join') {
            this.joinContacted++;
            this.joinDone();
          }
          return;
        case 'ping':
          if (msg.type === 'ack' && msg.seqNo === s.seqNo) this.handleAck(now, msg, true);
          return;
      }
    } catch (e) {
      this.protocolError(null, 'malformed', e instanceof Error ? e.message : String(e));
    }
  }

  // ------------------------------------------------------------------ message handling

  private handleMessage(now: Millis, from: Address, m: Exclude<Message, { type: 'compound' }>): void {
    switch (m.type) {
      case 'ping':
        return this.handlePing(from, m);
      case 'indirect-ping':
        return this.handleIndirectPing(now, from, m);
      case 'ack':
        return this.handleAck(now, m, false);
      case 'nack':
        return this.handleNack(m);
      case 'alive':
        return this.aliveNode(now, m, false);
      case 'suspect':
        return this.suspectNode(now, m);
      case 'dead':
        return this.deadNode(now, m);
      case 'user':
        return this.userMessage(now, from, m.payload);
    }
  }

  private userMessage(now: Millis, from: Address, payload: Uint8Array): void {
    const d = this.delegate;
    if (d !== null && d.notifyMsg !== undefined) d.notifyMsg(now, from, payload);
    else this.emit({ type: 'user-message', from, payload });
  }

  private handlePing(from: Address, m: PingMsg): void {
    if (m.node !== '' && m.node !== this.name) {
      this.protocolError(from, 'ping-for-other-node', `ping for ${m.node}`);
      return;
    }
    const ack: AckMsg = { type: 'ack', seqNo: m.seqNo, payload: this.delegate?.ackPayload?.() ?? null };
    this.sendPacket(m.sourceAddr ?? from, ack);
  }

  private handleIndirectPing(now: Millis, from: Address, m: IndirectPingMsg): void {
    const seqNo = this.nextSeqNo();
    const ping: PingMsg = { type: 'ping', seqNo, node: m.node, sourceAddr: this.addr, sourceNode: this.name };
    this.relays.set(seqNo, {
      origSeqNo: m.seqNo,
      replyTo: m.sourceAddr ?? from,
      nack: m.nack,
      deadlineMs: (now as number) + this.config.probeTimeoutMs,
    });
    this.sendPacket(m.target, ping);
  }

  private handleAck(now: Millis, m: AckMsg, viaStream: boolean): void {
    const relay = this.relays.get(m.seqNo);
    if (relay !== undefined) {
      this.relays.delete(m.seqNo);
      this.sendPacket(relay.replyTo, { type: 'ack', seqNo: relay.origSeqNo, payload: null } satisfies AckMsg);
      return;
    }
    const p = this.probe;
    if (p === null || p.done || p.seqNo !== m.seqNo) return; // late or unknown ack
    p.done = true;
    // Round trip of the probe that was answered (direct, indirect or over a stream).
    const rtt = Math.max(0, (now as number) - p.sentMs);
    this.stats.probeRtts++;
    this.stats.probeRttSumMs += rtt;
    this.rtts.set(p.targetSlot, rtt);
    if (viaStream) this.protocolError(null, 'stream-failed', `was able to reach ${p.target} over a stream but other probes failed, network may be misconfigured`);
    if (this.config.lifeguard) this.awareness.apply(-1);
  }

  private handleNack(m: NackMsg): void {
    const p = this.probe;
    if (p !== null && !p.done && p.seqNo === m.seqNo) p.nacks++;
  }

  // ------------------------------------------------------------------ probing

  private probeTick(now: Millis): void {
    const t = now as number;
    // Lifeguard LHA-probe: the probe interval stretches with the local health score.
    this.nextProbeMs = t + this.awareness.scale(this.config.probeIntervalMs);
    if (this.leaving) return;
    // A probe still running (its deadline is later than the next tick) is abandoned as failed.
    if (this.probe !== null && !this.probe.done) this.probeFailed(now, this.probe);
    const target = this.nextProbeTarget(t);
    if (target < 0) return;
    this.probeNode(now, target);
  }

  private nextProbeTarget(nowMs: number): number {
    for (let tries = 0; tries <= this.probeOrder.length; tries++) {
      if (this.probeIndex >= this.probeOrder.length) {
        this.resetProbeOrder(nowMs);
        if (tries > 0) return -1;
      }
      const slot = this.probeOrder.at(this.probeIndex++);
      if (slot === this.selfSlot || !this.table.inUse(slot)) continue;
      const st = this.table.state(slot);
      if (st === MemberState.Dead || st === MemberState.Left) continue;
      return slot;
    }
    return -1;
  }

  /** The list wrapped: reap dead and left members older than gossipToTheDead, reshuffle. */
  private resetProbeOrder(nowMs: number): void {
    this.probeIndex = 0;
    this.probeOrder.retain((slot) => {
      if (!this.table.inUse(slot)) return false;
      const st = this.table.state(slot);
      if ((st === MemberState.Dead || st === MemberState.Left) && slot !== this.selfSlot &&
        nowMs - this.table.changedAt(slot) > this.config.gossipToTheDeadTimeMs) {
        const name = this.table.name(slot);
        this.suspicions.delete(slot);
        this.rtts.delete(slot);
        this.table.remove(slot);
        this.emit({ type: 'member-reaped', name });
        return false;
      }
      return true;
    });
    this.probeOrder.shuffle((bound) => this.rng.int(bound));
  }

  private probeNode(now: Millis, slot: number): void {
    const t = now as number;
    const seqNo = this.nextSeqNo();
    const target = this.table.name(slot);
    const addr = this.table.addr(slot);
    const ping: PingMsg = { type: 'ping', seqNo, node: target, sourceAddr: this.addr, sourceNode: this.name };
    this.stats.probes++;
    this.probe = {
      seqNo, target, targetSlot: slot, targetIncarnation: this.table.incarnation(slot), sentMs: t,
      timeoutMs: t + this.config.probeTimeoutMs,
      deadlineMs: t + this.awareness.scale(this.config.probeIntervalMs),
      indirectSent: false, expectedNacks: 0, nacks: 0, done: false,
    };
    if (this.config.lifeguard && this.table.state(slot) === MemberState.Suspect) {
      // Lifeguard buddy system: tell the suspect it is suspected, in the same packet.
      const suspect: SuspectMsg = { type: 'suspect', incarnation: this.table.incarnation(slot), node: target, from: this.name };
      this.sendCompound(addr, [ping, suspect]);
    } else {
      this.sendPacket(addr, ping);
    }
  }

  private startIndirectProbe(now: Millis, p: ProbeState): void {
    p.indirectSent = true;
    if (!this.table.inUse(p.targetSlot) || this.table.name(p.targetSlot) !== p.target) {
      p.done = true;
      return;
    }
    const targetAddr = this.table.addr(p.targetSlot);
    const peers = this.randomMembers(this.config.indirectChecks, (s) => s !== p.targetSlot && this.table.state(s) === MemberState.Alive);
    for (const s of peers) {
      const rec = this.table.record(s);
      const nack = rec.vsn[1] >= 4;
      if (nack) p.expectedNacks++;
      this.stats.indirectProbes++;
      const req: IndirectPingMsg = {
        type: 'indirect-ping', seqNo: p.seqNo, target: targetAddr, node: p.target, nack,
        sourceAddr: this.addr, sourceNode: this.name,
      };
      this.sendPacket(rec.addr, req);
    }
    // Stream (TCP) fallback ping to peers that speak protocol ≥ 3.
    const rec = this.table.record(p.targetSlot);
    if (!this.config.disableStreamPings && rec.vsn[1] >= 3) {
      const ping: PingMsg = { type: 'ping', seqNo: p.seqNo, node: p.target, sourceAddr: this.addr, sourceNode: this.name };
      this.openStream(now, targetAddr, 'ping', ping, p.seqNo, p.deadlineMs);
    }
  }

  private probeFailed(now: Millis, p: ProbeState): void {
    p.done = true;
    this.stats.probesFailed++;
    if (this.config.lifeguard) {
      const missed = p.expectedNacks > 0 ? Math.max(0, p.expectedNacks - p.nacks) : 1;
      this.awareness.apply(missed);
    }
    const slot = p.targetSlot;
    if (!this.table.inUse(slot) || this.table.name(slot) !== p.target) return;
    const st = this.table.state(slot);
    if (st === MemberState.Dead || st === MemberState.Left) return;
    this.stats.suspicionsRaised++;
    this.suspectNode(now, { type: 'suspect', incarnation: toIncarnation(p.targetIncarnation), node: p.target, from: this.name });
  }

  // ------------------------------------------------------------------ state changes (reference §6.4)

  private aliveNode(now: Millis, a: AliveMsg, bootstrap: boolean, quietIfNew = false): void {
    const t = now as number;
    const isSelf = a.node === this.name;
    if (this.leaving && isSelf) return;
    if (a.incarnation === 0 && !isSelf && this.table.slotOf(a.node) < 0) return; // see reference §6.4
    if (isSelf && a.addr !== this.addr) {
      // A previous life's address (a restart on a new port): not a conflict of ours to log. The
      // peer refuses our address until it declares that one dead; the host push-pulls again.
      if (!bootstrap && this.wants('self-address-stale')) this.emit({ type: 'self-address-stale', staleAddr: a.addr });
      return;
    }
    let slot = this.table.slotOf(a.node);
    let isNew = false;
    if (slot < 0) {
      slot = this.table.add(a.node, a, t);
      isNew = true;
      // Insert at a random position of the probe order.
      this.probeOrder.push(slot);
      const n = this.probeOrder.length - 1;
      const j = this.rng.int(n + 1);
      this.probeOrder.set(n, this.probeOrder.at(j));
      this.probeOrder.set(j, slot);
    } else if (this.table.addr(slot) !== a.addr) {
      const st = this.table.state(slot);
      const reclaim = this.config.deadNodeReclaimTimeMs > 0 && t - this.table.changedAt(slot) > this.config.deadNodeReclaimTimeMs;
      if (!(st === MemberState.Left || (st === MemberState.Dead && reclaim))) {
        this.protocolError(a.addr, 'address-conflict', `conflicting address for ${a.node}: mine ${this.table.addr(slot)}, theirs ${a.addr}`);
        return;
      }
      // The address is being updated: accept whatever the incarnation.
      this.table.setIncarnation(slot, 0);
    }
    const known = this.table.incarnation(slot);
    if (isSelf) {
      if (bootstrap) return;
      if (a.incarnation < this.inc) return;
      if (a.incarnation === this.inc && sameBytes(a.meta, this.meta) && sameVsn(a.vsn, this.vsn)) return;
      this.refute(now, a.incarnation, a.node);
      return;
    }
    if (!isNew && a.incarnation <= known) return;
    // Accept: re-broadcast, update, mark alive.
    if (!(isNew && quietIfNew)) this.enqueueBroadcast(a);
    const old = this.table.state(slot);
    const oldMeta = this.table.record(slot).meta;
    this.table.setRecord(slot, a);
    this.table.setIncarnation(slot, a.incarnation);
    this.suspicions.delete(slot);
    if (old !== MemberState.Alive) this.table.setState(slot, MemberState.Alive, t);
    if (isNew || old === MemberState.Dead || old === MemberState.Left) {
      if (this.wants('member-joined')) this.emit({ type: 'member-joined', member: this.view(slot) });
    } else {
      if (old === MemberState.Suspect && this.wants('member-recovered')) this.emit({ type: 'member-recovered', member: this.view(slot) });
      if (!sameBytes(oldMeta, a.meta) && this.wants('member-updated')) this.emit({ type: 'member-updated', member: this.view(slot) });
    }
  }

  private suspectNode(now: Millis, s: SuspectMsg): void {
    const slot = this.table.slotOf(s.node);
    if (slot < 0) return;
    if (s.incarnation < this.table.incarnation(slot)) return;
    const existing = this.suspicions.get(slot);
    if (existing !== undefined) {
      if (existing.confirm(s.from, now)) this.enqueueBroadcast(s);
      return;
    }
    if (this.table.state(slot) !== MemberState.Alive) return;
    if (slot === this.selfSlot) {
      if (this.leaving) return;
      this.refute(now, s.incarnation, s.from);
      return;
    }
    this.enqueueBroadcast(s);
    const t = now as number;
    this.table.setIncarnation(slot, s.incarnation);
    this.table.setState(slot, MemberState.Suspect, t);
    this.suspicions.set(slot, new Suspicion(this.config, this.table.size, s.from, t));
    if (this.wants('member-suspected')) this.emit({ type: 'member-suspected', member: this.view(slot), from: s.from });
  }

  private deadNode(now: Millis, d: DeadMsg): void {
    const slot = this.table.slotOf(d.node);
    if (slot < 0) return;
    if (d.incarnation < this.table.incarnation(slot)) return;
    this.suspicions.delete(slot);
    const st = this.table.state(slot);
    if (st === MemberState.Dead || st === MemberState.Left) return;
    if (slot === this.selfSlot) {
      if (!this.leaving) this.refute(now, d.incarnation, d.from);
      return;
    }
    this.enqueueBroadcast(d);
    const left = d.node === d.from;
    this.table.setIncarnation(slot, d.incarnation);
    this.table.setState(slot, left ? MemberState.Left : MemberState.Dead, now);
    if (left) {
      if (this.wants('member-left')) this.emit({ type: 'member-left', member: this.view(slot) });
    } else if (this.wants('member-failed')) {
      this.emit({ type: 'member-failed', member: this.view(slot), from: d.from });
    }
  }

  /** Someone says we are suspect or dead: come back with a higher incarnation (reference §6.4). */
  private refute(now: Millis, accused: number, by: string): void {
    this.inc = Math.max(this.inc + 1, accused + 1);
    this.stats.refutations++;
    if (this.config.lifeguard) this.awareness.apply(1);
    this.announceSelf(now);
    if (this.wants('self-refuted')) {
      this.emit({ type: 'self-refuted', incarnation: toIncarnation(this.inc), accusedAt: toIncarnation(accused), by: by as NodeName });
    }
  }

  private announceSelf(now: Millis): void {
    const a = this.selfAlive();
    this.table.setRecord(this.selfSlot, a);
    this.table.setIncarnation(this.selfSlot, this.inc);
    if (this.table.state(this.selfSlot) !== MemberState.Alive) this.table.setState(this.selfSlot, MemberState.Alive, now);
    this.enqueueBroadcast(a);
  }

  private selfAlive(): AliveMsg {
    return { type: 'alive', incarnation: toIncarnation(this.inc), node: this.name, addr: this.addr, meta: this.meta, vsn: this.vsn };
  }

  /**
   * Merges a peer's push-pull state (memberlist's mergeState): alive → alive message, left →
   * dead{from: itself}, dead or suspect → only a suspicion from us (a remote death is never
   * trusted directly).
   *
   * Every news learned this way is re-gossiped, as memberlist does. (Keeping it quiet saves
   * queue space in a join storm, but then a node that learned a member by push-pull drops
   * later gossip about it as old news and stops spreading it: measured at 1,000 nodes, join
   * convergence went from 30 s to 184 s, waiting for the next push-pull round.)
   */
  private mergeRemoteState(now: Millis, m: PushPullMsg, peer: Address | null, pushPullPeer: PushPullPeer): void {
    const table = this.table;
    const n = m.records.length;
    if (m.incarnations.length !== n || m.states.length !== n) {
      this.protocolError(peer, 'malformed', `push-pull with ${n} records, ${m.incarnations.length} incarnations, ${m.states.length} states`);
      return;
    }
    for (let i = 0; i < n; i++) {
      const r = m.records[i] as AliveMsg;
      const inc = m.incarnations[i] as number;
      switch (m.states[i] as MemberState) {
        case MemberState.Alive: {
          // Fast path: exactly what we hold already (the common case between converged nodes).
          const known = table.slotOf(r.node);
          if (known >= 0 && table.record(known) === r && table.incarnation(known) >= inc && table.state(known) === MemberState.Alive) break;
          const a: AliveMsg = inc === r.incarnation ? r : { ...r, incarnation: toIncarnation(inc) };
          this.aliveNode(now, a, false);
          break;
        }
        case MemberState.Left:
          this.deadNode(now, { type: 'dead', incarnation: toIncarnation(inc), node: r.node, from: r.node });
          break;
        case MemberState.Dead:
        case MemberState.Suspect:
          if (r.node === this.name && r.addr !== this.addr) {
            // Our previous life's address, suspected or dead there: not reclaimed yet.
            if (this.wants('self-address-stale')) this.emit({ type: 'self-address-stale', staleAddr: r.addr });
            break;
          }
          this.suspectNode(now, { type: 'suspect', incarnation: toIncarnation(inc), node: r.node, from: this.name });
          break;
        default:
          this.protocolError(peer, 'malformed', `push-pull state ${String(m.states[i])} for ${r.node}`);
      }
    }
    // memberlist calls the delegate only when UserStateLen > 0, after the member list.
    const d = this.delegate;
    if (d !== null && d.mergeRemoteState !== undefined && m.userState !== null && m.userState.length > 0) {
      d.mergeRemoteState(now, m.userState, m.join, pushPullPeer);
    }
  }

  // ------------------------------------------------------------------ gossip and push-pull

  private gossip(now: Millis): void {
    const userBroadcasts = this.delegate?.getBroadcasts !== undefined;
    if (this.queue.length === 0 && !userBroadcasts) return;
    const t = now as number;
    const peers = this.randomMembers(this.config.gossipNodes, (s) => {
      const st = this.table.state(s);
      if (st === MemberState.Alive || st === MemberState.Suspect) return true;
      return st === MemberState.Dead && t - this.table.changedAt(s) < this.config.gossipToTheDeadTimeMs;
    });
    const limit = retransmitLimit(this.config.retransmitMult, this.table.size);
    for (const s of peers) {
      const budget = this.config.packetBytesMax - COMPOUND_HEADER_BYTES;
      const msgs: Message[] = this.queue.take(COMPOUND_PART_BYTES, budget, limit);
      const addr = this.table.addr(s);
      let taken = this.queue.takenBytes;
      if (userBroadcasts) taken += this.takeUserBroadcasts(addr, budget - taken, msgs);
      if (msgs.length === 0) {
        if (userBroadcasts) continue;
        return;
      }
      if (msgs.length === 1) this.pushPacket(addr, msgs[0] as Message, taken - COMPOUND_PART_BYTES);
      else this.pushPacket(addr, { type: 'compound', parts: msgs }, COMPOUND_HEADER_BYTES + taken);
    }
  }

  private periodicPushPull(now: Millis): void {
    if (this.leaving) return;
    const peers = this.randomMembers(1, (s) => this.table.state(s) === MemberState.Alive);
    const s = peers[0];
    if (s === undefined) return;
    const to = this.table.addr(s);
    this.openStream(now, to, 'push-pull', this.pushPullMessage(false, { role: 'initiator', to }), 0);
  }

  private pushPullMessage(join: boolean, peer: PushPullPeer): PushPullMsg {
    const t = this.table;
    const n = t.size;
    const records: AliveMsg[] = new Array<AliveMsg>(n);
    const incarnations = new Uint32Array(n);
    const states = new Uint8Array(n);
    let i = 0;
    for (let s = 0; s < t.capacity; s++) {
      if (!t.inUse(s)) continue;
      records[i] = t.record(s);
      incarnations[i] = t.incarnation(s);
      states[i] = t.state(s);
      i++;
    }
    const d = this.delegate;
    const userState = d === null || d.localState === undefined ? null : d.localState(join, peer);
    return { type: 'push-pull', join, records, incarnations, states, userState: userState !== null && userState.length > 0 ? userState : null };
  }

  private streamFailed(s: PendingStream, reason: ProtocolErrorReason): void {
    if (s.kind === 'join') {
      this.joinFailed++;
      this.joinDone();
    } else if (reason === 'stream-timeout' && s.kind === 'push-pull') {
      this.protocolError(null, reason, 'push-pull timed out');
    } else if (reason !== 'stream-failed' && s.kind === 'user') {
      this.protocolError(null, reason, `reliable user message to ${s.to} failed`);
    }
  }

  private joinDone(): void {
    this.joinPending--;
    if (this.joinPending === 0) {
      this.emit({ type: 'join-completed', contacted: this.joinContacted, failed: this.joinFailed });
      this.joinContacted = 0;
      this.joinFailed = 0;
    }
  }

  private finishLeave(): void {
    this.leaveDeadlineMs = NO_DEADLINE;
    this.emit({ type: 'left' });
    this.stopped = true;
    this.queue.reset();
  }

  // ------------------------------------------------------------------ sending

  /** Sends one message and piggybacks queued broadcasts in the space left (memberlist's sendMsg). */
  private sendPacket(to: Address, m: Message): void {
    const bytes = messageBytes(m);
    // The message itself becomes the first part of a compound: header, its length, itself.
    const avail = this.config.packetBytesMax - COMPOUND_HEADER_BYTES - COMPOUND_PART_BYTES - bytes;
    const extra: Message[] = this.queue.length > 0 ? this.queue.take(COMPOUND_PART_BYTES, avail, retransmitLimit(this.config.retransmitMult, this.table.size)) : [];
    let taken = extra.length > 0 ? this.queue.takenBytes : 0;
    if (this.delegate?.getBroadcasts !== undefined) taken += this.takeUserBroadcasts(to, avail - taken, extra, 1);
    if (extra.length === 0) {
      this.pushPacket(to, m, bytes);
      return;
    }
    const parts: Message[] = [m];
    for (const e of extra) parts.push(e);
    this.pushPacket(to, { type: 'compound', parts }, COMPOUND_HEADER_BYTES + COMPOUND_PART_BYTES + bytes + taken);
  }

  private sendCompound(to: Address, msgs: Message[]): void {
    let used = COMPOUND_HEADER_BYTES;
    for (const m of msgs) used += messageBytes(m) + COMPOUND_PART_BYTES;
    const extra: Message[] = this.queue.length > 0 ? this.queue.take(COMPOUND_PART_BYTES, this.config.packetBytesMax - used, retransmitLimit(this.config.retransmitMult, this.table.size)) : [];
    let taken = extra.length > 0 ? this.queue.takenBytes : 0;
    if (this.delegate?.getBroadcasts !== undefined) taken += this.takeUserBroadcasts(to, this.config.packetBytesMax - used - taken, extra, msgs.length);
    this.pushPacket(to, { type: 'compound', parts: msgs.concat(extra) }, used + taken);
  }

  /**
   * memberlist's getBroadcasts, delegate half: asks the delegate for user broadcasts within
   * `limitBytes` (each part costs its bytes + 2-byte length + 1 type byte), appends them to
   * `out` as user messages and returns the bytes used. Whatever overshoots the budget or the
   * compound part limit is dropped and counted, never sent.
   */
  private takeUserBroadcasts(to: Address, limitBytes: number, out: Message[], partsBefore = 0): number {
    const overhead = COMPOUND_PART_BYTES + USER_MSG_BYTES;
    const d = this.delegate;
    if (d === null || d.getBroadcasts === undefined || limitBytes <= overhead) return 0;
    const bufs = d.getBroadcasts(overhead, limitBytes, to);
    let used = 0;
    for (const payload of bufs) {
      const cost = payload.length + overhead;
      if (payload.length === 0 || used + cost > limitBytes || partsBefore + out.length >= COMPOUND_PARTS_MAX) {
        this.stats.userBroadcastsDropped++;
        continue;
      }
      used += cost;
      out.push({ type: 'user', payload } satisfies UserMsg);
      this.stats.userMessagesOut++;
    }
    return used;
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
    if (reliable) this.openStream(now, to, 'user', m, 0);
    else this.pushPacket(to, m, messageBytes(m));
  }

  private pushPacket(to: Address, m: Message, bytes: number): void {
    this.stats.packetsOut++;
    this.stats.bytesOut += bytes;
    this.push({ kind: 'packet', to, message: m, bytes });
  }

  private openStream(now: Millis, to: Address, kind: PendingStream['kind'], message: StreamMessage, seqNo: number, deadlineMs?: number): void {
    const streamId = ++this.streamSeq;
    this.streams.set(streamId, { kind, to, seqNo, deadlineMs: deadlineMs ?? (now as number) + this.config.streamTimeoutMs });
    const bytes = messageBytes(message);
    this.stats.streamsOut++;
    this.stats.streamBytesOut += bytes;
    this.push({ kind: 'stream', to, streamId, message, bytes });
  }

  private push(t: Transmit): void {
    this.outbox.push(t);
  }

  /**
   * Queues gossip about a member, keyed by its name (a newer message replaces an older one).
   * Suspicions, deaths and incarnation bumps (refutations, restarts) are urgent: they race
   * suspicion timers. A first `alive` (a join announcement) is not.
   */
  private enqueueBroadcast(m: MembershipMsg): void {
    this.stats.broadcastsQueued++;
    const urgent = m.type !== 'alive' || m.incarnation > 1;
    this.queue.enqueue(m.node, m, messageBytes(m), null, urgent);
  }

  // ------------------------------------------------------------------ helpers

  /** Up to k distinct random members (never self) that pass `accept`, memberlist's kRandomNodes. */
  private randomMembers(k: number, accept: (slot: number) => boolean): number[] {
    const out: number[] = [];
    const n = this.probeOrder.length;
    if (k <= 0 || n <= 1) return out;
    for (let i = 0; i < 3 * n && out.length < k; i++) {
      const slot = this.probeOrder.at(this.rng.int(n));
      if (slot === this.selfSlot || !this.table.inUse(slot) || out.includes(slot)) continue;
      if (accept(slot)) out.push(slot);
    }
    return out;
  }

  private nextSeqNo(): number {
    this.seqNo = (this.seqNo + 1) >>> 0;
    return this.seqNo;
  }

  private view(slot: number): MemberView {
    const r = this.table.record(slot);
    return {
      name: this.table.name(slot), addr: r.addr, meta: r.meta, incarnation: this.table.incarnation(slot),
      status: MEMBER_STATE_NAMES[this.table.state(slot)], vsn: r.vsn,
    };
  }

  private wants(t: NodeEventType): boolean {
    return this.eventMask === null || this.eventMask.has(t);
  }

  private emit(e: NodeEvent): void {
    if (this.eventMask !== null && !this.eventMask.has(e.type)) return;
    this.eventQueue.push(e);
  }

  private protocolError(from: Address | null, reason: ProtocolErrorReason, detail: string): void {
    this.stats.protocolErrors++;
    this.emit({ type: 'protocol-error', from, reason, detail });
  }

  private assertRunning(op: string): void {
    if (this.stopped) throw new Error(`${op}: node ${this.name} has stopped`);
  }
}

function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === b) return true;
  const al = a?.length ?? 0;
  const bl = b?.length ?? 0;
  if (al !== bl) return false;
  for (let i = 0; i < al; i++) if ((a as Uint8Array)[i] !== (b as Uint8Array)[i]) return false;
  return true;
}

function sameVsn(a: Vsn, b: Vsn): boolean {
  for (let i = 0; i < 6; i++) if (a[i] !== b[i]) return false;
  return true;
}
