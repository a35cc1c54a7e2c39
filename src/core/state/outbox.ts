import type { ConvergedUpdate, ConvergenceTracker } from '../convergence/tracker.js';
import type { TrafficClass } from '../control/bandwidth.js';
import type { Address } from '../ids.js';
import { PollQueue } from '../poll-queue.js';
import type { StateBudget } from './budget.js';
import type { StateBytes, StateMessage, StateSizes } from './messages.js';

export type StateEvent =
  | { readonly type: 'update-everywhere'; readonly update: ConvergedUpdate }
  | {
      readonly type: 'session-end';
      readonly peer: Address;
      readonly role: 'initiator' | 'responder';
      readonly complete: boolean;
      readonly bytes: number;
      readonly error: string | null;
    }
  | { readonly type: 'protocol-error'; readonly from: Address; readonly detail: string };

export interface StateTransmit {
  readonly to: Address;
  readonly message: StateMessage;
  readonly bytes: number;
}

export interface StateNodeStats {
  /** Bytes sent, by what they carried. */
  rumorBytes: number;
  antiEntropyBytes: number;
  digestBytes: number;
  rumorsPublished: number;
  /** Local writes whose entry did not fit a rumor packet: left to anti-entropy. */
  rumorsTooLarge: number;
  /** Rumored entries that changed this replica. */
  rumorsApplied: number;
  /** Late duplicates of a previous epoch's rumors, answered as known. */
  rumorsLateDuplicate: number;
  /** Broadcast tree (`treeFanout`): pushes sent to children; not sent (no address, over the budget); entries received that changed this replica. */
  treeSent: number;
  treeNotSent: number;
  treeApplied: number;
  sessionsStarted: number;
  sessionsAnswered: number;
  sessionsComplete: number;
  sessionsFailed: number;
  sessionsTimedOut: number;
  sessionsRefused: number;
  /** Sessions that ended well but left differing entries for a later one (a byte budget's bounded walk, entries gone meanwhile). */
  sessionsPartial: number;
  /** Anti-entropy rounds skipped because the chosen peer last reported this node's root. */
  sessionsSkippedEqual: number;
  /** Sessions not started because the difference was, so far, rumors in flight (`RepairTrigger`). */
  sessionsHeldForRumors: number;
  /** Anti-entropy rounds that sent the root alone to a peer whose root was not known. */
  rootProbes: number;
  /** Entries received by anti-entropy that changed this replica. */
  repaired: number;
  summariesAbsorbed: number;
  tombstonesCollected: number;
  /** Of those, collected because an anti-entropy peer had collected them (`Replica.collectSeenBy`). */
  tombstonesCollectedFromPeers: number;
  /** Stability generations this node saw complete (every live member contributed). */
  generationsComplete: number;
  /** Acknowledgements of others' sampled writes sent; dropped (writer unreachable, or over the cap). */
  acksSent: number;
  acksDropped: number;
  /** Acknowledgements of this node's sampled writes that settled a member. */
  acksApplied: number;
  /** Messages from peers that were not messages of ours (unknown kind, bad shape): counted, reported, dropped. */
  malformed: number;
  /** Stability notes refused because their generation length differs from this node's (a setting that must match everywhere). */
  stabilityMismatched: number;
}

/**
 * Everything a StateNode hands back to its driver, in order, with the byte budget every message
 * of its own goes through: transmits (each counted by what it carried), events (peers' bad
 * messages, session ends, the tracker's converged updates), and the counters.
 * Three ways to send: a rumor (the rumor engine took its bytes from the budget already), a
 * message of the node's own within the budget or not at all (`sendWithin`: digests,
 * acknowledgements, root probes, left to a later round), and an anti-entropy step, held in order
 * until the budget has room (`sendRepair`).
 */
