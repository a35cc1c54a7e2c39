import { retransmitLimit } from '../config.js';
import type { MemberView, NodeEvent } from '../events.js';
import type { Address, Millis, NodeName } from '../ids.js';
import { address, millis } from '../ids.js';
import type { Message, StreamMessage } from '../messages.js';
import { DEFAULT_VSN } from '../messages.js';
import type { GossipNodeOptions, NodeDelegate, PushPullPeer, Transmit } from '../membership/node.js';
import { GossipNode } from '../membership/node.js';
import { TransmitLimitedQueue } from '../broadcast/transmit-queue.js';
import type { Rng } from '../rng.js';
import type { SerfConfig } from './config.js';
import { DEFAULT_SERF_CONFIG, META_BYTES_MAX, USER_EVENT_SIZE_MAX } from './config.js';
import type { SerfKeyring } from './keyring.js';
import { encodeBase64 } from './keyring.js';
import { LamportClock } from './lamport-clock.js';
import { LamportRing } from './lamport-ring.js';
import type {
  QueryFilter, SerfBufferedEvent, SerfCodec, SerfEventSlot, SerfJoinMsg, SerfKeyResponseMsg, SerfLeaveMsg,
  SerfPushPullMsg, SerfQueryMsg, SerfQueryResponseMsg, SerfUserEventMsg,
} from './messages.js';
import {
  DATA_TYPE_MAX, DATA_TYPE_MIN, INTERNAL_QUERY_PREFIX, QUERY_FLAG_ACK, QUERY_FLAG_NO_BROADCAST, SerfMessageType,
} from './messages.js';

/** Serf's member statuses (reference §8.4). */
export type SerfMemberStatus = 'alive' | 'leaving' | 'left' | 'failed';

/** A member as Serf sees it: `serf members` shows these fields. */
export interface SerfMember {
  readonly name: string;
  readonly addr: Address;
  readonly tags: Readonly<Record<string, string>>;
  readonly status: SerfMemberStatus;
  /** Lamport time of the last join or leave intent applied to this member. */
  readonly statusLTime: number;
  /** memberlist versions [pmin, pmax, pcur] and Serf's (delegate) versions [dmin, dmax, dcur]. */
  readonly protocol: { readonly min: number; readonly max: number; readonly cur: number };
  readonly delegate: { readonly min: number; readonly max: number; readonly cur: number };
}

/** Parameters of `SerfNode.query` (Serf's QueryParam). */
export interface QueryOptions {
  /** Only these nodes process the query. */
  readonly filterNodes?: readonly string[];
  /** Only nodes whose tag matches the regular expression (unanchored) process the query. */
  readonly filterTags?: Readonly<Record<string, string>>;
  /** Ask every processing node for an ack. */
  readonly requestAck?: boolean;
  /** Responses are also relayed through this many random members (0–5 in practice). */
  readonly relayFactor?: number;
  /** Default: `gossipIntervalMs × queryTimeoutMult × ceil(log10(n + 1))`. */
  readonly timeoutMs?: number;
}

/** The data layer's push-pull state hook: appended to Serf's user state only between members that advertise our tag. */
export interface DataStateDelegate {
  localState(join: boolean): Uint8Array | null;
  mergeRemoteState(now: Millis, buf: Uint8Array, join: boolean): void;
}

type PassThrough = Extract<NodeEvent, { type: 'member-suspected' | 'member-recovered' | 'self-refuted' | 'self-address-stale' | 'join-completed' | 'left' | 'protocol-error' }>;

/** What a SerfNode reports, drained with `pollEvent()`. */
export type SerfEvent =
  | { readonly type: 'member-joined'; readonly member: SerfMember }
  | { readonly type: 'member-updated'; readonly member: SerfMember }
  /** A graceful leave (a leave intent preceded the memberlist leave), or a forced leave of a failed member. */
  | { readonly type: 'member-left'; readonly member: SerfMember }
  /** Gone without a leave intent: a crash, a partition, or a bare memberlist leave. */
  | { readonly type: 'member-failed'; readonly member: SerfMember }
  | { readonly type: 'member-reaped'; readonly member: SerfMember }
  | PassThrough
  | { readonly type: 'user-event'; readonly ltime: number; readonly name: string; readonly payload: Uint8Array; readonly coalesce: boolean }
  /** A query for the application; answer with `respond(now, queryId, payload)` before `deadlineMs`. */
  | {
    readonly type: 'query'; readonly queryId: number; readonly ltime: number; readonly name: string; readonly payload: Uint8Array;
    readonly sourceNode: string; readonly deadlineMs: Millis;
  }
  /** For a query this node sent (`queryId` from `query()`). */
  | { readonly type: 'query-ack'; readonly queryId: number; readonly from: string }
  | { readonly type: 'query-response'; readonly queryId: number; readonly from: string; readonly payload: Uint8Array }
  | { readonly type: 'query-done'; readonly queryId: number; readonly acks: number; readonly responses: number }
  /** A key query changed the keyring (persist it if you keep a keyring file). */
  | { readonly type: 'keyring-change'; readonly op: 'install' | 'use' | 'remove' }
  /** One of our data-layer messages (type byte in [DATA_TYPE_MIN, DATA_TYPE_MAX]). */
  | { readonly type: 'data-message'; readonly from: Address; readonly node: string | null; readonly dataType: number; readonly payload: Uint8Array };

export type SerfEventType = SerfEvent['type'];

export interface SerfNodeStats {
  /** Serf messages received, by outcome. */
  messagesIn: number;
  /** Type bytes neither Serf's (0–9) nor in our data range: counted and dropped. */
  unknownMessages: number;
  /** Serf messages (or push-pull states, tags, filters) that failed to decode. */
  malformedMessages: number;
  /** Events and queries dropped as old, every reason together (`oldDropped` splits them). */
  oldMessages: number;
  /** Events and queries dropped as old, by what they were and why. */
  readonly oldDropped: OldDropCounts;
  duplicateMessages: number;
  userEventsIn: number;
  queriesIn: number;
  queryResponsesIn: number;
  /** Responses for queries we do not run (late, or another node's). */
  queryResponsesUnknown: number;
  relaysForwarded: number;
  dataMessagesIn: number;
  dataMessagesOut: number;
  /** Broadcasts refused because a Serf queue was at `maxQueueDepth`. */
  broadcastsDropped: number;
}

/** What was dropped as old: gossiped events, events replayed from a peer's push-pull buffer, queries. */
export type OldDropKind = 'event' | 'replayed-event' | 'query';
/**
 * Why: `below-floor`, under the minimum accepted time (a previous life's saved clock + 1, or an
 * operator's ignore-old join); `outside-window`, older than `clock − bufferSize` (the de-dup
 * ring no longer covers it).
 */
export type OldDropReason = 'below-floor' | 'outside-window';
export type OldDropCounts = Record<OldDropKind, Record<OldDropReason, number>>;

