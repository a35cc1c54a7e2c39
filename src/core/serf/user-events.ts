import type { SerfBroadcasts } from './broadcasts.js';
import { USER_EVENT_SIZE_MAX } from './config.js';
import type { SerfContext } from './context.js';
import { LamportClock } from './lamport-clock.js';
import { LamportRing } from './lamport-ring.js';
import type { SerfBufferedEvent, SerfEventSlot, SerfUserEventMsg } from './messages.js';
import { countOldDrop } from './stats.js';

const textEncoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

/**
 * Serf's user events (reference §8.9): stamped with the event Lamport clock, de-duplicated by
 * the event buffer (one slot per Lamport time, `eventBufferSize` slots), dropped as old below
 * the floor (a previous life's saved clock, or an operator's ignore-old join) or outside the
 * window the buffer covers, each drop counted by kind and reason. `coalesce` is carried for
 * the application (coalescing is an agent feature).
 */
export class UserEvents {
  readonly clock = new LamportClock();
  /** Events stamped below this are not delivered (Serf's eventMinTime). */
  private floor = 0;
  private readonly ring: LamportRing<SerfBufferedEvent>;

  constructor(
    private readonly ctx: SerfContext,
    private readonly broadcasts: SerfBroadcasts,
    /** The event clock and buffer a previous life saved (see `SerfNodeOptions.clocks`, `recentEvents`). */
    saved: { readonly clock?: number; readonly recent?: readonly SerfEventSlot[] },
  ) {
    if (saved.clock !== undefined) {
      this.clock.witness(saved.clock);
      // A clock is one past the newest time it saw or stamped, so the floor is the clock itself:
      // everything below it may have been delivered before; nothing at or above it was.
      if (saved.clock > 0 && saved.recent === undefined) this.floor = saved.clock;
    }
    this.ring = new LamportRing(ctx.config.eventBufferSize);
    for (const slot of saved.recent ?? []) {
      this.clock.witness(slot.ltime);
      for (const e of slot.events) this.ring.add(slot.ltime, e, sameEvent);
    }
  }

  /**
   * Sends a user event (Serf's `UserEvent`): stamped, delivered locally, gossiped. Throws if
   * `name + payload` or its encoding exceeds `userEventSizeLimit`.
   */
  send(name: string, payload: Uint8Array, coalesce: boolean): void {
    const size = textEncoder.encode(name).length + payload.length;
    const limit = Math.min(this.ctx.config.userEventSizeLimit, USER_EVENT_SIZE_MAX);
    if (size > limit) throw new Error(`user event exceeds the limit of ${limit} bytes (name + payload = ${size})`);
    const msg: SerfUserEventMsg = {
      type: 'user-event', ltime: this.clock.time(), name, payload: payload.length > 0 ? payload : null, cc: coalesce,
    };
    const raw = this.ctx.codec.encode(msg);
    if (raw.length > limit) throw new Error(`encoded user event exceeds the limit of ${limit} bytes (${raw.length})`);
    this.clock.increment();
    this.handle(msg);
    this.broadcasts.enqueue(this.broadcasts.events, raw, null);
  }

  /** A user event from a peer; `replayed`: it came in a peer's push-pull buffer, not gossiped. True when new (re-broadcast it). */
  handle(msg: SerfUserEventMsg, replayed = false): boolean {
    this.clock.witness(msg.ltime);
    const kind = replayed ? 'replayed-event' : 'event';
    if (msg.ltime < this.floor) return countOldDrop(this.ctx.stats, kind, 'below-floor');
    const cur = this.clock.time();
    const window = this.ctx.config.eventBufferSize;
    if (cur > window && msg.ltime < cur - window) return countOldDrop(this.ctx.stats, kind, 'outside-window');
    const e: SerfBufferedEvent = { name: msg.name, payload: msg.payload };
    if (!this.ring.add(msg.ltime, e, sameEvent)) {
      this.ctx.stats.duplicateMessages++;
      return false;
    }
    this.ctx.stats.userEventsIn++;
    this.ctx.events.push({ type: 'user-event', ltime: msg.ltime, name: msg.name, payload: msg.payload ?? EMPTY, coalesce: msg.cc });
    return true;
  }

  /** An ignore-old join: events the cluster had before `ltime` are not delivered. */
  raiseFloor(ltime: number): void {
    if (ltime > this.floor) this.floor = ltime;
  }

  /** The buffer's slots in ring order, empty ones as null (Serf's push-pull `Events`). */
  bufferSlots(): (SerfEventSlot | null)[] {
    const out: (SerfEventSlot | null)[] = [];
    for (const s of this.ring.entries()) out.push(s === undefined ? null : { ltime: s.ltime, events: s.items });
    return out;
  }

  /** The buffered events by Lamport time (what a restart passes back as `recentEvents`). */
  recent(): SerfEventSlot[] {
    const out: SerfEventSlot[] = [];
    for (const s of this.ring.entries()) if (s !== undefined) out.push({ ltime: s.ltime, events: s.items });
    return out.sort((a, b) => a.ltime - b.ltime);
  }
}

function sameEvent(a: SerfBufferedEvent, b: SerfBufferedEvent): boolean {
  if (a.name !== b.name) return false;
  const x = a.payload ?? EMPTY;
  const y = b.payload ?? EMPTY;
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
