import type { Config } from '../core/config.js';
import type { NodeEvent, NodeEventType } from '../core/events.js';
import type { Address, NodeName } from '../core/ids.js';
import { address, incarnation, millis, nodeName } from '../core/ids.js';
import type { AliveMsg, Message, StreamMessage } from '../core/messages.js';
import { DEFAULT_VSN } from '../core/messages.js';
import { NameDirectory } from '../core/membership/member-table.js';
import type { NodeDelegate, Transmit } from '../core/membership/node.js';
import { GossipNode } from '../core/membership/node.js';
import type { DisseminationEvent } from '../core/dissemination/disseminator.js';
import type { DisseminationMessage } from '../core/dissemination/messages.js';
import type { Millis } from '../core/ids.js';
import type { Rng } from '../core/rng.js';
import { seededRng } from '../core/rng.js';
import { EventHeap } from './heap.js';
import type { NetworkOptions } from './network.js';
import { DEFAULT_NETWORK, Network } from './network.js';
import type { LatencySpec } from './latency-model.js';
import { LatencyModel } from './latency-model.js';
import { Topology } from '../core/topology/index.js';
import { coordinateCodec } from '../wire/coordinate.js';
import { Trace } from './trace.js';

/**
 * Runs many production `GossipNode`s on virtual time. One seed decides everything: the
 * network's delays and losses, each node's RNG, the fault schedule. Same seed ⇒ same trace.
 */
export interface SimulatorOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly config: Config;
  readonly network?: Partial<NetworkOptions>;
  /** Which node events the observers want (others are never allocated). */
  readonly events?: readonly NodeEventType[];
  /** Places the nodes (regions, zones, true round trips per pair); without it every pair has the same delay distribution. */
  readonly latency?: LatencySpec;
  /** Network coordinates on every node (Serf's Vivaldi in the acks); off by default (acks then carry no payload). */
  readonly coordinates?: boolean;
  /** With coordinates: round trips up to this (ms) also feed each node's local space (0: Serf's space only). Default `DEFAULT_LOCAL_RTT_MS`. */
  readonly localRttMs?: number;
  /** With coordinates: `nearest` settled by direct round trips, with extra pings in a large cluster (Topology's `refine`). Default true. */
  readonly refine?: boolean;
  /** A membership delegate per node life (piggybacked user broadcasts and messages: the view notes), beside the coordinates' hooks. */
  readonly delegate?: (i: number) => NodeDelegate;
}

/** Receive-path stall: packets wait, timers fire. Full pause: nothing runs (a GC pause). */
export type StallMode = 'receive' | 'full';

const enum Kind {
  Timer,
  Packet,
  StreamRequest,
  StreamReply,
  Action,
  DataTimer,
  DataPacket,
}

/** A message a `SimDataNode` sends, with its encoded size. */
export interface DataTransmit<M> {
  readonly to: Address;
  readonly message: M;
  readonly bytes: number;
}

/**
 * The data layer a simulated node runs beside membership (a dissemination engine, a
 * `StateNode`), sans-IO: its messages travel over the same simulated network (delay, loss,
 * partitions, stalls) as packets of their own, and its timer is its own.
 */
export interface SimDataNode<M = DisseminationMessage, E = DisseminationEvent> {
  handleMessage(now: Millis, from: Address, m: M): void;
  handleTimeout(now: Millis): void;
  pollTransmit(): DataTransmit<M> | undefined;
  pollEvent(): E | undefined;
  pollTimeout(): Millis | undefined;
  /** Membership's bytes are charged to the node's byte budget first. */
  chargeMembership(now: Millis, bytes: number): void;
}

/** Sees every membership packet as it leaves a node (lost ones included). */
export type PacketObserver = (now: number, node: number, bytes: number) => void;
export type DataObserver<E = DisseminationEvent> = (now: number, node: number, e: E) => void;
/** Sees every data-plane transmission as it leaves a node (lost ones included). */
export type DataSendObserver<M = DisseminationMessage> = (now: number, node: number, t: DataTransmit<M>) => void;