/** Options of `SerfNode.join`. */
export interface JoinOptions {
  /**
   * Serf's `Join(existing, ignoreOld = true)`: raise the event floor to the seed's event clock,
   * so the events the cluster had before are not delivered, and neither is any event still in
   * flight below it. Only for a join an operator asks for; default false (the buffer the seeds
   * send is replayed, each event delivered once).
   */
  readonly ignoreOldEvents?: boolean;
}

export interface SerfNodeOptions extends Omit<GossipNodeOptions, 'meta' | 'vsn' | 'delegate' | 'events'> {
  readonly codec: SerfCodec;
  readonly tags?: Readonly<Record<string, string>>;
  /** For the `_serf_*-key` queries; null: "encryption not enabled", as Serf answers without a keyring. */
  readonly keyring?: SerfKeyring | null;
  readonly serf?: Partial<SerfConfig>;
  readonly dataState?: DataStateDelegate;
  /**
   * The Lamport clocks a previous life of this node saved (Serf's snapshot): the clocks start
   * there, and events and queries below them (from before the restart) are not delivered
   * again. The floor is the saved clock itself, not clock + 1 as in Serf (whose snapshot keeps
   * the last event's time, not the clock): an event another node stamps with that very time
   * after we stopped is still delivered.
   */
  readonly clocks?: { readonly member: number; readonly event: number; readonly query: number };
  /**
   * The event buffer a previous life saved with its clocks (`recentEvents()`). With it, the
   * restarted node de-duplicates against what it delivered instead of flooring at the saved
   * clock, so an event that was still on its way when the node stopped (stamped below the
   * clock by a node that had not yet heard of the newer ones) is delivered after the restart,
   * and nothing in the buffer twice.
   */
  readonly recentEvents?: readonly SerfEventSlot[];
  /** Network coordinates (Serf's ping delegate): our ack payload, and every direct probe's answer. */
  readonly ping?: Pick<NodeDelegate, 'ackPayload' | 'notifyPingComplete'>;
}

interface MemberState {
  name: string;
  addr: Address;
  tags: Record<string, string>;
  status: SerfMemberStatus;
  statusLTime: number;
  vsn: readonly number[];
  /** When it failed or left (for reaping); 0 while alive. */
  leaveMs: number;
}

interface Intent {
  readonly type: 'join' | 'leave';
  readonly ltime: number;
  readonly atMs: number;
}

/** A query someone sent us, waiting for the application's answer. */
interface InboundQuery {
  readonly ltime: number;
  readonly id: number;
  readonly addr: Address;
  readonly relayFactor: number;
  readonly deadlineMs: number;
}

/** A query we sent, collecting acks and responses until its deadline. */
interface OutboundQuery {
  readonly queryId: number;
  readonly id: number;
  readonly deadlineMs: number;
  readonly acks: Set<string>;
  readonly responses: Set<string>;
}

const NO_DEADLINE = Infinity;
const textEncoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

/**
 * A Serf 0.9.4 member on top of a `GossipNode` (reference §8), sans-IO: the same driver
 * interface as `GossipNode` (`handle*` in, `poll*` out), so the runtime and the simulator
 * drive either the same way. Drain after every input: `pollTransmit()` until undefined,
 * `pollEvent()` until undefined, then `pollTimeout()`.
 *
 * What it adds to memberlist: tags in node meta; the member, event and query Lamport clocks;
 * join and leave intents (so a graceful leave shows as `left`, a crash as `failed`); user
 * events, de-duplicated as Serf's event buffer does; queries, answered by the application or,
 * for Serf's `_serf_ping` and key queries, by the node itself; Serf's push-pull user state;
 * and our data-layer messages, exchanged only with members advertising our data tag.
 *
 * Bad input from peers never throws: it is counted in `stats` and reported as a
 * `protocol-error` event. Misuse by the caller throws.
 *
 * Where we differ from serf 0.9.4, on purpose or for now:
 * - Acks and responses to a query this node sent itself are handled in place, not sent to
 *   our own UDP address.
 * - `_serf_conflict` is not answered (the asker counts one response fewer); there is no
 *   snapshot file, no name-conflict resolution (network coordinates come from the `ping`
 *   option, core/topology) and no event coalescing (an agent feature; `coalesce` is carried).
 * - Our data layer's push-pull state rides after Serf's msgpack map, only between members
 *   advertising our data tag; a joiner does not know its seed's tags yet, so right after its
 *   join it runs one more push-pull with a member advertising our tag.
 */
export class SerfNode {
  readonly name: NodeName;
  readonly addr: Address;
  readonly gossip: GossipNode;
  readonly serfConfig: Readonly<SerfConfig>;
  readonly stats: SerfNodeStats = {
    messagesIn: 0, unknownMessages: 0, malformedMessages: 0, oldMessages: 0, duplicateMessages: 0, userEventsIn: 0,
    queriesIn: 0, queryResponsesIn: 0, queryResponsesUnknown: 0, relaysForwarded: 0, dataMessagesIn: 0, dataMessagesOut: 0,
    broadcastsDropped: 0,
    oldDropped: {
      event: { 'below-floor': 0, 'outside-window': 0 },
      'replayed-event': { 'below-floor': 0, 'outside-window': 0 },
      query: { 'below-floor': 0, 'outside-window': 0 },
    },
  };

  private readonly codec: SerfCodec;
  private readonly rng: Rng;
  private readonly keyring: SerfKeyring | null;
  private readonly dataState: DataStateDelegate | null;
  private tags: Record<string, string>;

  private readonly clock = new LamportClock();
  private readonly eventClock = new LamportClock();
  private readonly queryClock = new LamportClock();
  private eventMinTime = 0;
  private queryMinTime = 0;
  private readonly eventRing: LamportRing<SerfBufferedEvent>;
  private readonly queryRing: LamportRing<number>;

  private readonly memberMap = new Map<string, MemberState>();
  private readonly byAddr = new Map<Address, string>();
  private readonly intents = new Map<string, Intent>();

  private readonly intentQueue = new TransmitLimitedQueue<Uint8Array>();
  private readonly queryQueue = new TransmitLimitedQueue<Uint8Array>();
  private readonly eventQueue = new TransmitLimitedQueue<Uint8Array>();
  private readonly dataQueue = new TransmitLimitedQueue<Uint8Array>();

  private readonly inbound = new Map<number, InboundQuery>();
  private readonly outbound = new Map<number, OutboundQuery>();
  private nextQueryId = 0;

  private readonly events: SerfEvent[] = [];
  private eventHead = 0;

  private state: 'alive' | 'leaving' | 'left' | 'shutdown' = 'alive';
  private joining = false;
  /** The join in progress was asked with `ignoreOldEvents`: its push-pulls raise the event floor. */
  private joinIgnoresOld = false;
  private leaveIntentDeadlineMs = NO_DEADLINE;
  private nextReapMs: number;
  private nextReconnectMs: number;
  /** Joins started by reconnect, not by the application: their `join-completed` is not reported. */
  private reconnects = 0;
  private lastNow: number;

