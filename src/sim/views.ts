import type { Config } from '../core/config.js';
import { defaultConfig } from '../core/config.js';
import type { NodeEvent } from '../core/events.js';
import type { Address, Millis } from '../core/ids.js';
import { millis } from '../core/ids.js';
import type { NodeDelegate } from '../core/membership/node.js';
import { suspicionTimeoutMs } from '../core/membership/suspicion.js';
import { seededRng, shuffle } from '../core/rng.js';
import type { MembershipView, ViewEvent, ViewNote, ViewState } from '../core/views/index.js';
import { behindView, ViewTracker } from '../core/views/index.js';
import { decodeViewNote, encodeViewNote, encodeViewNoteMessage, VIEW_NOTE_TYPE } from '../wire/view-note.js';
import type { Percentiles } from './membership.js';
import { percentiles } from './membership.js';
import type { DataTransmit, SimDataNode } from './simulator.js';
import { Simulator } from './simulator.js';

/**
 * Agreed membership views in the simulator (issue 16): every node runs a `ViewTracker` beside
 * its production `GossipNode`, fed from the node's member events; the view notes ride in the
 * node's own packets (the membership delegate's piggybacked user messages), so their bytes are
 * the real encoding's and they are lost, delayed and partitioned like any packet.
 *
 * The checker runs on every `view-stable` a node reports: no live member of that view may be
 * behind it at that moment (`behindView`: a record older than the view's, or a live member it
 * does not know). Violations are counted with the first example.
 */
export interface ViewsScenario {
  readonly nodes: number;
  readonly seed: number;
  readonly loss: number;
  readonly settleMs: number;
  readonly configOverrides?: Partial<Config>;
  /** Give up on a phase after this long. Default 180 s. */
  readonly phaseMaxMs?: number;
  /**
   * Serf's reconnect, which bare memberlist lacks: every this often, with probability
   * failed / alive, a node joins one failed member it knows (how split sides find each other
   * again once memberlist stopped gossiping to the dead). Default 30 s (Serf's); 0: off.
   */
  readonly reconnectIntervalMs?: number;
}

export interface ViewChecker {
  /** `view-stable` reports checked. */
  checks: number;
  violations: number;
  firstViolation: string | null;
}

type Phase = 'join' | 'crash' | 'leave';

export interface ChangeResult {
  readonly change: Phase;
  /** From the change until each live node's member records had it. */
  readonly spread: Percentiles;
  /** From the change until each live node reported a stable view that has it. */
  readonly stable: Percentiles;
  /** The last node's stable report minus the moment the change had reached every live node (≤ settle + the notes' spread). */
  readonly afterSpreadMs: number | null;
  /** Live nodes that never reported it within the phase. */
  readonly missing: number;
  /** Distinct stable checksums among live nodes at the end of the phase (1: they agree). */
  readonly distinctStable: number;
}

export interface ViewChangesResult {
  readonly nodes: number;
  readonly seed: number;
  readonly loss: number;
  readonly settleMs: number;
  readonly initialStableMs: number | null;
  readonly changes: readonly ChangeResult[];
  readonly checker: ViewChecker;
  readonly noteBytes: number;
  readonly notes: number;
  readonly simulatedMs: number;
}

/**
 * A tracker as the simulator's data machine: its timer, its events, and the notes it must send on
 * their own (`directDue`: none fitted in a packet for a while) as data packets to a random peer.
 */
class TrackerMachine implements SimDataNode<Uint8Array, ViewEvent> {
  private readonly out: DataTransmit<Uint8Array>[] = [];
  constructor(readonly tracker: ViewTracker, private readonly peer: () => Address | null, private readonly addressOf: (name: string) => Address | null, private readonly onMalformed: () => void) {}
  handleMessage(now: Millis, _from: Address, m: Uint8Array): void {
    const r = decodeViewNote(m);
    if (!r.ok) return this.onMalformed();
    try {
      this.tracker.handleNote(now, r.value);
    } catch {
      this.onMalformed();
    }
  }
  handleTimeout(now: Millis): void {
    this.tracker.handleTimeout(now);
    const replyTo = this.tracker.replyDue();
    if (replyTo !== null) {
      const note = this.tracker.noteForReply();
      this.tracker.replySent(now);
      const to = this.addressOf(replyTo);
      if (to !== null) this.send(to, note);
    }
    if (!this.tracker.directDue(now)) return;
    const note = this.tracker.noteToSend(now);
    const to = this.peer();
    // Marked sent even when no peer was drawn: the next try waits its turn.
    this.tracker.noteSent(now);
    if (note === null || to === null) return;
    this.send(to, note);
  }
  private send(to: Address, note: ViewNote): void {
    const body = encodeViewNote(note);
    this.out.push({ to, message: body, bytes: body.length + 1 });
  }
  pollTransmit(): DataTransmit<Uint8Array> | undefined {
    return this.out.shift();
  }
  pollEvent(): ViewEvent | undefined {
    return this.tracker.pollEvent();
  }
  pollTimeout(): Millis | undefined {
    const t = this.tracker.pollTimeout();
    return t === undefined ? undefined : millis(t);
  }
  chargeMembership(): void {}
}

