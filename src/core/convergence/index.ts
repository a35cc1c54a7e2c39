export { ConvergenceTracker } from './tracker.js';
export type { ConvergenceTrackerOptions, Agreement, ConvergedUpdate } from './tracker.js';
export { covers } from './digest.js';
export type { ConvergenceDigest, VersionSummary } from './digest.js';