  constructor(o: SerfNodeOptions) {
    this.serfConfig = { ...DEFAULT_SERF_CONFIG, ...o.serf };
    this.codec = o.codec;
    this.rng = o.rng;
    this.keyring = o.keyring ?? null;
    this.dataState = o.dataState ?? null;
    this.name = o.name;
    this.addr = o.addr;
    if (o.clocks !== undefined) {
      this.clock.witness(o.clocks.member);
      this.eventClock.witness(o.clocks.event);
      this.queryClock.witness(o.clocks.query);
      // A clock is one past the newest time it saw or stamped, so the floor is the clock itself:
      // everything below it may have been delivered before; nothing at or above it was.
      if (o.clocks.event > 0 && o.recentEvents === undefined) this.eventMinTime = o.clocks.event;
      if (o.clocks.query > 0) this.queryMinTime = o.clocks.query;
    }
    this.eventRing = new LamportRing(this.serfConfig.eventBufferSize);
    for (const slot of o.recentEvents ?? []) {
      this.eventClock.witness(slot.ltime);
      for (const e of slot.events) this.eventRing.add(slot.ltime, e, sameEvent);
    }
    this.queryRing = new LamportRing(this.serfConfig.queryBufferSize);
    this.tags = this.withDataTag(o.tags ?? {});
    const meta = this.encodeTags(this.tags);
    this.lastNow = o.now;
    this.nextReapMs = this.lastNow + this.serfConfig.reapIntervalMs;
    this.nextReconnectMs = this.serfConfig.reconnectIntervalMs > 0 ? this.lastNow + this.serfConfig.reconnectIntervalMs : NO_DEADLINE;
    const delegate: NodeDelegate = {
      getBroadcasts: (overheadBytes, limitBytes, to) => this.getBroadcasts(overheadBytes, limitBytes, to),
      notifyMsg: (now, from, payload) => this.notifyMsg(now, from, payload),
      localState: (join, peer) => this.localState(join, peer),
      mergeRemoteState: (now, buf, join, peer) => this.mergeRemoteState(now, buf, join, peer),
      ...o.ping,
    };
    const gossipOptions: GossipNodeOptions = {
      name: o.name, addr: o.addr, config: o.config, rng: o.rng, now: o.now, meta, vsn: DEFAULT_VSN, delegate,
      ...(o.directory === undefined ? {} : { directory: o.directory }),
      ...(o.incarnation === undefined ? {} : { incarnation: o.incarnation }),
    };
    this.gossip = new GossipNode(gossipOptions);
    // memberlist tells Serf about the local node first (NotifyJoin for itself).
    this.memberMap.set(this.name, {
      name: this.name, addr: this.addr, tags: this.tags, status: 'alive', statusLTime: 0, vsn: DEFAULT_VSN, leaveMs: 0,
    });
    this.byAddr.set(this.addr, this.name);
  }

  // ------------------------------------------------------------------ getters

  /** Serf's `Members()`: every member it knows, in any status (failed and left ones until reaped), self included. */
  members(): SerfMember[] {
    const out: SerfMember[] = [];
    for (const m of this.memberMap.values()) out.push(view(m));
    return out;
  }

  member(name: string): SerfMember | undefined {
    const m = this.memberMap.get(name);
    return m === undefined ? undefined : view(m);
  }

  /** Alive members that advertise our data tag (self excluded): the peers of the data layer. */
  dataPeers(): SerfMember[] {
    const out: SerfMember[] = [];
    for (const m of this.memberMap.values()) if (m.name !== this.name && m.status === 'alive' && this.isDataPeer(m)) out.push(view(m));
    return out;
  }

  /** Serf broadcasts waiting to go out (intents, events, queries, data messages). */
  get queueDepth(): number {
    return this.intentQueue.length + this.queryQueue.length + this.eventQueue.length + this.dataQueue.length;
  }

  get localTags(): Readonly<Record<string, string>> {
    return this.tags;
  }

  /** Current values of the member, event and query Lamport clocks. */
  get clocks(): { readonly member: number; readonly event: number; readonly query: number } {
    return { member: this.clock.time(), event: this.eventClock.time(), query: this.queryClock.time() };
  }

  get isStopped(): boolean {
    return this.gossip.isStopped;
  }

  /** The user events in the de-dup buffer, by Lamport time: save them with `clocks` and pass them back as `recentEvents` after a restart. */
  recentEvents(): SerfEventSlot[] {
    const out: SerfEventSlot[] = [];
    for (const s of this.eventRing.entries()) if (s !== undefined) out.push({ ltime: s.ltime, events: s.items });
    return out.sort((a, b) => a.ltime - b.ltime);
  }

  // ------------------------------------------------------------------ outputs

  pollTransmit(): Transmit | undefined {
    return this.gossip.pollTransmit();
  }

  pollEvent(): SerfEvent | undefined {
    this.drainGossip();
    if (this.eventHead >= this.events.length) {
      if (this.eventHead > 0) {
        this.events.length = 0;
        this.eventHead = 0;
      }
      return undefined;
    }
    const e = this.events[this.eventHead] as SerfEvent;
    this.events[this.eventHead++] = undefined as unknown as SerfEvent;
    return e;
  }

  pollTimeout(): Millis | undefined {
    const inner = this.gossip.pollTimeout();
    if (inner === undefined) return undefined;
    let t = Math.min(inner, this.leaveIntentDeadlineMs, this.nextReapMs, this.nextReconnectMs);
    for (const q of this.outbound.values()) if (q.deadlineMs < t) t = q.deadlineMs;
    return millis(t);
  }

  // ------------------------------------------------------------------ inputs (the driver interface)

  handlePacket(now: Millis, from: Address, msg: Message): void {
    this.lastNow = now;
    this.gossip.handlePacket(now, from, msg);
    this.drainGossip();
  }

  handleStreamRequest(now: Millis, from: Address, streamId: number, msg: StreamMessage): void {
    this.lastNow = now;
    this.gossip.handleStreamRequest(now, from, streamId, msg);
    this.drainGossip();
  }

  handleStreamReply(now: Millis, streamId: number, msg: StreamMessage | null): void {
    this.lastNow = now;
    this.gossip.handleStreamReply(now, streamId, msg);
    this.drainGossip();
  }

  handleTimeout(now: Millis): void {
    const t = now as number;
    this.lastNow = t;
    if (this.gossip.isStopped) return;
    if (this.state === 'leaving' && this.leaveIntentDeadlineMs <= t) {
      // The leave intent went out (or the broadcast timeout passed): now the memberlist leave.
      this.leaveIntentDeadlineMs = NO_DEADLINE;
      this.gossip.leave(now);
      this.drainGossip();
      if (this.gossip.isStopped) return;
    }
    for (const [key, q] of this.outbound) {
      if (q.deadlineMs <= t) {
        this.outbound.delete(key);
        this.emit({ type: 'query-done', queryId: q.queryId, acks: q.acks.size, responses: q.responses.size });
      }
    }
    if (t >= this.nextReapMs) {
      this.nextReapMs = t + this.serfConfig.reapIntervalMs;
      this.reap(t);
    }
    if (t >= this.nextReconnectMs) {
      this.nextReconnectMs = t + this.serfConfig.reconnectIntervalMs;
      if (this.state === 'alive') this.reconnect(now);
    }
    this.gossip.handleTimeout(now);
    this.drainGossip();
  }

