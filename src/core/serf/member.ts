import type { Address } from '../ids.js';

/** Serf's member statuses (reference §8.4). */
export type SerfMemberStatus = 'alive' | 'leaving' | 'left' | 'failed';

/** A member as Serf sees it: `serf members` shows these fields. */
export interface SerfMember {
  readonly name: string;
  readonly addr: Address;
  readonly tags: Readonly<Record<string, string>>;
  readonly status: SerfMemberStatus;
  /** Lamport time of the last join or leave intent applied to this member. */
  readonly statusLTime: number;
  /** memberlist versions [pmin, pmax, pcur] and Serf's (delegate) versions [dmin, dmax, dcur]. */
  readonly protocol: { readonly min: number; readonly max: number; readonly cur: number };
  readonly delegate: { readonly min: number; readonly max: number; readonly cur: number };
}
