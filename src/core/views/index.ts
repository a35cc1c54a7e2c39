export { ViewTracker } from './view-tracker.js';
export type { ViewTrackerOptions, ViewEvent, ViewTrackerStats } from './view-tracker.js';
export { behindView, canonicalMembers, checksumHex, isLive, recordRank, viewChecksum, VIEW_STATES } from './view.js';
export type { MembershipView, ViewMember, ViewState } from './view.js';
export { basisOf, memberWeight, nextBasis, quorumStatus } from './quorum.js';
export type { QuorumBasis, QuorumStatus } from './quorum.js';
export type { ViewNote } from './view-note.js';