interface SimEvent {
  time: number;
  seq: number;
  kind: Kind;
  node: number;
  /** Timer: the node's life (restart generation) it was set for. */
  gen: number;
  from: number;
  /** Message, StreamMessage or a data-plane message, by kind. */
  message: unknown;
  streamId: number;
  action: (() => void) | null;
}

interface StreamRoute {
  readonly initiator: number;
  readonly initiatorGen: number;
  readonly streamId: number;
}

export type EventObserver = (now: number, node: number, e: NodeEvent) => void;

export class Simulator<M = DisseminationMessage, E = DisseminationEvent> {
  readonly rng: Rng;
  readonly network: Network;
  readonly directory = new NameDirectory();
  readonly trace = new Trace();
  readonly names: NodeName[] = [];
  readonly addrs: Address[] = [];
  readonly nodes: (GossipNode | null)[] = [];
  /** Each node's network coordinates (`coordinates` option; a restart starts a fresh one), else null. */
  readonly topologies: (Topology | null)[] = [];
  /** Packets and bytes that went onto the network (lost ones included). */
  packets = 0;
  bytes = 0;
  streams = 0;
  streamBytes = 0;
  /** Data-plane (dissemination) messages and bytes that went onto the network. */
  dataPackets = 0;
  dataBytes = 0;
  readonly data: (SimDataNode<M, E> | null)[] = [];
  private readonly dataWakeAt: Float64Array;
  private readonly dataObservers: DataObserver<E>[] = [];
  private readonly dataSendObservers: DataSendObserver<M>[] = [];
  private readonly packetObservers: PacketObserver[] = [];
  private readonly heap = new EventHeap<SimEvent>();
  private readonly byAddr = new Map<string, number>();
  private readonly wakeAt: Float64Array;
  private readonly gen: Int32Array;
  private readonly stalledUntil: Float64Array;
  private readonly stallMode: StallMode[] = [];
  private readonly stalledInbox: SimEvent[][] = [];
  private readonly routes = new Map<number, StreamRoute>();
  private nextRoute = 1;
  private readonly observers: EventObserver[] = [];
  private nowMs = 0;
  private convergedRecords: AliveMsg[] | null = null;

  constructor(readonly options: SimulatorOptions) {
    this.rng = seededRng(options.seed);
    // The latency model draws from its own generator: the run's other draws stay as they were.
    const model = options.latency === undefined ? null : new LatencyModel(options.latency, seededRng(options.seed ^ 0x1a7e0c1), options.nodes);
    this.network = new Network({ ...DEFAULT_NETWORK, ...options.network }, this.rng.fork(), options.nodes, model);
    this.wakeAt = new Float64Array(options.nodes).fill(Infinity);
    this.dataWakeAt = new Float64Array(options.nodes).fill(Infinity);
    this.gen = new Int32Array(options.nodes);
    this.stalledUntil = new Float64Array(options.nodes);
    for (let i = 0; i < options.nodes; i++) {
      const name = nodeName(`node-${i}`);
      // Virtual addresses in the loopback range: 127.a.b.c, port 7946.
      const addr = address(`127.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:7946`);
      this.names.push(name);
      this.addrs.push(addr);
      this.byAddr.set(addr, i);
      this.nodes.push(null);
      this.topologies.push(null);
      this.data.push(null);
      this.stallMode.push('receive');
      this.stalledInbox.push([]);
    }
  }

  get now(): number {
    return this.nowMs;
  }

  observe(fn: EventObserver): void {
    this.observers.push(fn);
  }

  observeData(fn: DataObserver<E>): void {
    this.dataObservers.push(fn);
  }

  observePackets(fn: PacketObserver): void {
    this.packetObservers.push(fn);
  }

  observeDataSends(fn: DataSendObserver<M>): void {
    this.dataSendObservers.push(fn);
  }

