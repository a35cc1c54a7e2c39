import type { GossipMode } from '../core/dissemination/mean-field.js';
import type { Rng } from '../core/rng.js';
import { halfwayRound } from '../core/dissemination/mean-field.js';

export { halfwayRound, theoryCurve } from '../core/dissemination/mean-field.js';

/**
 * The lean round-based engine for dissemination theory (the random phone-call model of
 * theory.md §1): synchronous rounds on the complete graph, typed arrays, no object per node,
 * so one trial at 10⁶ nodes takes well under a second. It exists only to check the theory and
 * the full simulator against each other; the protocol itself is `src/core`.
 *
 * - push, fanout f: every node informed before the round calls f random others and informs them.
 * - pull: every uninformed node calls one random other and learns if it was informed before the round.
 * - push-pull: every node calls one random other; if either was informed before the round, both are.
 */
export type RoundMode = GossipMode;

export interface RoundTrial {
  /** Rounds until every node was informed (or `maxRounds` if not). */
  rounds: number;
  allInformed: boolean;
  /** Informed count after each round (index 0 = before the first round). */
  informedByRound: number[];
  /**
   * Payload transmissions, naive (no termination rule, as theory.md §1.2 counts them): every
   * push; every pull reply to an uninformed caller; in push-pull, one per call in which either
   * party was informed before the round (the informed caller pushes, or the uninformed caller
   * pulls and the informed callee replies), even when the other already had the rumor.
   */
  transmissions: number;
  /**
   * Median-counter only: the payloads that went to a partner lacking the rumor at the start
   * of the round. What a call costs when the partners swap states and counters first (the
   * counters must travel anyway) and the payload follows only where it is missing.
   */
  stateFirstTransmissions?: number;
}

export interface RoundOptions {
  mode: RoundMode;
  nodes: number;
  fanout: number;
  maxRounds?: number;
  /**
   * push-pull only. 'push-then-pull': after `switchRound` (default: the first round at which
   * the mean-field curve for n passes one half), informed callers stop pushing; uninformed
   * callers keep pulling, so every payload sent from then on informs a new node.
   */
  termination?: 'none' | 'push-then-pull';
  switchRound?: number;
}

const NEVER = 0x7fffffff;

/** Scratch arrays reused across trials of the same size. */
export class RoundEngine {
  private informedAt: Int32Array;
  private informedList: Int32Array;

  constructor(private readonly rng: Rng) {
    this.informedAt = new Int32Array(0);
    this.informedList = new Int32Array(0);
  }