/** memberlist's states (MemberState order) as view states. */
const STATE_OF: readonly ViewState[] = ['alive', 'suspect', 'failed', 'left'];

/** N simulated nodes with view trackers, the checker, and hooks for the scenarios. */
export class ViewCluster {
  readonly sim: Simulator<Uint8Array, ViewEvent>;
  readonly trackers: (ViewTracker | null)[];
  readonly checker: ViewChecker = { checks: 0, violations: 0, firstViolation: null };
  readonly config: Config;
  notes = 0;
  noteBytes = 0;
  malformed = 0;
  onViewEvent: ((now: number, i: number, e: ViewEvent) => void) | null = null;
  onMemberEvent: ((now: number, i: number, e: NodeEvent) => void) | null = null;
  private readonly byName = new Map<string, number>();
  /** Nodes whose tracker was fed records since the last drain. */
  private readonly changed = new Set<number>();

  constructor(readonly sc: ViewsScenario) {
    this.config = defaultConfig('lan', sc.configOverrides ?? {});
    this.trackers = Array.from({ length: sc.nodes }, () => null);
    this.sim = new Simulator<Uint8Array, ViewEvent>({
      seed: sc.seed, nodes: sc.nodes, config: this.config, network: { loss: sc.loss },
      events: ['member-joined', 'member-failed', 'member-left'],
      delegate: (i) => this.delegateFor(i),
    });
    this.sim.names.forEach((n, i) => this.byName.set(n, i));
    this.sim.observe((now, i, e) => this.memberEvent(now, i, e));
    this.sim.observeData((now, i, e) => this.viewEvent(now, i, e));
    const every = sc.reconnectIntervalMs ?? 30_000;
    if (every > 0) {
      const rng = seededRng(sc.seed ^ 0x2ecd_0a77);
      for (let i = 0; i < sc.nodes; i++) this.sim.at(rng.next() * every, () => this.reconnect(i, every, rng));
    }
  }

  private reconnect(i: number, every: number, rng: ReturnType<typeof seededRng>): void {
    this.sim.at(this.sim.now + every, () => this.reconnect(i, every, rng));
    const t = this.trackers[i];
    if (!this.isLive(i) || t === null || t === undefined) return;
    const failed: number[] = [];
    let alive = 0;
    for (const [name, r] of t.recordsView()) {
      if (r.state === 'failed') failed.push(this.byName.get(name) ?? -1);
      else if (r.state !== 'left') alive++;
    }
    if (failed.length === 0 || rng.next() > failed.length / Math.max(1, alive)) return;
    const j = failed[rng.int(failed.length)] as number;
    if (j >= 0) this.sim.join(i, [j]);
  }

  /** Starts node i knowing every node alive (no join traffic). */
  startConverged(i: number): void {
    this.sim.startConverged(i);
    this.attach(i);
  }

  /** Starts node i and joins it through `seeds`. */
  join(i: number, seeds: readonly number[]): void {
    this.sim.join(i, seeds);
    this.attach(i);
  }

  isLive(i: number): boolean {
    return this.sim.isUp(i) && this.trackers[i] !== null;
  }

