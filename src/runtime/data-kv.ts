import type { Millis } from '../core/ids.js';
import type { Agreement, ConvergedUpdate } from '../core/convergence/index.js';
import type { CausalContext, ChangeEvent, FieldValue, Read, Resolver, Value } from '../core/replica/index.js';
import type { KvOp, KvOpResult } from './data-layer.js';
import type { DurableStateNode } from './durable-state-node.js';
import type { QuorumSize } from '../core/state/quorum-size.js';
import type { QuorumOptions, QuorumPlane, QuorumReadResult, QuorumWriteAcks } from './quorum-plane.js';

/** A change to a key, as `subscribe` and the `kv-change` event report it. */
export interface KvChange {
  readonly key: string;
  /** local: a write on this node; merge: a peer's write arrived; collect: a tombstone collected. */
  readonly cause: ChangeEvent['cause'];
  /** The key reads as absent now. */
  readonly deleted: boolean;
}

export interface KvConvergence {
  /** Live data members (this node included) whose state equals ours, by Merkle root from their latest digest. */
  readonly agreement: Agreement;
  /** Recent local writes (sampled) and how long until every live data member had them, oldest first. */
  readonly recent: readonly ConvergedUpdate[];
}

/** What `ClusterNode.kv` needs from the node: run an operation in the driver loop, subscribe to changes. */
export interface KvHost {
  run<T>(op: string, fn: (now: Millis, data: DurableStateNode) => T): T;
  onChange(fn: (c: KvChange) => void): () => void;
  /** Runs `fn` in the driver loop with the quorum plane (throws when the node is not running). */
  quorum<T>(op: string, fn: (now: Millis, data: DurableStateNode, quorum: QuorumPlane) => T): T;
}

/** Options of a write: the causal context a read returned (read-modify-write). */
export interface KvWriteOptions {
  readonly context?: CausalContext;
}

/**
 * A quorum write (issue 16): resolves once `w` replicas hold it durably (in their store), the
 * writer included; else rejects with a `QuorumError` after `timeoutMs` (default 5,000), the write
 * NOT rolled back (it is durable here, and on the replicas the error names, and keeps spreading).
 */
export interface KvQuorumWriteOptions extends KvWriteOptions, QuorumOptions {
  /** A number of replicas, `majority` or `all` of the quorum basis (see `QuorumSize`). */
  readonly w: QuorumSize;
}

/** A quorum read: merges the replies of `r` replicas (the reader included); rejects with a `QuorumError` after `timeoutMs`. */
export interface KvQuorumReadOptions extends QuorumOptions {
  readonly r: QuorumSize;
}

/** What a quorum write resolves with: the key's new causal context and the replicas that hold the write durably. */
export interface KvQuorumWrite extends QuorumWriteAcks {
  readonly context: CausalContext;
}

/**
 * The replicated key-value state of a `ClusterNode` (`node.kv`). Writes resolve once the change
 * is durable in the node's `StateStore` (when it has one) and its rumor is queued; they reject
 * with a `ReplicaError` for caller mistakes (wrong type for the key's resolver, bad value or
 * context) and with the store's error when the store failed (then the write is not
 * acknowledged). How concurrent writes resolve is per key prefix (`NodeOptions.kv.resolvers`).
 */
export class KeyValue {
  constructor(private readonly host: KvHost, private readonly writeWaitMs = 10_000) {}

  /**
   * Writes `value` (JSON or bytes). `context`: the one `get` returned, for read-modify-write
   * (siblings resolvers). Resolves with the key's new causal context; with `w`, once `w` replicas
   * hold it durably (see `KvQuorumWriteOptions`), with their names.
   */
  put(key: string, value: Value, opts: KvQuorumWriteOptions): Promise<KvQuorumWrite>;
  put(key: string, value: Value, opts?: KvWriteOptions): Promise<CausalContext>;
  put(key: string, value: Value, opts: KvWriteOptions & { readonly w?: QuorumSize; readonly timeoutMs?: number } = {}): Promise<CausalContext | KvQuorumWrite> {
    const op: KvOp = { op: 'put', key, value, ...(opts.context !== undefined ? { context: opts.context } : {}) };
    return opts.w === undefined ? this.op(op) : this.quorumWrite(op, opts.w, opts);
  }

  /** Deletes the key (what `context` covers, or everything held here); with `w`, a quorum write of the tombstone. */
  delete(key: string, opts: KvQuorumWriteOptions): Promise<KvQuorumWrite>;
  delete(key: string, opts?: KvWriteOptions): Promise<CausalContext>;
  delete(key: string, opts: KvWriteOptions & { readonly w?: QuorumSize; readonly timeoutMs?: number } = {}): Promise<CausalContext | KvQuorumWrite> {
    const op: KvOp = { op: 'delete', key, ...(opts.context !== undefined ? { context: opts.context } : {}) };
    return opts.w === undefined ? this.op(op) : this.quorumWrite(op, opts.w, opts);
  }

