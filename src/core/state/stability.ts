import type { ConvergenceTracker } from '../convergence/tracker.js';
import type { NodeName } from '../ids.js';
import type { VersionSummary } from '../replica/summary.js';
import { minSummary } from '../replica/summary.js';
import type { Digests } from './digests.js';
import type { StabilityNote } from './messages.js';
import { MalformedMessage } from './messages.js';
import type { StateSettings } from './options.js';
import type { StateOutbox } from './outbox.js';
import type { ReplicaTree } from './replica-tree.js';

/** A stability generation's aggregate as this node holds it (see `StabilityNote`). */
interface Aggregate {
  readonly gen: number;
  readonly min: Map<string, number>;
  readonly members: Set<string>;
  latestMs: number;
}

/**
 * Tombstones are collected only when every live member has seen them. Time is cut into
 * stability generations (`stabilityGenerationMs`, clock-aligned); in each, every member
 * contributes its version summary once to an aggregate the nodes merge as they relay digests
 * (`StabilityNote`: pointwise minimum + contributors), and a node holding every live member's
 * contribution collects what the minimum covers (members that died within `goneMemberHoldMs`
 * counted with their last summary). Each member gave everyone the same snapshot, so the nodes
 * that complete a generation collect the same tombstones; one that did not follows when an
 * anti-entropy peer shows it has collected a tombstone it still holds (see `AntiEntropy`).
 */
export class Stability {
  /**
   * Members gone, still counted for collection until `until`, with a lower bound of what each
   * held (null: none known, nothing is collected meanwhile): the minimum of the latest generation
   * it contributed to (its summary only grows), taken as it went.
   */
  private readonly gone = new Map<string, { readonly until: number; readonly bound: VersionSummary | null }>();
  /** When collection is next tried for members gone meanwhile (multiples of `collectIntervalMs`). */
  nextCollectMs: number;
  /** This generation's partial aggregate, and the last complete one (null: none yet). */
  private agg: Aggregate | null = null;
  private stable: Aggregate | null = null;
  private readonly generationMs: number;

  constructor(
    private readonly name: NodeName,
    private readonly keys: ReplicaTree,
    private readonly tracker: ConvergenceTracker,
    private readonly live: ReadonlySet<string>,
    private readonly digests: Digests,
    private readonly out: StateOutbox,
    private readonly s: StateSettings,
    now: number,
  ) {
    this.generationMs = s.stabilityGenerationMs;
    this.nextCollectMs = alignedAfter(now, s.collectIntervalMs);
  }

  /**
   * Generations run only where they are needed: a node holding tombstones starts one, and a node
   * that received a note of the current generation takes part (contributes and relays) until it
   * ends. With no tombstone anywhere, no stability note travels (it is O(members) bytes).
   */
  wanted(now: number): boolean {
    if (this.keys.replica.tombstoneCount > 0) return true;
    const a = this.agg;
    return a !== null && a.gen >= Math.floor(now / this.generationMs) && a.members.size > 1;
  }

  /** The current aggregate as sent (a copy: the aggregate changes after the message leaves) while wanted, else null. */
  noteIfWanted(now: number): StabilityNote | null {
    if (!this.wanted(now)) return null;
    const a = this.enterGeneration(now);
    return { gen: a.gen, genMs: this.generationMs, min: new Map(a.min), members: [...a.members], latestMs: a.latestMs };
  }