  /** Node indexes that are up. */
  live(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.sc.nodes; i++) if (this.isLive(i)) out.push(i);
    return out;
  }

  /** Whether every live node reports the same stable view, current for it. */
  allStableAlike(): boolean {
    let sum: number | null = null;
    for (const i of this.live()) {
      const t = this.trackers[i] as ViewTracker;
      if (t.pending || !t.isStable()) return false;
      const c = t.view().checksum;
      if (sum !== null && c !== sum) return false;
      sum = c;
    }
    return sum !== null;
  }

  /** Suspicion's upper bound at this size (Lifeguard's max timeout). */
  suspicionMaxMs(): number {
    return suspicionTimeoutMs(this.config.suspicionMult, this.sc.nodes, this.config.probeIntervalMs) * this.config.suspicionMaxTimeoutMult;
  }

  /** Runs until `until()` holds (checked every 100 ms) or `maxMs` passed; returns when it held, or null. */
  runUntil(until: () => boolean, maxMs: number): number | null {
    const end = this.sim.now + maxMs;
    let hit: number | null = null;
    const tick = (): void => {
      if (until()) {
        hit = this.sim.now;
        return;
      }
      if (this.sim.now + 100 <= end) this.sim.at(this.sim.now + 100, tick);
    };
    this.sim.at(this.sim.now, tick);
    this.sim.run(end, () => hit !== null);
    return hit;
  }

  run(ms: number): void {
    this.sim.run(this.sim.now + ms);
  }

  private attach(i: number): void {
    const t = this.trackers[i];
    const node = this.sim.nodes[i];
    if (t === null || t === undefined || node === null || node === undefined) return;
    // Every record change (an alive member's new incarnation too, which raises no event).
    node.watchMembers((name, state, inc) => {
      if (state === null) t.handleMemberGone(this.sim.now, name);
      else t.handleMember(this.sim.now, name, STATE_OF[state] ?? 'failed', inc);
      if (this.changed.has(i)) return;
      this.changed.add(i);
      // Drained as its own step at the same instant (its timer and events).
      this.sim.at(this.sim.now, () => {
        this.changed.delete(i);
        if (this.trackers[i] === t) this.sim.withData(i, () => undefined);
      });
    });
    const rng = this.sim.rng.fork();
    this.sim.attach(i, new TrackerMachine(t, () => {
      const peers = this.sim.nodes[i]?.members() ?? [];
      const m = peers[rng.int(peers.length)];
      return m === undefined || m.name === this.sim.names[i] ? null : m.addr;
    }, (name) => {
      const j = this.byName.get(name);
      return j === undefined ? null : (this.sim.addrs[j] ?? null);
    }, () => this.malformed++));
  }

  private delegateFor(i: number): NodeDelegate {
    const tracker = new ViewTracker({ name: this.sim.names[i] as string, now: this.sim.now, settleMs: this.sc.settleMs });
    this.trackers[i] = tracker;
    let cached: { note: ViewNote; bytes: Uint8Array } | null = null;
    return {
      getBroadcasts: (overhead, limit) => {
        const note = tracker.noteToSend(this.sim.now);
        if (note === null) return [];
        if (cached?.note !== note) cached = { note, bytes: encodeViewNoteMessage(note) };
        if (cached.bytes.length + overhead > limit) return [];
        tracker.noteSent(this.sim.now);
        this.notes++;
        this.noteBytes += cached.bytes.length + overhead;
        return [cached.bytes];
      },
      notifyMsg: (now, _from, payload) => {
        const r = payload[0] === VIEW_NOTE_TYPE ? decodeViewNote(payload.subarray(1)) : null;
        if (r === null || !r.ok) {
          this.malformed++;
          return;
        }
        // Handled as its own step at the same instant, so its events and timer are drained.
        this.sim.at(now, () => {
          if (this.trackers[i] !== tracker) return;
          this.sim.withData(i, () => {
            try {
              tracker.handleNote(now, r.value);
            } catch {
              this.malformed++;
            }
          });
        });
      },
    };
  }

  private memberEvent(now: number, i: number, e: NodeEvent): void {
    if (this.trackers[i] === null) return;
    this.onMemberEvent?.(now, i, e);
  }



  private viewEvent(now: number, i: number, e: ViewEvent): void {
    if (e.type === 'view-stable') this.check(i, e.view);
    this.onViewEvent?.(now, i, e);
  }

  /** The checker: no live member of a view reported stable is behind it at this moment. */
  private check(i: number, v: MembershipView): void {
    this.checker.checks++;
    for (const m of v.members) {
      if (m.state !== 'alive' && m.state !== 'suspect') continue;
      const j = this.byName.get(m.name);
      if (j === undefined || j === i || !this.isLive(j)) continue;
      const t = this.trackers[j] as ViewTracker;
      if (!t.pending && t.view().checksum === v.checksum) continue;
      const behind = behindView(t.recordsView(), v);
      if (behind === null) continue;
      this.checker.violations++;
      this.checker.firstViolation ??= `t=${this.sim.now}: node-${i} reported stable view ${v.checksum.toString(16)} (epoch ${v.epoch}) but node-${j} is behind it: ${behind}`;
    }
  }
}

