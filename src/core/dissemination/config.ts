import type { GossipMode } from './mean-field.js';
import type { PlumtreeConfig } from './plumtree.js';
import { DEFAULT_PLUMTREE } from './plumtree.js';

/**
 * The mean-field modes, or 'plumtree': an epidemic broadcast tree (eager pushes along the
 * tree, "I have" to lazy peers, graft and prune; src/core/dissemination/plumtree.ts) with
 * push mode's digest repair (`repairEveryRounds`) as the fallback.
 */
export type DisseminationMode = GossipMode | 'plumtree';

/** Demers et al.'s loss of interest (theory.md §2.2); 'none' keeps an update hot for `maxHotRounds`. */
export type RumorVariant = 'feedback-counter' | 'feedback-coin' | 'blind-counter' | 'blind-coin' | 'none';

/**
 * - none: hot updates are pushed until the rumor rule (or `maxHotRounds`) retires them;
 * - push-then-pull (Karp et al.; Mercier et al.): an update is pushed only while younger than
 *   the round at which the push-pull mean-field curve passes one half (`halfwayRound(n)`),
 *   after which only pulls spread it, and every pulled payload informs a node that lacked it.
 */
export type Termination = 'none' | 'push-then-pull';

export interface AdaptiveFanout {
  /** Bounds of the per-update push fanout while the update is young and rarely a duplicate. */
  readonly minFanout: number;
  readonly maxFanout: number;
  /**
   * An update stops being pushed once the share of this node's contacts about it that found
   * the peer already informed (feedback, plus duplicate receptions) reaches this; from then on
   * pulls finish the spread. Karp et al.: past one half, pull beats push.
   */
  readonly stopAtDuplicateShare: number;
  /** Digest (pull) exchanges per round; pulls only carry what the caller lacks. */
  readonly pullContacts: number;
}

export interface DisseminationConfig {
  readonly mode: DisseminationMode;
  /**
   * Peers contacted per round. Push: each hot update goes to `fanout` peers. Pull and
   * push-pull: `fanout` exchanges a round, each carrying the digest (and, push-pull, the hot
   * updates). Round length is `intervalMs`; rounds until everyone is informed follow
   * theory.md §1 (push ≈ log_{1+f} n + ln n / f).
   */
  readonly fanout: number;
  /** Fanout for critical updates, which also go first and in their own budget class. */
  readonly criticalFanout: number;
  readonly intervalMs: number;
  /**
   * Synchronous rounds: every node ticks on multiples of `intervalMs` and answers pulls only
   * with what it held when the round began, as the random phone-call model assumes (used to
   * check the engine against theory). Off: each node ticks at its own random phase.
   */
  readonly alignedRounds: boolean;
  readonly rumor: RumorVariant;
  /** Loss of interest after k (counter) or with probability 1/k per contact (coin). */
  readonly rumorK: number;
  /** No update is pushed for more rounds than this, whatever the rumor rule. */
  readonly maxHotRounds: number;
  readonly termination: Termination;
  /** Push mode: a pull (digest) exchange every this many rounds repairs what rumors missed; 0 = never. */
  readonly repairEveryRounds: number;
  /**
   * Updates born longer ago than this are forgotten once they are no longer pushed; the
   * digest keeps covering them and peers that lack them learn the floor (the replicated
   * state repairs such gaps by anti-entropy). 0 keeps everything.
   */
  readonly retainMs: number;
  /** Each message stays within this (the transport's packet budget). */
  readonly packetBytesMax: number;
  /** Byte budget: bytes per second and burst, shared with membership traffic; null = unlimited. */
  readonly budget: { readonly rateBytesPerSec: number; readonly burstBytes: number } | null;
  /** Adapt push fanout per update from what the node observes; null = fixed `fanout`. */
  readonly adaptive: AdaptiveFanout | null;
  /** Mode 'plumtree' only. */
  readonly plumtree: PlumtreeConfig;
}

