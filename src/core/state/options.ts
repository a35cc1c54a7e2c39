import type { MerkleOptions } from '../antientropy/merkle.js';
import type { PeerSampler } from '../dissemination/disseminator.js';
import type { DisseminationConfig } from '../dissemination/config.js';
import { DEFAULT_DISSEMINATION } from '../dissemination/config.js';
import type { Address, NodeName } from '../ids.js';
import type { Rng } from '../rng.js';
import type { Entry } from '../replica/entry.js';
import type { Replica, ReplicaOptions } from '../replica/replica.js';
import type { StateBudgetOptions } from './budget.js';
import type { StateSizes } from './messages.js';

/**
 * Every knob of the replicated state node, grouped by the rule it tunes, with its default. The
 * defaults are those of `STATE_NODE_DEFAULTS` below (one definition); `resolveStateOptions` turns
 * the options into the `StateSettings` the rule modules read.
 */
export interface StateNodeOptions {
  // ---- the node and what the driver injects ---------------------------------------------------

  /** This node's member name (the replica's origin). */
  readonly name: NodeName;
  readonly rng: Rng;
  readonly now: number;
  /** Live peers' addresses, for rumors, anti-entropy partners and digest relays. */
  readonly peers: PeerSampler;
  /** Bytes of this node's messages on the wire: the wire layer's encoder, counting (`stateSizes(name)` in src/wire/state.ts). */
  readonly sizes: StateSizes;

  // ---- durability -----------------------------------------------------------------------------

  /**
   * The node's durable replica, when it restarts with one (an acknowledged write survives a
   * crash): its Merkle tree is rebuilt from it. Otherwise a new replica from `replica`.
   */
  readonly durable?: Replica;
  readonly replica?: Omit<ReplicaOptions, 'node'>;
  /** Restart count (restored by the agent): rumor origins of each life differ. Default 0. */
  readonly incarnation?: number;
  /**
   * Durability hook: called with every change of a key's state (local writes, merged rumors and
   * repairs, collected tombstones as `undefined`) before the operation returns, so a local
   * write is on disk when it is acknowledged. The dot counter survives through
   * `replica.counterStart` (restart never reuses a dot).
   */
  readonly onEntryChange?: (key: string, entry: Entry | undefined) => void;

  // ---- rumors (rumors.ts) ---------------------------------------------------------------------

  /** Spread local writes by rumor (default true); false leaves everything to anti-entropy. */
  readonly rumors?: boolean;
  /** Over `STATE_DISSEMINATION`. */
  readonly dissemination?: Partial<DisseminationConfig>;
  /**
   * The rumor engine keeps every update it has seen (to deduplicate); a new engine ("epoch")
   * starts every `rumorEpochMs` and the previous one is kept one more epoch to recognise late
   * duplicates, so memory is two epochs of updates. Default 4 × maxHotRounds × intervalMs.
   */
  readonly rumorEpochMs?: number;
  /**
   * Spread each local write down a broadcast tree instead of by rumor (`broadcast-tree.ts`): the
   * live members sorted by name, rotated so the writer is at position 0, position p's children
   * are p·k + 1 … p·k + k (k = `treeFanout`), and each member sends on what changed its replica.
   * One copy per member and ⌈log_k n⌉ hops while the members agree on who is alive, at the
   * entry's size plus a few bytes (no update header, no feedback); a member that missed it (a
   * lost packet, views that differ during churn, a dead member's subtree) is repaired by
   * anti-entropy, so pair it with `repairGraceMs`. Needs `addressOf`. 0 (the default): rumors.
   */
  readonly treeFanout?: number;

  // ---- the byte budget (outbox.ts) ------------------------------------------------------------

  /**
   * A byte budget for everything this node sends: one token bucket for the node's life, shared
   * by the rumor engines of every epoch and the node's own messages (digests, acknowledgements:
   * left to a later round when they do not fit; anti-entropy steps: held until they do, repair
   * class, leaving a packet for rumors while some are hot), membership's bytes charged first
   * (`chargeMembership`). Default: `dissemination.budget` if set, else none.
   */
  readonly budget?: StateBudgetOptions;

  // ---- anti-entropy (anti-entropy.ts) ---------------------------------------------------------

