import type { Address, Incarnation, NodeName } from './ids.js';
import type { MemberStatus } from './messages.js';

/** A member as the embedding layer sees it (a snapshot, not a live reference). */
export interface MemberView {
  readonly name: NodeName;
  readonly addr: Address;
  readonly meta: Uint8Array | null;
  readonly incarnation: Incarnation;
  readonly status: MemberStatus;
  /** Protocol/delegate versions the member advertises: [pmin, pmax, pcur, dmin, dmax, dcur]. */
  readonly vsn: readonly number[];
}

/** Why a packet from a peer was rejected. Counted, reported, dropped; never thrown. */
export type ProtocolErrorReason =
  | 'malformed'
  | 'unexpected-message'
  | 'ping-for-other-node'
  | 'address-conflict'
  | 'compound-in-compound'
  | 'stream-timeout'
  | 'stream-failed'
  | 'remote-error'
  /** A user message whose type byte no layer knows (Serf's 0–9, our data range): counted, dropped. */
  | 'unknown-message';

/** Events are data, drained with `pollEvent()`; discriminated on `type`. */
export type NodeEvent =
  | { readonly type: 'member-joined'; readonly member: MemberView }
  | { readonly type: 'member-updated'; readonly member: MemberView }
  | { readonly type: 'member-suspected'; readonly member: MemberView; readonly from: NodeName }
  | { readonly type: 'member-recovered'; readonly member: MemberView }
  | { readonly type: 'member-failed'; readonly member: MemberView; readonly from: NodeName }
  | { readonly type: 'member-left'; readonly member: MemberView }
  | { readonly type: 'member-reaped'; readonly name: NodeName }
  | { readonly type: 'self-refuted'; readonly incarnation: Incarnation; readonly accusedAt: Incarnation; readonly by: NodeName }
  /**
   * A peer still holds this node's name at another address (a previous life's, before a restart
   * on a new port): it refuses our address until it has declared the old one dead, so the host
   * should push-pull with that peer again later (memberlist would wait for the periodic one).
   */
  | { readonly type: 'self-address-stale'; readonly staleAddr: Address }
  /** One `join()` call's outcome; `joinId` is what that call returned (joins may overlap: each completes on its own). */
  | { readonly type: 'join-completed'; readonly joinId: number; readonly contacted: number; readonly failed: number }
  | { readonly type: 'left' }
  | { readonly type: 'user-message'; readonly from: Address; readonly payload: Uint8Array }
  | { readonly type: 'protocol-error'; readonly from: Address | null; readonly reason: ProtocolErrorReason; readonly detail: string };

export type NodeEventType = NodeEvent['type'];
