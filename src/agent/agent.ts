import { randomInt } from 'node:crypto';
import type { AgentLog } from './agent-log.js';
import type { ClusterNode, NodeOptions } from '../index.js';
import { createNode } from '../index.js';
import type { AgentStore, SnapshotMember } from '../store/state-store.js';
import { MemoryStore } from '../store/memory-store.js';
import { SqliteStore } from '../store/sqlite-store.js';
import { WatchedStore } from '../store/watched-store.js';

export { StoreError } from '../store/store-error.js';
import type { AgentConfig } from './config.js';
import type { DashboardPage } from './http-api.js';
import { HttpApi } from './http-api.js';
import type { KvService } from './kv-service.js';
import { ClusterKv } from './kv-service.js';
import { runKeyOp } from './keys.js';
import { loadRecentEvents, recentEventsMeta } from './event-snapshot.js';
import { coordinateMeta, loadCoordinate } from './coordinate-snapshot.js';
import type { AgentMetrics } from './metrics.js';
import { EventHandlers, parseHandlerSpec } from './event-handlers.js';
import type { JoinResolver } from './join-address.js';
import { resolveJoinAddresses, systemResolver } from './join-address.js';
import { YjsGate } from './yjs-gate.js';
import { FETCH_BLOCKED_PORTS } from './fetch-blocked-ports.js';
import { SELF_REFUTED_MSG, SUSPECT_RAISED_MSG } from './suspicion-log.js';
import { parseHostPort } from '../transport/address.js';

const KEYRING_META = 'agent.keyring';
/** Snapshot members joined through at once, and how many such batches are tried before giving up. */
const JOIN_SNAPSHOT_BATCH = 3;
const JOIN_SNAPSHOT_BATCHES_MAX = 3;
/** While a peer refuses our new address, a push-pull with the members we joined through this often. */
const STALE_REJOIN_MS = 1000;
/** After `deadNodeReclaimMs`, this much more before re-joining an accuser (its dead record must be older than that). */
const ACCUSER_REJOIN_SLACK_MS = 1000;
/**
 * Our network coordinate is saved at most this often (and when stopping). It moves with every
 * probe, so it is the one thing an idle agent would otherwise write; a restarted agent only
 * needs a warm start (Vivaldi converges again within a minute).
 */
const COORDINATE_SAVE_MS = 10 * 60_000;

/** Fisher–Yates with `randomInt` (the agent's join order; not a simulation). */
function shuffle<T>(xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [xs[i], xs[j]] = [xs[j] as T, xs[i] as T];
  }
  return xs;
}

/** The keyring the store holds (base64 keys, primary first), or null. */
export function loadKeyring(store: AgentStore): string[] | null {
  const v = store.loadMeta(KEYRING_META);
  if (v === null) return null;
  const keys: unknown = JSON.parse(new TextDecoder().decode(v));
  return Array.isArray(keys) && keys.length > 0 && keys.every((k) => typeof k === 'string') ? keys : null;
}

export function saveKeyring(store: AgentStore, keys: readonly string[]): void {
  store.saveMeta(KEYRING_META, new TextEncoder().encode(JSON.stringify(keys)));
}

export interface AgentOptions {
  readonly config: AgentConfig;
  readonly log: AgentLog;
  /** The dashboard served at `GET /` (B's `src/dashboard`), or null. */
  readonly dashboard?: (() => DashboardPage) | null;
  /** A store to use instead of the one `dataDir` implies (tests). */
  readonly store?: AgentStore;
  /** How often the membership snapshot and clocks are saved. Default 5 s. */
  readonly snapshotIntervalMs?: number;
  /** The node's transport instead of UDP + TCP on `bind` (tests: a filter that drops packets for a while). */
  readonly transport?: NodeOptions['transport'];
  /** The DNS queries join addresses make (default: the system's; tests: `dnsResolver` on their own server). */
  readonly resolver?: JoinResolver;
  /** The HTTP API's deadline for a request's headers. Default 10 s (tests: shorter). */
  readonly httpHeadersTimeoutMs?: number;
}


