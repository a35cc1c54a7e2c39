import type { Address, Millis } from '../ids.js';
import { incarnation as toIncarnation } from '../ids.js';
import type { AliveMsg, PushPullMsg } from '../messages.js';
import { MemberState } from '../messages.js';
import type { NodeDelegate, PushPullPeer } from './delegate.js';
import type { MemberList } from './member-list.js';
import type { Outbox } from './outbox.js';

/**
 * memberlist's push-pull (reference §6.6): a full-state exchange over a stream. A join is
 * one to each seed (`join = true`); anti-entropy is one every push-pull interval (scaled by
 * the cluster size) with a random alive member. Both sides send their whole member list
 * and merge the other's; a delegate adds its user state to each.
 */
export class PushPull {
  private nextJoinId = 1;
  /** Joins under way, by id: seeds not yet answered, answered, failed. */
  private readonly joins = new Map<number, { pending: number; contacted: number; failed: number }>();

  constructor(
    private readonly members: MemberList,
    private readonly delegate: NodeDelegate | null,
    private readonly out: Outbox,
  ) {}

  /**
   * Contacts each seed (never ourselves); `join-completed` with the returned id follows when all
   * answered or failed. Each call counts on its own, as memberlist's Join does: a join issued while
   * another (or a quiet one of Serf's) is still under way is not merged into it.
   */
  join(now: Millis, seeds: readonly Address[]): number {
    const id = this.nextJoinId++;
    const j = { pending: 0, contacted: 0, failed: 0 };
    for (const seed of seeds) {
      if (seed === this.members.addr) continue;
      j.pending++;
      // The stream's sequence number carries the join's id (join streams need none of their own).
      this.out.openStream(now, seed, 'join', this.message(true, { role: 'initiator', to: seed }), id);
    }
    if (j.pending === 0) this.out.emit({ type: 'join-completed', joinId: id, contacted: 0, failed: 0 });
    else this.joins.set(id, j);
    return id;
  }

  /** Anti-entropy with one random alive member (not while leaving). */
  periodic(now: Millis): void {
    if (this.members.leaving) return;
    const table = this.members.table;
    const peers = this.members.randomMembers(1, (s) => table.state(s) === MemberState.Alive);
    const s = peers[0];
    if (s === undefined) return;
    const to = table.addr(s);
    this.out.openStream(now, to, 'push-pull', this.message(false, { role: 'initiator', to }), 0);
  }

  /** A peer's push-pull request: reply with our state first (Join echoed), then merge theirs, as memberlist does. */
  handleRequest(now: Millis, from: Address, streamId: number, msg: PushPullMsg): void {
    const peer: PushPullPeer = { role: 'responder', from, remoteState: msg.userState };
    this.out.reply(streamId, this.message(msg.join, peer));
    this.merge(now, msg, from, peer);
  }

  /** The answer to a push-pull we started (`joinId`: the join it belongs to, null for a periodic one). */
  handleReply(now: Millis, to: Address, msg: PushPullMsg, joinId: number | null): void {
    this.merge(now, msg, to, { role: 'initiator', to });
    if (joinId !== null) this.joinDone(joinId, true);
  }

  /** A join stream failed (refused, timed out, or answered with something else). */
  joinStreamFailed(joinId: number): void {
    this.joinDone(joinId, false);
  }

  private joinDone(id: number, contacted: boolean): void {
    const j = this.joins.get(id);
    if (j === undefined) return;
    if (contacted) j.contacted++;
    else j.failed++;
    if (--j.pending > 0) return;
    this.joins.delete(id);
    this.out.emit({ type: 'join-completed', joinId: id, contacted: j.contacted, failed: j.failed });
  }

  /** Our whole member list (memberlist's pushNodeState per member) and the delegate's user state. */
  private message(join: boolean, peer: PushPullPeer): PushPullMsg {
    const t = this.members.table;
    const n = t.size;
    const records: AliveMsg[] = new Array<AliveMsg>(n);
    const incarnations = new Uint32Array(n);
    const states = new Uint8Array(n);
    let i = 0;
    for (let s = 0; s < t.capacity; s++) {
      if (!t.inUse(s)) continue;
      records[i] = t.record(s);
      incarnations[i] = t.incarnation(s);
      states[i] = t.state(s);
      i++;
    }
    const d = this.delegate;
    const userState = d === null || d.localState === undefined ? null : d.localState(join, peer);
    return { type: 'push-pull', join, records, incarnations, states, userState: userState !== null && userState.length > 0 ? userState : null };
  }

  /**
   * Merges a peer's push-pull state (memberlist's mergeState): alive → alive message, left →
   * dead{from: itself}, dead or suspect → only a suspicion from us (a remote death is never
   * trusted directly).
   *
   * Every news learned this way is re-gossiped, as memberlist does. (Keeping it quiet saves
   * queue space in a join storm, but then a node that learned a member by push-pull drops
   * later gossip about it as old news and stops spreading it: measured at 1,000 nodes, join
   * convergence went from 30 s to 184 s, waiting for the next push-pull round.)
   */
  private merge(now: Millis, m: PushPullMsg, peer: Address | null, pushPullPeer: PushPullPeer): void {
    const members = this.members;
    const table = members.table;
    const n = m.records.length;
    if (m.incarnations.length !== n || m.states.length !== n) {
      this.out.protocolError(peer, 'malformed', `push-pull with ${n} records, ${m.incarnations.length} incarnations, ${m.states.length} states`);
      return;
    }
    for (let i = 0; i < n; i++) {
      const r = m.records[i];
      if (typeof r !== 'object' || r === null) {
        // Only a broken decoder hands us this; the members before it are merged already, as before.
        this.out.protocolError(peer, 'malformed', `push-pull record ${i} is not a record`);
        return;
      }
      const inc = m.incarnations[i] as number;
      switch (m.states[i] as MemberState) {
        case MemberState.Alive: {
          // Fast path: exactly what we hold already (the common case between converged nodes).
          const known = table.slotOf(r.node);
          if (known >= 0 && table.record(known) === r && table.incarnation(known) >= inc && table.state(known) === MemberState.Alive) break;
          const a: AliveMsg = inc === r.incarnation ? r : { ...r, incarnation: toIncarnation(inc) };
          members.aliveNode(now, a, false);
          break;
        }
        case MemberState.Left:
          members.deadNode(now, { type: 'dead', incarnation: toIncarnation(inc), node: r.node, from: r.node });
          break;
        case MemberState.Dead:
        case MemberState.Suspect:
          if (r.node === members.name && r.addr !== members.addr) {
            // Our previous life's address, suspected or dead there: not reclaimed yet.
            if (this.out.wants('self-address-stale')) this.out.emit({ type: 'self-address-stale', staleAddr: r.addr });
            break;
          }
          members.suspectNode(now, { type: 'suspect', incarnation: toIncarnation(inc), node: r.node, from: members.name });
          break;
        default:
          this.out.protocolError(peer, 'malformed', `push-pull state ${String(m.states[i])} for ${r.node}`);
      }
    }
    // memberlist calls the delegate only when UserStateLen > 0, after the member list.
    const d = this.delegate;
    if (d !== null && d.mergeRemoteState !== undefined && m.userState !== null && m.userState.length > 0) {
      d.mergeRemoteState(now, m.userState, m.join, pushPullPeer);
    }
  }
}
