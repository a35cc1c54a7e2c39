import type { CausalContext, ChangeEvent, JsonValue, Read, ResolverType } from '../core/replica/index.js';
import { ReplicaError } from '../core/replica/index.js';
import type { ClusterNode, QuorumSize } from '../index.js';
import { NotWritableError } from '../index.js';

/** `?w=` / `?r=` and `?timeout=` of a quorum request (issue 16). */
export interface QuorumParams {
  readonly size: QuorumSize;
  readonly timeoutMs?: number;
}

/** How a quorum write or read went: the replicas that hold the write durably (or replied), of how many needed, in a basis of how many. */
export interface QuorumJson {
  readonly answered: readonly string[];
  readonly need: number;
  readonly replicas: number;
}

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
  /** Fraction of live data members (this node included) whose state root equals ours. */
  readonly agreement: number;
  readonly live: number;
  readonly agreeing: number;
  /** Live peers with no recent digest. */
  readonly unknown: number;
  readonly keys: number;
  /** Milliseconds until every member had each of the recent updates, newest last. */
  readonly timeToEveryoneMs: readonly number[];
  readonly source: 'cluster';
}

/**
 * An operation on a CRDT key (`POST /v1/kv/{key}`): counters take `increment`/`decrement`, sets
 * `add`/`remove`, maps the same on a `field` (its counter or set) plus `set`/`removeField`.
 */
export type KvMutation =
  | { readonly op: 'increment' | 'decrement'; readonly by: number; readonly field?: string }
  | { readonly op: 'add' | 'remove'; readonly element: string; readonly field?: string }
  | { readonly op: 'set'; readonly field: string; readonly value: JsonValue }
  | { readonly op: 'removeField'; readonly field: string };

export const KV_MUTATIONS: readonly KvMutation['op'][] = ['increment', 'decrement', 'add', 'remove', 'set', 'removeField'];

/**
 * The key-value surface the HTTP routes use. `put`/`delete` resolve only when the change is
 * durable in the store. Errors for the caller (wrong type, bad context, bad value) are
 * `ReplicaError`s; anything else is a server fault.
 */
export interface KvService {
  /** The key's read; null when it reads as absent (never written, deleted, a set or map with nothing in it). */
  get(key: string): KvReadJson | null;
  /** A CRDT operation, durable in the store when it resolves. */
  mutate(key: string, m: KvMutation): Promise<void>;
  put(key: string, value: JsonValue, context?: CausalContext): Promise<CausalContext>;
  delete(key: string, context?: CausalContext): Promise<CausalContext>;
  /** A put that resolves once `w` replicas hold it durably; rejects with a `QuorumError` (not rolled back) or a `QuorumSizeError`. */
  quorumPut(key: string, value: JsonValue, w: QuorumParams, context?: CausalContext): Promise<{ readonly context: CausalContext; readonly quorum: QuorumJson }>;
  quorumDelete(key: string, w: QuorumParams, context?: CausalContext): Promise<{ readonly context: CausalContext; readonly quorum: QuorumJson }>;
  /** The merge of `r` replicas' replies (null when it reads as absent); rejects with a `QuorumError` or a `QuorumSizeError`. */
  quorumGet(key: string, r: QuorumParams): Promise<{ readonly read: KvReadJson | null; readonly quorum: QuorumJson }>;
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

/** A read with nothing live in it: a deleted register, a set without elements, a map without fields (what `list` leaves out). Counters always read. */
export function readsAbsent(r: Read): boolean {
  switch (r.type) {
    case 'register':
      return r.values.length === 0;
    case 'counter':
      return false;
    case 'set':
      return r.elements.length === 0;
    case 'map':
      return r.fields.size === 0;
  }
}

/**
 * The node's replicated key-value state (`ClusterNode.kv`, durable through the `StateStore`
 * the agent gives the node) as the HTTP routes use it. Writes wait for `joined` (the agent's
 * first join attempt has ended: until then a node without its history knows no peer to relearn
 * its dot counter from, and would reuse dots its previous life issued), up to `joinWaitMs`,
 * then fail with a `NotWritableError` (503). Reads never wait.
 */
export class ClusterKv implements KvService {
  private joinEnded = false;

