import type { TrafficClass } from '../control/bandwidth.js';
import { TokenBucket } from '../control/bandwidth.js';
import type { Address } from '../ids.js';
import type { StateBytes, StateMessage } from './messages.js';

/** A node's byte budget for the replicated state, membership charged first (see `StateBudget`). */
export interface StateBudgetOptions {
  /** The bucket's refill, bytes per second. */
  readonly rateBytesPerSec: number;
  /** The bucket's depth (at least one packet). */
  readonly burstBytes: number;
  /**
   * Bytes each data message takes on the wire beyond what the node counts for it (the framing
   * the runtime adds: memberlist's user-message type, CRC, encryption, the UDP/IP header).
   * Charged with every message. Default 0.
   */
  readonly packetOverheadBytes?: number;
}

/**
 * The budget for a cap of `capBytesPerSec` on everything a node sends (membership and data
 * layer): bytes in any 1 s window ≤ burst + rate = cap, with a burst of a quarter of the cap
 * (and at least one packet: `packetBytes`, framing included). Throws a RangeError for a cap too
 * small to leave half of it as the sustained rate.
 */
export function budgetForCap(capBytesPerSec: number, packetBytes: number, packetOverheadBytes = 0): StateBudgetOptions {
  if (!Number.isFinite(capBytesPerSec) || !(capBytesPerSec > 0)) throw new RangeError(`bandwidth must be a positive number of bytes per second, got ${capBytesPerSec}`);
  const burstBytes = Math.max(packetBytes, Math.floor(capBytesPerSec / 4));
  const rateBytesPerSec = capBytesPerSec - burstBytes;
  if (rateBytesPerSec < capBytesPerSec / 2) {
    throw new RangeError(`bandwidth ${capBytesPerSec} B/s is below ${2 * packetBytes} B/s: one packet of ${packetBytes} bytes must fit in a quarter of a second's budget`);
  }
  return { rateBytesPerSec, burstBytes, packetOverheadBytes };
}

/**
 * Anti-entropy within a budget: each session message about half a burst at most (the rest of the
 * burst for its framing, its digest and the traffic around it), so no step waits for more tokens
 * than the bucket holds. A walk descends into that many nodes' worth of hashes (8 bytes a child),
 * an `rc-entries` carries that many entry bytes; what is left goes in later sessions.
 */
export function sessionBounds(budget: StateBudget, treeFanout: number): { readonly walkNodesMax: number; readonly entriesBytesMax: number } {
  const target = Math.floor((budget.bucket.burstBytes - budget.overheadBytes) / 2);
  return { walkNodesMax: Math.max(1, Math.floor(target / (8 * treeFanout + 4))), entriesBytesMax: Math.max(1, target) };
}

/** A message waiting for the budget, with its counted size. */
export interface HeldMessage {
  readonly to: Address;
  readonly message: StateMessage;
  readonly parts: StateBytes;
}

export interface StateBudgetStats {
  /** Bytes taken, by class (membership's charged, the data layer's own sends: digests, acknowledgements, sessions). */
  readonly bytesByClass: Record<TrafficClass, number>;
  /** Messages of the node's own that did not fit when due: held (a session step) or left to a later round. */
  deferred: number;
  /** Anti-entropy sessions not started because the bucket was below half its depth. */
  sessionsDeferred: number;
  /** Messages larger than the burst, sent when the bucket was full, on credit. */
  oversize: number;
}

/**
 * One token bucket for a node's whole life (the rumor engines of every epoch draw from it too):
 * membership's bytes are charged first, whatever the balance (they must not wait; what follows
 * waits until the debt is repaid); the data layer's messages take tokens only when they are
 * there, critical > normal > repair by the reserve each class leaves for those above it. A
 * message larger than the burst can never find that many tokens: it goes when the bucket is
 * full, on credit, so anti-entropy still finishes (an excess of its size over the burst in that
 * window).
 */
export class StateBudget {
  readonly bucket: TokenBucket;
  readonly overheadBytes: number;
  readonly stats: StateBudgetStats = { bytesByClass: { membership: 0, critical: 0, normal: 0, repair: 0 }, deferred: 0, sessionsDeferred: 0, oversize: 0 };
  private readonly held: HeldMessage[] = [];
  /** The latest time this budget was asked about (a timer is computed from it, never from a guess). */
  private seenMs: number;

