import { randomInt } from 'node:crypto';
import { defaultConfig } from '../core/config.js';
import { address, millis, nodeName } from '../core/ids.js';
import type { NodeName } from '../core/ids.js';
import type { SerfMember } from '../core/serf/member.js';
import { seededRng } from '../core/rng.js';
import type { Coordinate, RttEstimate } from '../core/topology/index.js';
import { NodeCoordinates } from './node-coordinates.js';
import { DEFAULT_SERF_CONFIG } from '../core/serf/config.js';
import type { ForceLeaveOptions, JoinOptions, QueryOptions } from '../core/serf/index.js';
import { SerfNode } from '../core/serf/serf-node.js';
import { parseHostPort } from '../transport/address.js';
import { DEFAULT_PORT, advertiseAddress, normalizeJoinAddress } from './node-address.js';
import { NetTransport } from '../transport/net-transport.js';
import type { Transport } from '../transport/transport.js';
import { CRC_WRAPPER_BYTES, ENCRYPT_OVERHEAD_BYTES, Keyring, WireStats } from '../wire/index.js';
import { serfCodec } from '../wire/serf.js';
import { DataStats } from '../wire/data.js';
import type { KvChange } from './data-kv.js';
import { KeyValue } from './data-kv.js';
import { SerfWithState } from './serf-with-state.js';
import { DurableStateNode, rumorPacketBytesMax } from './durable-state-node.js';
import { wireCodec } from './wire-codec.js';
import { wireHeaders } from './wire-headers.js';
import { budgetForCap } from '../core/state/index.js';
import { Driver } from './driver.js';
import { RejectionLog } from './rejection-log.js';
import { KeyringFileError, loadKeyringFile, writeKeyringFile } from './keyring-file.js';
import type { Listener } from './emitter.js';
import { TypedEmitter } from './emitter.js';
import type { HashRing, RingOptions } from '../core/ring/index.js';
import type { MembershipView, QuorumStatus } from '../core/views/index.js';
import { ViewPlane } from './view-plane.js';
import { emptyQuorumStats, QuorumPlane } from './quorum-plane.js';

export { DEFAULT_PORT, advertiseAddress, normalizeJoinAddress };

export type { ClusterEvent, ClusterEventMap, ClusterNodeStats, KvOptions, Logger, LogLevel, Member, NodeOptions, QueryEvent, QueryResult, RecentEvents } from './node-options.js';
import type { ClusterEvent, ClusterEventMap, ClusterNodeStats, LogLevel, Member, NodeOptions, QueryEvent, QueryResult, RecentEvents } from './node-options.js';

export { KeyringFileError };

export class JoinError extends Error {
  override name = 'JoinError';
}

const encoder = new TextEncoder();
const NO_QUORUM = emptyQuorumStats();
const bytesOf = (p: string | Uint8Array): Uint8Array => (typeof p === 'string' ? encoder.encode(p) : p);

/**
 * A running node: the sans-IO Serf node (on the SWIM core) driven on real sockets and real
 * time. Created started by `createNode`; `join`, `members`, `sendEvent`, `query`/`respond`,
 * `leave`, `shutdown`; typed events through `on(type, fn)`.
 */
export class ClusterNode {
  readonly name: string;
  /** The advertised `host:port`. */
  readonly addr: string;
  private readonly emitter: TypedEmitter<ClusterEvent>;
  /** Callers of `join`, by the join's id (joins may overlap; each gets its own outcome). */
  private joinWaiters = new Map<number, (e: { contacted: number; failed: number }) => void>();
  private leaveWaiters: (() => void)[] = [];
  private state: 'running' | 'leaving' | 'stopped' = 'running';

  private readonly queries = new Map<number, { acks: string[]; responses: Map<string, Uint8Array>; resolve: (r: QueryResult) => void }>();
  /** The replicated key-value state (see `KeyValue`). */
  readonly kv: KeyValue;

