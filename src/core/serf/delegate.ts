import { retransmitLimit } from '../config.js';
import type { Address, Millis } from '../ids.js';
import { address } from '../ids.js';
import type { SerfBroadcasts } from './broadcasts.js';
import type { SerfContext } from './context.js';
import { peerError } from './context.js';
import type { DataChannel } from './data-channel.js';
import type { SerfMembers } from './members.js';
import { DATA_TYPE_MAX, DATA_TYPE_MIN, SerfMessageType } from './messages.js';
import type { SerfQueries } from './queries.js';
import type { UserEvents } from './user-events.js';

/**
 * Serf's memberlist delegate (delegate.go NotifyMsg, GetBroadcasts): each user message is
 * routed by its type byte (intents to the member table, user events, queries and responses,
 * relays forwarded unchanged, our data range to the data channel) and re-gossiped when it was
 * news; packets piggyback the intent, query and event queues, then our data queue (only to
 * data peers), all within the byte budget memberlist leaves.
 */
export class SerfDelegate {
  constructor(
    private readonly ctx: SerfContext,
    private readonly members: SerfMembers,
    private readonly broadcasts: SerfBroadcasts,
    private readonly events: UserEvents,
    private readonly queries: SerfQueries,
    private readonly data: DataChannel,
  ) {}

  getBroadcasts(overheadBytes: number, limitBytes: number, to: Address): Uint8Array[] {
    const limit = retransmitLimit(this.ctx.gossip.config.retransmitMult, this.members.size);
    const out: Uint8Array[] = [];
    const used = this.broadcasts.take(overheadBytes, limitBytes, limit, out);
    this.data.take(overheadBytes, limitBytes - used, limit, to, out);
    return out;
  }

  /** Whether `getBroadcasts` may return anything (memberlist rounds are skipped when not). */
  hasBroadcasts(): boolean {
    return this.broadcasts.depth > 0 || this.data.pending;
  }

  notifyMsg(now: Millis, from: Address, buf: Uint8Array): void {
    // Membership changes earlier in the same packet come first, as in memberlist's handoff.
    this.ctx.drainGossip();
    if (buf.length === 0) return; // Serf ignores empty user messages
    const stats = this.ctx.stats;
    const t = buf[0] as number;
    if (t >= DATA_TYPE_MIN && t <= DATA_TYPE_MAX) {
      this.data.receive(from, buf);
      return;
    }
    stats.messagesIn++;
    if (t > SerfMessageType.relay) {
      stats.unknownMessages++;
      peerError(this.ctx, from, 'unknown-message', `user message of unknown type ${t}`);
      return;
    }
    const r = this.ctx.codec.decode(buf);
    if (!r.ok) {
      stats.malformedMessages++;
      peerError(this.ctx, from, 'malformed', `serf message type ${t}: ${r.reason}: ${r.detail}`);
      return;
    }
    const m = r.value;
    let rebroadcast = false;
    let queue = this.broadcasts.intents;
    switch (m.type) {
      case 'leave':
        rebroadcast = this.members.handleLeaveIntent(m);
        break;
      case 'join':
        rebroadcast = this.members.handleJoinIntent(m);
        break;
      case 'user-event':
        rebroadcast = this.events.handle(m);
        queue = this.broadcasts.events;
        break;
      case 'query':
        rebroadcast = this.queries.handle(now, m);
        queue = this.broadcasts.queries;
        break;
      case 'query-response':
        this.queries.handleResponse(m);
        break;
      case 'relay':
        // Forward the inner message unchanged to its destination (Serf's relayed responses).
        stats.relaysForwarded++;
        this.ctx.gossip.sendUserMessage(now, address(m.destAddr), m.message);
        break;
      case 'push-pull':
      case 'conflict-response':
      case 'key-request':
      case 'key-response':
        stats.unknownMessages++;
        peerError(this.ctx, from, 'unexpected-message', `serf ${m.type} as a user message`);
        break;
    }
    if (rebroadcast) this.broadcasts.enqueue(queue, buf.slice(), null);
  }
}
