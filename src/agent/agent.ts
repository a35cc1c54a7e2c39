import type { Logger } from 'pino';
import type { ClusterNode, NodeOptions } from '../index.js';
import { createNode } from '../index.js';
import type { AgentStore } from '../store/state-store.js';
import { MemoryStore } from '../store/memory-store.js';
import { SqliteStore } from '../store/sqlite-store.js';
import type { AgentConfig } from './config.js';
import type { DashboardPage } from './http-api.js';
import { HttpApi } from './http-api.js';
import type { KvService } from './kv-service.js';
import { ClusterKv } from './kv-service.js';
import { runKeyOp } from './keys.js';
import { AgentMetrics } from './metrics.js';

const KEYRING_META = 'agent.keyring';

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
  readonly log: Logger;
  /** The dashboard served at `GET /` (B's `src/dashboard`), or null. */
  readonly dashboard?: (() => DashboardPage) | null;
  /** A store to use instead of the one `dataDir` implies (tests). */
  readonly store?: AgentStore;
  /** How often the membership snapshot and clocks are saved. Default 5 s. */
  readonly snapshotIntervalMs?: number;
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
  private rejoinTimer: NodeJS.Timeout | null = null;
  private suspicionsSeen = 0;

  private constructor(
    readonly config: AgentConfig,
    readonly node: ClusterNode,
    readonly store: AgentStore,
    readonly kv: KvService,
    readonly http: HttpApi,
    /** The bound HTTP address. */
    readonly httpAddress: string,
    readonly incarnation: number,
    private readonly log: Logger,
  ) {}

  static async start(o: AgentOptions): Promise<Agent> {
    const c = o.config;
    const log = o.log;
    const store = o.store ?? (c.dataDir !== undefined ? SqliteStore.open(c.dataDir, { synchronous: c.sqliteSynchronous }) : new MemoryStore());
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
      const opts: NodeOptions = {
        name: c.name, bind: c.bind, profile: c.profile, tags: c.tags, incarnation, store, clocks,
        config: { deadNodeReclaimTimeMs: c.deadNodeReclaimMs },
        kv: { resolvers: Object.fromEntries(Object.entries(c.resolvers).map(([prefix, type]) => [prefix, { type }])) },
        logger: (level, line) => (level === 'warn' ? log.warn(line) : log.debug(line)),
        ...(c.advertise !== undefined ? { advertise: c.advertise } : {}),
        ...(storedKeys !== null ? { keyring: storedKeys } : c.encrypt !== undefined ? { encryptKey: c.encrypt } : {}),
        ...(c.keyringFile !== undefined ? { keyringFile: c.keyringFile } : {}),
      };
      node = await createNode(opts);
      const kv = new ClusterKv(node.kv);
      const agentRef: { a: Agent | null } = { a: null };
      const metrics = new AgentMetrics(node, kv, { suspicionsSeen: () => agentRef.a?.suspicionsSeen ?? 0 });
      const http = new HttpApi({
        node, kv, metrics, token: c.token ?? null, hosts: c.httpHosts, valueBytesMax: c.valueBytesMax, streamsMax: c.httpStreamsMax, log, dashboard: o.dashboard ?? null,
        onLeave: () => {
          void agentRef.a?.stop('leave requested over HTTP');
        },
      });
      const httpAddress = await http.listen(c.http);
      const agent = new Agent(c, node, store, kv, http, httpAddress, incarnation, log);
      if (c.keyringFile === undefined && storedKeys === null && c.encrypt !== undefined) saveKeyring(store, [c.encrypt]);
      agentRef.a = agent;
      agent.watch(o.snapshotIntervalMs ?? 5000);
      log.info({ name: c.name, gossip: node.addr, http: httpAddress, incarnation, dataDir: c.dataDir ?? null }, 'agent started');
      await agent.joinCluster();
      agent.rejoinForAWhile();
      return agent;
    } catch (e) {
      if (node !== null) await node.shutdown();
      store.close();
      throw e;
    }
  }

  /** Joins the configured addresses and the members of the last snapshot; a failure is logged, not fatal (peers may join us). */
  async joinCluster(quiet = false): Promise<number> {
    const snapshot = this.store.loadMembers().filter((m) => m.name !== this.config.name).map((m) => m.addr);
    const addrs = [...new Set([...this.config.join, ...snapshot])];
    if (addrs.length === 0) return 0;
    try {
      const n = await this.node.join(addrs);
      if (!quiet) this.log.info({ contacted: n, tried: addrs.length }, 'joined');
      return n;
    } catch (e) {
      if (quiet || this.stopping !== null) return 0;
      this.log.warn({ tried: addrs }, `join failed: ${e instanceof Error ? e.message : String(e)}`);
      return 0;
    }
  }

  /**
   * A node restarted at a new address is refused by peers that still hold its old one until that
   * is declared dead (then reclaimable). The first join may come too early; repeating it for a
   * while (each a push-pull carrying our alive, and bringing back news of our old death, which
   * the core refutes) gets us accepted once the old record is dead. Stops at `rejoinWindowMs`.
   */
  private rejoinForAWhile(): void {
    const { rejoinWindowMs, rejoinIntervalMs } = this.config;
    if (rejoinWindowMs === 0) return;
    const until = Date.now() + rejoinWindowMs;
    this.rejoinTimer = setInterval(() => {
      if (Date.now() > until || this.stopping !== null) {
        if (this.rejoinTimer !== null) clearInterval(this.rejoinTimer);
        return;
      }
      void this.joinCluster(true);
    }, rejoinIntervalMs);
    this.rejoinTimer.unref();
  }

  /** Leaves the cluster (unless `leave` is false: a plain shutdown), closes HTTP and the store. Idempotent. */
  stop(reason: string, leave = true): Promise<void> {
    this.stopping ??= (async () => {
      this.log.info({ reason }, leave ? 'leaving' : 'shutting down');
      if (this.snapshotTimer !== null) clearInterval(this.snapshotTimer);
      if (this.rejoinTimer !== null) clearInterval(this.rejoinTimer);
      this.saveSnapshot();
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
    n.on('member-suspected', () => this.suspicionsSeen++);
    n.on('self-refuted', () => {
      this.log.warn('refuted a suspicion or death about this node');
      this.saveIncarnation();
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

  /** Saves the alive members (to rejoin through), our incarnation and the Lamport clocks when the node reports them. */
  private saveSnapshot(): void {
    try {
      this.store.saveMembers(this.node.members().filter((m) => m.status === 'alive' && m.name !== this.config.name).map((m) => ({ name: m.name, addr: m.addr })));
      this.saveIncarnation();
      this.store.saveClocks(this.node.clocks);
    } catch (e) {
      this.log.error({ err: e }, 'cannot save the membership snapshot');
    }
  }
}
