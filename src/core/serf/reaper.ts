import type { Millis } from '../ids.js';
import type { SerfContext } from './context.js';
import type { MemberState, SerfMembers } from './members.js';
import type { SerfQueries } from './queries.js';

const NO_DEADLINE = Infinity;

/**
 * Serf's reaper and reconnector (serf.go: handleReap, handleReconnect). Every `reapIntervalMs`
 * failed members older than `reconnectTimeoutMs` and left ones older than
 * `tombstoneTimeoutMs` are forgotten (`member-reaped`), with members whose prune is due, stale
 * intents and expired queries. Every `reconnectIntervalMs`, while we are alive, with probability
 * `failed / max(1, alive)`, a memberlist join to one random failed member: that is how a
 * healed partition merges again.
 */
export class Reaper {
  private nextReapMs: number;
  private nextReconnectMs: number;

  constructor(
    private readonly ctx: SerfContext,
    private readonly members: SerfMembers,
    private readonly queries: SerfQueries,
    startMs: number,
  ) {
    this.nextReapMs = startMs + ctx.config.reapIntervalMs;
    this.nextReconnectMs = ctx.config.reconnectIntervalMs > 0 ? startMs + ctx.config.reconnectIntervalMs : NO_DEADLINE;
  }

  /** The next reap or reconnect, or `t` if that is earlier. */
  nextDeadline(t: number): number {
    return Math.min(t, this.nextReapMs, this.nextReconnectMs);
  }

  /** Runs what is due at `now`; reconnects only while `alive`. */
  tick(now: Millis, alive: boolean): void {
    const t = now as number;
    if (t >= this.nextReapMs) {
      this.nextReapMs = t + this.ctx.config.reapIntervalMs;
      this.reap(t);
    }
    if (t >= this.nextReconnectMs) {
      this.nextReconnectMs = t + this.ctx.config.reconnectIntervalMs;
      if (alive) this.reconnect(now);
    }
  }

  private reap(t: number): void {
    const cfg = this.ctx.config;
    for (const m of [...this.members.rows()]) {
      if (m.name === this.ctx.name) continue;
      const timeout = m.status === 'failed' ? cfg.reconnectTimeoutMs : m.status === 'left' ? cfg.tombstoneTimeoutMs : -1;
      if (timeout < 0 || t - m.leaveMs <= timeout) continue;
      this.members.erase(m);
    }
    this.members.reapPruned(t);
    this.members.reapIntents(t);
    this.queries.expireInbound(t);
  }

  /** Serf's reconnect: the more members failed, the likelier a memberlist join to one of them. */
  private reconnect(now: Millis): void {
    const failed: MemberState[] = [];
    let left = 0;
    for (const m of this.members.rows()) {
      if (m.status === 'failed') failed.push(m);
      else if (m.status === 'left') left++;
    }
    if (failed.length === 0) return;
    const alive = this.members.size - failed.length - left;
    if (this.ctx.rng.next() > failed.length / Math.max(1, alive)) return;
    const m = failed[this.ctx.rng.int(failed.length)] as MemberState;
    this.ctx.quietJoins.add(this.ctx.gossip.join(now, [m.addr]));
  }
}
