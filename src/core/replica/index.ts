export { Hasher64, hashString64, hashBytes64, hashHex } from './hash.js';
export { Hlc, compareHlc, compareTimestamps, packHlc, HLC_COUNTER_MAX, DEFAULT_MAX_DRIFT_MS } from './hlc.js';
export type { HlcTimestamp } from './hlc.js';
export {
  EMPTY_VV, compareDots, vvGet, vvCovers, vvWith, vvJoin, vvDescends, vvCompare, vvEquals, isVersionVector, joinDotted, joinDotSet,
} from './dvv.js';
export type { Dot, VersionVector, CausalContext, DotCover, Dotted, Causality } from './dvv.js';
export type { Value, JsonValue } from './value.js';
export { valueBytes, utf8Bytes } from './value.js';
export { joinRegister, writeRegister, lwwWinner, mvValues, compareLww, makeSibling, makeTombstone } from './crdt/register.js';
export type { Sibling, RegisterState } from './crdt/register.js';
export { incrementCounter, joinCounter, counterValue } from './crdt/counter.js';
export type { CounterDot, CounterState } from './crdt/counter.js';
export { addElement, removeElements, joinSet, setMembers } from './crdt/orset.js';
export type { SetElement, SetState } from './crdt/orset.js';
export { mapIncrement, mapAdd, mapRemove, mapSet, mapRemoveField, joinMap, mapValues } from './crdt/ormap.js';
export type { MapField, MapState, FieldType, FieldValue } from './crdt/ormap.js';
export { joinEntries, emptyEntry, hashEntry, hasLiveData, isValidEntry, ENTRY_TYPES } from './entry.js';
export type { Entry, EntryType } from './entry.js';
export { SeenDots, minSummary, summaryCovers } from './summary.js';
export type { VersionSummary } from './summary.js';
export { ReplicaError } from './errors.js';
export type { ReplicaErrorCode } from './errors.js';
export { Replica } from './replica.js';
export type { ReplicaOptions, ReplicaStats } from './replica.js';
export type { Resolver, ResolverType } from './resolver.js';
export type { Read } from './read.js';
export type { ChangeEvent } from './changes.js';
