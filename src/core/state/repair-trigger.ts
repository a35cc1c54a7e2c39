import type { VersionSummary } from '../replica/summary.js';
import type { StateSettings } from './options.js';
import type { ReplicaTree } from './replica-tree.js';

/**
 * Whether an anti-entropy session is worth starting now, while rumors spread the writes: a
 * differing root during a write stream mostly means rumors in flight, and a session started for
 * it repairs what the rumors deliver anyway. A session is warranted when a difference persists:
 * some member's version summary claimed writes this replica still lacks `repairGraceMs` later
 * (what the rumors missed), or this node's own root has not changed for `repairGraceMs` (no
 * rumor is arriving here, so a peer's differing root is no longer in flight). Without rumors every
 * difference is worth a session.
 */
export class RepairTrigger {
  /** Per origin, the first unmet claim: a counter some member had seen up to, and since when. */
  private readonly claims = new Map<string, { readonly counter: number; readonly atMs: number }>();
  /** This node's root and when it last changed (as seen at `noteOwnRoot`). */
  private rootHi = 0;
  private rootLo = 0;
  private rootSinceMs: number;

  constructor(
    private readonly keys: ReplicaTree,
    private readonly s: StateSettings,
    now: number,
  ) {
    this.rootHi = keys.tree.rootHi();
    this.rootLo = keys.tree.rootLo();
    this.rootSinceMs = now;
  }

  /** A member's version summary: the origins it is ahead of this replica on, remembered with the time first seen. */
  noteSummary(now: number, summary: VersionSummary): void {
    if (!this.s.rumors || this.s.repairGraceMs === 0) return;
    const replica = this.keys.replica;
    for (const [origin, counter] of summary) {
      if (this.claims.has(origin) || replica.seenUpTo(origin) >= counter) continue;
      this.claims.set(origin, { counter, atMs: now });
    }
  }

  /** Whether a session should start now (see the class). */
  warranted(now: number): boolean {
    if (!this.s.rumors || this.s.repairGraceMs === 0) return true;
    this.noteOwnRoot(now);
    if (now - this.rootSinceMs >= this.s.repairGraceMs) return true;
    const replica = this.keys.replica;
    let missed = false;
    for (const [origin, c] of this.claims) {
      if (replica.seenUpTo(origin) >= c.counter) this.claims.delete(origin);
      else if (now - c.atMs >= this.s.repairGraceMs) missed = true;
    }
    return missed;
  }

  /** Called when this node's state may have changed: notes when its root last moved. */
  noteOwnRoot(now: number): void {
    const hi = this.keys.tree.rootHi();
    const lo = this.keys.tree.rootLo();
    if (hi === this.rootHi && lo === this.rootLo) return;
    this.rootHi = hi;
    this.rootLo = lo;
    this.rootSinceMs = now;
  }
}
