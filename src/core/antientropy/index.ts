export { MerkleTree, DEFAULT_FANOUT, DEFAULT_DEPTH, hex64 } from './merkle.js';
export type { MerkleOptions } from './merkle.js';
export { ReconcileSession } from './session.js';
export type { ReconcileHost, ReconcileRole, ReconcileStats } from './session.js';
export type { ReconcileMessage, ReconcileBytes, RcOpenMsg, RcHashesMsg, RcKeysMsg, RcEntriesMsg, RcDoneMsg, RcAbortMsg } from './messages.js';
export { merkleCostHashes, expectedWalkHashes } from './cost.js';
export { reconcileLocally } from './exchange.js';
export type { LocalReconcileResult } from './exchange.js';
