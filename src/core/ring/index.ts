export { HashRing, DEFAULT_POINTS_PER_MEMBER, ringHash, matchesTags } from './ring.js';
export type { RingMember, RingOptions } from './ring.js';
export { diffRings, rangeSize } from './ring-diff.js';
export type { MovedRange } from './ring-diff.js';