/**
 * Join, crash, leave, one after the other on a converged cluster of `nodes − 1` (the last node
 * joins); each phase waits for every live node to report a stable view that has the change.
 */
export function runViewChanges(sc: ViewsScenario): ViewChangesResult {
  const c = new ViewCluster(sc);
  const n = sc.nodes;
  const joiner = n - 1;
  for (let i = 0; i < joiner; i++) c.startConverged(i);
  const phaseMax = sc.phaseMaxMs ?? 180_000;
  const initialStableMs = c.runUntil(() => c.allStableAlike(), phaseMax);
  const plan = shuffle(seededRng(sc.seed ^ 0x51ed270b), Array.from({ length: joiner - 3 }, (_, i) => i + 3));
  const changes: ChangeResult[] = [];
  const phases: { change: Phase; subject: number; target: ViewState; act: () => void }[] = [
    { change: 'join', subject: joiner, target: 'alive', act: () => c.join(joiner, [0, 1, 2]) },
    { change: 'crash', subject: plan[0] as number, target: 'failed', act: () => c.sim.crash(plan[0] as number) },
    { change: 'leave', subject: plan[1] as number, target: 'left', act: () => c.sim.leave(plan[1] as number) },
  ];
  for (const p of phases) {
    const name = c.sim.names[p.subject] as string;
    const t0 = c.sim.now;
    const spreadAt = new Map<number, number>();
    const stableAt = new Map<number, number>();
    const has = (i: number): boolean => c.trackers[i]?.recordsView().get(name)?.state === p.target;
    c.onMemberEvent = (now, i) => {
      if (!spreadAt.has(i) && has(i)) spreadAt.set(i, now - t0);
    };
    c.onViewEvent = (now, i, e) => {
      if (e.type === 'view-stable' && !stableAt.has(i) && e.view.members.some((m) => m.name === name && m.state === p.target)) stableAt.set(i, now - t0);
    };
    p.act();
    const others = (): number[] => c.live().filter((i) => i !== p.subject);
    c.runUntil(() => others().every((i) => stableAt.has(i)), phaseMax);
    const live = others();
    const spreads = live.map((i) => spreadAt.get(i) ?? (p.change === 'join' && i === joiner ? 0 : NaN)).filter((x) => !Number.isNaN(x));
    const stables = live.map((i) => stableAt.get(i)).filter((x): x is number => x !== undefined);
    const spreadAll = spreads.length === live.length ? Math.max(...spreads) : null;
    const stableAll = stables.length === live.length ? Math.max(...stables) : null;
    const sums = new Set(live.map((i) => c.trackers[i]?.stableView()?.checksum ?? -1));
    changes.push({
      change: p.change, spread: percentiles(spreads), stable: percentiles(stables),
      afterSpreadMs: spreadAll !== null && stableAll !== null ? stableAll - spreadAll : null,
      missing: live.length - stables.length, distinctStable: sums.size,
    });
    c.onMemberEvent = null;
    c.onViewEvent = null;
    // Let the cluster settle before the next change.
    c.runUntil(() => c.allStableAlike(), phaseMax);
  }
  return { nodes: n, seed: sc.seed, loss: sc.loss, settleMs: sc.settleMs, initialStableMs, changes, checker: c.checker, noteBytes: c.noteBytes, notes: c.notes, simulatedMs: c.sim.now };
}

export interface SplitResult {
  /** `70/30` or `50/50`. */
  readonly split: string;
  /** Suspicion's upper bound plus the settle time: the minority must have lost quorum by then. */
  readonly boundMs: number;
  /** Quorum losses on the majority side while split (must be 0; none in a 50/50 split has one). */
  readonly majorityLosses: number;
  /** From the split until each node of a side without a majority reported `quorum-lost`. */
  readonly lost: Percentiles & { readonly missing: number };
  /** Nodes that claimed quorum at the bound on a side without a majority (must be 0). */
  readonly minorityClaims: number;
  /** From the heal until each node had quorum again. */
  readonly regained: Percentiles & { readonly missing: number };
  /** After the heal: every node reports the same stable view (ms after the heal, null: not within the phase). */
  readonly stableAfterHealMs: number | null;
}

