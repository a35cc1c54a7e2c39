import type { GossipNodeOptions, NodeDelegate } from '../membership/node.js';
import type { SerfConfig } from './config.js';
import type { DataStateDelegate } from './data-channel.js';
import type { SerfKeyring } from './keyring.js';
import type { SerfCodec, SerfEventSlot } from './messages.js';

// What a `SerfNode` is made with, and the options of its `join` and `forceLeave`.

/** Options of `SerfNode.join`. */
export interface JoinOptions {
  /**
   * Serf's `Join(existing, ignoreOld = true)`: raise the event floor to the seed's event clock,
   * so the events the cluster had before are not delivered, and neither is any event still in
   * flight below it. Only for a join an operator asks for; default false (the buffer the seeds
   * send is replayed, each event delivered once).
   */
  readonly ignoreOldEvents?: boolean;
}

/** Options of `SerfNode.forceLeave`. */
export interface ForceLeaveOptions {
  /**
   * Serf 0.9's `force-leave -prune`: every member forgets the node at once (`member-reaped`)
   * instead of keeping it `left` until `tombstoneTimeoutMs`.
   */
  readonly prune?: boolean;
}

export interface SerfNodeOptions extends Omit<GossipNodeOptions, 'meta' | 'vsn' | 'delegate' | 'events'> {
  readonly codec: SerfCodec;
  readonly tags?: Readonly<Record<string, string>>;
  /** For the `_serf_*-key` queries; null: "encryption not enabled", as Serf answers without a keyring. */
  readonly keyring?: SerfKeyring | null;
  readonly serf?: Partial<SerfConfig>;
  readonly dataState?: DataStateDelegate;
  /**
   * The Lamport clocks a previous life of this node saved (Serf's snapshot): the clocks start
   * there, and events and queries below them (from before the restart) are not delivered
   * again. The floor is the saved clock itself, not clock + 1 as in Serf (whose snapshot keeps
   * the last event's time, not the clock): an event another node stamps with that very time
   * after we stopped is still delivered.
   */
  readonly clocks?: { readonly member: number; readonly event: number; readonly query: number };
  /**
   * The event buffer a previous life saved with its clocks (`recentEvents()`). With it, the
   * restarted node de-duplicates against what it delivered instead of flooring at the saved
   * clock, so an event that was still on its way when the node stopped (stamped below the
   * clock by a node that had not yet heard of the newer ones) is delivered after the restart,
   * and nothing in the buffer twice.
   */
  readonly recentEvents?: readonly SerfEventSlot[];
  /** Network coordinates (Serf's ping delegate): our ack payload, every direct probe's answer, and the extra pings that settle `nearest` in a large cluster. */
  readonly ping?: Pick<NodeDelegate, 'ackPayload' | 'notifyPingComplete' | 'extraPingTarget' | 'notifyPinged'>;
}
