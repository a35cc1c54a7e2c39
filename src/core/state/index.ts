export { StateNode, STATE_DISSEMINATION } from './state-node.js';
export type { StateNodeOptions, StateEvent, StateTransmit, StateNodeStats } from './state-node.js';
export type { StateMessage, StateRumorMsg, StateReconcileMsg, StateDigestsMsg, MemberDigest, RootNote, SummaryNote, StabilityNote, StateAcksMsg, SampleAck, StateBytes, StateSizes } from './messages.js';
export { StateBudget, budgetForCap, sessionBounds } from './budget.js';
export type { StateBudgetOptions, StateBudgetStats } from './budget.js';
