import type { Address, Millis, NodeName } from '../ids.js';

/**
 * Which push-pull a delegate's user state belongs to. The initiator knows whom it contacts;
 * the responder knows only the peer's (ephemeral) stream address and the user state the peer
 * sent, so a delegate can answer extra state only to peers that sent some.
 */
export type PushPullPeer =
  | { readonly role: 'initiator'; readonly to: Address }
  | { readonly role: 'responder'; readonly from: Address; readonly remoteState: Uint8Array | null };

/**
 * memberlist's `Delegate` and `PingDelegate`, as optional plain callbacks (sans-IO: they are
 * called synchronously from `handle*`, must not throw for peer input, and do no I/O; output
 * goes through the node's own `send*` methods). With no delegate the node behaves exactly as
 * a bare memberlist node with no delegate.
 */
export interface NodeDelegate {
  /**
   * User broadcasts to piggyback on a packet to `to`, after the node's own membership gossip
   * (memberlist's `GetBroadcasts`). Each returned buffer costs `length + overheadBytes`
   * (the compound part length and the user-message type byte) and their total must stay
   * within `limitBytes`; buffers that would overshoot are dropped and counted
   * (`stats.userBroadcastsDropped`), so a packet never exceeds `packetBytesMax`.
   */
  getBroadcasts?(overheadBytes: number, limitBytes: number, to: Address): readonly Uint8Array[];
  /**
   * Whether `getBroadcasts` may have something to send. When it says no and the node's own
   * queue is empty, gossip rounds are not run and no timer is armed for them (an idle node
   * wakes for its probes only); the ticker keeps its phase, so the first round after news is
   * at most one `gossipIntervalMs` away (at once when a tick was skipped). Absent: rounds
   * always run when `getBroadcasts` is given.
   */
  hasBroadcasts?(): boolean;
  /** A user message from a peer (packet or stream), without its `08` type byte (memberlist's `NotifyMsg`). Replaces the `user-message` event. */
  notifyMsg?(now: Millis, from: Address, payload: Uint8Array): void;
  /** User state for a push-pull (memberlist's `LocalState`); null or empty sends `UserStateLen: 0`. */
  localState?(join: boolean, peer: PushPullPeer): Uint8Array | null;
  /** A peer's non-empty push-pull user state, after its member list was merged (memberlist's `MergeRemoteState`). */
  mergeRemoteState?(now: Millis, buf: Uint8Array, join: boolean, peer: PushPullPeer): void;
  /**
   * Payload of the acks this node sends for direct UDP pings (memberlist's `PingDelegate.AckPayload`).
   * Not memberlist's: `near`, when the ping asked (`PingMsg.near`, only our nodes' extra pings),
   * how many of this node's nearest members to name after the coordinate, and who asked.
   */
  ackPayload?(near?: { readonly count: number; readonly from: NodeName | null }): Uint8Array | null;
  /**
   * A direct UDP probe of `node` was answered `rttMs` after the ping left, with the ack's
   * payload (memberlist's `PingDelegate.NotifyPingComplete`: not for acks that came through
   * an indirect probe or the stream fallback, as memberlist).
   */
  notifyPingComplete?(now: Millis, node: NodeName, rttMs: number, payload: Uint8Array | null): void;
  /**
   * Not memberlist's: at each probe tick, a member to ping beside the probe (or null), to
   * measure its round trip. `probeCycleMs` is how long the prober takes to reach every member
   * once; `isAlive` says which names may be returned (others are ignored). The answer goes to
   * `notifyPingComplete`; no answer is not a failure (see `extra-pings.ts`).
   */
  extraPingTarget?(now: Millis, probeCycleMs: number, isAlive: (node: NodeName) => boolean): NodeName | null;
  /** Not memberlist's: a UDP ping for us arrived from member `from` (the ping's `SourceNode`), before we ack it. */
  notifyPinged?(now: Millis, from: NodeName): void;
}
