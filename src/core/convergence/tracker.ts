import type { Rng } from '../rng.js';
import type { ConvergenceDigest } from './digest.js';
import { covers } from './digest.js';
import { PollQueue } from '../poll-queue.js';

/**
 * Convergence monitoring from piggybacked digests (issue 4). Every node gossips a small
 * `ConvergenceDigest` (Merkle root + version summary); from the latest digest of each live peer
 * this node reports
 * - `agreement(now)`: the fraction of live members (itself included) whose root equals its own,
 *   i.e. who hold exactly the same replicated state;
 * - for sampled updates (origin, counter): the time from sampling until every live member's
 *   summary covered the update, and its infection curve (when each member was seen having it),
 *   drained with `pollConverged()`.
 *
 * Sans-IO: time comes in as `now`, membership as `handleMemberAlive/Gone`, digests as
 * `handleDigest` (peers) and `handleLocalDigest` (this node, after each local change or
 * periodically). The time to everyone is observed, so it is an upper bound of the true time by
 * at most the digest gossip delay.
 */
export interface ConvergenceTrackerOptions {
  /**
   * A peer whose latest digest is older than this counts as not agreeing (unknown) in
   * `agreement` (default: never stale). Pick a few gossip intervals.
   */
  readonly digestMaxAgeMs?: number;
  /** Pending sampled updates kept at most; beyond it new samples are refused and counted. Default 1,024. */
  readonly samplesMax?: number;
  /** For `handleUpdate`: the probability that an update is sampled (default 0: only `sampleUpdate`). */
  readonly sampleRate?: number;
  /** Draws the sampling decisions of `handleUpdate`; required when `sampleRate` > 0. */
  readonly rng?: Rng;
}

export interface Agreement {
  /** Live members, this node included. */
  readonly live: number;
  /** Live members whose latest (fresh) root equals this node's, this node included. */
  readonly agreeing: number;
  /** Live peers with no fresh digest. */
  readonly unknown: number;
  /** agreeing / live. */
  readonly fraction: number;
}

export interface ConvergedUpdate {
  readonly origin: string;
  readonly counter: number;
  readonly sampledAtMs: number;
  /** When the last live member was seen covering it (or the last uncovered one left). */
  readonly everyoneAtMs: number;
  readonly elapsedMs: number;
  /** Live members it had to reach (at the end). */
  readonly members: number;
  /**
   * The infection curve: for each member seen covering the update, the ms after sampling at which
   * it was (0 for those that had it already), ascending. Members that died first are not in it.
   */
  readonly curveMs: readonly number[];
}

interface Sample {
  readonly origin: string;
  readonly counter: number;
  readonly sampledAtMs: number;
  readonly remaining: Set<string>;
  readonly curveMs: number[];
  /** When the last member was seen (or known) covering it so far. */
  lastMs: number;
}

interface Seen {
  readonly digest: ConvergenceDigest;
  readonly atMs: number;
}

const EMPTY: ConvergenceDigest = { rootHi: 0, rootLo: 0, summary: new Map() };

export class ConvergenceTracker {
  private local: ConvergenceDigest = EMPTY;
  private readonly live = new Set<string>();
  private readonly peers = new Map<string, Seen>();
  private samples: Sample[] = [];
  /** Pending samples by `origin\0counter` (acknowledgements name one). */
  private readonly byDot = new Map<string, Sample>();
  private readonly converged = new PollQueue<ConvergedUpdate>();
  private readonly digestMaxAgeMs: number;
  private readonly samplesMax: number;
  private readonly sampleRate: number;
  private readonly rng: Rng | undefined;
  private ignoredDigests = 0;
  private refusedSamples = 0;

  constructor(
    readonly self: string,
    options: ConvergenceTrackerOptions = {},
  ) {
    this.digestMaxAgeMs = options.digestMaxAgeMs ?? Infinity;
    this.samplesMax = options.samplesMax ?? 1024;
    this.sampleRate = options.sampleRate ?? 0;
    this.rng = options.rng;
    if (!(this.sampleRate >= 0 && this.sampleRate <= 1)) throw new RangeError(`ConvergenceTracker: sampleRate must be in [0, 1], got ${this.sampleRate}`);
    if (this.sampleRate > 0 && this.rng === undefined) throw new RangeError('ConvergenceTracker: sampleRate > 0 needs an rng');
    this.live.add(self);
  }

