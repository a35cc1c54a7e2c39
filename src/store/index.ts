export type { AgentStore, StateStore, StoredEntry, EntryChange, LamportClocks, SnapshotMember } from './state-store.js';
export { nextIncarnation } from './state-store.js';
export { MemoryStore } from './memory-store.js';
export { SqliteStore } from './sqlite-store.js';
export type { SqliteStoreOptions, SyncMode } from './sqlite-store.js';