/**
 * One agent: its store, its cluster node, its HTTP API, until `stop`. Start order: open the
 * store (a failure stops here), take the next incarnation (saved before the node announces it,
 * so a crash right after still leaves the next life higher), start the node, join the
 * configured addresses and the snapshot's members, then serve HTTP.
 */
export class Agent {
  private stopping: Promise<void> | null = null;
  private resolveDone: () => void = () => undefined;
  /** Resolves once the agent has stopped (after `stop`, a leave over HTTP, or a signal). */
  readonly done = new Promise<void>((resolve) => {
    this.resolveDone = resolve;
  });
  private snapshotTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private staleTimer: NodeJS.Timeout | null = null;
  /** The addresses of the last join that reached someone. */
  private joinedThrough: string[] = [];
  /** Accusers we will push-pull with once our old address may be reclaimed (see `rejoinAccuser`). */
  private readonly rejoinPending = new Map<string, NodeJS.Timeout>();
  /** The membership snapshot saved last (members, addresses), so an unchanged one is not written again. */
  private savedMembers = '';
  /** Incarnation, clocks and events delivered at the last save (a few numbers: compared every round). */
  private savedState = '';
  /** A member event came since the last save: the member list is read again (O(members)) only then. */
  private membersDirty = true;
  private userEventsSeen = 0;
  /** When our coordinate was last saved (0: not yet, so the first snapshot saves it). */
  private coordinateSavedMs = 0;
  private suspicionsSeen = 0;

  private constructor(
    readonly config: AgentConfig,
    readonly node: ClusterNode,
    readonly store: WatchedStore,
    readonly kv: KvService,
    readonly http: HttpApi,
    /** The bound HTTP address. */
    readonly httpAddress: string,
    readonly incarnation: number,
    private readonly log: AgentLog,
    /** The `--event-handler` scripts (none configured: subscribed to nothing). */
    readonly handlers: EventHandlers,
    private readonly resolver: JoinResolver,
    /** Yjs documents and `/v1/yjs` (the Yjs code loads on first use). */
    readonly yjs: YjsGate,
  ) {}