/**
 * Measured against fixed fanout 3 at 10³ and 10⁴ nodes with a steady stream of updates
 * (`gossip simulate stream`): a wide push for the first generations, three digest exchanges a
 * round (spread over it) for the tail.
 */
export const DEFAULT_ADAPTIVE: AdaptiveFanout = { minFanout: 2, maxFanout: 8, stopAtDuplicateShare: 0.5, pullContacts: 3 };

export const DEFAULT_DISSEMINATION: DisseminationConfig = {
  mode: 'push-pull',
  fanout: 1,
  criticalFanout: 3,
  intervalMs: 200,
  alignedRounds: false,
  rumor: 'feedback-counter',
  rumorK: 3,
  maxHotRounds: 64,
  termination: 'none',
  repairEveryRounds: 10,
  retainMs: 60_000,
  packetBytesMax: 1400,
  budget: null,
  adaptive: null,
  plumtree: DEFAULT_PLUMTREE,
};

export class DisseminationConfigError extends Error {
  override name = 'DisseminationConfigError';
}

/** Checks every field; throws a `DisseminationConfigError` naming the field and the value. */
export function validateDisseminationConfig(c: DisseminationConfig): DisseminationConfig {
  const int = (name: string, v: number, min: number, max: number): void => {
    if (!Number.isInteger(v) || v < min || v > max) throw new DisseminationConfigError(`${name} must be an integer in [${min}, ${max}], got ${v}`);
  };
  if (c.mode !== 'push' && c.mode !== 'pull' && c.mode !== 'push-pull' && c.mode !== 'plumtree') throw new DisseminationConfigError(`mode must be push, pull, push-pull or plumtree, got ${String(c.mode)}`);
  int('fanout', c.fanout, 1, 64);
  int('criticalFanout', c.criticalFanout, 1, 64);
  int('intervalMs', c.intervalMs, 1, 3_600_000);
  int('rumorK', c.rumorK, 1, 255);
  int('maxHotRounds', c.maxHotRounds, 1, 100_000);
  int('repairEveryRounds', c.repairEveryRounds, 0, 100_000);
  int('packetBytesMax', c.packetBytesMax, 64, 65_507);
  int('retainMs', c.retainMs, 0, 2_147_483_647);
  if (c.budget !== null) {
    if (!(c.budget.rateBytesPerSec > 0)) throw new DisseminationConfigError(`budget.rateBytesPerSec must be positive, got ${c.budget.rateBytesPerSec}`);
    if (!(c.budget.burstBytes >= c.packetBytesMax)) throw new DisseminationConfigError(`budget.burstBytes must be at least packetBytesMax (${c.packetBytesMax}), got ${c.budget.burstBytes}`);
  }
  if (c.adaptive !== null) {
    int('adaptive.minFanout', c.adaptive.minFanout, 1, 64);
    int('adaptive.maxFanout', c.adaptive.maxFanout, c.adaptive.minFanout, 64);
    int('adaptive.pullContacts', c.adaptive.pullContacts, 1, 64);
    const s = c.adaptive.stopAtDuplicateShare;
    if (!(s > 0 && s <= 1)) throw new DisseminationConfigError(`adaptive.stopAtDuplicateShare must be in (0, 1], got ${s}`);
  }
  if (c.mode === 'plumtree') {
    const t = c.plumtree;
    int('plumtree.eagerPeers', t.eagerPeers, 1, 64);
    int('plumtree.randomEager', t.randomEager, 0, t.eagerPeers);
    int('plumtree.lazyPeers', t.lazyPeers, 0, 64);
    int('plumtree.candidates', t.candidates, t.eagerPeers, 1024);
    int('plumtree.graftTimeoutMs', t.graftTimeoutMs, 1, 3_600_000);
    int('plumtree.retryGraftMs', t.retryGraftMs, 1, 3_600_000);
    int('plumtree.ihaveDelayMs', t.ihaveDelayMs, 0, 3_600_000);
    int('plumtree.treeIdleMs', t.treeIdleMs, 1, 2_147_483_647);
    int('plumtree.maxTrees', t.maxTrees, 1, 1_000_000);
  }
  return c;
}