  trial(o: RoundOptions): RoundTrial {
    const n = o.nodes;
    if (!Number.isInteger(n) || n < 2) throw new RangeError(`nodes must be an integer ≥ 2, got ${n}`);
    if (!Number.isInteger(o.fanout) || o.fanout < 1) throw new RangeError(`fanout must be an integer ≥ 1, got ${o.fanout}`);
    const maxRounds = o.maxRounds ?? 10_000;
    if (this.informedAt.length !== n) {
      this.informedAt = new Int32Array(n);
      this.informedList = new Int32Array(n);
    }
    const at = this.informedAt;
    const list = this.informedList;
    at.fill(NEVER);
    const rng = this.rng;
    // A random other node than i: uniform over the n − 1 others.
    const other = (i: number): number => {
      const j = rng.int(n - 1);
      return j >= i ? j + 1 : j;
    };
    const pullOnlyAfter = o.mode === 'push-pull' && o.termination === 'push-then-pull';
    const switchRound = o.switchRound ?? halfwayRound(n);
    const source = rng.int(n);
    at[source] = 0;
    list[0] = source;
    let informed = 1;
    let transmissions = 0;
    const byRound = [1];
    let round = 0;
    while (informed < n && round < maxRounds) {
      round++;
      const before = informed; // nodes list[0..before) were informed before this round
      if (o.mode === 'push') {
        for (let k = 0; k < before; k++) {
          const i = list[k] as number;
          for (let f = 0; f < o.fanout; f++) {
            const j = other(i);
            transmissions++;
            if (at[j] === NEVER) {
              at[j] = round;
              list[informed++] = j;
            }
          }
        }
      } else if (o.mode === 'pull') {
        for (let i = 0; i < n; i++) {
          if ((at[i] as number) < round) continue; // informed before the round (or earlier this round)
          if (at[i] === round) continue;
          const j = other(i);
          if ((at[j] as number) < round) {
            transmissions++;
            at[i] = round;
            list[informed++] = i;
          }
        }
      } else {
        const pushing = !pullOnlyAfter || round <= switchRound;
        for (let i = 0; i < n; i++) {
          const j = other(i);
          const iBefore = (at[i] as number) < round;
          const jBefore = (at[j] as number) < round;
          if (!pushing) {
            // Pull only: an uninformed caller asks, an informed callee answers.
            if (!iBefore && jBefore) {
              transmissions++;
              if (at[i] === NEVER) {
                at[i] = round;
                list[informed++] = i;
              }
            }
            continue;
          }
          // Naive push-pull: an informed caller pushes, an uninformed caller pulls and an
          // informed callee replies; one payload per call either way, whatever the other has.
          if (iBefore || jBefore) transmissions++;
          if (iBefore && !jBefore) {
            if (at[j] === NEVER) {
              at[j] = round;
              list[informed++] = j;
            }
          } else if (jBefore && !iBefore) {
            if (at[i] === NEVER) {
              at[i] = round;
              list[informed++] = i;
            }
          }
        }
      }
      byRound.push(informed);
    }
    return { rounds: round, allInformed: informed === n, informedByRound: byRound, transmissions };
  }
}

/** theory.md §1.1: expected rounds without the O(1) term. */
export function theoryRounds(mode: RoundMode, n: number, fanout = 1): number {
  const ln = Math.log(n);
  if (mode === 'push') return fanout === 1 ? Math.log2(n) + ln : Math.log(n) / Math.log(1 + fanout) + ln / fanout;
  if (mode === 'pull') return Math.log2(n) + Math.log2(ln);
  return Math.log(n) / Math.log(3) + Math.log2(ln);
}

/**
 * Demers et al.'s rumor mongering (theory.md §2.2), push, in synchronous rounds: every site
 * that holds a "hot" rumor pushes it to one random site per round. It loses interest
 * - feedback: only on unnecessary contacts (the recipient already knew); blind: on any contact;
 * - counter: after k such contacts; coin: with probability 1/k at each.
 * A site informed in a round starts pushing the next round; within a round, contacts are made
 * in order, so a site informed earlier in the round already "knows" for later callers.
 */
export type RumorVariant = 'feedback-counter' | 'feedback-coin' | 'blind-counter' | 'blind-coin';

export interface RumorTrial {
  /** Fraction of sites that never heard the rumor. */
  residue: number;
  /** Messages sent per site (m). */
  trafficPerNode: number;
  /** Mean round at which the informed sites heard it (the source counts as round 0). */
  tAve: number;
  /** Round at which the last site heard it. */
  tLast: number;
  /** Rounds until no site was hot any more. */
  rounds: number;
}

const SUSCEPTIBLE = 0;
const HOT = 1;
const REMOVED = 2;

export class RumorEngine {
  private state = new Uint8Array(0);
  private counter = new Uint8Array(0);
  private hot = new Int32Array(0);
  private next = new Int32Array(0);

  constructor(private readonly rng: Rng) {}

