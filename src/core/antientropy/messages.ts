/**
 * The messages of a Merkle reconciliation session, as typed values. Their bytes are the length of
 * the real encoding (src/wire/state-reconcile.ts), which the session's host counts
 * (`ReconcileHost.messageBytes`): core imports no wire code. The message types are defined once,
 * in the wire (with their docs), and only their types are imported here.
 */
import type { ReconcileMessageBytes, WireRcAbort, WireRcDone, WireRcEntries, WireRcHashes, WireRcKeys, WireRcOpen } from '../../wire/state-reconcile.js';

export type RcOpenMsg = WireRcOpen;
export type RcHashesMsg = WireRcHashes;
export type RcKeysMsg = WireRcKeys;
export type RcEntriesMsg<E> = WireRcEntries<E>;
export type RcDoneMsg = WireRcDone;
export type RcAbortMsg = WireRcAbort;

export type ReconcileMessage<E> = RcOpenMsg | RcHashesMsg | RcKeysMsg | RcEntriesMsg<E> | RcDoneMsg | RcAbortMsg;

/** What a message's bytes are made of (for reports: the hashes are what theory.md §7 counts). */
export type ReconcileBytes = ReconcileMessageBytes;