  /**
   * Joins through `seeds` (memberlist push-pulls with join = true). When at least one seed
   * answered, broadcasts a join intent, as `serf.Join` does. The event floor stays where it is
   * (events the seeds buffered are delivered, once each) unless the operator asks
   * `ignoreOldEvents`: then the events the cluster had before are not delivered.
   */
  join(now: Millis, seeds: readonly Address[], opts: JoinOptions = {}): void {
    this.lastNow = now;
    this.joining = true;
    this.joinIgnoresOld = opts.ignoreOldEvents === true;
    this.gossip.join(now, seeds);
    this.drainGossip();
  }

  /**
   * Graceful leave (reference §8.4): broadcast a leave intent, wait until it was gossiped its
   * retransmit limit (or `broadcastTimeoutMs`), then leave memberlist; `left` follows.
   */
  leave(now: Millis): void {
    if (this.gossip.isStopped) throw new Error(`leave: node ${this.name} has stopped`);
    if (this.state !== 'alive') return;
    const t = now as number;
    this.lastNow = t;
    this.state = 'leaving';
    const msg: SerfLeaveMsg = { type: 'leave', ltime: this.clock.time(), node: this.name, prune: false };
    this.clock.increment();
    this.handleLeaveIntent(msg);
    if (this.hasAliveMembers()) {
      this.leaveIntentDeadlineMs = t + this.serfConfig.broadcastTimeoutMs;
      this.broadcast(this.intentQueue, this.codec.encode(msg), () => {
        this.leaveIntentDeadlineMs = this.lastNow;
      });
    } else {
      this.gossip.leave(now);
    }
    this.drainGossip();
  }

  /** Stops without telling anyone: a crash, as the cluster sees it. */
  shutdown(): void {
    this.state = 'shutdown';
    this.gossip.shutdown();
  }

  /** Replaces our tags (our data tag is kept) and announces them with a new incarnation. */
  setTags(now: Millis, tags: Readonly<Record<string, string>>): void {
    const next = this.withDataTag(tags);
    const meta = this.encodeTags(next);
    this.tags = next;
    const self = this.memberMap.get(this.name);
    if (self !== undefined) self.tags = next;
    this.gossip.setMeta(now, meta);
    this.drainGossip();
  }

  /**
   * Sends a user event to the cluster (Serf's `UserEvent`): stamped with the event clock,
   * delivered locally, gossiped. Throws if `name + payload` or its encoding exceeds
   * `userEventSizeLimit`.
   */
  userEvent(now: Millis, name: string, payload: Uint8Array, coalesce = true): void {
    this.lastNow = now;
    const size = textEncoder.encode(name).length + payload.length;
    const limit = Math.min(this.serfConfig.userEventSizeLimit, USER_EVENT_SIZE_MAX);
    if (size > limit) throw new Error(`user event exceeds the limit of ${limit} bytes (name + payload = ${size})`);
    const msg: SerfUserEventMsg = {
      type: 'user-event', ltime: this.eventClock.time(), name, payload: payload.length > 0 ? payload : null, cc: coalesce,
    };
    const raw = this.codec.encode(msg);
    if (raw.length > limit) throw new Error(`encoded user event exceeds the limit of ${limit} bytes (${raw.length})`);
    this.eventClock.increment();
    this.handleUserEvent(msg);
    this.broadcast(this.eventQueue, raw, null);
  }

  /**
   * Sends a query (Serf's `Query`); returns its `queryId`. Acks and responses arrive as
   * `query-ack` / `query-response` events, and `query-done` at the deadline. This node
   * processes its own query too, as Serf does.
   */
  query(now: Millis, name: string, payload: Uint8Array, opts: QueryOptions = {}): number {
    const t = now as number;
    this.lastNow = t;
    const filters: Uint8Array[] = [];
    if (opts.filterNodes !== undefined) filters.push(this.codec.encodeFilter({ type: 'node', names: opts.filterNodes }));
    if (opts.filterTags !== undefined) {
      for (const [tag, expr] of Object.entries(opts.filterTags)) filters.push(this.codec.encodeFilter({ type: 'tag', tag, expr }));
    }
    const timeoutMs = opts.timeoutMs ?? this.defaultQueryTimeoutMs();
    const msg: SerfQueryMsg = {
      type: 'query', ltime: this.queryClock.time(), id: this.gossipRandomInt(2 ** 31), addr: this.addr, sourceNode: this.name,
      filters, flags: opts.requestAck === true ? QUERY_FLAG_ACK : 0, relayFactor: opts.relayFactor ?? 0, timeoutMs,
      name, payload: payload.length > 0 ? payload : null,
    };
    const raw = this.codec.encode(msg);
    if (raw.length > this.serfConfig.querySizeLimit) throw new Error(`query exceeds the limit of ${this.serfConfig.querySizeLimit} bytes (${raw.length})`);
    const queryId = ++this.nextQueryId;
    // Go keys running queries by Lamport time; a newer query at the same time replaces it.
    this.outbound.set(msg.ltime, { queryId, id: msg.id, deadlineMs: t + timeoutMs, acks: new Set(), responses: new Set() });
    this.handleQuery(now, msg);
    this.broadcast(this.queryQueue, raw, null);
    this.drainGossip();
    return queryId;
  }

  /** Answers a `query` event. Throws if already answered, past its deadline, or too large. */
  respond(now: Millis, queryId: number, payload: Uint8Array): void {
    const t = now as number;
    this.lastNow = t;
    const q = this.inbound.get(queryId);
    if (q === undefined) throw new Error(`respond: no query ${queryId} waiting for an answer (already answered or expired)`);
    if (t > q.deadlineMs) {
      this.inbound.delete(queryId);
      throw new Error(`respond: query ${queryId} is past its deadline`);
    }
    const resp: SerfQueryResponseMsg = {
      type: 'query-response', ltime: q.ltime, id: q.id, from: this.name, flags: 0, payload: payload.length > 0 ? payload : null,
    };
    const raw = this.codec.encode(resp);
    if (raw.length > this.serfConfig.queryResponseSizeLimit) {
      throw new Error(`respond: response exceeds the limit of ${this.serfConfig.queryResponseSizeLimit} bytes (${raw.length})`);
    }
    this.inbound.delete(queryId);
    this.sendResponse(now, q.addr, q.relayFactor, resp, raw);
    this.drainGossip();
  }

  /**
   * Sends one data-layer message to a member that advertises our data tag: a packet, or
   * one stream with `reliable`. Returns false (nothing sent) when the member is unknown, not
   * alive or not one of ours. Throws for a type outside [DATA_TYPE_MIN, DATA_TYPE_MAX].
   */
  sendData(now: Millis, to: string, dataType: number, payload: Uint8Array, reliable = false): boolean {
    this.lastNow = now;
    const m = this.memberMap.get(to);
    if (m === undefined || m.status !== 'alive' || !this.isDataPeer(m) || to === this.name) return false;
    this.gossip.sendUserMessage(now, m.addr, dataFrame(dataType, payload), reliable);
    this.stats.dataMessagesOut++;
    return true;
  }