  /** This node's digest, to piggyback. */
  localDigest(): ConvergenceDigest {
    return this.local;
  }

  /** This node's state changed (or periodically): its new root and summary. */
  handleLocalDigest(now: number, digest: ConvergenceDigest): void {
    this.local = digest;
    this.settle(now, this.self, digest);
  }

  /**
   * A peer's digest arrived. `madeAtMs`: when the peer made its summary (its clock), if known:
   * the peer held what the summary covers by then, a tighter bound than the arrival for sampled
   * updates (a digest relayed through others arrives long after it was made). Digests from
   * members not known alive are ignored (and counted).
   */
  handleDigest(now: number, from: string, digest: ConvergenceDigest, madeAtMs: number = now): void {
    if (from === this.self) return;
    if (!this.live.has(from)) {
      this.ignoredDigests++;
      return;
    }
    this.peers.set(from, { digest, atMs: now });
    this.settle(now, from, digest, madeAtMs);
  }

  /**
   * A peer's version summary, made at `madeAtMs` (its clock), read for the sampled updates it
   * covers and not kept (a summary is O(writers); `handleDigest` keeps what it is given).
   * Summaries from members not known alive are ignored (and counted).
   */
  handleSummary(now: number, from: string, summary: ReadonlyMap<string, number>, madeAtMs: number = now): void {
    if (from === this.self) return;
    if (!this.live.has(from)) {
      this.ignoredDigests++;
      return;
    }
    this.settle(now, from, { rootHi: 0, rootLo: 0, summary }, madeAtMs);
  }

  /** A member is alive (joined or refuted): it must receive pending sampled updates too. */
  handleMemberAlive(_now: number, name: string): void {
    if (this.live.has(name)) return;
    this.live.add(name);
    for (const s of this.samples) s.remaining.add(name);
  }

  /** A member died or left: its digest is forgotten and it no longer holds up any sample. */
  handleMemberGone(now: number, name: string): void {
    if (name === this.self || !this.live.delete(name)) return;
    this.peers.delete(name);
    this.finishWhere((s) => {
      if (!s.remaining.delete(name)) return false;
      if (now > s.lastMs) s.lastMs = now; // it lacked the update until it left (not in the curve)
      return true;
    });
  }

  /** Starts timing update `counter` of `origin` until every live member's summary covers it. */
  sampleUpdate(now: number, origin: string, counter: number): boolean {
    if (this.samples.length >= this.samplesMax) {
      this.refusedSamples++;
      return false;
    }
    const remaining = new Set<string>();
    const curveMs: number[] = [];
    for (const name of this.live) {
      // This node's own write is held here as it is sampled (its summary note may be older).
      const d = name === this.self ? this.local : this.peers.get(name)?.digest;
      if (name === this.self && origin === this.self) curveMs.push(0);
      else if (d === undefined || !covers(d.summary, origin, counter)) remaining.add(name);
      else curveMs.push(0);
    }
    const s: Sample = { origin, counter, sampledAtMs: now, remaining, curveMs, lastMs: now };
    if (remaining.size === 0) this.converged.push(this.result(s));
    else {
      this.samples.push(s);
      this.byDot.set(dotKey(origin, counter), s);
    }
    return true;
  }

  /** An update was applied or originated: sampled with probability `sampleRate`. */
  handleUpdate(now: number, origin: string, counter: number): boolean {
    if (this.sampleRate === 0 || this.rng === undefined || this.rng.next() >= this.sampleRate) return false;
    return this.sampleUpdate(now, origin, counter);
  }

  /** The next sampled update every live member has, in the order they completed. */
  pollConverged(): ConvergedUpdate | undefined {
    return this.converged.poll();
  }

