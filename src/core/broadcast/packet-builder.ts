import type { COMPOUND_PARTS_MAX as WIRE_COMPOUND_PARTS_MAX } from '../../wire/limits.js';
import type { Address } from '../ids.js';
import type { MembershipMsg, Message, UserMsg } from '../messages.js';
import { COMPOUND_HEADER_BYTES, COMPOUND_PART_BYTES, messageBytes } from '../messages.js';
import { TransmitLimitedQueue } from './transmit-queue.js';

/**
 * memberlist v0.2.2 mis-parses compounds of 128 parts or more (reference §3.2): delegate parts
 * stop at this count. The wire's encoder refuses more (its own constant; the type ties the two).
 */
const COMPOUND_PARTS_MAX: typeof WIRE_COMPOUND_PARTS_MAX = 127;
/** A user message adds its `08` type byte to the delegate's bytes. */
const USER_MSG_BYTES = 1;

/** Where user broadcasts come from (memberlist's `Delegate.GetBroadcasts`; see NodeDelegate). */
export interface UserBroadcasts {
  getBroadcasts?(overheadBytes: number, limitBytes: number, to: Address): readonly Uint8Array[];
  hasBroadcasts?(): boolean;
}

/** Counters the builder keeps (fields of the node's stats). */
export interface PacketBuilderStats {
  userMessagesOut: number;
  userBroadcastsDropped: number;
}

/**
 * Every packet a node sends goes through here (memberlist's sendMsg, getBroadcasts and
 * gossip): a message gets the queued membership gossip piggybacked in the space left, then
 * the delegate's user broadcasts, as one compound that never exceeds `packetBytesMax`.
 * Byte counts are exact (the compound header, each part's 2-byte length, each part).
 */
export class PacketBuilder {
  /** Membership gossip waiting to be piggybacked, at most `retransmitLimit()` times each. */
  readonly queue = new TransmitLimitedQueue<MembershipMsg>();

  constructor(
    private readonly packetBytesMax: number,
    /** The current retransmit limit (it follows the cluster size). */
    private readonly retransmitLimit: () => number,
    private readonly delegate: UserBroadcasts | null,
    private readonly stats: PacketBuilderStats,
    /** Where finished packets go, with their encoded size. */
    private readonly send: (to: Address, m: Message, bytes: number) => void,
  ) {}

  /** Whether a delegate supplies user broadcasts: then gossip rounds run even with no membership news. */
  get hasUserBroadcasts(): boolean {
    return this.delegate?.getBroadcasts !== undefined;
  }

  /** Whether a gossip round could send anything: queued broadcasts, or user broadcasts the delegate may have. */
  get gossipPending(): boolean {
    if (this.queue.length > 0) return true;
    const d = this.delegate;
    return d !== null && d.getBroadcasts !== undefined && (d.hasBroadcasts?.() ?? true);
  }

  /** Sends one message and piggybacks queued broadcasts in the space left (memberlist's sendMsg). */
  sendPacket(to: Address, m: Message): void {
    const bytes = messageBytes(m);
    // The message itself becomes the first part of a compound: header, its length, itself.
    const avail = this.packetBytesMax - COMPOUND_HEADER_BYTES - COMPOUND_PART_BYTES - bytes;
    const extra: Message[] = this.queue.length > 0 ? this.queue.take(COMPOUND_PART_BYTES, avail, this.retransmitLimit()) : [];
    let taken = extra.length > 0 ? this.queue.takenBytes : 0;
    if (this.hasUserBroadcasts) taken += this.takeUserBroadcasts(to, avail - taken, extra, 1);
    if (extra.length === 0) {
      this.send(to, m, bytes);
      return;
    }
    const parts: Message[] = [m];
    for (const e of extra) parts.push(e);
    this.send(to, { type: 'compound', parts }, COMPOUND_HEADER_BYTES + COMPOUND_PART_BYTES + bytes + taken);
  }

  /** Sends one message on its own, nothing piggybacked (it may be in the queue itself). */
  sendAlone(to: Address, m: Message): void {
    this.send(to, m, messageBytes(m));
  }

  /** Sends several messages as one compound, with piggybacked broadcasts in the space left. */
  sendCompound(to: Address, msgs: Message[]): void {
    let used = COMPOUND_HEADER_BYTES;
    for (const m of msgs) used += messageBytes(m) + COMPOUND_PART_BYTES;
    const extra: Message[] = this.queue.length > 0 ? this.queue.take(COMPOUND_PART_BYTES, this.packetBytesMax - used, this.retransmitLimit()) : [];
    let taken = extra.length > 0 ? this.queue.takenBytes : 0;
    if (this.hasUserBroadcasts) taken += this.takeUserBroadcasts(to, this.packetBytesMax - used - taken, extra, msgs.length);
    this.send(to, { type: 'compound', parts: msgs.concat(extra) }, used + taken);
  }

  /**
   * One gossip packet to `to` (memberlist's gossip round, per peer): queued broadcasts and
   * user broadcasts, alone or as a compound. Returns false when there was nothing to send.
   */
  gossip(to: Address): boolean {
    const budget = this.packetBytesMax - COMPOUND_HEADER_BYTES;
    const msgs: Message[] = this.queue.take(COMPOUND_PART_BYTES, budget, this.retransmitLimit());
    let taken = this.queue.takenBytes;
    if (this.hasUserBroadcasts) taken += this.takeUserBroadcasts(to, budget - taken, msgs);
    if (msgs.length === 0) return false;
    if (msgs.length === 1) this.send(to, msgs[0] as Message, taken - COMPOUND_PART_BYTES);
    else this.send(to, { type: 'compound', parts: msgs }, COMPOUND_HEADER_BYTES + taken);
    return true;
  }

  /**
   * memberlist's getBroadcasts, delegate half: asks the delegate for user broadcasts within
   * `limitBytes` (each part costs its bytes + 2-byte length + 1 type byte), appends them to
   * `out` as user messages and returns the bytes used. Whatever overshoots the budget or the
   * compound part limit is dropped and counted, never sent.
   */
  private takeUserBroadcasts(to: Address, limitBytes: number, out: Message[], partsBefore = 0): number {
    const overhead = COMPOUND_PART_BYTES + USER_MSG_BYTES;
    const d = this.delegate;
    if (d === null || d.getBroadcasts === undefined || limitBytes <= overhead) return 0;
    const bufs = d.getBroadcasts(overhead, limitBytes, to);
    let used = 0;
    for (const payload of bufs) {
      const cost = payload.length + overhead;
      if (payload.length === 0 || used + cost > limitBytes || partsBefore + out.length >= COMPOUND_PARTS_MAX) {
        this.stats.userBroadcastsDropped++;
        continue;
      }
      used += cost;
      out.push({ type: 'user', payload } satisfies UserMsg);
      this.stats.userMessagesOut++;
    }
    return used;
  }
}
