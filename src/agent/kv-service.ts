import type { CausalContext, ChangeEvent, JsonValue, Read, ResolverType } from '../core/replica/index.js';
import { isValidEntry, Replica, ReplicaError } from '../core/replica/index.js';
import type { Entry } from '../core/replica/index.js';
import type { StateStore } from '../store/state-store.js';

/** A key's read as the HTTP API returns it. */
export type KvReadJson =
  | { readonly key: string; readonly type: 'register'; readonly values: readonly JsonValue[]; readonly context: CausalContext }
  | { readonly key: string; readonly type: 'counter'; readonly value: number; readonly context: CausalContext }
  | { readonly key: string; readonly type: 'set'; readonly elements: readonly string[]; readonly context: CausalContext }
  | { readonly key: string; readonly type: 'map'; readonly fields: Readonly<Record<string, unknown>>; readonly context: CausalContext };

export interface KvChange {
  readonly key: string;
  readonly cause: ChangeEvent['cause'];
  readonly deleted: boolean;
}

/** What `GET /v1/convergence` reports. */
export interface KvConvergence {
  /** Fraction of alive data members whose state matches ours (1 with no peers). */
  readonly agreement: number;
  readonly keys: number;
  /** Milliseconds until every member had each of the recent updates, newest last. */
  readonly timeToEveryoneMs: readonly number[];
  /** Which implementation answers: the replicated node state, or this node's local state only. */
  readonly source: 'cluster' | 'local';
}

/**
 * The key-value surface the HTTP routes use. `put`/`delete` resolve only when the change is
 * durable in the store. Errors for the caller (wrong type, bad context, bad value) are
 * `ReplicaError`s; anything else is a server fault.
 */
export interface KvService {
  get(key: string): KvReadJson | null;
  put(key: string, value: JsonValue, context?: CausalContext): Promise<CausalContext>;
  delete(key: string, context?: CausalContext): Promise<CausalContext>;
  list(prefix: string): string[];
  /** The resolver a key is under (what `type` a client may name). */
  resolverOf(key: string): ResolverType;
  onChange(fn: (c: KvChange) => void): () => void;
  convergence(): KvConvergence;
}

export const RESOLVER_TYPES: readonly ResolverType[] = ['lww', 'siblings', 'custom', 'gcounter', 'pncounter', 'orset', 'ormap'];

export function readToJson(key: string, r: Read): KvReadJson {
  switch (r.type) {
    case 'register':
      return { key, type: 'register', values: r.values as JsonValue[], context: r.context };
    case 'counter':
      return { key, type: 'counter', value: r.value, context: r.context };
    case 'set':
      return { key, type: 'set', elements: r.elements, context: r.context };
    case 'map':
      return { key, type: 'map', fields: Object.fromEntries(r.fields), context: r.context };
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * This node's own key-value state, durable in the store, not replicated: what the agent serves
 * until the data layer's `ClusterNode.kv` is available. A core `Replica` (the same semantics:
 * DVV contexts, siblings, LWW) whose entries are written to the store as JSON; concurrent
 * writes are committed together (group commit: one transaction, one fsync, per turn of the
 * event loop) and each resolves after its commit.
 */
export class LocalKv implements KvService {
  private readonly replica: Replica;
  private pending: { key: string; resolve: () => void; reject: (e: unknown) => void }[] = [];
  private flushScheduled = false;
  private readonly listeners = new Set<(c: KvChange) => void>();

  constructor(
    private readonly store: StateStore,
    readonly nodeName: string,
    private readonly clock: () => number = Date.now,
  ) {
    const loaded: Entry[] = [];
    for (const s of store.loadEntries()) {
      let e: unknown;
      try {
        e = JSON.parse(decoder.decode(s.entry));
      } catch {
        continue;
      }
      if (isValidEntry(e) && e.key === s.key) loaded.push(e);
    }
    // Dots must never repeat: merging our own entries back raises the replica's dot counter
    // above every dot of ours they carry (a `counterStart` would mark them seen and drop them).
    this.replica = new Replica({ node: nodeName });
    for (const e of loaded) this.replica.merge(clock(), e);
    this.replica.subscribe('', (c) => {
      for (const fn of this.listeners) fn({ key: c.key, cause: c.cause, deleted: c.deleted });
    });
  }

  get(key: string): KvReadJson | null {
    const r = this.replica.get(key);
    return r === undefined ? null : readToJson(key, r);
  }

  async put(key: string, value: JsonValue, context?: CausalContext): Promise<CausalContext> {
    const ctx = this.replica.put(this.clock(), key, value, context);
    await this.persist(key);
    return ctx;
  }

  async delete(key: string, context?: CausalContext): Promise<CausalContext> {
    const ctx = this.replica.delete(this.clock(), key, context);
    await this.persist(key);
    return ctx;
  }

  list(prefix: string): string[] {
    return this.replica.list(prefix);
  }

  resolverOf(key: string): ResolverType {
    return this.replica.resolverOf(key).type;
  }

  onChange(fn: (c: KvChange) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  convergence(): KvConvergence {
    return { agreement: 1, keys: this.replica.stats().keys, timeToEveryoneMs: [], source: 'local' };
  }

  private persist(key: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ key, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = [];
    const keys = new Set(batch.map((p) => p.key));
    try {
      this.store.writeEntries([...keys].map((key) => {
        const e = this.replica.entry(key);
        return { key, entry: e === undefined ? null : encoder.encode(JSON.stringify(e)) };
      }));
    } catch (e) {
      for (const p of batch) p.reject(e);
      return;
    }
    for (const p of batch) p.resolve();
  }
}

export { ReplicaError };