  /** `gcounter` / `pncounter` keys: adds `by` (default 1); resolves with the new value. */
  increment(key: string, by = 1): Promise<number> {
    return this.op({ op: 'increment', key, by });
  }

  /** `pncounter` keys: subtracts `by` (default 1); resolves with the new value. */
  decrement(key: string, by = 1): Promise<number> {
    return this.op({ op: 'decrement', key, by });
  }

  /** `orset` keys: adds an element. */
  add(key: string, element: string): Promise<void> {
    return this.op({ op: 'add', key, element });
  }

  /** `orset` keys: removes an element (the adds seen here). */
  remove(key: string, element: string): Promise<void> {
    return this.op({ op: 'remove', key, element });
  }

  /** `ormap` keys: the counter field `field` += `by`. */
  mapIncrement(key: string, field: string, by = 1): Promise<void> {
    return this.op({ op: 'mapIncrement', key, field, by });
  }

  /** `ormap` keys: adds `element` to the set field `field`. */
  mapAdd(key: string, field: string, element: string): Promise<void> {
    return this.op({ op: 'mapAdd', key, field, element });
  }

  /** `ormap` keys: removes `element` from the set field `field`. */
  mapRemove(key: string, field: string, element: string): Promise<void> {
    return this.op({ op: 'mapRemove', key, field, element });
  }

  /** `ormap` keys: sets the LWW-register field `field`. */
  mapSet(key: string, field: string, value: Value): Promise<void> {
    return this.op({ op: 'mapSet', key, field, value });
  }

  /** `ormap` keys: removes the field `field`. */
  mapRemoveField(key: string, field: string): Promise<void> {
    return this.op({ op: 'mapRemoveField', key, field });
  }

  /**
   * The key's value(s) and causal context as this node holds them; undefined when it holds
   * nothing. With `r`: asks the replicas, merges the replies of `r` of them (the reader included)
   * into this node's replica (a read repair), and resolves with the merged read; R + W > N reads
   * every write a `w` quorum acknowledged.
   */
  get(key: string): Read | undefined;
  get(key: string, opts: KvQuorumReadOptions): Promise<QuorumReadResult>;
  get(key: string, opts?: KvQuorumReadOptions): Read | undefined | Promise<QuorumReadResult> {
    if (opts === undefined) return this.host.run('kv.get', (_now, d) => d.get(key));
    try {
      return this.host.quorum('kv.get', (now, _d, q) => q.read(now, q.plan(opts.r, 'r'), key, opts));
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  /** Keys under `prefix` that read as present, sorted. */
  list(prefix = ''): string[] {
    return this.host.run('kv.list', (_now, d) => d.list(prefix));
  }

  /** The resolver the key is under (longest matching prefix, else the default). */
  resolverOf(key: string): Resolver {
    return this.host.run('kv.resolverOf', (_now, d) => d.resolverOf(key));
  }

  /** Calls `fn` for every change to a key under `prefix` (local, merged or collected); returns the unsubscribe function. */
  subscribe(prefix: string, fn: (c: KvChange) => void): () => void {
    return this.host.onChange((c) => {
      if (c.key.startsWith(prefix)) fn(c);
    });
  }

  /** Agreement with the live data members and the time-to-everyone of recent local writes. */
  convergence(): KvConvergence {
    return this.host.run('kv.convergence', (now, d) => d.convergence(now));
  }

  /**
   * Applies `o` once the node takes writes: a node that restarted without its history first
   * relearns its dot counter from a peer (`DurableStateNode.writable`, usually within one
   * anti-entropy round); the write waits up to `writeWaitMs`, then rejects with a
   * `NotWritableError`.
   */
  private async op<O extends KvOp>(o: O): Promise<KvOpResult[O['op']]> {
    await this.writableSoon();
    return this.host.run(`kv.${o.op}`, (now, d) => d.apply(now, o));
  }

  private async writableSoon(): Promise<void> {
    const until = Date.now() + this.writeWaitMs;
    while (!this.host.run('kv.writable', (_now, d) => d.writable) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  }

  /**
   * A put or delete, then its quorum round: `w` is checked against the replicas before anything
   * is written (a RangeError leaves no trace); the local write is durable before the round asks
   * the other replicas to hold its dot.
   */
  private async quorumWrite(o: Extract<KvOp, { op: 'put' | 'delete' }>, w: QuorumSize, opts: QuorumOptions): Promise<KvQuorumWrite> {
    await this.writableSoon();
    const { context, acks } = this.host.quorum(`kv.${o.op}`, (now, d, q) => {
      const plan = q.plan(w, 'w');
      const ctx = d.apply(now, o);
      return { context: ctx, acks: q.write(now, plan, o.key, d.replica.lastCounter, opts) };
    });
    return { context, ...(await acks) };
  }

}

export type { FieldValue };
