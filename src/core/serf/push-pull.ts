import type { Millis } from '../ids.js';
import type { PushPullPeer } from '../membership/delegate.js';
import type { SerfContext } from './context.js';
import { peerError } from './context.js';
import type { DataChannel } from './data-channel.js';
import type { SerfMembers } from './members.js';
import type { SerfCodec, SerfPushPullMsg } from './messages.js';
import { SerfMessageType } from './messages.js';
import type { SerfQueries } from './queries.js';
import type { UserEvents } from './user-events.js';

/**
 * Serf's push-pull user state (delegate.go LocalState / MergeRemoteState): the three Lamport
 * clocks, every member's status time, the left members and the event buffer go out; coming
 * in, the clocks are witnessed (one below: nothing at that time was sent yet), left members
 * replay as leave intents one past their join time, the others as join intents, and the
 * buffered events replay (each delivered once by the de-dup ring; only an operator's
 * ignore-old join raises the floor instead). Our data layer's state rides after Serf's map as
 * a trailer, only with peers that advertise our data tag.
 */
export class SerfPushPull {
  /**
   * The remote state a responder last decoded to see whether it carries a trailer, kept for the
   * merge that follows (memberlist answers a push-pull before it merges it): one decode each.
   */
  private decoded: { readonly buf: Uint8Array; readonly r: ReturnType<SerfCodec['decode']> } | null = null;

  constructor(
    private readonly ctx: SerfContext,
    private readonly members: SerfMembers,
    private readonly events: UserEvents,
    private readonly queries: SerfQueries,
    private readonly data: DataChannel,
    /** A join asked with `ignoreOldEvents` is in progress: its push-pulls raise the event floor. */
    private readonly joinIgnoresOld: () => boolean,
  ) {}

  localState(join: boolean, peer: PushPullPeer): Uint8Array {
    const statusLTimes = new Map<string, number>();
    const left: string[] = [];
    for (const m of this.members.rows()) {
      statusLTimes.set(m.name, m.statusLTime);
      if (m.status === 'left') left.push(m.name);
    }
    const pp: SerfPushPullMsg = {
      type: 'push-pull', ltime: this.members.clock.time(), statusLTimes, leftMembers: left, eventLTime: this.events.clock.time(),
      events: this.events.bufferSlots(), queryLTime: this.queries.clock.time(), trailer: this.dataTrailer(join, peer),
    };
    return this.ctx.codec.encode(pp);
  }

  mergeRemoteState(now: Millis, buf: Uint8Array, join: boolean, peer: PushPullPeer): void {
    this.ctx.drainGossip();
    const memo = this.decoded;
    this.decoded = null;
    const from = peer.role === 'initiator' ? peer.to : peer.from;
    if (buf[0] !== SerfMessageType.pushPull) {
      this.ctx.stats.malformedMessages++;
      peerError(this.ctx, from, 'malformed', `remote state has bad type prefix ${String(buf[0])}`);
      return;
    }
    const r = memo !== null && memo.buf === buf ? memo.r : this.ctx.codec.decode(buf);
    if (!r.ok || r.value.type !== 'push-pull') {
      this.ctx.stats.malformedMessages++;
      peerError(this.ctx, from, 'malformed', r.ok ? 'remote state is not a push-pull' : `remote state: ${r.reason}: ${r.detail}`);
      return;
    }
    const pp = r.value;
    // Witness the clocks first, one below: no message with that time was sent yet.
    if (pp.ltime > 0) this.members.clock.witness(pp.ltime - 1);
    if (pp.eventLTime > 0) this.events.clock.witness(pp.eventLTime - 1);
    if (pp.queryLTime > 0) this.queries.clock.witness(pp.queryLTime - 1);
    // Left members first, one past their join time, so the leave is newer than the join.
    const leftSet = new Set(pp.leftMembers);
    for (const name of pp.leftMembers) {
      this.members.handleLeaveIntent({ type: 'leave', ltime: (pp.statusLTimes.get(name) ?? 0) + 1, node: name, prune: false });
    }
    for (const [name, ltime] of pp.statusLTimes) {
      if (leftSet.has(name)) continue;
      this.members.handleJoinIntent({ type: 'join', ltime, node: name });
    }
    // Only an operator's ignore-old join raises the floor (Serf's eventJoinIgnore); any other
    // join, and every periodic push-pull, replays the peer's buffer: that is how a node gets
    // the events it missed (a UDP outage, a restart), each delivered once by the de-dup ring.
    if (join && this.joinIgnoresOld()) this.events.raiseFloor(pp.eventLTime);
    for (const slot of pp.events) {
      if (slot === null) continue;
      for (const e of slot.events) this.events.handle({ type: 'user-event', ltime: slot.ltime, name: e.name, payload: e.payload, cc: false }, true);
    }
    if (pp.trailer !== null && this.data.state !== null) this.data.state.mergeRemoteState(now, pp.trailer, join);
  }

  /** Our data layer's state rides after Serf's push-pull, only with peers that are ours. */
  private dataTrailer(join: boolean, peer: PushPullPeer): Uint8Array | null {
    const d = this.data.state;
    if (d === null) return null;
    if (peer.role === 'initiator') {
      const m = this.members.at(peer.to);
      if (m === undefined || !this.data.isDataPeer(m)) return null;
    } else {
      if (peer.remoteState === null) return null;
      const r = this.ctx.codec.decode(peer.remoteState);
      this.decoded = { buf: peer.remoteState, r };
      if (!r.ok || r.value.type !== 'push-pull' || r.value.trailer === null) return null;
    }
    const s = d.localState(join);
    return s !== null && s.length > 0 ? s : null;
  }
}
