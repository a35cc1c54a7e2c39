import type { Address, Millis } from '../core/ids.js';
import type { Message, StreamMessage } from '../core/messages.js';
import type { Transmit } from '../core/membership/node.js';
import type { DataStateDelegate, SerfEvent, SerfNode } from '../core/serf/index.js';
import { dataMessageKind } from '../wire/data.js';
import type { DataEvent } from './data-layer.js';
import type { DrivenNode } from './driver.js';
import type { DurableStateNode } from './durable-state-node.js';
import type { WireHeaders } from './wire-headers.js';
import type { ViewEvent } from '../core/views/index.js';
import { VIEW_NOTE_TYPE } from '../wire/view-note.js';
import type { RingChangedEvent, ViewPlane } from './view-plane.js';
import { NO_HEADERS } from './wire-headers.js';
import type { QuorumPlane } from './quorum-plane.js';
import { QUORUM_TYPE } from '../wire/quorum.js';

/** One of our data layer's messages (a memberlist user message whose first byte is a data type). */
function isDataMessage(m: Message | StreamMessage): boolean {
  return m.type === 'user' && dataMessageKind(m.payload[0] ?? 0) !== undefined;
}

/**
 * The Serf node and the state node (`DurableStateNode`) as one driven node, so one driver loop
 * runs both: packets and streams go to Serf; Serf's `data-message` events of our kinds go to the
 * state node (the rest pass through); the state node's transmits leave through
 * `SerfNode.sendData` (only to members tagged with our data tag); membership's bytes are charged
 * to the state node's byte budget; the timer is the earlier of the two.
 */
export class SerfWithState implements DrivenNode<SerfEvent | DataEvent | ViewEvent | RingChangedEvent> {
  /** The membership views (issue 16), when the node runs them: their notes come in as data messages of type 0xbc. */
  views: ViewPlane | null = null;
  /** Quorum writes and reads (issue 16): their messages come in as data messages of type 0xbd. */
  quorum: QuorumPlane | null = null;
  /** Set by the runtime: asks the driver to drain again (the data node has output after an event). */
  wake: () => void = () => undefined;
  /** Data messages addressed to members that are not (or no longer) data peers. */
  unsent = 0;
  private now: Millis;

  constructor(
    readonly engine: SerfNode,
    readonly data: DurableStateNode,
    now: Millis,
    /** What the network adds to what the transport is handed (IP and UDP or TCP headers), for the byte budget. */
    private readonly headers: WireHeaders = NO_HEADERS,
  ) {
    this.now = now;
  }

  /**
   * Membership's bytes are charged to the data layer's budget as they leave (packet or stream,
   * with their headers); the data layer charges its own messages before they leave.
   */
  handleSent(now: Millis, t: Transmit, wireBytes: number): void {
    if (t.message !== null && isDataMessage(t.message)) return;
    this.data.chargeMembership(now, wireBytes + (t.kind === 'packet' ? this.headers.packetBytes : this.headers.streamBytes(wireBytes)));
  }

  /**
   * What Serf's push-pull carries for the state node: its `localState()` at a join (the
   * StateNode has none: a joiner catches up by anti-entropy), nothing on periodic push-pulls.
   */
  static delegate(data: () => DurableStateNode | null): DataStateDelegate {
    return {
      localState: (join) => (join ? data()?.localState() ?? null : null),
      mergeRemoteState: (now, buf) => data()?.handleRemoteState(now, 'push-pull', buf),
    };
  }

  handlePacket(now: Millis, from: Address, msg: Message): void {
    this.now = now;
    this.engine.handlePacket(now, from, msg);
  }

  handleStreamRequest(now: Millis, from: Address, streamId: number, msg: StreamMessage): void {
    this.now = now;
    this.engine.handleStreamRequest(now, from, streamId, msg);
  }

  handleStreamReply(now: Millis, streamId: number, msg: StreamMessage | null): void {
    this.now = now;
    this.engine.handleStreamReply(now, streamId, msg);
  }

  handleTimeout(now: Millis): void {
    this.now = now;
    const s = this.engine.pollTimeout();
    if (s !== undefined && s <= now) this.engine.handleTimeout(now);
    if (this.data.pollTimeout() <= now) this.data.handleTimeout(now);
    const v = this.views?.pollTimeout();
    if (v !== undefined && v <= now) this.views?.handleTimeout(now);
    const q = this.quorum?.pollTimeout();
    if (q !== undefined && q <= now) this.quorum?.handleTimeout(now);
  }

  /** Runs `fn` on the data node at `now` (a local operation through the driver's `input`). */
  input<T>(now: Millis, fn: (data: DurableStateNode) => T): T {
    this.now = now;
    return fn(this.data);
  }

  pollTransmit(): Transmit | undefined {
    if (!this.engine.isStopped) {
      for (let t = this.data.pollTransmit(); t !== undefined; t = this.data.pollTransmit()) {
        if (!this.engine.sendData(this.now, t.to, t.dataType, t.payload, t.reliable)) this.unsent++;
      }
    }
    return this.engine.pollTransmit();
  }

  pollEvent(): SerfEvent | DataEvent | ViewEvent | RingChangedEvent | undefined {
    for (;;) {
      const d = this.data.pollEvent() ?? this.views?.pollEvent();
      if (d !== undefined) return d;
      const e = this.engine.pollEvent();
      if (e === undefined) return undefined;
      if (this.views !== null) {
        if (e.type === 'member-joined' || e.type === 'member-updated') this.views.handleTags(this.now, e.member.name, e.member.tags);
        if (e.type === 'data-message' && e.dataType === VIEW_NOTE_TYPE) {
          this.views.handleNote(this.now, e.payload);
          continue;
        }
      }
      if (e.type === 'data-message' && e.dataType === QUORUM_TYPE && this.quorum !== null) {
        this.quorum.handleMessage(this.now, e.node, e.payload);
        this.wake();
        continue;
      }
      if (e.type !== 'data-message' || dataMessageKind(e.dataType) === undefined) return e;
      // Ours. Over a stream the sender's address is an ephemeral port (no member): its `src` says who.
      this.data.handleMessage(this.now, e.node, e.dataType, e.payload, e.from);
      this.wake();
    }
  }

  pollTimeout(): Millis | undefined {
    const s = this.engine.pollTimeout();
    const d = this.data.pollTimeout();
    const first = s === undefined || d < s ? d : s;
    const v = this.views?.pollTimeout();
    const withViews = v === undefined || v >= first ? first : (v as Millis);
    const q = this.quorum?.pollTimeout();
    return q === undefined || q >= withViews ? withViews : (q as Millis);
  }
}