  /** Merkle tree shape (same on every node); default fan-out 16, depth 3 (4,096 leaves: ~10⁴ keys). */
  readonly merkle?: MerkleOptions;
  /** One anti-entropy session with a random live peer every this often (± half, jittered). Default 1,000 ms. */
  readonly antiEntropyIntervalMs?: number;
  /** A session with no progress for this long is dropped (a lost message). Default 2,000 ms. */
  readonly sessionTimeoutMs?: number;
  /**
   * While rumors run, a differing root starts a session only once the difference persists: a
   * member's summary claimed writes still missing here this long after, or this node's root has
   * not moved for this long (see `RepairTrigger`): sessions repair what rumors missed, not what
   * they are delivering. 0 (the default) starts a session on any differing root: measured at
   * N = 30 and 20 writes/s, 1,000 ms cuts sessions 4,910 → 655 and bytes by a third but leaves the
   * quarter of deliveries rumors miss to the slower summary claims (time to everyone p50 0.5 → 2 s),
   * so it waits for a cheap pull tail on the rumors.
   */
  readonly repairGraceMs?: number;
  /** Sessions answered at once; an open beyond it is ignored (the initiator times out). Default 4. */
  readonly responderSessionsMax?: number;
  /**
   * Until one anti-entropy session has completed, a peer whose root is not known gets a session,
   * not a root probe: a node that must learn a peer's summary (restarted without its history)
   * cannot rely on roots alone, which may be equal. Default false.
   */
  readonly syncFirst?: boolean;

  // ---- idle and active mode (activity.ts) -----------------------------------------------------

  /**
   * A node is active for this long after its state changed, a member joined, or a peer's root
   * differed from its own (and while it has acknowledgements to send or takes part in a stability
   * generation): digest rounds every `digestIntervalMs` and anti-entropy sessions. Otherwise it is
   * idle: one digest (its root alone) to one random peer every `idleDigestIntervalMs`, no session
   * (a receiver whose root differs starts one), so an idle cluster costs a few bytes per node per
   * second, whatever its size. Default 10,000 ms.
   */
  readonly activeWindowMs?: number;
  /** Digest period of an idle node (see `activeWindowMs`). Default 30,000 ms (memberlist's push-pull period). */
  readonly idleDigestIntervalMs?: number;

  // ---- digests (digests.ts) -------------------------------------------------------------------

  /**
   * Digest round: to `digestFanout` random peers, the roots of every member that changed in
   * the last `rootRecentMs` (own included) and this node's summary plus a few known ones.
   * Default 1,000 ms.
   */
  readonly digestIntervalMs?: number;
  /** Peers per digest round. Default 2. */
  readonly digestFanout?: number;
  /** Other members' roots relayed per digest message at most (see `Digests.recentRoots`). Default 16. */
  readonly rootsPerMessage?: number;
  /** Roots younger than this are relayed. Default 30,000 ms. */
  readonly rootRecentMs?: number;
  /** Own version summary re-made at most this often (and on every anti-entropy session). Default 2,000 ms. */
  readonly summaryIntervalMs?: number;
  /** Summaries per digest message, own included. Default 4. */
  readonly summariesPerMessage?: number;

  // ---- stability and tombstone collection (stability.ts) --------------------------------------

  /**
   * Length of a stability generation (clock-aligned): in each, every member contributes its
   * version summary once to an aggregate the nodes merge as they relay digests (see
   * `StabilityNote`); a node that has every live member's contribution collects the tombstones
   * the aggregate's minimum covers, the same ones on every node. It must exceed the time the
   * aggregate takes to reach everyone (a few digest rounds × log n). Default 15,000 ms.
   */
  readonly stabilityGenerationMs?: number;
  /**
   * Collection is tried when a generation completes and also every this often, on multiples of it
   * (clock time), for members gone meanwhile. Default 5,000 ms.
   */
  readonly collectIntervalMs?: number;
  /**
   * A member that died or left still counts for tombstone collection, with its last summary,
   * for this long (until it would be reaped): a node down for less cannot bring back a write
   * concurrent with a collected delete (see `Replica.collectTombstones`). Default 60,000 ms.
   */
  readonly goneMemberHoldMs?: number;
  /**
   * A tombstone is collected only after it has been dead here this long, besides every
   * counted member's summary covering it. Default 0 (`goneMemberHoldMs` does the waiting).
   */
  readonly tombstoneGraceMs?: number;

  // ---- acknowledgements of sampled writes (acks.ts) -------------------------------------------