  /** Gossips a data-layer message, piggybacked only on packets to members that advertise our data tag. */
  broadcastData(dataType: number, payload: Uint8Array): void {
    this.broadcast(this.dataQueue, dataFrame(dataType, payload), null);
  }

  // ------------------------------------------------------------------ memberlist delegate

  private getBroadcasts(overheadBytes: number, limitBytes: number, to: Address): Uint8Array[] {
    const limit = retransmitLimit(this.gossip.config.retransmitMult, this.memberMap.size);
    const out: Uint8Array[] = [];
    let used = 0;
    for (const q of [this.intentQueue, this.queryQueue, this.eventQueue]) {
      if (q.length === 0) continue;
      q.take(overheadBytes, limitBytes - used, limit, out);
      used += q.takenBytes;
    }
    if (this.dataQueue.length > 0) {
      const name = this.byAddr.get(to);
      const m = name === undefined ? undefined : this.memberMap.get(name);
      if (m !== undefined && m.status === 'alive' && this.isDataPeer(m)) this.dataQueue.take(overheadBytes, limitBytes - used, limit, out);
    }
    return out;
  }

  private notifyMsg(now: Millis, from: Address, buf: Uint8Array): void {
    // Membership changes earlier in the same packet come first, as in memberlist's handoff.
    this.drainGossip();
    if (buf.length === 0) return; // Serf ignores empty user messages
    const t = buf[0] as number;
    if (t >= DATA_TYPE_MIN && t <= DATA_TYPE_MAX) {
      this.stats.dataMessagesIn++;
      this.emit({ type: 'data-message', from, node: this.byAddr.get(from) ?? null, dataType: t, payload: buf.subarray(1) });
      return;
    }
    this.stats.messagesIn++;
    if (t > SerfMessageType.relay) {
      this.stats.unknownMessages++;
      this.peerError(from, 'unknown-message', `user message of unknown type ${t}`);
      return;
    }
    const r = this.codec.decode(buf);
    if (!r.ok) {
      this.stats.malformedMessages++;
      this.peerError(from, 'malformed', `serf message type ${t}: ${r.reason}: ${r.detail}`);
      return;
    }
    const m = r.value;
    let rebroadcast = false;
    let queue = this.intentQueue;
    switch (m.type) {
      case 'leave':
        rebroadcast = this.handleLeaveIntent(m);
        break;
      case 'join':
        rebroadcast = this.handleJoinIntent(m);
        break;
      case 'user-event':
        rebroadcast = this.handleUserEvent(m);
        queue = this.eventQueue;
        break;
      case 'query':
        rebroadcast = this.handleQuery(now, m);
        queue = this.queryQueue;
        break;
      case 'query-response':
        this.handleQueryResponse(m);
        break;
      case 'relay':
        // Forward the inner message unchanged to its destination (Serf's relayed responses).
        this.stats.relaysForwarded++;
        this.gossip.sendUserMessage(now, address(m.destAddr), m.message);
        break;
      case 'push-pull':
      case 'conflict-response':
      case 'key-request':
      case 'key-response':
        this.stats.unknownMessages++;
        this.peerError(from, 'unexpected-message', `serf ${m.type} as a user message`);
        break;
    }
    if (rebroadcast) this.broadcast(queue, buf.slice(), null);
  }

  private localState(join: boolean, peer: PushPullPeer): Uint8Array {
    const statusLTimes = new Map<string, number>();
    const left: string[] = [];
    for (const m of this.memberMap.values()) {
      statusLTimes.set(m.name, m.statusLTime);
      if (m.status === 'left') left.push(m.name);
    }
    const events: (SerfEventSlot | null)[] = [];
    for (const s of this.eventRing.entries()) events.push(s === undefined ? null : { ltime: s.ltime, events: s.items });
    const pp: SerfPushPullMsg = {
      type: 'push-pull', ltime: this.clock.time(), statusLTimes, leftMembers: left, eventLTime: this.eventClock.time(),
      events, queryLTime: this.queryClock.time(), trailer: this.dataTrailer(join, peer),
    };
    return this.codec.encode(pp);
  }

  /** Our data layer's state rides after Serf's push-pull, only with peers that are ours. */
  private dataTrailer(join: boolean, peer: PushPullPeer): Uint8Array | null {
    const d = this.dataState;
    if (d === null) return null;
    if (peer.role === 'initiator') {
      const name = this.byAddr.get(peer.to);
      const m = name === undefined ? undefined : this.memberMap.get(name);
      if (m === undefined || !this.isDataPeer(m)) return null;
    } else {
      if (peer.remoteState === null) return null;
      const r = this.codec.decode(peer.remoteState);
      if (!r.ok || r.value.type !== 'push-pull' || r.value.trailer === null) return null;
    }
    const s = d.localState(join);
    return s !== null && s.length > 0 ? s : null;
  }

  private mergeRemoteState(now: Millis, buf: Uint8Array, join: boolean, peer: PushPullPeer): void {
    this.drainGossip();
    const from = peer.role === 'initiator' ? peer.to : peer.from;
    if (buf[0] !== SerfMessageType.pushPull) {
      this.stats.malformedMessages++;
      this.peerError(from, 'malformed', `remote state has bad type prefix ${String(buf[0])}`);
      return;
    }
    const r = this.codec.decode(buf);
    if (!r.ok || r.value.type !== 'push-pull') {
      this.stats.malformedMessages++;
      this.peerError(from, 'malformed', r.ok ? 'remote state is not a push-pull' : `remote state: ${r.reason}: ${r.detail}`);
      return;
    }
    const pp = r.value;
    // Witness the clocks first, one below: no message with that time was sent yet.
    if (pp.ltime > 0) this.clock.witness(pp.ltime - 1);
    if (pp.eventLTime > 0) this.eventClock.witness(pp.eventLTime - 1);
    if (pp.queryLTime > 0) this.queryClock.witness(pp.queryLTime - 1);
    // Left members first, one past their join time, so the leave is newer than the join.
    const leftSet = new Set(pp.leftMembers);
    for (const name of pp.leftMembers) {
      this.handleLeaveIntent({ type: 'leave', ltime: (pp.statusLTimes.get(name) ?? 0) + 1, node: name, prune: false });
    }
    for (const [name, ltime] of pp.statusLTimes) {
      if (leftSet.has(name)) continue;
      this.handleJoinIntent({ type: 'join', ltime, node: name });
    }
    // Only an operator's ignore-old join raises the floor (Serf's eventJoinIgnore); any other
    // join, and every periodic push-pull, replays the peer's buffer: that is how a node gets
    // the events it missed (a UDP outage, a restart), each delivered once by the de-dup ring.
    if (join && this.joining && this.joinIgnoresOld && pp.eventLTime > this.eventMinTime) this.eventMinTime = pp.eventLTime;
    for (const slot of pp.events) {
      if (slot === null) continue;
      for (const e of slot.events) this.handleUserEvent({ type: 'user-event', ltime: slot.ltime, name: e.name, payload: e.payload, cc: false }, true);
    }
    if (pp.trailer !== null && this.dataState !== null) this.dataState.mergeRemoteState(now, pp.trailer, join);
  }

