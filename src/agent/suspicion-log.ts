/**
 * The log lines an agent writes about suspicions (their `msg`), one definition for the agent that
 * writes them and for `gossip bench cluster`, which reads suspected members back from our
 * agents' logs as it reads them from serf's.
 */
/** A suspicion this node raised as prober (memberlist logs "Suspect X has failed, no acks received"); the line carries `member`. */
export const SUSPECT_RAISED_MSG = 'suspect has failed, no acks received';
/** This node refuted a suspicion or death about itself; the line carries `by`. */
export const SELF_REFUTED_MSG = 'refuted a suspicion or death about this node';