  private constructor(
    private readonly engine: SerfNode,
    private readonly plane: SerfWithState,
    private readonly dataStats: DataStats,
    private readonly driver: Driver<ClusterEvent>,
    private readonly transport: Transport,
    emitter: TypedEmitter<ClusterEvent>,
    name: string,
    addr: string,
    /** The core's protocol errors (a peer misbehaving, a stream timing out), logged rate-limited like rejected bytes. */
    private readonly protocolLog: RejectionLog,
    private readonly wire: WireStats,
    private readonly coords: NodeCoordinates | null,
  ) {
    this.emitter = emitter;
    this.name = name;
    this.addr = addr;
    this.kv = new KeyValue({
      run: (op, fn) => {
        if (!op.startsWith('kv.get') && !op.startsWith('kv.list') && !op.startsWith('kv.resolverOf') && !op.startsWith('kv.convergence')) this.assertRunning(op);
        if (this.state === 'stopped') return fn(this.driver.now(), this.plane.data);
        return this.driver.input((now) => this.plane.input(now, (d) => fn(now, d)));
      },
      onChange: (fn: (c: KvChange) => void) => this.emitter.on('kv-change', fn),
      quorum: (op, fn) => {
        this.assertRunning(op);
        const q = this.plane.quorum;
        if (q === null) throw new Error(`${op}: quorum writes and reads are not running`);
        return this.driver.input((now) => this.plane.input(now, (d) => fn(now, d, q)));
      },
    });
  }