  // ------------------------------------------------------------------ memberlist events → Serf members

  /** Turns the GossipNode's events into Serf's member view and events. */
  private drainGossip(): void {
    for (let e = this.gossip.pollEvent(); e !== undefined; e = this.gossip.pollEvent()) {
      switch (e.type) {
        case 'member-joined':
          this.handleNodeJoin(e.member);
          break;
        case 'member-updated':
          this.handleNodeUpdate(e.member);
          break;
        case 'member-left':
        case 'member-failed':
          this.handleNodeLeave(e.member);
          break;
        case 'member-reaped':
          // memberlist forgets it; Serf keeps failed and left members until its own reap.
          break;
        case 'join-completed':
          if (this.joining) {
            this.joining = false;
            this.joinIgnoresOld = false;
            this.reconnects = 0;
            if (e.contacted > 0 && this.state === 'alive') {
              this.broadcastJoin(this.clock.time());
              this.syncDataState();
            }
            this.emit(e);
          } else if (this.reconnects > 0) {
            this.reconnects = 0;
          } else {
            this.emit(e);
          }
          break;
        case 'left':
          this.state = 'left';
          this.emit(e);
          break;
        case 'user-message':
          // Not produced: notifyMsg takes user messages.
          break;
        case 'member-suspected':
        case 'member-recovered':
        case 'self-refuted':
        case 'self-address-stale':
        case 'protocol-error':
          this.emit(e);
          break;
      }
    }
  }

  private handleNodeJoin(v: MemberView): void {
    let m = this.memberMap.get(v.name);
    const tags = this.decodeTags(v);
    if (m === undefined) {
      m = { name: v.name, addr: v.addr, tags, status: 'alive', statusLTime: 0, vsn: v.vsn, leaveMs: 0 };
      // An intent that arrived before the member: the latest one takes effect.
      const intent = this.intents.get(v.name);
      if (intent !== undefined) {
        m.statusLTime = intent.ltime;
        if (intent.type === 'leave') m.status = 'leaving';
      }
      this.memberMap.set(v.name, m);
    } else {
      if (m.addr !== v.addr && this.byAddr.get(m.addr) === m.name) this.byAddr.delete(m.addr);
      m.status = 'alive';
      m.leaveMs = 0;
      m.addr = v.addr;
      m.tags = tags;
      m.vsn = v.vsn;
    }
    this.byAddr.set(v.addr, v.name);
    this.emit({ type: 'member-joined', member: view(m) });
  }

  private handleNodeUpdate(v: MemberView): void {
    const m = this.memberMap.get(v.name);
    if (m === undefined) return;
    m.tags = this.decodeTags(v);
    m.vsn = v.vsn;
    m.addr = v.addr;
    this.byAddr.set(v.addr, v.name);
    this.emit({ type: 'member-updated', member: view(m) });
  }

  /** memberlist says the member is gone: `left` if it announced a leave, else `failed`. */
  private handleNodeLeave(v: MemberView): void {
    const m = this.memberMap.get(v.name);
    if (m === undefined) return;
    if (m.status === 'leaving') m.status = 'left';
    else if (m.status === 'alive') m.status = 'failed';
    else return;
    m.leaveMs = this.lastNow;
    this.emit({ type: m.status === 'left' ? 'member-left' : 'member-failed', member: view(m) });
  }

  // ------------------------------------------------------------------ intents (reference §8.4)

  private handleJoinIntent(msg: SerfJoinMsg): boolean {
    this.clock.witness(msg.ltime);
    const m = this.memberMap.get(msg.node);
    if (m === undefined) return this.upsertIntent(msg.node, 'join', msg.ltime);
    if (msg.ltime <= m.statusLTime) return false;
    m.statusLTime = msg.ltime;
    if (m.status === 'leaving') m.status = 'alive';
    return true;
  }

  private handleLeaveIntent(msg: SerfLeaveMsg): boolean {
    this.clock.witness(msg.ltime);
    const m = this.memberMap.get(msg.node);
    if (m === undefined) return this.upsertIntent(msg.node, 'leave', msg.ltime);
    if (msg.ltime <= m.statusLTime) return false;
    if (msg.node === this.name && this.state === 'alive') {
      // Someone says we are leaving, and we are not: refute with a join intent.
      this.broadcastJoin(this.clock.time());
      return false;
    }
    switch (m.status) {
      case 'alive':
        m.status = 'leaving';
        m.statusLTime = msg.ltime;
        return true;
      case 'failed':
        // A forced leave (serf force-leave): failed → left.
        m.status = 'left';
        m.statusLTime = msg.ltime;
        this.emit({ type: 'member-left', member: view(m) });
        return true;
      case 'leaving':
      case 'left':
        return false;
    }
  }

  /** Serf keeps one intent per unknown node; re-broadcast only if it is newer. */
  private upsertIntent(node: string, type: 'join' | 'leave', ltime: number): boolean {
    const old = this.intents.get(node);
    if (old !== undefined && ltime <= old.ltime) return false;
    this.intents.set(node, { type, ltime, atMs: this.lastNow });
    return true;
  }

  private broadcastJoin(ltime: number): void {
    const msg: SerfJoinMsg = { type: 'join', ltime, node: this.name };
    this.clock.witness(ltime);
    this.handleJoinIntent(msg);
    this.broadcast(this.intentQueue, this.codec.encode(msg), null);
  }

  private hasAliveMembers(): boolean {
    for (const m of this.memberMap.values()) if (m.name !== this.name && m.status === 'alive') return true;
    return false;
  }

  // ------------------------------------------------------------------ user events (reference §8.9)

  /** `replayed`: it came in a peer's push-pull buffer, not gossiped. */
  private handleUserEvent(msg: SerfUserEventMsg, replayed = false): boolean {
    this.eventClock.witness(msg.ltime);
    const kind = replayed ? 'replayed-event' : 'event';
    if (msg.ltime < this.eventMinTime) return this.droppedOld(kind, 'below-floor');
    const cur = this.eventClock.time();
    const window = this.serfConfig.eventBufferSize;
    if (cur > window && msg.ltime < cur - window) return this.droppedOld(kind, 'outside-window');
    const e: SerfBufferedEvent = { name: msg.name, payload: msg.payload };
    if (!this.eventRing.add(msg.ltime, e, sameEvent)) {
      this.stats.duplicateMessages++;
      return false;
    }
    this.stats.userEventsIn++;
    this.emit({ type: 'user-event', ltime: msg.ltime, name: msg.name, payload: msg.payload ?? EMPTY, coalesce: msg.cc });
    return true;
  }

  // ------------------------------------------------------------------ queries (reference §8.8)