export class StateOutbox {
  readonly stats: StateNodeStats = {
    rumorBytes: 0, antiEntropyBytes: 0, digestBytes: 0, rumorsPublished: 0, rumorsTooLarge: 0, rumorsApplied: 0, rumorsLateDuplicate: 0, treeSent: 0, treeNotSent: 0, treeApplied: 0,
    sessionsStarted: 0, sessionsAnswered: 0, sessionsComplete: 0, sessionsFailed: 0, sessionsTimedOut: 0, sessionsRefused: 0, sessionsPartial: 0, sessionsSkippedEqual: 0, sessionsHeldForRumors: 0, rootProbes: 0,
    repaired: 0, summariesAbsorbed: 0, tombstonesCollected: 0, tombstonesCollectedFromPeers: 0, generationsComplete: 0, acksSent: 0, acksDropped: 0, acksApplied: 0, malformed: 0, stabilityMismatched: 0,
  };
  readonly transmits = new PollQueue<StateTransmit>();
  readonly events = new PollQueue<StateEvent>();

  constructor(
    private readonly sizes: StateSizes,
    /** The byte budget (null: none), one for the node's whole life. */
    readonly budget: StateBudget | null,
    /** A rumor packet's size: what repair leaves to rumors while some are hot. */
    private readonly rumorPacketBytes: number,
    /** Updates the rumor engines push now. */
    private readonly hotRumors: () => number,
    private readonly tracker: ConvergenceTracker,
  ) {}

  /** Sampled updates the tracker saw reach every live member, as events. */
  drainConverged(): void {
    for (let u = this.tracker.pollConverged(); u !== undefined; u = this.tracker.pollConverged()) this.events.push({ type: 'update-everywhere', update: u });
  }

  /** A peer's message that is not one of ours: counted and reported, never thrown. */
  protocolError(from: Address, detail: string): void {
    this.stats.malformed++;
    this.events.push({ type: 'protocol-error', from, detail });
  }

  /** A rumor engine's message, its bytes counted (and budgeted) by the engine. */
  sendRumor(to: Address, message: StateMessage, bytes: number): void {
    this.stats.rumorBytes += bytes;
    this.transmits.push({ to, message, bytes });
  }

  /** A message of the node's own within the budget; false (nothing sent) when it does not fit now: the caller leaves it to a later round. */
  sendWithin(now: number, to: Address, message: StateMessage, cls: TrafficClass): boolean {
    const p = this.sizes.message(message);
    // A held anti-entropy step goes first within its class: digests and acknowledgements do not starve it.
    if (this.budget !== null && ((cls === 'repair' && this.budget.heldCount > 0) || !this.budget.take(now, p.total, cls, this.reserveFor(cls)))) {
      this.budget.stats.deferred++;
      return false;
    }
    this.send(to, message, p);
    return true;
  }

  /** An anti-entropy step: sent now if the budget allows, else held, in order, until it does. */
  sendRepair(now: number, to: Address, message: StateMessage): void {
    if (this.budget === null) {
      this.send(to, message);
      return;
    }
    this.budget.hold(to, message, this.sizes.message(message));
    this.releaseHeld(now);
  }

  /** Sends the held anti-entropy steps the budget has room for now. */
  releaseHeld(now: number): void {
    if (this.budget === null || this.budget.heldCount === 0) return;
    for (const h of this.budget.release(now, this.reserveFor('repair'))) this.send(h.to, h.message, h.parts);
  }

  /** When the first held step can leave (undefined: none held, or no budget). */
  heldReadyAtMs(): number | undefined {
    return this.budget?.heldReadyAtMs(this.reserveFor('repair'));
  }

  /** Repair leaves a packet's worth of tokens to rumors while some are hot (critical > normal > repair). */
  private reserveFor(cls: TrafficClass): number {
    if (cls !== 'repair') return 0;
    return this.hotRumors() > 0 ? this.rumorPacketBytes : 0;
  }

  private send(to: Address, message: StateMessage, p: StateBytes = this.sizes.message(message)): void {
    this.stats.rumorBytes += p.rumor;
    this.stats.antiEntropyBytes += p.antiEntropy;
    this.stats.digestBytes += p.digest;
    this.transmits.push({ to, message, bytes: p.total });
  }
}
