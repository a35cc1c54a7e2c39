import { TransmitLimitedQueue } from '../broadcast/transmit-queue.js';
import type { SerfContext } from './context.js';

/**
 * Serf's three broadcast queues (serf.go: broadcasts, eventBroadcasts, queryBroadcasts), each
 * transmit-limited as memberlist's, each holding at most `maxQueueDepth` (the excess is dropped
 * and counted), piggybacked in that order: intents, then queries, then user events.
 */
export class SerfBroadcasts {
  readonly intents = new TransmitLimitedQueue<Uint8Array>();
  readonly queries = new TransmitLimitedQueue<Uint8Array>();
  readonly events = new TransmitLimitedQueue<Uint8Array>();

  constructor(private readonly ctx: SerfContext) {}

  /** Broadcasts waiting in the three queues. */
  get depth(): number {
    return this.intents.length + this.queries.length + this.events.length;
  }

  /** Queues `raw` on `q`; `onSent` runs once it was sent its retransmit limit, or at once if the queue is full (dropped, counted). */
  enqueue(q: TransmitLimitedQueue<Uint8Array>, raw: Uint8Array, onSent: (() => void) | null): void {
    if (q.length >= this.ctx.config.maxQueueDepth) {
      this.ctx.stats.broadcastsDropped++;
      onSent?.();
      return;
    }
    q.enqueue(null, raw, raw.length, onSent === null ? null : () => onSent());
  }

  /** memberlist's GetBroadcasts over the three queues: appends to `out`, returns the bytes taken. */
  take(overheadBytes: number, limitBytes: number, retransmits: number, out: Uint8Array[]): number {
    let used = 0;
    for (const q of [this.intents, this.queries, this.events]) {
      if (q.length === 0) continue;
      q.take(overheadBytes, limitBytes - used, retransmits, out);
      used += q.takenBytes;
    }
    return used;
  }
}
