import { TransmitLimitedQueue } from '../broadcast/transmit-queue.js';
import type { Address, Millis } from '../ids.js';
import { millis } from '../ids.js';
import type { SerfBroadcasts } from './broadcasts.js';
import type { SerfConfig } from './config.js';
import type { SerfContext } from './context.js';
import type { SerfMember } from './member.js';
import type { MemberState, SerfMembers } from './members.js';
import { view } from './members.js';
import { DATA_TYPE_MAX, DATA_TYPE_MIN } from './messages.js';

/** The data layer's push-pull state hook: appended to Serf's user state only between members that advertise our tag. */
export interface DataStateDelegate {
  localState(join: boolean): Uint8Array | null;
  mergeRemoteState(now: Millis, buf: Uint8Array, join: boolean): void;
}

/** `tags` with our data tag added (valued `dataVersion`), unless the data tag is off. */
export function withDataTag(config: Readonly<SerfConfig>, tags: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = { ...tags };
  const tag = config.dataTag;
  if (tag !== null) out[tag] = String(config.dataVersion);
  return out;
}

/**
 * Our data channel beside Serf (not part of Serf's protocol): memberlist user messages whose
 * first byte is in [DATA_TYPE_MIN, DATA_TYPE_MAX], sent directly or gossiped from their own
 * transmit-limited queue, and only to members whose tags advertise our data tag (a serf agent
 * would log each as a message of unknown type). Right after a join, one push-pull with such a
 * member brings the data layer's state at once (the seed's tags were unknown at the join).
 */
export class DataChannel {
  /** Data broadcasts, piggybacked only on packets to data peers. */
  readonly queue = new TransmitLimitedQueue<Uint8Array>();

  constructor(
    private readonly ctx: SerfContext,
    private readonly members: SerfMembers,
    private readonly broadcasts: SerfBroadcasts,
    /** The data layer's push-pull state, or null for none. */
    readonly state: DataStateDelegate | null,
  ) {}

  /** The member advertises our data tag (version ≥ 1). */
  isDataPeer(m: MemberState): boolean {
    const tag = this.ctx.config.dataTag;
    if (tag === null) return false;
    const v = m.tags[tag];
    return v !== undefined && Number(v) >= 1;
  }

  /**
   * Alive members that advertise our data tag (self excluded). The same array until the member
   * table changes (its version), so callers may cache what they derive from it by identity.
   */
  peers(): readonly SerfMember[] {
    if (this.peersCache !== null && this.peersVersion === this.members.version) return this.peersCache;
    const out: SerfMember[] = [];
    for (const m of this.members.rows()) if (m.name !== this.ctx.name && m.status === 'alive' && this.isDataPeer(m)) out.push(view(m));
    this.peersCache = out;
    this.peersVersion = this.members.version;
    return out;
  }

  private peersCache: readonly SerfMember[] | null = null;
  private peersVersion = -1;

  /** One message to a data peer, a packet or (`reliable`) a stream; false when `to` is not an alive data peer. */
  send(now: Millis, to: string, dataType: number, payload: Uint8Array, reliable: boolean): boolean {
    const m = this.members.get(to);
    if (m === undefined || m.status !== 'alive' || !this.isDataPeer(m) || to === this.ctx.name) return false;
    this.ctx.gossip.sendUserMessage(now, m.addr, dataFrame(dataType, payload), reliable);
    this.ctx.stats.dataMessagesOut++;
    return true;
  }

  /** Gossips a data message (only on packets to data peers). */
  broadcast(dataType: number, payload: Uint8Array): void {
    this.broadcasts.enqueue(this.queue, dataFrame(dataType, payload), null);
  }

  /** One data message (type byte first) to add to a packet to a data peer, given the bytes left (its own overhead taken off); null: none (the view notes). */
  piggyback: ((roomBytes: number) => Uint8Array | null) | null = null;
  /** Whether the piggyback may have something now (absent: assume so). False lets an idle node skip its gossip rounds. */
  piggybackPending: (() => boolean) | null = null;

  /** Whether `take` may add anything to a packet: data broadcasts queued, or a piggyback that may have a message. */
  get pending(): boolean {
    if (this.queue.length > 0) return true;
    return this.piggyback !== null && (this.piggybackPending?.() ?? true);
  }