  static async start(o: AgentOptions): Promise<Agent> {
    const c = o.config;
    const log = o.log;
    const raw = o.store ?? (c.dataDir !== undefined
      ? SqliteStore.open(c.dataDir, { synchronous: c.sqliteSynchronous, recover: c.recover, notice: (line) => log.warn({ dataDir: c.dataDir }, line) })
      : new MemoryStore());
    // A damaged store opened with --recover: this node relearns what it lost from its peers.
    const recovered = raw instanceof SqliteStore && raw.recovered;
    // Store failures are logged once per change (failing, recovered), not once per retry.
    const store = new WatchedStore(raw, (h) => {
      if (h.failing) log.error({ dataDir: c.dataDir ?? null }, `the store refuses writes: ${h.error ?? 'unknown error'} (reads are still served; writes fail until it recovers; see /v1/health)`);
      else log.info({ dataDir: c.dataDir ?? null, writeFailures: h.writeFailures }, 'the store takes writes again');
    });
    let node: ClusterNode | null = null;
    try {
      const incarnation = store.loadIncarnation() + 1;
      store.saveIncarnation(incarnation);
      // The keyring: an explicit --keyring-file (Serf's format) is the node's own business;
      // otherwise the store keeps it (meta `agent.keyring`, primary first), written after every
      // rotation, so a restarted agent comes back with the current keys, not its --encrypt.
      const storedKeys = c.keyringFile === undefined ? loadKeyring(store) : null;
      if (storedKeys !== null && c.encrypt !== undefined && !storedKeys.includes(c.encrypt)) {
        log.warn('--encrypt is not in the stored keyring (rotated since): the stored keyring wins');
      }
      const clocks = store.loadClocks();
      const recentEvents = loadRecentEvents(store);
      const coordinate = loadCoordinate(store);
      const opts: NodeOptions = {
        name: c.name, bind: c.bind, profile: c.profile, tags: c.tags, incarnation, store, clocks,
        ...(recentEvents !== null ? { recentEvents } : {}),
        ...(coordinate !== undefined ? { coordinate } : {}),
        config: { deadNodeReclaimTimeMs: c.deadNodeReclaimMs },
        kv: { resolvers: Object.fromEntries(Object.entries(c.resolvers).map(([prefix, type]) => [prefix, { type }])), ...(recovered ? { relearn: true } : {}) },
        logger: (level, line) => (level === 'warn' ? log.warn(line) : log.debug(line)),
        ...(c.advertise !== undefined ? { advertise: c.advertise } : {}),
        ...(storedKeys !== null ? { keyring: storedKeys } : c.encrypt !== undefined ? { encryptKey: c.encrypt } : {}),
        ...(c.keyringFile !== undefined ? { keyringFile: c.keyringFile } : {}),
        ...(c.bandwidth !== undefined ? { bandwidth: c.bandwidth } : {}),
        ...(c.nearestRefinement ? {} : { nearestRefinement: false }),
        ...(o.transport !== undefined ? { transport: o.transport } : {}),
      };
      node = await createNode(opts);
      // A delivered user event is recorded (clocks and the recent-event buffer) before the next
      // turn of the event loop, not at the next 5 s snapshot: an agent killed -9 and restarted
      // must not deliver again what it delivered in its last seconds (issue 12: exactly once).
      // Registered first, before the stream, the handlers and the log see the event.
      const delivered = node;
      let recording = false;
      delivered.on('user-event', () => {
        if (recording) return;
        recording = true;
        setImmediate(() => {
          recording = false;
          try {
            store.saveSnapshot({ clocks: delivered.clocks, meta: [recentEventsMeta(delivered.recentEvents())] });
          } catch {
            // A failing store was logged once when it started (WatchedStore); the snapshot retries.
          }
        });
      });
      // HTTP listens before the join: writes wait until the first join attempt has ended (see ClusterKv).
      let joinEnded: () => void = () => undefined;
      const joined = new Promise<void>((resolve) => {
        joinEnded = resolve;
      });
      const kv = new ClusterKv(node.kv, joined);
      const agentRef: { a: Agent | null } = { a: null };
      // Every metric is read from the node's counters at scrape time, so the registry (and
      // prom-client, about 12 MB of a process) is made on the first scrape, not at start.
      const started = node;
      let registry: Promise<AgentMetrics> | null = null;
      const metrics = (): Promise<AgentMetrics> => (registry ??= import('./metrics.js').then((m) => new m.AgentMetrics(started, kv, {
        suspicionsSeen: () => agentRef.a?.suspicionsSeen ?? 0,
        storeHealth: () => store.health,
        http: () => (agentRef.a === null ? null : { answered: agentRef.a.http.answered, streams: agentRef.a.http.streams.stats() }),
      })));
      const resolver = o.resolver ?? systemResolver();
      const handlers = new EventHandlers(node, c.eventHandlers.map(parseHandlerSpec), log, { timeoutMs: c.eventHandlerTimeoutMs });
      const yjs = new YjsGate({ node, store, config: c.yjs, log });
      const http = new HttpApi({
        yjs,
        handlerStats: () => handlers.stats,
        resolveJoin: async (addrs) => {
          const r = await resolveJoinAddresses(addrs, resolver);
          if (r.addrs.length === 0) throw new Error(r.problems.join('; '));
          return r.addrs;
        },
        node, kv, metrics, storeHealth: () => store.health, token: c.token ?? null, hosts: c.httpHosts, valueBytesMax: c.valueBytesMax, streamsMax: c.httpStreamsMax, log, dashboard: o.dashboard ?? null,
        ...(o.httpHeadersTimeoutMs !== undefined ? { headersTimeoutMs: o.httpHeadersTimeoutMs } : {}),
        onLeave: () => {
          void agentRef.a?.stop('leave requested over HTTP');
        },
      });
      const httpAddress = await http.listen(c.http);
      const agent = new Agent(c, node, store, kv, http, httpAddress, incarnation, log, handlers, resolver, yjs);
      if (c.keyringFile === undefined && storedKeys === null && c.encrypt !== undefined) saveKeyring(store, [c.encrypt]);
      agentRef.a = agent;
      agent.watch(o.snapshotIntervalMs ?? 5000);
      if (FETCH_BLOCKED_PORTS.has(parseHostPort(httpAddress).port)) {
        log.warn({ http: httpAddress }, 'the HTTP API listens on a port that browsers and fetch() refuse (the Fetch standard blocks it): the dashboard cannot be opened there and fetch()-based clients fail; curl and gossip commands work. Choose another port with --http');
      }
      log.info({ name: c.name, gossip: node.addr, http: httpAddress, incarnation, dataDir: c.dataDir ?? null, ...(o.dashboard != null ? { dashboard: `http://${httpAddress}/` } : {}) }, 'agent started');
      try {
        await agent.joinCluster();
      } finally {
        joinEnded();
      }
      return agent;
    } catch (e) {
      if (node !== null) await node.shutdown();
      store.close();
      throw e;
    }
  }

