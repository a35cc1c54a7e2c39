import type { Address, Millis, NodeName } from '../ids.js';
import { millis } from '../ids.js';
import type { Message, StreamMessage } from '../messages.js';
import { DEFAULT_VSN } from '../messages.js';
import type { GossipNodeOptions, Transmit } from '../membership/node.js';
import { GossipNode } from '../membership/node.js';
import { PollQueue } from '../poll-queue.js';
import { SerfBroadcasts } from './broadcasts.js';
import type { SerfConfig } from './config.js';
import { DEFAULT_SERF_CONFIG } from './config.js';
import type { SerfContext } from './context.js';
import { DataChannel, withDataTag } from './data-channel.js';
import { SerfDelegate } from './delegate.js';
import type { SerfEvent } from './events.js';
import type { SerfMember } from './member.js';
import { encodeTags, SerfMembers, view } from './members.js';
import type { SerfEventSlot } from './messages.js';
import { SerfPushPull } from './push-pull.js';
import type { ForceLeaveOptions, JoinOptions, SerfNodeOptions } from './options.js';
import type { QueryOptions } from './queries.js';
import { SerfQueries } from './queries.js';
import { Reaper } from './reaper.js';
import type { SerfNodeStats } from './stats.js';
import { newSerfStats } from './stats.js';
import { UserEvents } from './user-events.js';

const NO_DEADLINE = Infinity;

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
 * This class is the surface and the lifecycle (join, leave, shutdown); the protocol lives
 * beside it in Serf's own seams: `members.ts` (member table, intents, force-leave and prune),
 * `user-events.ts`, `queries.ts`, `internal-queries.ts`, `reaper.ts`, `push-pull.ts`,
 * `broadcasts.ts`, `delegate.ts` (memberlist's delegate), and `data-channel.ts` (ours, not Serf's).
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
 * - `forceLeave` returns once the intent is queued (Serf's waits for the broadcast, up to
 *   BroadcastTimeout); a prune of a member still `leaving` happens at the first reap after
 *   `broadcastTimeoutMs` (Serf sleeps BroadcastTimeout + LeavePropagateDelay); a leave intent
 *   without prune about a member already leaving or left is not re-gossiped (Serf 0.9.4
 *   re-gossips it).
 */
export class SerfNode {
  readonly name: NodeName;
  readonly addr: Address;
  readonly gossip: GossipNode;
  readonly serfConfig: Readonly<SerfConfig>;
  readonly stats: SerfNodeStats = newSerfStats();

  private readonly ctx: SerfContext;
  private readonly table: SerfMembers;
  private readonly broadcasts: SerfBroadcasts;
  private readonly userEvents: UserEvents;
  private readonly queries: SerfQueries;
  private readonly data: DataChannel;
  private readonly reaper: Reaper;
  private readonly delegate: SerfDelegate;
  private readonly pushPull: SerfPushPull;
  private readonly events = new PollQueue<SerfEvent>();
  private tags: Record<string, string>;

  private state: 'alive' | 'leaving' | 'left' | 'shutdown' = 'alive';
  /** The application's joins under way, by id: whether each was asked with `ignoreOldEvents` (its push-pulls then raise the event floor). */
  private readonly joins = new Map<number, boolean>();
  private leaveIntentDeadlineMs = NO_DEADLINE;