  /**
   * Writes whose dot counter is a multiple of this are sampled: the writer times each until every
   * live member has it, and every member acknowledges the sampled writes of others straight to
   * their writer (`state-acks`) when its state first reflects them. The same on every node (a
   * member acknowledges by this rule). 1 samples every write; 0 none. Default 100.
   */
  readonly sampleEvery?: number;
  /**
   * A member's address from its name, to acknowledge sampled writes to their writer (undefined:
   * not reachable, the acknowledgement is dropped). Without it, no acknowledgements are sent and
   * writers time samples from summaries and stability generations only (upper bounds).
   */
  readonly addressOf?: (name: NodeName) => Address | undefined;
  /** Acknowledgements per writer per digest round at most (the rest are dropped). Default 256. */
  readonly acksPerMessage?: number;
  /**
   * Each acknowledgement goes in this many consecutive digest rounds (the writer counts it once):
   * a sample needs every member's, so one lost packet would leave it to the slower bounds.
   * Default 3.
   */
  readonly ackRepeats?: number;
}

/**
 * Rumor settings for state writes: push only (anti-entropy, not digest pulls, repairs what
 * rumors miss), fanout 2 every 100 ms, loss of interest after 2 "already knew" replies, never
 * pushed for more than 20 rounds.
 */
export const STATE_DISSEMINATION: DisseminationConfig = {
  ...DEFAULT_DISSEMINATION,
  mode: 'push',
  fanout: 2,
  intervalMs: 100,
  rumor: 'feedback-counter',
  rumorK: 2,
  maxHotRounds: 20,
  repairEveryRounds: 0,
};

/**
 * The knobs the agent runs with (`DurableStateNode`; `gossip simulate state --agent-tuning`),
 * tuned on 30 nodes taking 20 writes/s (issue 12 item 6, `gossip bench cluster --writes 20`):
 * - each write goes down its writer's broadcast tree of fanout 3 (one copy per member, 3–4 hops
 *   at N = 30) instead of being pushed by rumor (about three copies per member, and feedback);
 * - anti-entropy waits a second for a difference to persist before it starts a session: during a
 *   write stream most differences are pushes in flight;
 * - a digest relays one other member's summary beside its own (`summariesPerMessage` 2, not 4):
 *   summaries grow with the writers, and the relays only feed the tracker's fallback. Same load in
 *   the simulator (30 nodes, 1,200 writes in 60 s): digest bytes 4.5 → 3.8 MB, and agreement 1
 *   14 s after the writes instead of 76 s (fewer, smaller digests fit the rounds' budget).
 *   Relaying fewer roots (8) instead never reached agreement 1.
 */
export const STATE_AGENT_TUNING = { treeFanout: 3, repairGraceMs: 1000, summariesPerMessage: 2 } as const satisfies Partial<StateNodeOptions>;

/** The defaults of `StateNodeOptions`' numeric and boolean knobs (see each option's doc). */
export const STATE_NODE_DEFAULTS = {
  incarnation: 0,
  rumors: true,
  treeFanout: 0,
  merkleFanout: 16,
  merkleDepth: 3,
  antiEntropyIntervalMs: 1000,
  sessionTimeoutMs: 2000,
  repairGraceMs: 0,
  responderSessionsMax: 4,
  syncFirst: false,
  activeWindowMs: 10_000,
  idleDigestIntervalMs: 30_000,
  digestIntervalMs: 1000,
  digestFanout: 2,
  rootsPerMessage: 16,
  rootRecentMs: 30_000,
  summaryIntervalMs: 2000,
  summariesPerMessage: 4,
  stabilityGenerationMs: 15_000,
  collectIntervalMs: 5000,
  goneMemberHoldMs: 60_000,
  tombstoneGraceMs: 0,
  sampleEvery: 100,
  acksPerMessage: 256,
  ackRepeats: 3,
} as const;

/** `StateNodeOptions` with every default applied and checked: what the rule modules read. */
export interface StateSettings {
  readonly incarnation: number;
  readonly rumors: boolean;
  readonly dissemination: DisseminationConfig;
  readonly rumorEpochMs: number;
  readonly treeFanout: number;
  readonly budget: StateBudgetOptions | null;
  readonly merkle: { readonly fanout: number; readonly depth: number };
  readonly antiEntropyIntervalMs: number;
  readonly sessionTimeoutMs: number;
  readonly repairGraceMs: number;
  readonly responderSessionsMax: number;
  readonly syncFirst: boolean;
  readonly activeWindowMs: number;
  readonly idleDigestIntervalMs: number;
  readonly digestIntervalMs: number;
  readonly digestFanout: number;
  readonly rootsPerMessage: number;
  readonly rootRecentMs: number;
  readonly summaryIntervalMs: number;
  readonly summariesPerMessage: number;
  readonly stabilityGenerationMs: number;
  readonly collectIntervalMs: number;
  readonly goneMemberHoldMs: number;
  readonly tombstoneGraceMs: number;
  readonly sampleEvery: number;
  readonly addressOf: ((name: NodeName) => Address | undefined) | undefined;
  readonly acksPerMessage: number;
  readonly ackRepeats: number;
}

