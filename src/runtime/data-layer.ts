import type { ConvergedUpdate } from '../core/convergence/index.js';
import type { CausalContext, ChangeEvent, Value } from '../core/replica/index.js';

/*
 * The runtime's data layer (a `DurableStateNode` driven beside the Serf node by `SerfWithState`)
 * as the rest of the runtime sees it: what it sends, what it reports, its counters, and the
 * local operations `node.kv` issues.
 */

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
export interface DataLayerStats {
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
/** @deprecated an earlier name: use `DataLayerStats`. */
export type DataMachineStats = DataLayerStats;
/** @deprecated an earlier name: use `DataLayerStats`. */
export type DataNodeStats = DataLayerStats;

/**
 * One local operation on the replicated state, as `node.kv` issues it. The data layer applies
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

/** A local write refused because the node cannot take writes yet (`DurableStateNode.writable`); retry. */
export class NotWritableError extends Error {
  override name = 'NotWritableError';
}