  /** Data broadcasts for a packet to `to`, if it is an alive data peer: appended to `out`, then the piggyback if it fits. */
  take(overheadBytes: number, limitBytes: number, retransmits: number, to: Address, out: Uint8Array[]): void {
    if (this.queue.length === 0 && this.piggyback === null) return;
    const m = this.members.at(to);
    if (m === undefined || m.status !== 'alive' || !this.isDataPeer(m)) return;
    let used = 0;
    if (this.queue.length > 0) {
      this.queue.take(overheadBytes, limitBytes, retransmits, out);
      used = this.queue.takenBytes;
    }
    const extra = this.piggyback?.(limitBytes - used - overheadBytes) ?? null;
    if (extra !== null && extra.length + overheadBytes <= limitBytes - used) out.push(extra);
  }

  /** A user message whose type byte is in our range: reported as `data-message`. */
  receive(from: Address, buf: Uint8Array): void {
    this.ctx.stats.dataMessagesIn++;
    this.ctx.events.push({ type: 'data-message', from, node: this.members.nameAt(from) ?? null, dataType: buf[0] as number, payload: buf.subarray(1) });
  }

  /**
   * After our join, one push-pull with a random member advertising our data tag, so the data
   * layer's state does not wait for the periodic exchange (the seed's tags were unknown). It
   * waits JOIN_SYNC_ROUNDS to twice that many gossip rounds, and then until this node's member
   * table has not changed for JOIN_SYNC_QUIET_ROUNDS (plus up to twice as many, at random: the
   * joiners of a storm go quiet together, and their exchanges are spread over 2 s on lan), so
   * the join's gossip has spread: the exchange then brings any member that gossip missed
   * (memberlist's first periodic push-pull is up to 90 s away at 64 nodes; a member missed in a
   * 63-node join storm was listed only then, by serf and by us, in about one run in four), and
   * in a join storm it does not take CPU from the storm while members are still arriving. At
   * the latest JOIN_SYNC_MAX_ROUNDS after the join, however busy the membership.
   */
  syncAfterJoin(): void {
    if (this.state === null) return;
    const round = this.ctx.gossip.config.gossipIntervalMs;
    this.syncAtMs = this.ctx.now + round * (JOIN_SYNC_ROUNDS + this.ctx.rng.int(JOIN_SYNC_ROUNDS + 1));
    this.syncByMs = this.ctx.now + round * JOIN_SYNC_MAX_ROUNDS;
  }

  /** The follow-up push-pull's time, if one is due before `t`. */
  nextDeadline(t: number): number {
    return Math.min(t, this.syncAtMs);
  }

  /** Starts the follow-up push-pull once it is due and the member table is quiet (or the latest time has come). */
  tick(now: number): void {
    if (now < this.syncAtMs) return;
    const round = this.ctx.gossip.config.gossipIntervalMs;
    const quietAt = this.members.changedAtMs + round * JOIN_SYNC_QUIET_ROUNDS;
    if (now < quietAt && now < this.syncByMs) {
      this.syncAtMs = Math.min(this.syncByMs, quietAt + round * this.ctx.rng.int(2 * JOIN_SYNC_QUIET_ROUNDS + 1));
      return;
    }
    this.syncAtMs = Infinity;
    this.syncByMs = Infinity;
    const peers = this.peers();
    if (peers.length === 0) return;
    const m = peers[this.ctx.rng.int(peers.length)] as SerfMember;
    this.ctx.quietJoins.add(this.ctx.gossip.join(millis(now), [m.addr]));
  }

  private syncAtMs = Infinity;
  private syncByMs = Infinity;
}

/** The follow-up push-pull after a join waits this many to twice this many gossip rounds (2–4 s on lan)… */
export const JOIN_SYNC_ROUNDS = 10;
/** … then until the member table has been unchanged for this many rounds (1 s on lan)… */
export const JOIN_SYNC_QUIET_ROUNDS = 5;
/** … but no longer than this many rounds after the join (20 s on lan; memberlist's first periodic push-pull is 30 s or more away). */
export const JOIN_SYNC_MAX_ROUNDS = 100;

function dataFrame(dataType: number, payload: Uint8Array): Uint8Array {
  if (!Number.isInteger(dataType) || dataType < DATA_TYPE_MIN || dataType > DATA_TYPE_MAX) {
    throw new Error(`data message type ${dataType} outside [${DATA_TYPE_MIN}, ${DATA_TYPE_MAX}]`);
  }
  const out = new Uint8Array(1 + payload.length);
  out[0] = dataType;
  out.set(payload, 1);
  return out;
}