  /**
   * Joins the cluster at start, as Serf does: every configured `--join` and `--retry-join`
   * address (each is contacted; names resolved now), else the members of the last snapshot one small batch at a time, in random
   * order, until one answers (Serf re-joins through one previously known node). A restarted
   * agent thus push-pulls with a few members, never with all of them. When nothing answered,
   * the join is retried every `retryIntervalMs` (up to `retryMax` attempts, 0: until it
   * works); a failure is logged, not fatal (peers may join us). Returns the members contacted.
   */
  async joinCluster(): Promise<number> {
    const n = await this.joinOnce(false);
    if (n === 0 && this.joinCandidates().length > 0) this.retryJoin(1);
    return n;
  }

  /** Addresses to join through: the configured ones, and the snapshot's members (shuffled) after them. */
  private joinCandidates(): { configured: string[]; snapshot: string[] } & { length: number } {
    const configured = [...new Set([...this.config.join, ...this.config.retryJoin])];
    const snapshot = shuffle(this.store.loadMembers().filter((m) => m.name !== this.config.name).map((m) => m.addr).filter((a) => !configured.includes(a)));
    return { configured, snapshot, length: configured.length + snapshot.length };
  }

  /**
   * A peer still holds our name at a previous life's address (we came back on a new port before
   * it declared the old one dead) and refused our new one. Push-pull again with the members we
   * joined through, a second later, until no push-pull brings the old address back
   * (then the old record is dead, and our alive was taken). One pending at a time.
   */
  private rejoinStale(): void {
    if (this.stopping !== null || this.staleTimer !== null || this.joinedThrough.length === 0) return;
    const addrs = this.joinedThrough;
    this.staleTimer = setTimeout(() => {
      this.staleTimer = null;
      if (this.stopping === null) void this.node.join(addrs).catch(() => undefined);
    }, STALE_REJOIN_MS);
    this.staleTimer.unref();
  }