  constructor(o: StateBudgetOptions, nowMs: number) {
    this.bucket = new TokenBucket(o.rateBytesPerSec, o.burstBytes, nowMs);
    this.seenMs = nowMs;
    this.overheadBytes = o.packetOverheadBytes ?? 0;
    if (!(this.overheadBytes >= 0)) throw new RangeError(`packetOverheadBytes must be ≥ 0, got ${this.overheadBytes}`);
  }

  /** Traffic that must not wait (membership, or bytes sent that were not counted): taken on credit. */
  charge(nowMs: number, bytes: number, cls: TrafficClass = 'membership'): void {
    if (!(bytes > 0)) return;
    this.see(nowMs);
    this.bucket.charge(nowMs, bytes);
    this.stats.bytesByClass[cls] += bytes;
  }

  /** Tokens there now. */
  available(nowMs: number): number {
    this.see(nowMs);
    return this.bucket.available(nowMs);
  }

  /**
   * Takes the tokens for a message of `bytes` (its framing added) if they are there with
   * `reserveBytes` left over; false (nothing taken) otherwise.
   */
  take(nowMs: number, bytes: number, cls: TrafficClass, reserveBytes = 0, framed = true): boolean {
    const wire = bytes + (framed ? this.overheadBytes : 0);
    this.see(nowMs);
    if (this.bucket.available(nowMs) < this.needed(wire, reserveBytes)) return false;
    if (wire > this.bucket.burstBytes) {
      this.stats.oversize++;
      this.bucket.charge(nowMs, wire);
    } else if (!this.bucket.tryTake(nowMs, wire)) return false;
    this.stats.bytesByClass[cls] += wire;
    return true;
  }

  /** When `take(bytes, …, reserveBytes)` will succeed if nothing else takes tokens meanwhile. */
  readyAtMs(nowMs: number, bytes: number, reserveBytes = 0, framed = true): number {
    return this.bucket.readyAtMs(nowMs, this.needed(bytes + (framed ? this.overheadBytes : 0), reserveBytes));
  }

  /** `readyAtMs` as of the latest time seen (for a timer). */
  readyAtLatestMs(bytes: number, framed: boolean): number {
    return this.readyAtMs(this.seenMs, bytes, 0, framed);
  }

  /**
   * Queues a repair-class message (an anti-entropy step) behind those already waiting: steps of
   * a session must keep their order, and none may be skipped.
   */
  hold(to: Address, message: StateMessage, parts: StateBytes): void {
    this.held.push({ to, message, parts });
  }

  /** The waiting messages that fit now (with `reserveBytes` left), in order, taken off the queue. */
  release(nowMs: number, reserveBytes: number): HeldMessage[] {
    const out: HeldMessage[] = [];
    while (this.held.length > 0) {
      const h = this.held[0] as HeldMessage;
      if (!this.take(nowMs, h.parts.total, 'repair', reserveBytes)) {
        if (out.length === 0) this.stats.deferred++;
        break;
      }
      out.push(h);
      this.held.shift();
    }
    return out;
  }

  /** When the first waiting message will fit (as of the latest time seen); undefined when none waits. */
  heldReadyAtMs(reserveBytes: number): number | undefined {
    const h = this.held[0];
    return h === undefined ? undefined : this.readyAtMs(this.seenMs, h.parts.total, reserveBytes);
  }

  get heldCount(): number {
    return this.held.length;
  }

  /** Drops the waiting messages of a session that ended without them (timed out): the peer gave up on it too. */
  dropSession(peer: Address, session: number, fromInitiator: boolean): void {
    let kept = 0;
    for (const h of this.held) {
      const m = h.message;
      if (m.type === 'state-reconcile' && h.to === peer && m.session === session && m.fromInitiator === fromInitiator) continue;
      this.held[kept++] = h;
    }
    this.held.length = kept;
  }

  private see(nowMs: number): void {
    if (nowMs > this.seenMs) this.seenMs = nowMs;
  }

  /** Tokens a message needs: itself and the reserve, at most a full bucket. */
  private needed(wire: number, reserveBytes: number): number {
    return Math.min(this.bucket.burstBytes, wire + reserveBytes);
  }
}