  /** Runs a data node on node i (with or without a membership node beside it). */
  attach(i: number, m: SimDataNode<M, E>): void {
    this.data[i] = m;
    this.dataWakeAt[i] = Infinity;
    this.drainData(i);
  }

  /** Applies `fn` to node i's data node now and sends what it produced. */
  withData(i: number, fn: (m: SimDataNode<M, E>) => void): void {
    const m = this.data[i];
    if (m === null || m === undefined) return;
    fn(m);
    this.drainData(i);
  }

  isUp(i: number): boolean {
    return this.nodes[i] !== null && !(this.nodes[i] as GossipNode).isStopped;
  }

  /** Starts node i (a fresh process: new incarnation base, empty member list). */
  start(i: number, incarnation = 1): GossipNode {
    // Coordinates draw from their own generator (rarely: Serf's random direction), so the run's other draws stay as they were.
    const topology = this.options.coordinates === true
      ? new Topology(this.names[i] as string, {
        codec: coordinateCodec,
        rng: seededRng((this.options.seed ^ 0x7c00d1) + Math.imul(i + 1, 0x9e3779b1) + this.gen[i]!),
        ...(this.options.localRttMs !== undefined ? { localRttMs: this.options.localRttMs } : {}),
        ...(this.options.refine === false ? { refine: false as const } : {}),
      })
      : null;
    this.topologies[i] = topology;
    const node = new GossipNode({
      name: this.names[i] as NodeName,
      addr: this.addrs[i] as Address,
      config: this.options.config,
      rng: this.rng.fork(),
      now: millis(this.nowMs),
      directory: this.directory,
      incarnation,
      ...(this.options.events ? { events: this.options.events } : {}),
      ...(topology !== null || this.options.delegate ? {
        delegate: {
          ...(this.options.delegate ? this.options.delegate(i) : {}),
          ...(topology !== null ? {
            ackPayload: (near?: { readonly count: number; readonly from: NodeName | null }) => topology.ackPayload(near),
            notifyPingComplete: (now: Millis, node: NodeName, rttMs: number, payload: Uint8Array | null) => void topology.handlePingComplete(node, rttMs, payload, now),
            extraPingTarget: (now: Millis, cycleMs: number, isAlive: (n: NodeName) => boolean) => topology.extraPingTarget(now, cycleMs, (n) => isAlive(n as NodeName)) as NodeName | null,
            notifyPinged: (now: Millis, from: NodeName) => topology.notePinged(from, now),
          } : {}),
        },
      } : {}),
    });
    this.nodes[i] = node;
    this.gen[i] = (this.gen[i] as number) + 1;
    this.wakeAt[i] = Infinity;
    this.trace.line(this.nowMs, 'start', i);
    this.drain(i);
    return node;
  }

  /** Starts node i already knowing every other node as alive (a converged cluster, no join traffic). */
  startConverged(i: number): void {
    if (this.convergedRecords === null) {
      this.convergedRecords = this.names.map((node, j) => ({
        type: 'alive' as const, incarnation: incarnation(1), node, addr: this.addrs[j] as Address, meta: null, vsn: DEFAULT_VSN,
      }));
    }
    const node = this.start(i);
    node.restoreMembers(millis(this.nowMs), this.convergedRecords);
    this.drain(i);
  }

  /** Starts node i now and joins it through `seeds` (node indexes). */
  join(i: number, seeds: readonly number[]): void {
    const node = this.isUp(i) ? (this.nodes[i] as GossipNode) : this.start(i);
    node.join(millis(this.nowMs), seeds.map((s) => this.addrs[s] as Address));
    this.drain(i);
  }

  /** Crash: the process is gone, nothing is said to anyone. */
  crash(i: number): void {
    const node = this.nodes[i];
    if (node === null || node === undefined) {
      if (this.data[i] !== null) {
        this.data[i] = null;
        this.trace.line(this.nowMs, 'crash', i);
      }
      return;
    }
    node.shutdown();
    this.nodes[i] = null;
    this.data[i] = null;
    this.stalledInbox[i] = [];
    this.stalledUntil[i] = 0;
    this.trace.line(this.nowMs, 'crash', i);
  }