  constructor(o: SerfNodeOptions) {
    this.serfConfig = { ...DEFAULT_SERF_CONFIG, ...o.serf };
    this.name = o.name;
    this.addr = o.addr;
    this.tags = withDataTag(this.serfConfig, o.tags ?? {});
    const gossipOptions: GossipNodeOptions = {
      name: o.name, addr: o.addr, config: o.config, rng: o.rng, now: o.now, meta: encodeTags(o.codec, this.tags), vsn: DEFAULT_VSN,
      delegate: {
        getBroadcasts: (overheadBytes, limitBytes, to) => this.delegate.getBroadcasts(overheadBytes, limitBytes, to),
        hasBroadcasts: () => this.delegate.hasBroadcasts(),
        notifyMsg: (now, from, payload) => this.delegate.notifyMsg(now, from, payload),
        localState: (join, peer) => this.pushPull.localState(join, peer),
        mergeRemoteState: (now, buf, join, peer) => this.pushPull.mergeRemoteState(now, buf, join, peer),
        ...o.ping,
      },
      ...(o.directory === undefined ? {} : { directory: o.directory }),
      ...(o.incarnation === undefined ? {} : { incarnation: o.incarnation }),
    };
    this.gossip = new GossipNode(gossipOptions);
    const ctx: SerfContext = {
      name: o.name, addr: o.addr, codec: o.codec, rng: o.rng, config: this.serfConfig, stats: this.stats, events: this.events,
      gossip: this.gossip, now: o.now, quietJoins: new Set<number>(), drainGossip: () => this.drainGossip(),
    };
    this.ctx = ctx;
    this.broadcasts = new SerfBroadcasts(ctx);
    this.table = new SerfMembers(ctx, this.broadcasts, () => this.state === 'alive', this.tags);
    if (o.clocks !== undefined) this.table.clock.witness(o.clocks.member);
    this.userEvents = new UserEvents(ctx, this.broadcasts, {
      ...(o.clocks !== undefined ? { clock: o.clocks.event } : {}), ...(o.recentEvents !== undefined ? { recent: o.recentEvents } : {}),
    });
    this.queries = new SerfQueries(ctx, this.broadcasts, this.table, () => this.tags, o.keyring ?? null, o.clocks?.query);
    this.data = new DataChannel(ctx, this.table, this.broadcasts, o.dataState ?? null);
    this.reaper = new Reaper(ctx, this.table, this.queries, o.now);
    this.delegate = new SerfDelegate(ctx, this.table, this.broadcasts, this.userEvents, this.queries, this.data);
    this.pushPull = new SerfPushPull(ctx, this.table, this.userEvents, this.queries, this.data, () => [...this.joins.values()].includes(true));
  }

  // ------------------------------------------------------------------ getters

  /** Serf's `Members()`: every member it knows, in any status (failed and left ones until reaped), self included. */
  members(): SerfMember[] {
    const out: SerfMember[] = [];
    for (const m of this.table.rows()) out.push(view(m));
    return out;
  }

  member(name: string): SerfMember | undefined {
    const m = this.table.get(name);
    return m === undefined ? undefined : view(m);
  }

  /** Alive members that advertise our data tag (self excluded): the peers of the data layer. */
  dataPeers(): readonly SerfMember[] {
    return this.data.peers();
  }

  /**
   * A data message added to every packet to a data peer while `fn` returns one (the membership
   * views' notes). `pending` says whether `fn` may return one now: while it says no and no
   * broadcast is queued, the node runs no gossip rounds (absent: rounds always run).
   */
  setDataPiggyback(fn: ((roomBytes: number) => Uint8Array | null) | null, pending: (() => boolean) | null = null): void {
    this.data.piggyback = fn;
    this.data.piggybackPending = fn === null ? null : pending;
  }

  /** Serf broadcasts waiting to go out (intents, events, queries, data messages). */
  get queueDepth(): number {
    return this.broadcasts.depth + this.data.queue.length;
  }

  get localTags(): Readonly<Record<string, string>> {
    return this.tags;
  }

  /** Current values of the member, event and query Lamport clocks. */
  get clocks(): { readonly member: number; readonly event: number; readonly query: number } {
    return { member: this.table.clock.time(), event: this.userEvents.clock.time(), query: this.queries.clock.time() };
  }

  get isStopped(): boolean {
    return this.gossip.isStopped;
  }

  /** The user events in the de-dup buffer, by Lamport time: save them with `clocks` and pass them back as `recentEvents` after a restart. */
  recentEvents(): SerfEventSlot[] {
    return this.userEvents.recent();
  }

  // ------------------------------------------------------------------ outputs

  pollTransmit(): Transmit | undefined {
    return this.gossip.pollTransmit();
  }

  pollEvent(): SerfEvent | undefined {
    this.drainGossip();
    return this.events.poll();
  }

