export { Simulator } from './simulator.js';
export type { SimulatorOptions, StallMode, EventObserver } from './simulator.js';
export { Network, DEFAULT_NETWORK } from './network.js';
export type { NetworkOptions } from './network.js';
export { EventHeap } from './heap.js';
export { Trace } from './trace.js';
export { membershipScenario, runMembership, percentiles } from './membership.js';
export type { MembershipScenario, MembershipResult, Percentiles, RunHooks } from './membership.js';
