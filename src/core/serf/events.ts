import type { NodeEvent } from '../events.js';
import type { Address, Millis } from '../ids.js';
import type { SerfMember } from './members.js';

type PassThrough = Extract<NodeEvent, { type: 'member-suspected' | 'member-recovered' | 'self-refuted' | 'self-address-stale' | 'join-completed' | 'left' | 'protocol-error' }>;

/** What a SerfNode reports, drained with `pollEvent()` (Serf's event.go: member, user and query events). */
export type SerfEvent =
  | { readonly type: 'member-joined'; readonly member: SerfMember }
  | { readonly type: 'member-updated'; readonly member: SerfMember }
  /** A graceful leave (a leave intent preceded the memberlist leave), or a forced leave of a failed member. */
  | { readonly type: 'member-left'; readonly member: SerfMember }
  /** Gone without a leave intent: a crash, a partition, or a bare memberlist leave. */
  | { readonly type: 'member-failed'; readonly member: SerfMember }
  /** Forgotten: reaped after its timeout, or pruned by a force-leave with prune. */
  | { readonly type: 'member-reaped'; readonly member: SerfMember }
  | PassThrough
  | { readonly type: 'user-event'; readonly ltime: number; readonly name: string; readonly payload: Uint8Array; readonly coalesce: boolean }
  /** A query for the application; answer with `respond(now, queryId, payload)` before `deadlineMs`. */
  | {
    readonly type: 'query'; readonly queryId: number; readonly ltime: number; readonly name: string; readonly payload: Uint8Array;
    readonly sourceNode: string; readonly deadlineMs: Millis;
  }
  /** For a query this node sent (`queryId` from `query()`). */
  | { readonly type: 'query-ack'; readonly queryId: number; readonly from: string }
  | { readonly type: 'query-response'; readonly queryId: number; readonly from: string; readonly payload: Uint8Array }
  | { readonly type: 'query-done'; readonly queryId: number; readonly acks: number; readonly responses: number }
  /** A key query changed the keyring (persist it if you keep a keyring file). */
  | { readonly type: 'keyring-change'; readonly op: 'install' | 'use' | 'remove' }
  /** One of our data-layer messages (type byte in [DATA_TYPE_MIN, DATA_TYPE_MAX]). */
  | { readonly type: 'data-message'; readonly from: Address; readonly node: string | null; readonly dataType: number; readonly payload: Uint8Array };

export type SerfEventType = SerfEvent['type'];
