export { StateNode } from './state-node.js';
export { STATE_AGENT_TUNING, STATE_DISSEMINATION, STATE_NODE_DEFAULTS } from './options.js';
export type { StateNodeOptions } from './options.js';
export type { StateEvent, StateTransmit, StateNodeStats } from './outbox.js';
export type { StateMessage, StateRumorMsg, StateReconcileMsg, StateDigestsMsg, MemberDigest, RootNote, SummaryNote, StabilityNote, StateAcksMsg, SampleAck, StateBytes, StateSizes } from './messages.js';
export { StateBudget, budgetForCap, sessionBounds } from './budget.js';
export type { StateBudgetOptions, StateBudgetStats } from './budget.js';