  /** @internal Use `createNode`. */
  static async start(o: NodeOptions): Promise<ClusterNode> {
    if (typeof o.name !== 'string' || o.name.length === 0) throw new TypeError('createNode: name must be a non-empty string');
    const log = o.logger ?? ((level: LogLevel, line: string) => {
      if (level === 'warn') console.warn(`[${level}] ${o.name}: ${line}`);
    });
    const given = o.keyring ?? (o.encryptKey !== undefined ? [o.encryptKey] : null);
    const keyring = o.keyringFile !== undefined
      ? await loadKeyringFile(o.keyringFile, given)
      : given !== null && given.length > 0 ? Keyring.fromBase64(given) : null;
    const wire = new WireStats();
    const codec = o.codec ?? wireCodec({ keyring, stats: wire });
    // An idle node runs no empty gossip rounds (issue 12: idle CPU), and its push-pull interval
    // follows the cluster's size when the wait ends (idle traffic flat in N), unless the caller says otherwise.
    const agentDefaults = { gossipIdleTicks: false, pushPullScaleAtStart: false };
    const profileConfig = defaultConfig(o.profile ?? 'lan', { ...agentDefaults, ...o.config });
    // memberlist takes the GCM overhead off the piggyback budget when it encrypts, so a packet
    // still fits the UDP buffer once sealed.
    const config = keyring !== null && o.config?.packetBytesMax === undefined
      ? defaultConfig(o.profile ?? 'lan', { ...agentDefaults, ...o.config, packetBytesMax: profileConfig.packetBytesMax - ENCRYPT_OVERHEAD_BYTES })
      : profileConfig;
    const seed = o.seed ?? randomInt(0, 2 ** 32 - 1);

    let driver: Driver<ClusterEvent> | null = null;
    /** Our side's TCP segments of a stream a peer opened (the handshake's, the close's): charged to the byte budget. */
    let inboundStream: () => void = () => undefined;
    const handlers = {
      packet: (from: string, bytes: Uint8Array) => driver?.transportHandlers.packet(from, bytes),
      stream: (s: Parameters<Driver<ClusterEvent>['transportHandlers']['stream']>[0]) => {
        if (driver === null) {
          s.destroy();
          return { data: () => undefined, close: () => undefined };
        }
        inboundStream();
        return driver.transportHandlers.stream(s);
      },
    };
    const bind = o.bind ?? `0.0.0.0:${DEFAULT_PORT}`;
    const transport = o.transport
      ? await o.transport(handlers)
      : await NetTransport.listen({ bind, streamTimeoutMs: config.streamTimeoutMs }, handlers);
    try {
      const addr = advertiseAddress(bind, o.advertise, parseHostPort(transport.localAddress).port);
      const emitter = new TypedEmitter<ClusterEvent>((type, err) => log('warn', `a ${type} listener threw: ${err instanceof Error ? err.stack ?? err.message : String(err)}`));
      const clock = (): number => performance.now();
      let data: DurableStateNode | null = null;
      const rng = seededRng(seed);
      const coords = o.coordinates === false ? null : new NodeCoordinates(o.name, seed, o.coordinate, o.localCoordinateRttMs, o.localCoordinate, o.nearestRefinement !== false);
      const engine = new SerfNode({
        name: nodeName(o.name), addr: address(addr), config, rng, now: millis(clock()),
        codec: serfCodec, keyring, ...(o.tags !== undefined ? { tags: o.tags } : {}), ...(o.serf !== undefined ? { serf: o.serf } : {}),
        ...(o.incarnation !== undefined ? { incarnation: o.incarnation } : {}),
        ...(o.clocks !== undefined ? { clocks: o.clocks } : {}),
        ...(o.recentEvents !== undefined ? { recentEvents: o.recentEvents } : {}),
        dataState: SerfWithState.delegate(() => data),
        ...(coords !== null ? { ping: coords.ping } : {}),
      });
      const dataStats = new DataStats();
      const headers = wireHeaders(parseHostPort(addr).family === 6 ? 6 : 4);
      // A data message leaves as a memberlist user message (its type byte), with memberlist's
      // CRC, sealed when encrypted, in a datagram.
      const dataFramingBytes = 1 + CRC_WRAPPER_BYTES + (keyring !== null ? ENCRYPT_OVERHEAD_BYTES : 0) + headers.packetBytes;
      const budget = o.bandwidth === undefined
        ? undefined
        : budgetForCap(o.bandwidth, rumorPacketBytesMax(o.kv?.dissemination) + dataFramingBytes, dataFramingBytes);
      const k = o.kv ?? {};
      const startMs = clock();
      const common = {
        name: nodeName(o.name),
        rng: rng.fork(),
        now: millis(startMs),
        wallOffsetMs: Date.now() - startMs,
        peers: dataPeerNames(engine),
        replica: {
          ...(k.resolvers !== undefined ? { resolvers: k.resolvers } : {}),
          ...(k.defaultResolver !== undefined ? { defaultResolver: k.defaultResolver } : {}),
          ...(k.maxDriftMs !== undefined ? { maxDriftMs: k.maxDriftMs } : {}),
        },
        store: o.store ?? null,
        ...(k.dissemination !== undefined ? { dissemination: k.dissemination } : {}),
        ...(k.digestIntervalMs !== undefined ? { digestIntervalMs: k.digestIntervalMs } : {}),
        ...(k.antiEntropyIntervalMs !== undefined ? { antiEntropyIntervalMs: k.antiEntropyIntervalMs } : {}),
        ...(k.tombstoneGraceMs !== undefined ? { tombstoneGraceMs: k.tombstoneGraceMs } : {}),
        ...(k.sampleEvery !== undefined ? { sampleEvery: k.sampleEvery } : {}),
        ...(k.relearn !== undefined ? { relearn: k.relearn } : {}),
        stats: dataStats,
        ...(budget !== undefined ? { budget, streamExtraBytes: (n: number) => headers.streamBytes(n) - headers.packetBytes } : {}),
      };
      // Each life's rumor origins must differ from the previous one's: a random life number.
      data = new DurableStateNode({ ...common, incarnation: randomInt(1, 2 ** 31 - 1) });
      const plane = new SerfWithState(engine, data, millis(startMs), headers);
      const views = new ViewPlane(engine, () => (driver === null ? millis(clock()) : driver.now()), o.views ?? {}, o.serf?.dataTag === undefined ? DEFAULT_SERF_CONFIG.dataTag : o.serf.dataTag, rng.fork());
      plane.views = views;
      plane.quorum = new QuorumPlane(engine, data, () => views.replicas(), randomInt(1, 2 ** 31 - 1));
      if (budget !== undefined) inboundStream = () => plane.data.chargeMembership(millis(clock()), headers.streamBytes(0));
      let node: ClusterNode | null = null;
      driver = new Driver<ClusterEvent>({
        node: plane,
        codec,
        clock,
        log: (line) => log('warn', line),
        deliver: (e) => node?.deliver(e),
      });
      if (keyring !== null && o.keyringFile !== undefined) {
        const file = o.keyringFile;
        emitter.on('keyring-change', () => {
          writeKeyringFile(file, keyring).catch((e: unknown) => log('warn', `cannot write keyring file ${file}: ${e instanceof Error ? e.message : String(e)}`));
        });
      }
      const d = driver;
      plane.wake = () => d.input(() => undefined);
      node = new ClusterNode(engine, plane, dataStats, driver, transport, emitter, o.name, addr, new RejectionLog((line) => log('info', line), 10_000, 1024, 'protocol error'), wire, coords);
      driver.start(transport);
      return node;
    } catch (e) {
      // Bad options found after binding (advertise, tags): give the port back.
      await transport.close();
      throw e;
    }
  }