  private handleQuery(now: Millis, q: SerfQueryMsg): boolean {
    this.queryClock.witness(q.ltime);
    if (q.ltime < this.queryMinTime) return this.droppedOld('query', 'below-floor');
    const cur = this.queryClock.time();
    const window = this.serfConfig.queryBufferSize;
    if (cur > window && q.ltime < cur - window) return this.droppedOld('query', 'outside-window');
    if (!this.queryRing.add(q.ltime, q.id, (a, b) => a === b)) {
      this.stats.duplicateMessages++;
      return false;
    }
    this.stats.queriesIn++;
    const rebroadcast = (q.flags & QUERY_FLAG_NO_BROADCAST) === 0;
    // Filtered out: still re-broadcast, since it is the first time we see it.
    if (!this.shouldProcess(q.filters)) return rebroadcast;
    if ((q.flags & QUERY_FLAG_ACK) !== 0) {
      const ack: SerfQueryResponseMsg = { type: 'query-response', ltime: q.ltime, id: q.id, from: this.name, flags: QUERY_FLAG_ACK, payload: null };
      this.sendResponse(now, address(q.addr), q.relayFactor, ack, this.codec.encode(ack));
    }
    const queryId = ++this.nextQueryId;
    const deadlineMs = (now as number) + q.timeoutMs;
    this.purgeInbound(now);
    this.inbound.set(queryId, { ltime: q.ltime, id: q.id, addr: address(q.addr), relayFactor: q.relayFactor, deadlineMs });
    if (q.name.startsWith(INTERNAL_QUERY_PREFIX)) this.internalQuery(now, queryId, q);
    else {
      this.emit({
        type: 'query', queryId, ltime: q.ltime, name: q.name, payload: q.payload ?? EMPTY, sourceNode: q.sourceNode, deadlineMs: millis(deadlineMs),
      });
    }
    return rebroadcast;
  }

  private shouldProcess(filters: readonly Uint8Array[]): boolean {
    for (const raw of filters) {
      const r = this.codec.decodeFilter(raw);
      if (!r.ok) {
        this.stats.malformedMessages++;
        return false;
      }
      const f: QueryFilter = r.value;
      if (f.type === 'node') {
        if (!f.names.includes(this.name)) return false;
      } else if (!matchTag(f.expr, this.tags[f.tag] ?? '')) {
        return false;
      }
    }
    return true;
  }

  /** Sends a query response (or ack) to the asker, and relays it through `relayFactor` members. */
  private sendResponse(now: Millis, to: Address, relayFactor: number, resp: SerfQueryResponseMsg, raw: Uint8Array): void {
    if (to === this.addr) this.handleQueryResponse(resp);
    else this.gossip.sendUserMessage(now, to, raw);
    if (relayFactor <= 0) return;
    const all = [...this.memberMap.values()];
    if (all.length < relayFactor + 1) return;
    const candidates = all.filter((m) => m.status === 'alive' && (m.vsn[1] ?? 0) >= 5 && m.name !== this.name);
    const relay = this.codec.encode({ type: 'relay', destAddr: to, destName: '', message: raw });
    for (let k = 0; k < relayFactor && candidates.length > 0; k++) {
      const i = this.gossipRandomInt(candidates.length);
      const m = candidates[i] as MemberState;
      candidates[i] = candidates[candidates.length - 1] as MemberState;
      candidates.pop();
      this.gossip.sendUserMessage(now, m.addr, relay);
    }
  }

  private handleQueryResponse(resp: SerfQueryResponseMsg): void {
    this.stats.queryResponsesIn++;
    const q = this.outbound.get(resp.ltime);
    if (q === undefined || q.id !== resp.id || this.lastNow > q.deadlineMs) {
      this.stats.queryResponsesUnknown++;
      return;
    }
    if ((resp.flags & QUERY_FLAG_ACK) !== 0) {
      if (q.acks.has(resp.from)) {
        this.stats.duplicateMessages++;
        return;
      }
      q.acks.add(resp.from);
      this.emit({ type: 'query-ack', queryId: q.queryId, from: resp.from });
    } else {
      if (q.responses.has(resp.from)) {
        this.stats.duplicateMessages++;
        return;
      }
      q.responses.add(resp.from);
      this.emit({ type: 'query-response', queryId: q.queryId, from: resp.from, payload: resp.payload ?? EMPTY });
    }
  }

  /** Serf's own queries: `_serf_ping` needs only the ack; the key queries go to the keyring. */
  private internalQuery(now: Millis, queryId: number, q: SerfQueryMsg): void {
    const op = q.name.slice(INTERNAL_QUERY_PREFIX.length);
    switch (op) {
      case 'ping':
        this.inbound.delete(queryId);
        return;
      case 'list-keys':
        return this.answerListKeys(now, queryId);
      case 'install-key':
      case 'use-key':
      case 'remove-key':
        return this.answerKeyChange(now, queryId, q, op);
      default:
        // `_serf_conflict` and anything newer: we do not answer (the asker sees one response fewer).
        this.inbound.delete(queryId);
    }
  }

  private answerKeyChange(now: Millis, queryId: number, q: SerfQueryMsg, op: 'install-key' | 'use-key' | 'remove-key'): void {
    let result = false;
    let message = '';
    const req = q.payload === null ? null : this.codec.decode(q.payload);
    if (req === null || !req.ok || req.value.type !== 'key-request') {
      this.stats.malformedMessages++;
      message = req !== null && !req.ok ? `Failed to decode key request: ${req.detail}` : 'Failed to decode key request';
    } else if (this.keyring === null) {
      message = 'No keyring to modify (encryption not enabled)';
    } else {
      const key = req.value.key ?? EMPTY;
      try {
        if (op === 'install-key') this.keyring.install(key);
        else if (op === 'use-key') this.keyring.use(key);
        else this.keyring.remove(key);
        result = true;
        this.emit({ type: 'keyring-change', op: op === 'install-key' ? 'install' : op === 'use-key' ? 'use' : 'remove' });
      } catch (e) {
        message = e instanceof Error ? e.message : String(e);
      }
    }
    this.respondInternal(now, queryId, { type: 'key-response', result, message, keys: null, primaryKey: '' });
  }

  private answerListKeys(now: Millis, queryId: number): void {
    if (this.keyring === null) {
      this.respondInternal(now, queryId, { type: 'key-response', result: false, message: 'Keyring is empty (encryption not enabled)', keys: null, primaryKey: '' });
      return;
    }
    const keys = this.keyring.keys().map(encodeBase64);
    const primary = this.keyring.primary();
    const primaryKey = primary === null ? '' : encodeBase64(primary);
    // Like Serf, drop keys from the end until the response fits the size limit.
    for (let n = keys.length; n >= 0; n--) {
      const message = n === keys.length ? '' : `truncated key list response, showing first ${n} of ${keys.length} keys`;
      const resp: SerfKeyResponseMsg = { type: 'key-response', result: true, message, keys: n > 0 ? keys.slice(0, n) : null, primaryKey };
      if (this.respondInternal(now, queryId, resp, n > 0)) return;
    }
  }

