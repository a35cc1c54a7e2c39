import type { ViewState } from '../../../src/core/views/index.js';
import { ViewTracker } from '../../../src/core/views/index.js';

/** N trackers on a perfect network: `exchange` delivers every active node's note to every node it can reach. */
export class Cluster {
  readonly trackers = new Map<string, ViewTracker>();
  now = 0;
  /** name → side; nodes on different sides cannot talk. */
  side = new Map<string, number>();

  constructor(names: readonly string[], opts: { settleMs?: number; weightTag?: string; forgetAfterMs?: number } = {}) {
    for (const n of names) this.trackers.set(n, new ViewTracker({ name: n, now: 0, settleMs: opts.settleMs ?? 1000, ...(opts.weightTag !== undefined ? { weightTag: opts.weightTag } : {}), ...(opts.forgetAfterMs !== undefined ? { forgetAfterMs: opts.forgetAfterMs } : {}) }));
  }

  /** Every tracker learns `name` in `state` (or only those listed in `at`). */
  set(name: string, state: ViewState, inc = 1, tags: Record<string, string> = {}, at?: readonly string[]): void {
    for (const [n, t] of this.trackers) if (at === undefined || at.includes(n)) t.handleMember(this.now, name, state, inc, tags);
  }

  exchange(): void {
    for (const t of this.trackers.values()) t.handleTimeout(this.now);
    for (const [from, t] of this.trackers) {
      const note = t.noteToSend(this.now);
      if (note === null) continue;
      t.noteSent(this.now);
      for (const [to, u] of this.trackers) if (to !== from && (this.side.get(to) ?? 0) === (this.side.get(from) ?? 0)) u.handleNote(this.now, note);
    }
  }

  advance(ms: number, stepMs = 100): void {
    for (let t = 0; t < ms; t += stepMs) {
      this.now += stepMs;
      this.exchange();
    }
  }

  events(name: string): string[] {
    const t = this.trackers.get(name) as ViewTracker;
    const out: string[] = [];
    for (let e = t.pollEvent(); e !== undefined; e = t.pollEvent()) out.push(e.type);
    return out;
  }

  get(name: string): ViewTracker {
    return this.trackers.get(name) as ViewTracker;
  }
}