  /** Subscribes to one event type; returns a function that unsubscribes. */
  on<K extends keyof ClusterEventMap>(type: K, fn: Listener<ClusterEventMap[K]>): () => void {
    return this.emitter.on(type, fn);
  }

  once<K extends keyof ClusterEventMap>(type: K, fn: Listener<ClusterEventMap[K]>): () => void {
    return this.emitter.once(type, fn);
  }

  off<K extends keyof ClusterEventMap>(type: K, fn: Listener<ClusterEventMap[K]>): void {
    this.emitter.off(type, fn);
  }

  /**
   * Joins through `addrs` (`host:port`, `[v6]:port`, `host` for port 7946, or `name/host:port`)
   * with a full-state push-pull to each. Resolves with the number contacted; rejects with a
   * `JoinError` if none could be. The events the seeds still buffer are delivered (each once),
   * so a rejoin loses nothing that was in flight; `ignoreOldEvents` (an operator's choice, as
   * `serf join` without `-replay`) skips every event older than the seeds' event clock instead.
   */
  async join(addrs: readonly string[], opts: JoinOptions = {}): Promise<number> {
    this.assertRunning('join');
    const seeds = addrs.map((a) => address(normalizeJoinAddress(a)));
    const r = await new Promise<{ contacted: number; failed: number }>((resolve) => {
      this.driver.input((now) => {
        this.joinWaiters.set(this.engine.join(now, seeds, opts), resolve);
      });
    });
    if (r.contacted === 0 && seeds.length > 0) throw new JoinError(`could not contact any of ${addrs.join(', ')}`);
    return r.contacted;
  }

  /** Our current incarnation (persist it: a restarted node passes something above it as `incarnation`). */
  get incarnation(): number {
    return this.engine.gossip.incarnation;
  }

  /** A member's incarnation as memberlist knows it (undefined for unknown names). */
  memberIncarnation(name: string): number | undefined {
    const m = this.engine.gossip.member(name);
    return m === undefined ? undefined : (m.incarnation);
  }

  /** Current values of Serf's member, event and query Lamport clocks. */
  get clocks(): { readonly member: number; readonly event: number; readonly query: number } {
    return this.engine.clocks;
  }

  /** The user events this node still de-duplicates against (its event buffer): persist them with `clocks`. */
  recentEvents(): RecentEvents {
    return this.engine.recentEvents();
  }

  /** Every member known, in any status (alive, leaving, left, failed until reaped), self included: Serf's Members(). */
  members(): Member[] {
    return this.engine.members();
  }

  /**
   * The membership view (issue 16): the current one (its epoch grows on every change, its
   * checksum is equal on nodes that agree), the last stable one (every live member reported its
   * checksum and it settled), and the live members not (yet) seen holding the current one.
   */
  view(): { readonly current: MembershipView; readonly stable: MembershipView | null; readonly isStable: boolean; readonly disagreeing: readonly { readonly name: string; readonly checksum: number | null }[] } {
    return this.views().view();
  }

  /** Whether the members this node reaches are a strict majority of its last stable view (see `quorum()`). Stop taking writes without it. */
  hasQuorum(): boolean {
    return this.views().tracker.hasQuorum();
  }

  /** The partition side in detail: reachable and total weight of the quorum basis (the last stable view adopted with quorum). */
  quorum(): QuorumStatus {
    return this.views().quorum();
  }

  /** The consistent-hash ring of the last stable view's alive members (filter with `tags`), equal on nodes with the same stable view. */
  ring(opts: RingOptions = {}): HashRing {
    return this.views().ring(opts);
  }

  private views(): ViewPlane {
    const v = this.plane.views;
    if (v === null) throw new Error('views are not running');
    if (this.state !== 'stopped') this.driver.input((now) => v.handleTimeout(now));
    return v;
  }

  /** The round trip (ms) of our last answered probe of a member, or undefined. */
  probeRttMs(name: string): number | undefined {
    return this.engine.gossip.probeRttMs(name);
  }

  /** A member's network coordinate (ours by default; Serf's, in seconds), undefined if unknown or coordinates are off. */
  coordinate(name: string = this.name): Coordinate | undefined {
    return this.coords?.coordinate(name);
  }