  leave(i: number): void {
    const node = this.nodes[i];
    if (node === null || node === undefined || node.isStopped) return;
    node.leave(millis(this.nowMs));
    this.trace.line(this.nowMs, 'leave', i);
    this.drain(i);
  }

  /** Stalls node i's processing for `durationMs` (see StallMode). */
  stall(i: number, durationMs: number, mode: StallMode = 'receive'): void {
    if (!this.isUp(i)) return;
    this.stalledUntil[i] = Math.max(this.stalledUntil[i] as number, this.nowMs + durationMs);
    this.stallMode[i] = mode;
    this.trace.line(this.nowMs, `stall-${mode}`, i, durationMs);
    this.schedule(Kind.Action, this.nowMs + durationMs, i, () => this.unstall(i));
  }

  isStalled(i: number): boolean {
    return (this.stalledUntil[i] as number) > this.nowMs;
  }

  partition(groups: ArrayLike<number>): void {
    this.network.partition(groups);
    this.trace.line(this.nowMs, 'partition', -1);
  }

  heal(): void {
    this.network.heal();
    this.trace.line(this.nowMs, 'heal', -1);
  }

  /** Runs `fn` at virtual time `atMs`. */
  at(atMs: number, fn: () => void): void {
    this.schedule(Kind.Action, atMs, -1, fn);
  }

  /** Processes events until virtual time `untilMs` (inclusive) or until `stop()` returns true. */
  run(untilMs: number, stop?: () => boolean): void {
    for (;;) {
      const ev = this.heap.peek();
      if (ev === undefined || ev.time > untilMs) break;
      this.heap.pop();
      this.nowMs = ev.time;
      this.dispatch(ev);
      if (stop !== undefined && ev.kind === Kind.Action && stop()) return;
    }
    this.nowMs = Math.max(this.nowMs, untilMs);
  }

  // ------------------------------------------------------------------ internals

  private dispatch(ev: SimEvent): void {
    const i = ev.node;
    switch (ev.kind) {
      case Kind.Action:
        (ev.action as () => void)();
        return;
      case Kind.Timer: {
        if (ev.gen !== this.gen[i] || ev.time !== this.wakeAt[i]) return;
        this.wakeAt[i] = Infinity;
        const node = this.nodes[i];
        if (node === null || node === undefined) return;
        if (this.isStalled(i) && this.stallMode[i] === 'full') return; // re-armed on unstall
        this.trace.mix(ev.time, i, 0);
        node.handleTimeout(millis(this.nowMs));
        this.drain(i);
        return;
      }
      case Kind.DataTimer: {
        if (ev.time !== this.dataWakeAt[i]) return;
        this.dataWakeAt[i] = Infinity;
        const m = this.data[i];
        if (m === null || m === undefined) return;
        if (this.isStalled(i) && this.stallMode[i] === 'full') return; // re-armed on unstall
        m.handleTimeout(millis(this.nowMs));
        this.drainData(i);
        return;
      }
      case Kind.DataPacket: {
        const m = this.data[i];
        if (m === null || m === undefined) return;
        if (this.isStalled(i)) {
          (this.stalledInbox[i] as SimEvent[]).push(ev);
          return;
        }
        this.deliverData(i, m, ev);
        return;
      }
      case Kind.Packet:
      case Kind.StreamRequest:
      case Kind.StreamReply: {
        const node = this.nodes[i];
        if (node === null || node === undefined || node.isStopped) {
          if (ev.kind === Kind.StreamRequest) this.refuseStream(ev);
          return;
        }
        if (ev.kind === Kind.StreamReply && ev.gen !== this.gen[i]) return; // for a previous life
        if (this.isStalled(i)) {
          (this.stalledInbox[i] as SimEvent[]).push(ev);
          return;
        }
        this.deliver(i, node, ev);
        return;
      }
    }
  }

