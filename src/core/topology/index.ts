export { DEFAULT_VIVALDI_CONFIG, ZERO_THRESHOLD, newCoordinate, isValidCoordinate, rawDistance, distanceNs, estimateRttMs, applyForce, toDurationNs, durationSeconds } from './coordinate.js';
export type { Coordinate, VivaldiConfig } from './coordinate.js';
export { VivaldiClient, RTT_NS_MAX } from './vivaldi.js';
export type { VivaldiRejection } from './vivaldi.js';
export { Topology, COORDINATE_BOUND_S, COORDINATE_REJECTIONS } from './topology.js';
export type { TopologyOptions, TopologyStats, RttEstimate, CoordinateRejection } from './topology.js';
export { estimateBetweenMs, DEFAULT_LOCAL_RTT_MS, LOCAL_GATE } from './local-space.js';
export type { NodeCoordinates } from './local-space.js';