  /** The estimated round trip (ms) between two members from their coordinates (`b`: us), as `serf rtt`; undefined if either is unknown. */
  estimateRtt(a: string, b: string = this.name): number | undefined {
    return this.coords?.estimateRtt(a, b);
  }

  /**
   * The `k` alive members nearest to us, nearest first: by the least of our last few direct round
   * trips to a member where we have them, by estimated round trip otherwise (`nearestRefinement`);
   * `tag`: only members with `key=value` (or `key`).
   */
  nearest(k: number, opts: { readonly tag?: string } = {}): RttEstimate[] {
    return this.coords?.nearest(k, this.engine.members(), opts.tag) ?? [];
  }

  /** Broadcasts waiting to go out: memberlist's membership gossip, and Serf's (intents, events, queries, data). */
  queueDepths(): { readonly membership: number; readonly serf: number } {
    return { membership: this.engine.gossip.broadcastQueueLength, serf: this.engine.queueDepth };
  }

  /** Our tags as sent in our node meta (our data tag included). */
  get tags(): Readonly<Record<string, string>> {
    return this.engine.localTags;
  }

  /** Replaces our tags and announces them. */
  setTags(tags: Readonly<Record<string, string>>): void {
    this.assertRunning('setTags');
    this.driver.input((now) => this.engine.setTags(now, tags));
  }

  /**
   * Forces a failed member out (what `serf force-leave [-prune]` does): every member moves it
   * to `left`, or with `prune` forgets it at once. Throws for an unknown or alive member.
   */
  forceLeave(name: string, opts: ForceLeaveOptions = {}): void {
    this.assertRunning('forceLeave');
    this.driver.input((now) => this.engine.forceLeave(now, name, opts));
  }

  /**
   * Sends a user event to the whole cluster (what `serf event` does): every member's handlers
   * see it once. `coalesce` (default true, as `serf event`) lets agents deliver only the
   * latest event of a name within their coalescing window. Throws if name + payload exceed
   * the user event size limit (512 bytes by default).
   */
  sendEvent(name: string, payload: string | Uint8Array = new Uint8Array(0), opts: { readonly coalesce?: boolean } = {}): void {
    this.assertRunning('sendEvent');
    this.driver.input((now) => this.engine.userEvent(now, name, bytesOf(payload), opts.coalesce ?? true));
  }

  /**
   * Asks the cluster (what `serf query` does); resolves at the query's deadline with the acks
   * and answers collected.
   */
  query(name: string, payload: string | Uint8Array = new Uint8Array(0), opts: QueryOptions = {}): Promise<QueryResult> {
    this.assertRunning('query');
    return new Promise((resolve) => {
      // Registered before the driver drains: our own ack and answer come out of that same drain.
      this.driver.input((now) => this.queries.set(this.engine.query(now, name, bytesOf(payload), opts), { acks: [], responses: new Map(), resolve }));
    });
  }

  /**
   * The data layer's channel: one message of type `dataType` (0x80–0xbf, a range Serf does not
   * use) to member `to`, as a packet or, with `reliable`, over a stream. Only members that
   * advertise our data tag get them; returns false when `to` is not one (nothing is sent).
   * Receivers see a `data-message` event.
   */
  sendData(to: string, dataType: number, payload: Uint8Array, opts: { readonly reliable?: boolean } = {}): boolean {
    this.assertRunning('sendData');
    return this.driver.input((now) => this.engine.sendData(now, to, dataType, payload, opts.reliable ?? false));
  }

  /** Gossips a data-layer message to every member that advertises our data tag (piggybacked, transmit-limited). */
  broadcastData(dataType: number, payload: Uint8Array): void {
    this.assertRunning('broadcastData');
    this.driver.input(() => this.engine.broadcastData(dataType, payload));
  }

  /** The largest encoded query response (Serf's QueryResponseSizeLimit, bytes): `respond` refuses more. */
  get queryResponseSizeLimit(): number {
    return this.engine.serfConfig.queryResponseSizeLimit;
  }

  /** Answers a `query` event before its deadline. Throws if it was answered already, expired, or the answer is too large. */
  respond(query: QueryEvent, payload: string | Uint8Array): void {
    this.assertRunning('respond');
    this.driver.input((now) => this.engine.respond(now, query.queryId, bytesOf(payload)));
  }