  /** Answers an internal query; with `mayRetry`, returns false instead of failing when the answer is too large. */
  private respondInternal(now: Millis, queryId: number, resp: SerfKeyResponseMsg, mayRetry = false): boolean {
    const payload = this.codec.encode(resp);
    const q = this.inbound.get(queryId);
    if (q === undefined) return true;
    const msg: SerfQueryResponseMsg = { type: 'query-response', ltime: q.ltime, id: q.id, from: this.name, flags: 0, payload };
    const raw = this.codec.encode(msg);
    if (raw.length > this.serfConfig.queryResponseSizeLimit && mayRetry) return false;
    this.inbound.delete(queryId);
    if (raw.length > this.serfConfig.queryResponseSizeLimit) return true;
    this.sendResponse(now, q.addr, q.relayFactor, msg, raw);
    return true;
  }

  private purgeInbound(t: number): void {
    if (this.inbound.size < 64) return;
    for (const [id, q] of this.inbound) if (q.deadlineMs < t) this.inbound.delete(id);
  }

  private defaultQueryTimeoutMs(): number {
    const n = this.gossip.liveCount;
    return this.gossip.config.gossipIntervalMs * this.serfConfig.queryTimeoutMult * Math.ceil(Math.log10(n + 1));
  }

  // ------------------------------------------------------------------ reaping

  private reap(t: number): void {
    for (const m of [...this.memberMap.values()]) {
      if (m.name === this.name) continue;
      const timeout = m.status === 'failed' ? this.serfConfig.reconnectTimeoutMs : m.status === 'left' ? this.serfConfig.tombstoneTimeoutMs : -1;
      if (timeout < 0 || t - m.leaveMs <= timeout) continue;
      this.memberMap.delete(m.name);
      if (this.byAddr.get(m.addr) === m.name) this.byAddr.delete(m.addr);
      this.emit({ type: 'member-reaped', member: view(m) });
    }
    for (const [name, i] of this.intents) if (t - i.atMs > this.serfConfig.recentIntentTimeoutMs) this.intents.delete(name);
    for (const [id, q] of this.inbound) if (q.deadlineMs < t) this.inbound.delete(id);
  }

  /**
   * Right after our join, one push-pull with a random member advertising our data tag, so the
   * data layer's state does not wait for the periodic exchange (the seed's tags were unknown).
   */
  private syncDataState(): void {
    if (this.dataState === null) return;
    const peers = this.dataPeers();
    if (peers.length === 0) return;
    const m = peers[this.rng.int(peers.length)] as SerfMember;
    this.reconnects++;
    this.gossip.join(millis(this.lastNow), [m.addr]);
  }

  /** Serf's reconnect: the more members failed, the likelier a memberlist join to one of them. */
  private reconnect(now: Millis): void {
    const failed: MemberState[] = [];
    let left = 0;
    for (const m of this.memberMap.values()) {
      if (m.status === 'failed') failed.push(m);
      else if (m.status === 'left') left++;
    }
    if (failed.length === 0) return;
    const alive = this.memberMap.size - failed.length - left;
    if (this.rng.next() > failed.length / Math.max(1, alive)) return;
    const m = failed[this.rng.int(failed.length)] as MemberState;
    this.reconnects++;
    this.gossip.join(now, [m.addr]);
  }

  // ------------------------------------------------------------------ helpers

  private broadcast(q: TransmitLimitedQueue<Uint8Array>, raw: Uint8Array, onSent: (() => void) | null): void {
    if (q.length >= this.serfConfig.maxQueueDepth) {
      this.stats.broadcastsDropped++;
      onSent?.();
      return;
    }
    q.enqueue(null, raw, raw.length, onSent === null ? null : () => onSent());
  }

  private withDataTag(tags: Readonly<Record<string, string>>): Record<string, string> {
    const out: Record<string, string> = { ...tags };
    const tag = this.serfConfig.dataTag;
    if (tag !== null) out[tag] = String(this.serfConfig.dataVersion);
    return out;
  }

  private encodeTags(tags: Readonly<Record<string, string>>): Uint8Array {
    const meta = this.codec.encodeTags(tags);
    if (meta.length > META_BYTES_MAX) throw new Error(`encoded tags are ${meta.length} bytes, over memberlist's limit of ${META_BYTES_MAX}`);
    return meta;
  }

  private decodeTags(v: MemberView): Record<string, string> {
    const r = this.codec.decodeTags(v.meta);
    if (r.ok) return r.value;
    this.stats.malformedMessages++;
    this.peerError(v.addr, 'malformed', `failed to decode the tags of ${v.name}: ${r.detail}`);
    return {};
  }

  private isDataPeer(m: MemberState): boolean {
    const tag = this.serfConfig.dataTag;
    if (tag === null) return false;
    const v = m.tags[tag];
    return v !== undefined && Number(v) >= 1;
  }

  private gossipRandomInt(bound: number): number {
    return this.rng.int(bound);
  }

  /** Counts an event or query dropped as old; false (nothing to re-broadcast). */
  private droppedOld(kind: OldDropKind, reason: OldDropReason): false {
    this.stats.oldMessages++;
    this.stats.oldDropped[kind][reason]++;
    return false;
  }

  private emit(e: SerfEvent): void {
    this.events.push(e);
  }

  private peerError(from: Address | null, reason: 'malformed' | 'unexpected-message' | 'unknown-message', detail: string): void {
    this.emit({ type: 'protocol-error', from, reason, detail });
  }
}

function view(m: MemberState): SerfMember {
  return {
    name: m.name, addr: m.addr, tags: m.tags, status: m.status, statusLTime: m.statusLTime,
    protocol: { min: m.vsn[0] ?? 0, max: m.vsn[1] ?? 0, cur: m.vsn[2] ?? 0 },
    delegate: { min: m.vsn[3] ?? 0, max: m.vsn[4] ?? 0, cur: m.vsn[5] ?? 0 },
  };
}

function sameEvent(a: SerfBufferedEvent, b: SerfBufferedEvent): boolean {
  if (a.name !== b.name) return false;
  const x = a.payload ?? EMPTY;
  const y = b.payload ?? EMPTY;
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

function dataFrame(dataType: number, payload: Uint8Array): Uint8Array {
  if (!Number.isInteger(dataType) || dataType < DATA_TYPE_MIN || dataType > DATA_TYPE_MAX) {
    throw new Error(`data message type ${dataType} outside [${DATA_TYPE_MIN}, ${DATA_TYPE_MAX}]`);
  }
  const out = new Uint8Array(1 + payload.length);
  out[0] = dataType;
  out.set(payload, 1);
  return out;
}

/**
 * Serf matches tag filters with Go's `regexp.MatchString` (RE2, unanchored). JavaScript's
 * RegExp agrees on the common syntax; an expression it cannot compile matches nothing, as Go
 * does on a compile error. Tag values are at most 512 bytes, which bounds backtracking.
 */
function matchTag(expr: string, value: string): boolean {
  try {
    return new RegExp(expr).test(value);
  } catch {
    return false;
  }
}