  pollTimeout(): Millis | undefined {
    const inner = this.gossip.pollTimeout();
    if (inner === undefined) return undefined;
    const t = this.data.nextDeadline(this.queries.nextDeadline(this.reaper.nextDeadline(Math.min(inner, this.leaveIntentDeadlineMs))));
    return millis(t);
  }

  // ------------------------------------------------------------------ inputs (the driver interface)

  handlePacket(now: Millis, from: Address, msg: Message): void {
    this.ctx.now = now;
    this.gossip.handlePacket(now, from, msg);
    this.drainGossip();
  }

  handleStreamRequest(now: Millis, from: Address, streamId: number, msg: StreamMessage): void {
    this.ctx.now = now;
    this.gossip.handleStreamRequest(now, from, streamId, msg);
    this.drainGossip();
  }

  handleStreamReply(now: Millis, streamId: number, msg: StreamMessage | null): void {
    this.ctx.now = now;
    this.gossip.handleStreamReply(now, streamId, msg);
    this.drainGossip();
  }

  handleTimeout(now: Millis): void {
    const t = now as number;
    this.ctx.now = t;
    if (this.gossip.isStopped) return;
    if (this.state === 'leaving' && this.leaveIntentDeadlineMs <= t) {
      // The leave intent went out (or the broadcast timeout passed): now the memberlist leave.
      this.leaveIntentDeadlineMs = NO_DEADLINE;
      this.gossip.leave(now);
      this.drainGossip();
      if (this.gossip.isStopped) return;
    }
    this.queries.expire(t);
    this.reaper.tick(now, this.state === 'alive');
    if (this.state === 'alive') this.data.tick(t);
    this.gossip.handleTimeout(now);
    this.drainGossip();
  }

  /**
   * Joins through `seeds` (memberlist push-pulls with join = true). When at least one seed
   * answered, broadcasts a join intent, as `serf.Join` does. The event floor stays where it is
   * (events the seeds buffered are delivered, once each) unless the operator asks
   * `ignoreOldEvents`: then the events the cluster had before are not delivered.
   */
  join(now: Millis, seeds: readonly Address[], opts: JoinOptions = {}): number {
    this.ctx.now = now;
    // Registered before drainGossip hands memberlist's events on: a join with no seed to contact completes at once.
    const id = this.gossip.join(now, seeds);
    this.joins.set(id, opts.ignoreOldEvents === true);
    this.drainGossip();
    return id;
  }

  /**
   * Graceful leave (reference §8.4): broadcast a leave intent, wait until it was gossiped its
   * retransmit limit (or `broadcastTimeoutMs`), then leave memberlist; `left` follows.
   */
  leave(now: Millis): void {
    if (this.gossip.isStopped) throw new Error(`leave: node ${this.name} has stopped`);
    if (this.state !== 'alive') return;
    const t = now as number;
    this.ctx.now = t;
    this.state = 'leaving';
    const raw = this.table.stampLeave(this.name, false);
    if (raw !== null) {
      this.leaveIntentDeadlineMs = t + this.serfConfig.broadcastTimeoutMs;
      this.broadcasts.enqueue(this.broadcasts.intents, raw, () => {
        this.leaveIntentDeadlineMs = this.ctx.now;
      });
    } else {
      this.gossip.leave(now);
    }
    this.drainGossip();
  }

  /**
   * Serf's force-leave (serf.go `RemoveFailedNode`): broadcasts a leave intent about a failed
   * member, so every member moves it failed → left (`member-left`) and no longer tries to
   * reconnect to it; with `prune`, every member forgets it at once. Throws for an unknown
   * member, for this node, and for an alive one (a live node would refute the intent).
   */
  forceLeave(now: Millis, name: string, opts: ForceLeaveOptions = {}): void {
    if (this.gossip.isStopped) throw new Error(`force-leave: node ${this.name} has stopped`);
    if (name === this.name) throw new Error(`force-leave: '${name}' is this node (use leave)`);
    const m = this.table.get(name);
    if (m === undefined) throw new Error(`force-leave: no member named '${name}'`);
    if (m.status === 'alive') throw new Error(`force-leave: '${name}' is alive; only a failed or left member can be forced to leave`);
    this.ctx.now = now;
    const raw = this.table.stampLeave(name, opts.prune === true);
    if (raw !== null) this.broadcasts.enqueue(this.broadcasts.intents, raw, null);
    this.drainGossip();
  }