export interface PartitionsResult {
  readonly nodes: number;
  readonly seed: number;
  readonly loss: number;
  readonly settleMs: number;
  readonly splits: readonly SplitResult[];
  readonly checker: ViewChecker;
  readonly simulatedMs: number;
}

/**
 * A converged cluster split 70/30, healed, then split 50/50 and healed (`splits`: the larger
 * sides' fractions, default [0.7, 0.5]). Each split lasts until
 * every node without a majority lost quorum (or the bound passed), plus `holdMs` (default 10 s).
 */
export function runPartitions(sc: ViewsScenario & { readonly holdMs?: number; readonly splits?: readonly number[] }): PartitionsResult {
  const c = new ViewCluster(sc);
  const n = sc.nodes;
  for (let i = 0; i < n; i++) c.startConverged(i);
  const phaseMax = sc.phaseMaxMs ?? 180_000;
  c.runUntil(() => c.allStableAlike() && c.live().every((i) => c.trackers[i]?.hasQuorum() === true), phaseMax);
  const rng = seededRng(sc.seed ^ 0x7a3d_5e11);
  const boundMs = c.suspicionMaxMs() + sc.settleMs;
  const splits: SplitResult[] = [];
  for (const fraction of sc.splits ?? [0.7, 0.5]) {
    if (!(fraction >= 0.5 && fraction < 1)) throw new RangeError(`partitions: a split's larger side is a fraction in [0.5, 1), got ${fraction}`);
    const order = shuffle(rng, Array.from({ length: n }, (_, i) => i));
    const bigSize = Math.round(n * fraction);
    const groups = new Uint8Array(n);
    for (let k = bigSize; k < n; k++) groups[order[k] as number] = 1;
    // A side has a majority only if it is more than half of the cluster.
    const majority = (i: number): boolean => (groups[i] === 0 ? bigSize : n - bigSize) > n / 2;
    const lostAt = new Map<number, number>();
    const regainedAt = new Map<number, number>();
    let majorityLosses = 0;
    let t0 = c.sim.now;
    let healed = false;
    c.onViewEvent = (now, i, e) => {
      if (e.type === 'quorum-lost' && !healed) {
        if (majority(i)) majorityLosses++;
        else if (!lostAt.has(i)) lostAt.set(i, now - t0);
      }
      if (e.type === 'quorum-regained' && healed && !regainedAt.has(i)) regainedAt.set(i, now - t0);
    };
    c.sim.partition(groups);
    const minority = c.live().filter((i) => !majority(i));
    c.runUntil(() => minority.every((i) => lostAt.has(i)), boundMs);
    const atBound = Math.max(0, t0 + boundMs - c.sim.now);
    c.run(Math.min(atBound, sc.holdMs ?? 10_000));
    if (c.sim.now < t0 + boundMs) c.run(t0 + boundMs - c.sim.now);
    const minorityClaims = minority.filter((i) => c.trackers[i]?.hasQuorum() === true).length;
    c.run(Math.max(0, (sc.holdMs ?? 10_000) - (c.sim.now - t0 - boundMs)));
    const lost = minority.map((i) => lostAt.get(i)).filter((x): x is number => x !== undefined);
    healed = true;
    t0 = c.sim.now;
    c.sim.heal();
    for (const i of c.live()) if (c.trackers[i]?.hasQuorum() === true) regainedAt.set(i, 0);
    const stableAfterHeal = c.runUntil(() => c.live().every((i) => regainedAt.has(i)) && c.allStableAlike(), phaseMax);
    const regained = c.live().map((i) => regainedAt.get(i)).filter((x): x is number => x !== undefined);
    splits.push({
      split: `${Math.round(fraction * 100)}/${Math.round((1 - fraction) * 100)}`, boundMs, majorityLosses,
      lost: { ...percentiles(lost), missing: minority.length - lost.length }, minorityClaims,
      regained: { ...percentiles(regained), missing: c.live().length - regained.length },
      stableAfterHealMs: stableAfterHeal === null ? null : stableAfterHeal - t0,
    });
    c.onViewEvent = null;
  }
  return { nodes: n, seed: sc.seed, loss: sc.loss, settleMs: sc.settleMs, splits, checker: c.checker, simulatedMs: c.sim.now };
}