  trial(variant: RumorVariant, nodes: number, k: number): RumorTrial {
    const n = nodes;
    if (!Number.isInteger(n) || n < 2) throw new RangeError(`nodes must be an integer ≥ 2, got ${n}`);
    if (!Number.isInteger(k) || k < 1 || k > 255) throw new RangeError(`k must be an integer in [1, 255], got ${k}`);
    if (this.state.length !== n) {
      this.state = new Uint8Array(n);
      this.counter = new Uint8Array(n);
      this.hot = new Int32Array(n);
      this.next = new Int32Array(n);
    }
    const state = this.state;
    const counter = this.counter;
    state.fill(SUSCEPTIBLE);
    counter.fill(0);
    const rng = this.rng;
    const feedback = variant === 'feedback-counter' || variant === 'feedback-coin';
    const coin = variant === 'feedback-coin' || variant === 'blind-coin';
    let hot = this.hot;
    let next = this.next;
    const source = rng.int(n);
    state[source] = HOT;
    hot[0] = source;
    let hotCount = 1;
    let informed = 1;
    let messages = 0;
    let roundSum = 0;
    let tLast = 0;
    let round = 0;
    while (hotCount > 0) {
      round++;
      let nextCount = 0;
      for (let h = 0; h < hotCount; h++) {
        const i = hot[h] as number;
        let j = rng.int(n - 1);
        if (j >= i) j++;
        messages++;
        const unnecessary = state[j] !== SUSCEPTIBLE;
        if (!unnecessary) {
          state[j] = HOT;
          next[nextCount++] = j; // hot from the next round on
          informed++;
          roundSum += round;
          tLast = round;
        }
        let lose = false;
        if (unnecessary || !feedback) {
          if (coin) lose = rng.next() * k < 1;
          else lose = ++counter[i]! >= k;
        }
        if (lose) state[i] = REMOVED;
        else next[nextCount++] = i;
      }
      const t = hot;
      hot = next;
      next = t;
      hotCount = nextCount;
    }
    return { residue: (n - informed) / n, trafficPerNode: messages / n, tAve: roundSum / informed, tLast, rounds: round };
  }
}

/** Means over `trials` independent rumor trials. */
export function meanRumor(engine: RumorEngine, variant: RumorVariant, nodes: number, k: number, trials: number): Omit<RumorTrial, 'rounds'> {
  let residue = 0;
  let trafficPerNode = 0;
  let tAve = 0;
  let tLast = 0;
  for (let t = 0; t < trials; t++) {
    const r = engine.trial(variant, nodes, k);
    residue += r.residue;
    trafficPerNode += r.trafficPerNode;
    tAve += r.tAve;
    tLast += r.tLast;
  }
  return { residue: residue / trials, trafficPerNode: trafficPerNode / trials, tAve: tAve / trials, tLast: tLast / trials };
}

/** The mean-field residue of feedback rumor mongering: the root s in (0, 1) of s = e^{−(k+1)(1−s)}. */
export function theoryResidue(k: number): number {
  let s = 0.5;
  for (let i = 0; i < 200; i++) s = Math.exp(-(k + 1) * (1 - s));
  return s;
}

/**
 * Push-pull with Karp, Schindelhauer, Shenker and Vöcking's median-counter termination
 * (FOCS 2000), in synchronous rounds. Every node calls one random other each round and the
 * two exchange their states and counters.
 * - A (uninformed): on receiving the rumor, go to C if any sender was in C, else to B with m = 1.
 * - B-m: if more than half of this round's partners (callee and callers; an uninformed partner
 *   counts as below m, a finished one as above) had a counter ≥ m, then m := m + 1; at
 *   m = ctrMax go to C. Hearing from a C node also moves to C.
 * - C: keep spreading for cRounds rounds, then D (done: pushes no more; answers pulls from
 *   nodes that lack the rumor unless `pullFromDone` is false).
 * Payload transmissions are counted as for naive push-pull (`RoundEngine`): a spreading
 * caller pushes, an uninformed caller pulls and a spreading callee replies; counters and
 * "I have it" travel as control data.
 */
export interface MedianCounterOptions {
  nodes: number;
  ctrMax: number;
  cRounds: number;
  maxRounds?: number;
  /**
   * A node that has stopped spreading (D) still answers a pull from a caller that lacks the
   * rumor, as a digest-carrying pull lets it (Mercier et al.: Karp's bounds assume the rumor
   * rides every connection). Each such payload informs a node, and the pull phase finishes
   * what the counters leave. Default true; false is Karp's silent D.
   */
  pullFromDone?: boolean;
}

const A = 0;
const B = 1;
const C = 2;
const D = 3;

