/**
 * One quorum write or read in flight (issue 16), sans-IO: the replicas it counts, the ones that
 * answered, when to ask again, its deadline. The coordinator (the node the application called)
 * counts itself at the start when it is a replica (its own write is durable before the round
 * starts; its own state is its first read reply), asks every other replica, asks again every
 * `resendMs` those that have not answered (a datagram lost, a replica back from a pause: writes
 * and reads are idempotent), and is done once `need` replicas answered, or fails at `deadline`.
 * A replica that refused (its store failed) is asked again: it may recover within the deadline.
 */
export interface QuorumRoundOptions {
  readonly id: number;
  /** The replicas that count (names), the coordinator among them or not. */
  readonly replicas: ReadonlySet<string>;
  readonly need: number;
  /** The coordinator's name: counted at once when it is a replica. */
  readonly self: string;
  readonly now: number;
  readonly timeoutMs: number;
  readonly resendMs: number;
}

export type ReplyOutcome = 'counted' | 'duplicate' | 'stranger';

export class QuorumRound {
  readonly id: number;
  readonly need: number;
  readonly replicas: ReadonlySet<string>;
  readonly deadline: number;
  /** Replicas that answered (acknowledged the write durable, or replied to the read), in order. */
  readonly answered: string[] = [];
  /** Replicas whose latest answer was a refusal, with its reason. */
  readonly refused = new Map<string, string>();
  private readonly askedAt = new Map<string, number>();
  /** Times each replica was asked. */
  private readonly asks = new Map<string, number>();
  private readonly resendMs: number;
  /** When `due` last ran (replicas unreachable then are looked at again `resendMs` later). */
  private lastDue = -Infinity;

  constructor(o: QuorumRoundOptions) {
    if (!Number.isSafeInteger(o.need) || o.need < 1 || o.need > o.replicas.size) throw new RangeError(`QuorumRound: need ${o.need} of ${o.replicas.size} replicas`);
    if (!(o.timeoutMs > 0) || !(o.resendMs > 0)) throw new RangeError('QuorumRound: timeoutMs and resendMs must be > 0');
    this.id = o.id;
    this.need = o.need;
    this.replicas = o.replicas;
    this.deadline = o.now + o.timeoutMs;
    this.resendMs = o.resendMs;
    if (o.replicas.has(o.self)) this.answered.push(o.self);
  }

  get done(): boolean {
    return this.answered.length >= this.need;
  }

  expired(now: number): boolean {
    return !this.done && now >= this.deadline;
  }

  /** A replica's answer (an ack or a read reply). */
  handleAnswer(from: string): ReplyOutcome {
    if (!this.replicas.has(from)) return 'stranger';
    if (this.answered.includes(from)) return 'duplicate';
    this.answered.push(from);
    this.refused.delete(from);
    return 'counted';
  }

  /** A replica refused (it could not make the write durable): asked again later. */
  handleRefusal(from: string, reason: string): ReplyOutcome {
    if (!this.replicas.has(from)) return 'stranger';
    if (this.answered.includes(from)) return 'duplicate';
    this.refused.set(from, reason);
    return 'counted';
  }

  /**
   * The replicas to ask now: those that have not answered, are reachable (`reachable`), and were
   * not asked within `resendMs`. Marks them asked.
   */
  due(now: number, reachable: (name: string) => boolean): string[] {
    if (this.done) return [];
    this.lastDue = now;
    const out: string[] = [];
    for (const r of this.replicas) {
      if (this.answered.includes(r) || !reachable(r)) continue;
      const at = this.askedAt.get(r);
      if (at !== undefined && now < at + this.resendMs) continue;
      this.askedAt.set(r, now);
      this.asks.set(r, (this.asks.get(r) ?? 0) + 1);
      out.push(r);
    }
    return out;
  }

  /**
   * The replicas that neither answered nor refused, with how often each was asked: 0 means it
   * was never reachable while the round ran (not an alive data peer of the coordinator), more
   * means the requests or the answers were lost or late (a partition, a paused process, or a
   * replica that saw the coordinator as failed and would not answer it).
   */
  unanswered(): Map<string, number> {
    const out = new Map<string, number>();
    for (const r of this.replicas) if (!this.answered.includes(r) && !this.refused.has(r)) out.set(r, this.asks.get(r) ?? 0);
    return out;
  }

  /** When the round next needs the clock: the next look at who to ask again, or its deadline. */
  nextAt(): number {
    if (this.done) return Infinity;
    return Math.min(this.deadline, this.lastDue + this.resendMs);
  }
}