  /** The address the sockets are bound to (the advertised one may differ). */
  get boundAddress(): string {
    return this.transport.localAddress;
  }

  get stats(): ClusterNodeStats {
    return {
      driver: this.driver.stats, transport: this.transport.stats, gossip: this.engine.gossip.stats, serf: this.engine.stats, wire: this.wire.snapshot(),
      log: { lines: this.driver.rejections.lines + this.protocolLog.lines, suppressed: this.driver.rejections.suppressed + this.protocolLog.suppressed },
      data: { decoded: this.dataStats.decoded, rejected: { ...this.dataStats.rejected }, node: this.plane.data.stats, unsent: this.plane.unsent, budget: this.plane.data.node.budgetStats, quorum: { ...(this.plane.quorum?.stats ?? NO_QUORUM) } },
      topology: this.coords?.stats ?? null,
    };
  }

  /** Tells the cluster we leave, waits until that went out (bounded by `leavePropagateMs`), then closes the sockets. */
  async leave(): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'leaving';
    const left = new Promise<void>((resolve) => this.leaveWaiters.push(resolve));
    this.driver.input((now) => this.engine.leave(now));
    await left;
    await this.close();
  }

  /** Stops at once without telling anyone (peers will see a failure). */
  async shutdown(): Promise<void> {
    if (this.state === 'stopped') return;
    this.engine.shutdown();
    await this.close();
  }

  private async close(): Promise<void> {
    this.state = 'stopped';
    this.driver.stop();
    for (const w of this.leaveWaiters) w();
    this.leaveWaiters = [];
    for (const w of this.joinWaiters.values()) w({ contacted: 0, failed: 0 });
    this.joinWaiters = new Map();
    for (const q of this.queries.values()) q.resolve({ acks: q.acks, responses: q.responses });
    this.queries.clear();
    await this.transport.close();
  }

  private deliver(e: ClusterEvent): void {
    switch (e.type) {
      case 'member-joined':
      case 'member-updated':
        this.driver.notePeerVersion(e.member.addr, e.member.protocol.max);
        break;
      case 'join-completed': {
        const w = this.joinWaiters.get(e.joinId);
        this.joinWaiters.delete(e.joinId);
        w?.(e);
        break;
      }
      case 'left': {
        const w = this.leaveWaiters;
        this.leaveWaiters = [];
        for (const f of w) f();
        break;
      }
      case 'query-ack':
        this.queries.get(e.queryId)?.acks.push(e.from);
        break;
      case 'query-response':
        this.queries.get(e.queryId)?.responses.set(e.from, e.payload);
        break;
      case 'query-done': {
        const q = this.queries.get(e.queryId);
        this.queries.delete(e.queryId);
        q?.resolve({ acks: q.acks, responses: q.responses });
        break;
      }
      case 'protocol-error':
        this.protocolLog.reject(this.driver.now(), e.reason, e.from, e.detail);
        break;
      case 'member-left':
      case 'member-failed':
      case 'member-reaped':
        this.coords?.forget(e.member.name);
        break;
      case 'member-suspected':
      case 'member-recovered':
      case 'self-refuted':
      case 'self-address-stale':
      case 'user-event':
      case 'query':
      case 'keyring-change':
      case 'data-message':
      case 'kv-change':
      case 'kv-converged':
      case 'view-changed':
      case 'view-stable':
      case 'quorum-lost':
      case 'quorum-regained':
      case 'ring-changed':
        break;
      case 'data-rejected':
        this.protocolLog.reject(this.driver.now(), `data ${e.reason}`, e.from, e.detail);
        break;
    }
    this.emitter.emit(e);
  }

  private assertRunning(op: string): void {
    if (this.state !== 'running') throw new Error(`${op}: node ${this.name} is ${this.state === 'leaving' ? 'leaving' : 'stopped'}`);
  }
}

/** The engine's data peers by name: a new array only when the engine's list changed (it is cached until the member table changes). */
function dataPeerNames(engine: SerfNode): () => readonly NodeName[] {
  let from: readonly SerfMember[] | null = null;
  let names: readonly NodeName[] = [];
  return () => {
    const peers = engine.dataPeers();
    if (peers !== from) {
      from = peers;
      names = peers.map((m) => nodeName(m.name));
    }
    return names;
  };
}