export class MedianCounterEngine {
  private state = new Uint8Array(0);
  private ctr = new Uint8Array(0);
  private partners = new Uint16Array(0);
  private ge = new Uint16Array(0);
  private fromC = new Uint8Array(0);
  private got = new Uint8Array(0);

  constructor(private readonly rng: Rng) {}

  trial(o: MedianCounterOptions): RoundTrial {
    const n = o.nodes;
    if (!Number.isInteger(n) || n < 2) throw new RangeError(`nodes must be an integer ≥ 2, got ${n}`);
    if (this.state.length !== n) {
      this.state = new Uint8Array(n);
      this.ctr = new Uint8Array(n);
      this.partners = new Uint16Array(n);
      this.ge = new Uint16Array(n);
      this.fromC = new Uint8Array(n);
      this.got = new Uint8Array(n);
    }
    const { state, ctr, partners, ge, fromC, got } = this;
    state.fill(A);
    ctr.fill(0);
    const rng = this.rng;
    const source = rng.int(n);
    state[source] = B;
    ctr[source] = 1;
    let informed = 1;
    let active = 1;
    let transmissions = 0;
    const byRound = [1];
    let round = 0;
    let lastInformedRound = 0;
    const maxRounds = o.maxRounds ?? 10_000;
    // Does partner p (state at round start) count as "counter ≥ m" for a node at counter m?
    const atLeast = (p: number, m: number): boolean => {
      const s = state[p] as number;
      return s === C || s === D || (s === B && (ctr[p] as number) >= m);
    };
    const pullFromDone = o.pullFromDone ?? true;
    let stateFirst = 0;
    while ((active > 0 || (pullFromDone && informed < n)) && round < maxRounds) {
      round++;
      partners.fill(0);
      ge.fill(0);
      fromC.fill(0);
      got.fill(0);
      for (let i = 0; i < n; i++) {
        let j = rng.int(n - 1);
        if (j >= i) j++;
        const si = state[i] as number;
        const sj = state[j] as number;
        // Partners, for the median rule (states as at the start of the round).
        partners[i] = (partners[i] as number) + 1;
        partners[j] = (partners[j] as number) + 1;
        if (si === B && atLeast(j, ctr[i] as number)) ge[i] = (ge[i] as number) + 1;
        if (sj === B && atLeast(i, ctr[j] as number)) ge[j] = (ge[j] as number) + 1;
        // Payloads, counted as for naive push-pull: a spreading caller pushes; an uninformed
        // caller pulls and a spreading callee replies. Counters travel as control data.
        if (si === B || si === C) {
          transmissions++;
          if (sj === A) stateFirst++;
          got[j] = 1;
          if (si === C) fromC[j] = 1;
        } else if (si === A && (sj === B || sj === C || (pullFromDone && sj === D))) {
          transmissions++;
          stateFirst++;
          got[i] = 1;
          if (sj === C) fromC[i] = 1;
        }
      }
      // Transitions, all from the states at the start of the round.
      active = 0;
      for (let i = 0; i < n; i++) {
        const s = state[i] as number;
        if (s === A) {
          if (got[i] === 1) {
            informed++;
            lastInformedRound = round;
            if (fromC[i] === 1) {
              state[i] = C;
              ctr[i] = 0;
            } else {
              state[i] = B;
              ctr[i] = 1;
            }
          }
        } else if (s === B) {
          if (fromC[i] === 1) {
            state[i] = C;
            ctr[i] = 0;
          } else if (2 * (ge[i] as number) > (partners[i] as number)) {
            const m = (ctr[i] as number) + 1;
            if (m >= o.ctrMax) {
              state[i] = C;
              ctr[i] = 0;
            } else {
              ctr[i] = m;
            }
          }
        } else if (s === C) {
          const r = (ctr[i] as number) + 1;
          if (r >= o.cRounds) state[i] = D;
          else ctr[i] = r;
        }
        const t = state[i] as number;
        if (t === B || t === C) active++;
      }
      byRound.push(informed);
    }
    return { rounds: lastInformedRound, allInformed: informed === n, informedByRound: byRound, transmissions, stateFirstTransmissions: stateFirst };
  }
}