  /** Fraction of live members (this node included) holding the same root as this node. */
  agreement(now: number): Agreement {
    let agreeing = 1;
    let unknown = 0;
    for (const name of this.live) {
      if (name === this.self) continue;
      const seen = this.peers.get(name);
      if (seen === undefined || now - seen.atMs > this.digestMaxAgeMs) {
        unknown++;
        continue;
      }
      if (seen.digest.rootHi === this.local.rootHi && seen.digest.rootLo === this.local.rootLo) agreeing++;
    }
    return { live: this.live.size, agreeing, unknown, fraction: agreeing / this.live.size };
  }

  get pendingSamples(): number {
    return this.samples.length;
  }

  stats(): { ignoredDigests: number; refusedSamples: number; pendingSamples: number } {
    return { ignoredDigests: this.ignoredDigests, refusedSamples: this.refusedSamples, pendingSamples: this.samples.length };
  }

  /**
   * `member` acknowledged a sampled update: its state reflected it at `atMs` (its clock). The most
   * precise evidence (summaries and aggregate bounds arrive later and are stamped later). Returns
   * whether it settled a member of a pending sample; acknowledgements from members not known
   * alive, of updates not sampled here or already settled change nothing.
   */
  handleAck(now: number, member: string, origin: string, counter: number, atMs: number): boolean {
    if (!this.live.has(member)) {
      this.ignoredDigests++;
      return false;
    }
    const s = this.byDot.get(dotKey(origin, counter));
    if (s === undefined || !this.settleMember(s, member, now, atMs)) return false;
    if (s.remaining.size === 0) this.finishDone();
    return true;
  }

  /**
   * An aggregate bound: every one of `members` held at least `min` by `byMs` (a stability
   * generation: the pointwise minimum of their summaries, the latest taken at `byMs`). Samples it
   * covers are settled for those members at `byMs`, an upper bound that needs no member's own
   * summary (at hundreds of members, summaries reach every node slowly).
   */
  handleStable(now: number, min: ReadonlyMap<string, number>, members: ReadonlySet<string>, byMs: number): void {
    if (this.samples.length === 0) return;
    this.finishWhere((s) => {
      if (!covers(min, s.origin, s.counter)) return false;
      let touched = false;
      for (const name of members) if (this.settleMember(s, name, now, byMs)) touched = true;
      return touched;
    });
  }

  /** `name`'s summary, made at `madeAtMs`, is now `digest`'s: drop it from the samples it covers. */
  private settle(now: number, name: string, digest: ConvergenceDigest, madeAtMs = now): void {
    if (this.samples.length === 0) return;
    this.finishWhere((s) => covers(digest.summary, s.origin, s.counter) && this.settleMember(s, name, now, madeAtMs));
  }

  /**
   * `name` had sample `s` by `atMs` (clamped between the sampling and now): it leaves the
   * remaining set and joins the curve. False if it was not remaining.
   */
  private settleMember(s: Sample, name: string, now: number, atMs: number): boolean {
    if (!s.remaining.delete(name)) return false;
    const at = Math.min(now, Math.max(atMs, s.sampledAtMs));
    s.curveMs.push(at - s.sampledAtMs);
    if (at > s.lastMs) s.lastMs = at;
    return true;
  }

  /** Applies `touch` to every pending sample; those left with no one remaining are finished. */
  private finishWhere(touch: (s: Sample) => boolean): void {
    let done = false;
    for (const s of this.samples) if (touch(s) && s.remaining.size === 0) done = true;
    if (done) this.finishDone();
  }

  /** Moves every sample no member still lacks to the converged list. */
  private finishDone(): void {
    const still: Sample[] = [];
    for (const s of this.samples) {
      if (s.remaining.size > 0) {
        still.push(s);
        continue;
      }
      this.byDot.delete(dotKey(s.origin, s.counter));
      this.converged.push(this.result(s));
    }
    this.samples = still;
  }

  private result(s: Sample): ConvergedUpdate {
    const curveMs = s.curveMs.sort((a, b) => a - b);
    return { origin: s.origin, counter: s.counter, sampledAtMs: s.sampledAtMs, everyoneAtMs: s.lastMs, elapsedMs: s.lastMs - s.sampledAtMs, members: this.live.size, curveMs };
  }
}

function dotKey(origin: string, counter: number): string {
  return `${origin}\0${counter}`;
}