/** Applies the defaults; throws a RangeError for a knob out of range. */
export function resolveStateOptions(o: StateNodeOptions): StateSettings {
  const D = STATE_NODE_DEFAULTS;
  const dissemination = { ...STATE_DISSEMINATION, ...o.dissemination };
  if (dissemination.mode === 'plumtree') throw new RangeError('StateNode: dissemination mode plumtree is for the stand-alone engine; rumors run push, pull or push-pull');
  const budget = o.budget ?? dissemination.budget;
  const s: StateSettings = {
    incarnation: o.incarnation ?? D.incarnation,
    rumors: o.rumors ?? D.rumors,
    dissemination,
    rumorEpochMs: o.rumorEpochMs ?? 4 * dissemination.maxHotRounds * dissemination.intervalMs,
    treeFanout: o.treeFanout ?? D.treeFanout,
    budget: budget === null || budget === undefined ? null : budget,
    merkle: { fanout: o.merkle?.fanout ?? D.merkleFanout, depth: o.merkle?.depth ?? D.merkleDepth },
    antiEntropyIntervalMs: o.antiEntropyIntervalMs ?? D.antiEntropyIntervalMs,
    sessionTimeoutMs: o.sessionTimeoutMs ?? D.sessionTimeoutMs,
    repairGraceMs: o.repairGraceMs ?? D.repairGraceMs,
    responderSessionsMax: o.responderSessionsMax ?? D.responderSessionsMax,
    syncFirst: o.syncFirst ?? D.syncFirst,
    activeWindowMs: o.activeWindowMs ?? D.activeWindowMs,
    idleDigestIntervalMs: o.idleDigestIntervalMs ?? D.idleDigestIntervalMs,
    digestIntervalMs: o.digestIntervalMs ?? D.digestIntervalMs,
    digestFanout: o.digestFanout ?? D.digestFanout,
    rootsPerMessage: o.rootsPerMessage ?? D.rootsPerMessage,
    rootRecentMs: o.rootRecentMs ?? D.rootRecentMs,
    summaryIntervalMs: o.summaryIntervalMs ?? D.summaryIntervalMs,
    summariesPerMessage: o.summariesPerMessage ?? D.summariesPerMessage,
    stabilityGenerationMs: o.stabilityGenerationMs ?? D.stabilityGenerationMs,
    collectIntervalMs: o.collectIntervalMs ?? D.collectIntervalMs,
    goneMemberHoldMs: o.goneMemberHoldMs ?? D.goneMemberHoldMs,
    tombstoneGraceMs: o.tombstoneGraceMs ?? D.tombstoneGraceMs,
    sampleEvery: o.sampleEvery ?? D.sampleEvery,
    addressOf: o.addressOf,
    acksPerMessage: o.acksPerMessage ?? D.acksPerMessage,
    ackRepeats: o.ackRepeats ?? D.ackRepeats,
  };
  if (!(s.stabilityGenerationMs > 0)) throw new RangeError(`StateNode: stabilityGenerationMs must be > 0, got ${s.stabilityGenerationMs}`);
  if (!Number.isSafeInteger(s.sampleEvery) || s.sampleEvery < 0) throw new RangeError(`StateNode: sampleEvery must be a whole number ≥ 0, got ${s.sampleEvery}`);
  if (!Number.isSafeInteger(s.treeFanout) || s.treeFanout < 0) throw new RangeError(`StateNode: treeFanout must be a whole number ≥ 0, got ${s.treeFanout}`);
  if (s.treeFanout > 0 && s.addressOf === undefined) throw new RangeError('StateNode: treeFanout needs addressOf (members are sent to by name)');
  if (!Number.isSafeInteger(s.ackRepeats) || s.ackRepeats < 1) throw new RangeError(`StateNode: ackRepeats must be a whole number ≥ 1, got ${s.ackRepeats}`);
  return s;
}