  /** Stops without telling anyone: a crash, as the cluster sees it. */
  shutdown(): void {
    this.state = 'shutdown';
    this.gossip.shutdown();
  }

  /** Replaces our tags (our data tag is kept) and announces them with a new incarnation. */
  setTags(now: Millis, tags: Readonly<Record<string, string>>): void {
    const next = withDataTag(this.serfConfig, tags);
    const meta = encodeTags(this.ctx.codec, next);
    this.tags = next;
    this.table.setSelfTags(next);
    this.gossip.setMeta(now, meta);
    this.drainGossip();
  }

  /**
   * Sends a user event to the cluster (Serf's `UserEvent`): stamped with the event clock,
   * delivered locally, gossiped. Throws if `name + payload` or its encoding exceeds
   * `userEventSizeLimit`.
   */
  userEvent(now: Millis, name: string, payload: Uint8Array, coalesce = true): void {
    this.ctx.now = now;
    this.userEvents.send(name, payload, coalesce);
  }

  /**
   * Sends a query (Serf's `Query`); returns its `queryId`. Acks and responses arrive as
   * `query-ack` / `query-response` events, and `query-done` at the deadline. This node
   * processes its own query too, as Serf does.
   */
  query(now: Millis, name: string, payload: Uint8Array, opts: QueryOptions = {}): number {
    this.ctx.now = now;
    const queryId = this.queries.send(now, name, payload, opts);
    this.drainGossip();
    return queryId;
  }

  /** Answers a `query` event. Throws if already answered, past its deadline, or too large. */
  respond(now: Millis, queryId: number, payload: Uint8Array): void {
    this.ctx.now = now;
    this.queries.respond(now, queryId, payload);
    this.drainGossip();
  }

  /**
   * Sends one data-layer message to a member that advertises our data tag: a packet, or
   * one stream with `reliable`. Returns false (nothing sent) when the member is unknown, not
   * alive or not one of ours. Throws for a type outside [DATA_TYPE_MIN, DATA_TYPE_MAX].
   */
  sendData(now: Millis, to: string, dataType: number, payload: Uint8Array, reliable = false): boolean {
    this.ctx.now = now;
    return this.data.send(now, to, dataType, payload, reliable);
  }

  /** Gossips a data-layer message, piggybacked only on packets to members that advertise our data tag. */
  broadcastData(dataType: number, payload: Uint8Array): void {
    this.data.broadcast(dataType, payload);
  }

  // ------------------------------------------------------------------ memberlist events → Serf members

  /** Turns the GossipNode's events into Serf's member view and events. */
  private drainGossip(): void {
    for (let e = this.gossip.pollEvent(); e !== undefined; e = this.gossip.pollEvent()) {
      switch (e.type) {
        case 'member-joined':
          this.table.handleNodeJoin(e.member);
          break;
        case 'member-updated':
          this.table.handleNodeUpdate(e.member);
          break;
        case 'member-left':
        case 'member-failed':
          this.table.handleNodeLeave(e.member);
          break;
        case 'member-reaped':
          // memberlist forgets it; Serf keeps failed and left members until its own reap.
          break;
        case 'join-completed':
          if (this.joins.delete(e.joinId)) {
            if (e.contacted > 0 && this.state === 'alive') {
              this.table.broadcastJoin(this.table.clock.time());
              this.data.syncAfterJoin();
            }
            this.events.push(e);
          } else if (!this.ctx.quietJoins.delete(e.joinId)) {
            this.events.push(e);
          }
          break;
        case 'left':
          this.state = 'left';
          this.events.push(e);
          break;
        case 'user-message':
          // Not produced: the delegate's notifyMsg takes user messages.
          break;
        case 'member-suspected':
        case 'member-recovered':
        case 'self-refuted':
        case 'self-address-stale':
        case 'protocol-error':
          this.events.push(e);
          break;
      }
    }
  }
}