  private async joinOnce(quiet: boolean): Promise<number> {
    const { configured, snapshot } = this.joinCandidates();
    // Names are resolved on every attempt: a record that appears late is joined through on a retry.
    const resolved = configured.length > 0 ? await resolveJoinAddresses(configured, this.resolver) : { addrs: [], problems: [] };
    if (resolved.problems.length > 0) this.log.warn({ tried: configured }, `join: ${resolved.problems.join('; ')}`);
    const batches = resolved.addrs.length > 0 ? [resolved.addrs] : [];
    for (let i = 0; i < snapshot.length && batches.length < 1 + JOIN_SNAPSHOT_BATCHES_MAX; i += JOIN_SNAPSHOT_BATCH) batches.push(snapshot.slice(i, i + JOIN_SNAPSHOT_BATCH));
    let contacted = 0;
    for (const addrs of batches) {
      if (this.stopping !== null) return contacted;
      try {
        contacted += await this.node.join(addrs);
        if (!quiet) this.log.info({ contacted, tried: addrs }, 'joined');
        if (contacted > 0) {
          this.joinedThrough = addrs;
          return contacted;
        }
      } catch (e) {
        if (this.stopping !== null) return contacted;
        this.log.warn({ tried: addrs }, `join failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return contacted;
  }

  private retryJoin(attempt: number): void {
    const { retryIntervalMs, retryMax } = this.config;
    if (this.stopping !== null || (retryMax > 0 && attempt > retryMax)) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.joinOnce(true).then((n) => {
        if (n > 0) this.log.info({ contacted: n, attempt }, 'joined on retry');
        else this.retryJoin(attempt + 1);
      });
    }, retryIntervalMs);
    this.retryTimer.unref();
  }

  /**
   * A peer declared this node suspect or dead and we refuted it. When we came back at a new
   * address, that peer (and the ones it told) refuse our new address until the old one has been
   * dead for `deadNodeReclaimMs`, and our refutation arrives sooner than that. So one push-pull
   * with the accuser once that time has passed carries our alive again (memberlist would wait for
   * the next periodic push-pull). One pending per accuser; nothing happens in a healthy cluster.
   */
  private rejoinAccuser(by: string): void {
    if (this.stopping !== null || this.rejoinPending.has(by)) return;
    const addr = this.node.members().find((m) => m.name === by)?.addr;
    if (addr === undefined) return;
    const t = setTimeout(() => {
      this.rejoinPending.delete(by);
      if (this.stopping !== null) return;
      void this.node.join([addr]).catch(() => undefined);
    }, this.config.deadNodeReclaimMs + ACCUSER_REJOIN_SLACK_MS);
    t.unref();
    this.rejoinPending.set(by, t);
  }

  /** Leaves the cluster (unless `leave` is false: a plain shutdown), closes HTTP and the store. Idempotent. */
  stop(reason: string, leave = true): Promise<void> {
    this.stopping ??= (async () => {
      this.log.info({ reason }, leave ? 'leaving' : 'shutting down');
      if (this.snapshotTimer !== null) clearInterval(this.snapshotTimer);
      if (this.retryTimer !== null) clearTimeout(this.retryTimer);
      if (this.staleTimer !== null) clearTimeout(this.staleTimer);
      for (const t of this.rejoinPending.values()) clearTimeout(t);
      this.saveSnapshot(true);
      this.handlers.close();
      this.yjs.close();
      if (leave) await this.node.leave();
      else await this.node.shutdown();
      await this.http.close();
      this.store.close();
      this.log.info('stopped');
      this.resolveDone();
    })();
    return this.stopping;
  }

  private watch(intervalMs: number): void {
    const n = this.node;
    n.on('member-joined', (e) => this.log.info({ member: e.member.name, addr: e.member.addr }, 'member joined'));
    n.on('member-left', (e) => this.log.info({ member: e.member.name }, 'member left'));
    n.on('member-failed', (e) => this.log.warn({ member: e.member.name }, 'member failed'));
    for (const type of ['member-joined', 'member-updated', 'member-left', 'member-failed', 'member-reaped'] as const) {
      n.on(type, () => {
        this.membersDirty = true;
      });
    }
    n.on('user-event', () => {
      this.userEventsSeen++;
    });
    n.on('member-suspected', (e) => {
      this.suspicionsSeen++;
      // As memberlist logs "Suspect X has failed, no acks received": only the prober that raised it.
      if (e.from === n.name) this.log.info({ member: e.member.name }, SUSPECT_RAISED_MSG);
    });
    // As serf's agent logs "Received event: user-event: …": one line per event delivered here.
    n.on('user-event', (e) => this.log.info({ event: e.name, ltime: e.ltime }, 'user event'));
    // Serf's own queries (`_serf_ping`, key queries) only at debug: reachability checks would flood the log.
    n.on('query', (q) => {
      const fields = { query: q.name, ltime: q.ltime, from: q.sourceNode };
      if (q.name.startsWith('_serf_')) this.log.debug(fields, 'query');
      else this.log.info(fields, 'query');
    });
    n.on('self-address-stale', (e) => {
      this.log.info({ staleAddr: e.staleAddr }, 'a peer still holds this node at its old address: will push-pull again');
      this.rejoinStale();
    });
    n.on('self-refuted', (e) => {
      this.log.warn({ by: e.by }, SELF_REFUTED_MSG);
      this.saveIncarnation();
      this.rejoinAccuser(e.by);
    });
    if (this.config.keyringFile === undefined) {
      n.on('keyring-change', () => {
        void this.saveCurrentKeyring();
      });
    }
    this.snapshotTimer = setInterval(() => this.saveSnapshot(), intervalMs);
    this.snapshotTimer.unref();
  }

  /** Asks our own node for its keys (Serf's list-keys query, to us only) and stores them, primary first. */
  private async saveCurrentKeyring(): Promise<void> {
    try {
      const r = await runKeyOp(this.node, 'list', null, { filterNodes: [this.config.name] });
      const primary = Object.keys(r.primaryKeys)[0];
      if (primary === undefined) throw new Error(`no answer from ourselves${Object.values(r.messages).length > 0 ? `: ${Object.values(r.messages).join('; ')}` : ''}`);
      saveKeyring(this.store, [primary, ...Object.keys(r.keys).filter((k) => k !== primary)]);
      this.log.info({ keys: Object.keys(r.keys).length }, 'keyring saved');
    } catch (e) {
      if (this.stopping === null) this.log.error({ err: e }, 'cannot save the keyring');
    }
  }

  private saveIncarnation(): void {
    this.store.saveIncarnation(this.node.incarnation);
  }

  /**
   * Saves the alive members (to rejoin through), our incarnation and the Lamport clocks when the
   * node reports them; our network coordinate (which moves all the time) at most once every
   * `COORDINATE_SAVE_MS`, and when stopping (`final`).
   */
  private saveSnapshot(final = false): void {
    // While the store refuses writes, one small write per round tells when it takes them again.
    if (this.store.health.failing) {
      try {
        this.store.probe();
      } catch {
        return; // still failing (logged once when it started)
      }
    }
    try {
      const coordinate = this.node.coordinate();
      const now = Date.now();
      const coordinateDue = coordinate !== undefined && (final || now - this.coordinateSavedMs >= COORDINATE_SAVE_MS);
      const meta = coordinateDue ? [coordinateMeta(coordinate)] : [];
      const clocks = this.node.clocks;
      const state = `${this.node.incarnation} ${clocks.member} ${clocks.event} ${clocks.query} ${this.userEventsSeen}`;
      let members: SnapshotMember[] | null = null;
      let key = this.savedMembers;
      if (this.membersDirty || state !== this.savedState) {
        members = this.node.members().filter((m) => m.status === 'alive' && m.name !== this.config.name).map((m) => ({ name: m.name, addr: m.addr }));
        key = JSON.stringify(members);
        if (key === this.savedMembers && state === this.savedState) members = null;
      }
      // One transaction for all of it: one commit (one fsync) a round, not one per part.
      if (members !== null) {
        meta.push(recentEventsMeta(this.node.recentEvents()));
        this.store.saveSnapshot({ members, incarnation: this.node.incarnation, clocks, meta });
      } else if (meta.length > 0) {
        this.store.saveSnapshot({ meta });
      }
      if (coordinateDue) this.coordinateSavedMs = now;
      this.savedMembers = key;
      this.savedState = state;
      this.membersDirty = false;
    } catch (e) {
      // A store failure was logged once when it started (WatchedStore); retried next time.
      if (!this.store.health.failing) this.log.error({ err: e }, 'cannot save the membership snapshot');
    }
  }
}
