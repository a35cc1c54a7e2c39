import type { Address, NodeName } from '../ids.js';
import type { GossipNode } from '../membership/node.js';
import type { PollQueue } from '../poll-queue.js';
import type { Rng } from '../rng.js';
import type { SerfConfig } from './config.js';
import type { SerfEvent } from './events.js';
import type { SerfCodec } from './messages.js';
import type { SerfNodeStats } from './stats.js';

/**
 * What every part of one Serf node shares: who it is, its codec, knobs, random source and
 * counters, the memberlist node underneath, the time of the latest input, and the queue its
 * events go out through. The parts (members, user events, queries, …) hold their own state;
 * this is only the common ground they stand on.
 */
export interface SerfContext {
  readonly name: NodeName;
  readonly addr: Address;
  readonly codec: SerfCodec;
  readonly rng: Rng;
  readonly config: Readonly<SerfConfig>;
  readonly stats: SerfNodeStats;
  readonly events: PollQueue<SerfEvent>;
  readonly gossip: GossipNode;
  /** The time of the latest input (`handle*`, `join`, `query`, …). */
  now: number;
  /**
   * Memberlist joins this node started on its own (reconnect, the data-state sync after a
   * join), not the application, by join id: their `join-completed` is not reported.
   */
  readonly quietJoins: Set<number>;
  /** Turns memberlist's pending events into Serf's (called before a user message or state is read, as memberlist hands them off in order). */
  drainGossip(): void;
}

/** Reports a peer's bad input as a `protocol-error` event (the caller counts it). */
export function peerError(ctx: SerfContext, from: Address | null, reason: 'malformed' | 'unexpected-message' | 'unknown-message', detail: string): void {
  ctx.events.push({ type: 'protocol-error', from, reason, detail });
}