  private deliver(i: number, node: GossipNode, ev: SimEvent): void {
    const now = millis(this.nowMs);
    const from = this.addrs[ev.from] as Address;
    this.trace.mix(this.nowMs, i, ev.kind + 1 + ev.from * 8);
    if (ev.kind === Kind.Packet) node.handlePacket(now, from, ev.message as Message);
    else if (ev.kind === Kind.StreamRequest) node.handleStreamRequest(now, from, ev.streamId, ev.message as StreamMessage);
    else node.handleStreamReply(now, ev.streamId, ev.message as StreamMessage | null);
    this.drain(i);
  }

  private deliverData(i: number, m: SimDataNode<M, E>, ev: SimEvent): void {
    this.trace.mix(this.nowMs, i, Kind.DataPacket + 1 + ev.from * 8);
    m.handleMessage(millis(this.nowMs), this.addrs[ev.from] as Address, ev.message as M);
    this.drainData(i);
  }

  private drainData(i: number): void {
    const m = this.data[i];
    if (m === null || m === undefined) return;
    for (let t = m.pollTransmit(); t !== undefined; t = m.pollTransmit()) {
      this.dataPackets++;
      this.dataBytes += t.bytes;
      for (const o of this.dataSendObservers) o(this.nowMs, i, t);
      const to = this.byAddr.get(t.to);
      if (to === undefined || !this.network.reachable(i, to) || this.network.lost()) continue;
      const e = this.newEvent(Kind.DataPacket, this.nowMs + this.network.delayMs(i, to), to);
      e.from = i;
      e.message = t.message;
      this.heap.push(e);
    }
    for (let e = m.pollEvent(); e !== undefined; e = m.pollEvent()) {
      for (const o of this.dataObservers) o(this.nowMs, i, e);
    }
    if (this.data[i] !== m) return;
    this.arm(this.dataWakeAt, Kind.DataTimer, i, m.pollTimeout(), 0);
  }

  private unstall(i: number): void {
    if ((this.stalledUntil[i] as number) > this.nowMs) return; // extended by a later stall
    this.trace.line(this.nowMs, 'unstall', i);
    const node = this.nodes[i];
    const inbox = this.stalledInbox[i] as SimEvent[];
    this.stalledInbox[i] = [];
    // Timers first (they fired during a full pause), then the backlog in arrival order.
    if (this.stallMode[i] === 'full') {
      if (node !== null && node !== undefined) {
        node.handleTimeout(millis(this.nowMs));
        this.drain(i);
      }
      this.withData(i, (m) => m.handleTimeout(millis(this.nowMs)));
    }
    for (const ev of inbox) {
      if (ev.kind === Kind.DataPacket) {
        const m = this.data[i];
        if (m !== null && m !== undefined) this.deliverData(i, m, ev);
        continue;
      }
      const n = this.nodes[i];
      if (n === null || n === undefined || n.isStopped) continue;
      this.deliver(i, n, ev);
    }
  }

  private refuseStream(ev: SimEvent): void {
    // Connection refused: the initiator hears about it one delay later.
    const route = this.routes.get(ev.streamId);
    if (route === undefined) return;
    this.routes.delete(ev.streamId);
    const e = this.newEvent(Kind.StreamReply, this.nowMs + this.network.delayMs(ev.node, route.initiator), route.initiator);
    e.from = ev.node;
    e.streamId = route.streamId;
    e.message = null;
    e.gen = route.initiatorGen;
    this.heap.push(e);
  }

  /** Drains node i's outputs: transmits onto the network, events to observers, its next timer. */
  private drain(i: number): void {
    const node = this.nodes[i];
    if (node === null || node === undefined) return;
    for (let t = node.pollTransmit(); t !== undefined; t = node.pollTransmit()) this.send(i, t);
    for (let e = node.pollEvent(); e !== undefined; e = node.pollEvent()) {
      for (const o of this.observers) o(this.nowMs, i, e);
    }
    if (this.nodes[i] !== node) return;
    this.arm(this.wakeAt, Kind.Timer, i, node.pollTimeout(), this.gen[i] as number);
  }

