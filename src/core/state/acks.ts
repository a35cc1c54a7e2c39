import type { ConvergenceTracker } from '../convergence/tracker.js';
import type { NodeName } from '../ids.js';
import { nodeName } from '../ids.js';
import type { Replica } from '../replica/replica.js';
import type { SampleAck, StateAcksMsg } from './messages.js';
import { MalformedMessage } from './messages.js';
import type { StateSettings } from './options.js';
import type { StateOutbox } from './outbox.js';

/**
 * Acknowledgements of sampled writes: a write whose dot counter is a multiple of `sampleEvery`
 * is timed by its writer until every live member has it; every member acknowledges the sampled
 * writes of others straight to their writer (`state-acks`, at its next digest rounds, each
 * `ackRepeats` times) when its state first reflects them. Without `addressOf` none are sent, and
 * writers time samples by summaries and stability generations only (upper bounds).
 */
export class Acknowledgements {
  /** Acknowledgements to send, by writer, at the next digest rounds (each `left` more times). */
  private readonly pending = new Map<string, { readonly ack: SampleAck; left: number }[]>();

  constructor(
    private readonly name: NodeName,
    private readonly replica: Replica,
    private readonly tracker: ConvergenceTracker,
    private readonly out: StateOutbox,
    private readonly s: StateSettings,
  ) {
    if (s.addressOf !== undefined) replica.watchSampled(s.sampleEvery);
  }

  /** Acknowledgements wait to be sent (the node stays active until they are). */
  get waiting(): boolean {
    return this.pending.size > 0;
  }

  /** A local write just took dot `counter`: the writer times it when sampled. */
  sampleOwnWrite(now: number, counter: number): void {
    if (this.s.sampleEvery > 0 && counter % this.s.sampleEvery === 0) this.tracker.sampleUpdate(now, this.name, counter);
  }

  /** Sampled writes of others this replica came to reflect: acknowledged to their writers at the next digest round. */
  noteSampled(now: number): void {
    if (this.s.addressOf === undefined) return;
    for (const d of this.replica.pollSampledSeen()) {
      let list = this.pending.get(d.origin);
      if (list === undefined) this.pending.set(d.origin, (list = []));
      if (list.length < this.s.acksPerMessage) list.push({ ack: { counter: d.counter, atMs: now }, left: this.s.ackRepeats });
      else this.out.stats.acksDropped++;
    }
  }

  /** At a digest round: one `state-acks` to each writer, within the budget (over it: a later round, repeats and all). */
  send(now: number): void {
    const addressOf = this.s.addressOf;
    if (this.pending.size === 0 || addressOf === undefined) return;
    for (const [origin, pending] of this.pending) {
      const to = addressOf(nodeName(origin));
      if (to === undefined) {
        this.out.stats.acksDropped += pending.length;
        this.pending.delete(origin);
        continue;
      }
      if (!this.out.sendWithin(now, to, { type: 'state-acks', member: this.name, acks: pending.map((p) => p.ack) }, 'repair')) continue;
      this.out.stats.acksSent += pending.length;
      let kept = 0;
      for (const p of pending) if (--p.left > 0) pending[kept++] = p;
      pending.length = kept;
      if (kept === 0) this.pending.delete(origin);
    }
  }

  /** A member's acknowledgements of this node's sampled writes. */
  handle(now: number, m: StateAcksMsg): void {
    if (typeof m.member !== 'string' || !Array.isArray(m.acks)) throw new MalformedMessage('state-acks without a member or acks');
    const acks: SampleAck[] = [];
    for (const a of m.acks as readonly unknown[]) {
      if (typeof a !== 'object' || a === null) throw new MalformedMessage('state-acks: an ack is not a record');
      const { counter, atMs } = a as { counter?: unknown; atMs?: unknown };
      if (typeof counter !== 'number' || !Number.isSafeInteger(counter) || counter < 1 || typeof atMs !== 'number' || !Number.isFinite(atMs)) throw new MalformedMessage('state-acks: a bad counter or time');
      acks.push({ counter, atMs });
    }
    for (const a of acks) if (this.tracker.handleAck(now, m.member, this.name, a.counter, a.atMs)) this.out.stats.acksApplied++;
    this.out.drainConverged();
  }
}
