/**
 * gossip-coordinator's public API. The sans-IO protocol core is also available on its own as
 * `gossip-coordinator/core`, the simulator as `gossip-coordinator/sim`.
 */
export { GossipNode, PRESETS, defaultConfig, validateConfig, ConfigError, seededRng, address, nodeName, millis } from './core/index.js';
export type {
  Config, ProfileName, GossipNodeOptions, NodeStats, Transmit, NodeEvent, NodeEventType, MemberView, Address, NodeName,
  Millis, Incarnation, Rng, Message, StreamMessage,
} from './core/index.js';
export { Simulator, membershipScenario, runMembership } from './sim/index.js';
export type { MembershipScenario, MembershipResult, SimulatorOptions } from './sim/index.js';