  /** Node i's next wake-up of `kind` at `next` (never before now), armed once per deadline; none when undefined. */
  private arm(wakeAt: Float64Array, kind: Kind, i: number, next: number | undefined, gen: number): void {
    if (next === undefined) {
      wakeAt[i] = Infinity;
      return;
    }
    const at = Math.max(next, this.nowMs);
    if (at === wakeAt[i]) return;
    wakeAt[i] = at;
    const e = this.newEvent(kind, at, i);
    e.gen = gen;
    this.heap.push(e);
  }

  private send(i: number, t: Transmit): void {
    switch (t.kind) {
      case 'packet': {
        this.packets++;
        this.bytes += t.bytes;
        this.data[i]?.chargeMembership(millis(this.nowMs), t.bytes);
        for (const o of this.packetObservers) o(this.nowMs, i, t.bytes);
        const to = this.byAddr.get(t.to);
        if (to === undefined || !this.network.reachable(i, to) || this.network.lost()) return;
        this.enqueueDelivery(Kind.Packet, i, to, t.message, 0);
        if (this.network.duplicated()) this.enqueueDelivery(Kind.Packet, i, to, t.message, 0);
        return;
      }
      case 'stream': {
        this.streams++;
        this.streamBytes += t.bytes;
        const to = this.byAddr.get(t.to);
        if (to === undefined) {
          this.failStream(i, t.streamId);
          return;
        }
        if (!this.network.reachable(i, to)) return; // the initiator's own deadline fires
        const route = this.nextRoute++;
        this.routes.set(route, { initiator: i, initiatorGen: this.gen[i] as number, streamId: t.streamId });
        // SYN, SYN-ACK (initial retransmission timeout 1 s), then the request (RTO 200 ms).
        const setup = this.network.reliableDelayMs(i, to, 1000) + this.network.reliableDelayMs(to, i, 1000) + this.network.reliableDelayMs(i, to, 200);
        const e = this.newEvent(Kind.StreamRequest, this.nowMs + setup, to);
        e.from = i;
        e.message = t.message;
        e.streamId = route;
        this.heap.push(e);
        return;
      }
      case 'stream-reply': {
        const route = this.routes.get(t.streamId);
        if (route === undefined) return;
        this.routes.delete(t.streamId);
        this.streamBytes += t.bytes;
        if (!this.network.reachable(i, route.initiator) || this.gen[route.initiator] !== route.initiatorGen) return;
        const e = this.newEvent(Kind.StreamReply, this.nowMs + this.network.reliableDelayMs(i, route.initiator, 200), route.initiator);
        e.from = i;
        e.message = t.message;
        e.streamId = route.streamId;
        e.gen = route.initiatorGen;
        this.heap.push(e);
        return;
      }
    }
  }

  private failStream(i: number, streamId: number): void {
    const e = this.newEvent(Kind.StreamReply, this.nowMs, i);
    e.from = i;
    e.streamId = streamId;
    e.message = null;
    e.gen = this.gen[i] as number;
    this.heap.push(e);
  }

  private enqueueDelivery(kind: Kind, from: number, to: number, message: Message | StreamMessage, streamId: number): void {
    const e = this.newEvent(kind, this.nowMs + this.network.delayMs(from, to), to);
    e.from = from;
    e.message = message;
    e.streamId = streamId;
    this.heap.push(e);
  }

  private schedule(kind: Kind, atMs: number, node: number, fn: () => void): void {
    const e = this.newEvent(kind, atMs, node);
    e.action = fn;
    this.heap.push(e);
  }

  private newEvent(kind: Kind, time: number, node: number): SimEvent {
    return { time, seq: 0, kind, node, gen: 0, from: -1, message: null, streamId: 0, action: null };
  }
}
