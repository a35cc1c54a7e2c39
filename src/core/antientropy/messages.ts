/**
 * The messages of a Merkle reconciliation session, as typed values. Their bytes are the length of
 * the real encoding (src/wire/state-reconcile.ts), which the session's host counts
 * (`ReconcileHost.messageBytes`): core imports no wire code.
 */

/** Opens a session: the initiator's tree shape, root and the B hashes of level 1. */
export interface RcOpenMsg {
  readonly type: 'rc-open';
  readonly fanout: number;
  readonly depth: number;
  readonly rootHi: number;
  readonly rootLo: number;
  /** Level-1 hashes, `[hi, lo]` per node, B nodes. */
  readonly hashes: Uint32Array;
}

/**
 * One level of the walk. `differ` flags which of the nodes whose hashes the receiver sent last
 * differ here; `hashes` are the sender's hashes of the children of the flagged nodes, in order,
 * on `level`.
 */
export interface RcHashesMsg {
  readonly type: 'rc-hashes';
  readonly level: number;
  readonly differ: Uint8Array;
  readonly hashes: Uint32Array;
}

/**
 * The end of the walk: `differ` flags the differing leaves among those the receiver sent; for each
 * flagged leaf, `counts[i]` of the sender's keys follow in `keys`, with their entry hashes.
 */
export interface RcKeysMsg {
  readonly type: 'rc-keys';
  readonly differ: Uint8Array;
  readonly counts: Uint32Array;
  readonly keys: readonly string[];
  /** `[hi, lo]` entry hash per key. */
  readonly hashes: Uint32Array;
}

/**
 * Entries for the keys that differ. From the side that decided the difference it also carries
 * `want`: a bitmap over the keys the receiver listed, naming the entries to send back (null: none).
 */
export interface RcEntriesMsg<E> {
  readonly type: 'rc-entries';
  readonly entries: readonly E[];
  readonly want: Uint8Array | null;
  /** Differing keys whose entry the sender could no longer produce (0 when the exchange is complete). */
  readonly missing: number;
}

/** The trees agree: `equal` roots, or no differing node found below a differing one. */
export interface RcDoneMsg {
  readonly type: 'rc-done';
  readonly reason: 'equal' | 'no-difference';
}

/** The sender gives up: shapes differ or a message did not fit the session (a clear reason). */
export interface RcAbortMsg {
  readonly type: 'rc-abort';
  readonly reason: string;
}

export type ReconcileMessage<E> = RcOpenMsg | RcHashesMsg | RcKeysMsg | RcEntriesMsg<E> | RcDoneMsg | RcAbortMsg;

/** What a message's bytes are made of (for reports: the hashes are what theory.md §7 counts). */
export interface ReconcileBytes {
  /** 8 per 64-bit tree hash (roots and node hashes). */
  readonly hashBytes: number;
  /** Keys and their entry hashes at the differing leaves. */
  readonly keyListBytes: number;
  readonly entryBytes: number;
  /** Types, lengths, levels, bitmaps and reasons. */
  readonly headerBytes: number;
  readonly total: number;
}