  /** Merges a peer's aggregate of the same generation (a later one, up to one ahead, is joined first: clock skew). */
  learn(now: number, n: StabilityNote): void {
    if (typeof n !== 'object' || n === null || !Number.isSafeInteger(n.gen) || n.gen < 0 || !Number.isSafeInteger(n.genMs) || !isMap(n.min) || !Array.isArray(n.members) || !Number.isFinite(n.latestMs)) throw new MalformedMessage('malformed stability note');
    if (n.genMs !== this.generationMs) {
      // Generation numbers of another length mean other times: merging would count contributions wrongly.
      this.out.stats.stabilityMismatched++;
      return;
    }
    const current = Math.floor(now / this.generationMs);
    if (n.gen > current + 1) throw new MalformedMessage(`stability note of generation ${n.gen}, this node is at ${current}: clocks too far apart`);
    const a = this.enterGeneration(now, n.gen);
    if (n.gen < a.gen) return;
    // Checked whole before anything is merged: a contributor counted without its minimum would be unsafe.
    const min = n.min as ReadonlyMap<unknown, unknown>;
    for (const [origin, c] of min) if (typeof origin !== 'string' || typeof c !== 'number' || !Number.isSafeInteger(c) || c < 0) throw new MalformedMessage('malformed stability note: a bad minimum');
    const fresh: string[] = [];
    for (const m of n.members as readonly unknown[]) {
      if (typeof m !== 'string') throw new MalformedMessage('malformed stability note: a member is not a name');
      if (!a.members.has(m)) fresh.push(m);
    }
    if (fresh.length === 0) return; // nothing new: its minimum is of contributors already counted
    for (const [origin, c] of a.min) {
      const p = n.min.get(origin) ?? 0;
      if (!(p > 0)) a.min.delete(origin);
      else if (p < c) a.min.set(origin, p);
    }
    for (const m of fresh) a.members.add(m);
    if (n.latestMs > a.latestMs) a.latestMs = n.latestMs;
    this.checkStable(now);
  }

  /** A member died or left: counted for collection until `until`, by what it had contributed to a generation. */
  memberGone(name: string, until: number): void {
    const st = this.stable;
    const a = this.agg;
    const bound = st !== null && st.members.has(name) ? st.min : a !== null && a.members.has(name) ? new Map(a.min) : null;
    this.gone.set(name, { until, bound });
  }

  /** A member is alive again: its own contributions count from now on. */
  memberAlive(name: string): void {
    this.gone.delete(name);
  }

  /** The periodic collection, for members gone meanwhile. */
  handleTimeout(now: number): void {
    if (now < this.nextCollectMs) return;
    this.nextCollectMs = alignedAfter(now, this.s.collectIntervalMs);
    this.collect(now);
  }

  /**
   * Collects the tombstones the last complete generation's minimum covers, with the bound of
   * members gone within `goneMemberHoldMs` (none while one has no bound, or while a live member
   * did not contribute to that generation: it joined since).
   */
  private collect(now: number): void {
    for (const [name, g] of this.gone) if (now >= g.until) this.gone.delete(name);
    const st = this.stable;
    if (st === null) return;
    for (const name of this.live) if (!st.members.has(name)) return;
    const summaries: VersionSummary[] = [st.min];
    for (const [name, g] of this.gone) {
      if (st.members.has(name)) continue;
      if (g.bound === null) return;
      summaries.push(g.bound);
    }
    const collected = this.keys.replica.collectTombstones(minSummary(summaries), now, this.s.tombstoneGraceMs);
    for (const key of collected) this.keys.collected(key);
    this.out.stats.tombstonesCollected += collected.length;
  }

  /** Moves to the current generation (or `atLeast`), starting its aggregate with this node's summary. */
  private enterGeneration(now: number, atLeast = 0): Aggregate {
    const gen = Math.max(Math.floor(now / this.generationMs), atLeast);
    if (this.agg !== null && this.agg.gen >= gen) return this.agg;
    this.digests.refreshSummary(now, true);
    const agg: Aggregate = { gen, min: new Map(this.digests.ownSummary.summary), members: new Set([this.name]), latestMs: now };
    this.agg = agg;
    this.checkStable(now);
    return agg;
  }

  /** A generation is complete when every live member contributed: its minimum becomes the collection bound. */
  private checkStable(now: number): void {
    const a = this.agg;
    if (a === null || (this.stable !== null && this.stable.gen >= a.gen)) return;
    for (const name of this.live) if (!a.members.has(name)) return;
    this.stable = { gen: a.gen, min: new Map(a.min), members: new Set(a.members), latestMs: a.latestMs };
    this.out.stats.generationsComplete++;
    // Every member held the minimum by `latestMs`: an upper bound for sampled writes it covers.
    this.tracker.handleStable(now, this.stable.min, this.stable.members, this.stable.latestMs);
    this.out.drainConverged();
    this.collect(now);
  }
}

/** A Map (not a type guard: the note's declared types stay as they are). */
function isMap(v: unknown): boolean {
  return v instanceof Map;
}

/** The first multiple of `intervalMs` after `now`. */
function alignedAfter(now: number, intervalMs: number): number {
  return (Math.floor(now / intervalMs) + 1) * intervalMs;
}