  constructor(
    private readonly kv: ClusterNode['kv'],
    private readonly joined: Promise<void> = Promise.resolve(),
    private readonly joinWaitMs = 10_000,
  ) {
    void joined.then(() => {
      this.joinEnded = true;
    });
  }

  /** Resolves once the first join attempt has ended; rejects with a `NotWritableError` after `joinWaitMs`. */
  private async writesOpen(): Promise<void> {
    if (this.joinEnded) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new NotWritableError(`this agent has not finished joining the cluster yet (writes wait for its first join attempt, up to ${this.joinWaitMs} ms): retry shortly`)), this.joinWaitMs);
    });
    try {
      await Promise.race([this.joined, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  get(key: string): KvReadJson | null {
    const r = this.kv.get(key);
    return r === undefined || readsAbsent(r) ? null : readToJson(key, r);
  }

  async mutate(key: string, m: KvMutation): Promise<void> {
    await this.writesOpen();
    const kv = this.kv;
    switch (m.op) {
      case 'increment':
      case 'decrement':
        if (m.field !== undefined) return kv.mapIncrement(key, m.field, m.op === 'increment' ? m.by : -m.by);
        await (m.op === 'increment' ? kv.increment(key, m.by) : kv.decrement(key, m.by));
        return;
      case 'add':
        return m.field !== undefined ? kv.mapAdd(key, m.field, m.element) : kv.add(key, m.element);
      case 'remove':
        return m.field !== undefined ? kv.mapRemove(key, m.field, m.element) : kv.remove(key, m.element);
      case 'set':
        return kv.mapSet(key, m.field, m.value);
      case 'removeField':
        return kv.mapRemoveField(key, m.field);
    }
  }

  async put(key: string, value: JsonValue, context?: CausalContext): Promise<CausalContext> {
    await this.writesOpen();
    return this.kv.put(key, value, context === undefined ? {} : { context });
  }

  async delete(key: string, context?: CausalContext): Promise<CausalContext> {
    await this.writesOpen();
    return this.kv.delete(key, context === undefined ? {} : { context });
  }

  async quorumPut(key: string, value: JsonValue, w: QuorumParams, context?: CausalContext): Promise<{ readonly context: CausalContext; readonly quorum: QuorumJson }> {
    await this.writesOpen();
    const r = await this.kv.put(key, value, { w: w.size, ...timeout(w), ...(context === undefined ? {} : { context }) });
    return { context: r.context, quorum: { answered: r.acked, need: r.need, replicas: r.replicas } };
  }

  async quorumDelete(key: string, w: QuorumParams, context?: CausalContext): Promise<{ readonly context: CausalContext; readonly quorum: QuorumJson }> {
    await this.writesOpen();
    const r = await this.kv.delete(key, { w: w.size, ...timeout(w), ...(context === undefined ? {} : { context }) });
    return { context: r.context, quorum: { answered: r.acked, need: r.need, replicas: r.replicas } };
  }

  async quorumGet(key: string, r: QuorumParams): Promise<{ readonly read: KvReadJson | null; readonly quorum: QuorumJson }> {
    const q = await this.kv.get(key, { r: r.size, ...timeout(r) });
    return { read: q.read === undefined || readsAbsent(q.read) ? null : readToJson(key, q.read), quorum: { answered: q.replied, need: q.need, replicas: q.replicas } };
  }

  list(prefix: string): string[] {
    return this.kv.list(prefix);
  }

  resolverOf(key: string): ResolverType {
    return this.kv.resolverOf(key).type;
  }

  onChange(fn: (c: KvChange) => void): () => void {
    return this.kv.subscribe('', (c) => fn({ key: c.key, cause: c.cause, deleted: c.deleted }));
  }

  convergence(): KvConvergence {
    const c = this.kv.convergence();
    return {
      agreement: c.agreement.fraction, live: c.agreement.live, agreeing: c.agreement.agreeing, unknown: c.agreement.unknown,
      keys: this.kv.list('').length, timeToEveryoneMs: c.recent.map((u) => u.elapsedMs), source: 'cluster',
    };
  }
}

export { ReplicaError };

function timeout(p: QuorumParams): { timeoutMs?: number } {
  return p.timeoutMs === undefined ? {} : { timeoutMs: p.timeoutMs };
}
