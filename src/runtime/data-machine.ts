import type { Millis } from '../core/ids.js';
import type { Agreement, ConvergedUpdate } from '../core/convergence/index.js';
import type { CausalContext, ChangeEvent, Read, Resolver, Value } from '../core/replica/index.js';

/** One message for `SerfNode.sendData`: type byte, body, and whether it needs a stream. */
export interface DataTransmit {
  readonly to: string;
  readonly dataType: number;
  readonly payload: Uint8Array;
  readonly reliable: boolean;
}

export type DataEvent =
  | { readonly type: 'kv-change'; readonly key: string; readonly cause: ChangeEvent['cause']; readonly deleted: boolean }
  /** A sampled local write reached every live data member. */
  | { readonly type: 'kv-converged'; readonly update: ConvergedUpdate }
  /** A data message we could not use (counted). */
  | { readonly type: 'data-rejected'; readonly from: string; readonly reason: string; readonly detail: string };

/** The data layer's counters (`node.stats.data.node`). */
export interface DataMachineStats {
  /** Data messages refused after decoding (bad shapes, unknown senders) and stored entries that did not load. */
  readonly rejected: number;
  readonly storeErrors: number;
  /** Peer entries (rumors and anti-entropy) that changed this replica. */
  readonly entriesMerged: number;
  /** Local writes too large for a rumor packet (left to anti-entropy). */
  readonly largeEntriesPushed: number;
  /** Merkle anti-entropy sessions that ended complete, and failed or timed out. */
  readonly sessionsComplete: number;
  readonly sessionsFailed: number;
  /** Bytes sent by what they carried. */
  readonly rumorBytes: number;
  readonly antiEntropyBytes: number;
  readonly digestBytes: number;
}
/** @deprecated the name before the StateNode: use `DataMachineStats`. */
export type DataNodeStats = DataMachineStats;

/** Dot counters reserved in the store ahead of use. */
export const DOT_RESERVE = 1024;
/** Store meta holding the highest dot counter this node may have used (decimal ASCII). */
export const DOT_COUNTER_META = 'dot-counter';

/**
 * One local operation on the replicated state, as `node.kv` issues it. A data machine applies
 * it to its replica, makes it durable, and spreads it.
 */
export type KvOp =
  | { readonly op: 'put'; readonly key: string; readonly value: Value; readonly context?: CausalContext }
  | { readonly op: 'delete'; readonly key: string; readonly context?: CausalContext }
  | { readonly op: 'increment' | 'decrement'; readonly key: string; readonly by: number }
  | { readonly op: 'add' | 'remove'; readonly key: string; readonly element: string }
  | { readonly op: 'mapIncrement'; readonly key: string; readonly field: string; readonly by: number }
  | { readonly op: 'mapAdd' | 'mapRemove'; readonly key: string; readonly field: string; readonly element: string }
  | { readonly op: 'mapSet'; readonly key: string; readonly field: string; readonly value: Value }
  | { readonly op: 'mapRemoveField'; readonly key: string; readonly field: string };

/** What each operation resolves with. */
export interface KvOpResult {
  put: CausalContext;
  delete: CausalContext;
  increment: number;
  decrement: number;
  add: undefined;
  remove: undefined;
  mapIncrement: undefined;
  mapAdd: undefined;
  mapRemove: undefined;
  mapSet: undefined;
  mapRemoveField: undefined;
}

/**
 * The runtime's view of a data-layer state machine (sans-IO, driven beside the Serf node by
 * `DataPlane`): `StateMachine` (src/runtime/data-state.ts), the core's `StateNode` with the
 * runtime's durability around it.
 */
/** A local write refused because the node cannot take writes yet (`DataMachine.writable`); retry. */
export class NotWritableError extends Error {
  override name = 'NotWritableError';
}

export interface DataMachine {
  /** Whether a local write may be applied now (false while a node without its history relearns its dot counter). */
  readonly writable: boolean;
  /** A local operation: applied, durable in the store, spread. Throws caller errors, store failures and `NotWritableError`. */
  apply<O extends KvOp>(now: Millis, op: O): KvOpResult[O['op']];
  readonly stats: DataMachineStats;
  get(key: string): Read | undefined;
  list(prefix: string): string[];
  resolverOf(key: string): Resolver;
  convergence(now: Millis): { readonly agreement: Agreement; readonly recent: readonly ConvergedUpdate[] };
  /** A data message (type byte, body) from member `from`, or from an address that names no member. */
  handleMessage(now: Millis, from: string | null, dataType: number, payload: Uint8Array, fromAddr?: string): void;
  /** Full state for Serf's push-pull at a join (null: none), and a peer's. */
  localState(): Uint8Array | null;
  handleRemoteState(now: Millis, from: string, frame: Uint8Array): void;
  handleTimeout(now: Millis): void;
  /** Bytes membership sent (on the wire): charged first to the byte budget, if there is one. */
  chargeMembership(now: Millis, bytes: number): void;
  pollTransmit(): DataTransmit | undefined;
  pollEvent(): DataEvent | undefined;
  pollTimeout(): Millis;
}
