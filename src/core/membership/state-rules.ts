import { MemberState } from '../messages.js';

/**
 * memberlist's precedence rules for alive, suspect and dead (reference §6.4), as pure
 * functions: what one message about one member does, given what we hold. The node applies
 * the verdict (table, suspicion timers, broadcasts, events); nothing here has side effects.
 *
 * - `ignore`: drop the message (old news, or a state that cannot move this way).
 * - `accept`: the member moves to the message's state, and the message is re-gossiped.
 * - `refute`: the message accuses us: answer with a higher incarnation (`refutingIncarnation`).
 * - `confirm` (suspect only): another accuser of a member already suspected (Lifeguard).
 * - `stale` (dead only): an incarnation older than ours, dropped before anything else; `ignore`
 *   for a dead message still ends a running suspicion of that member.
 * - `correct`: the message accuses an older life of ours (below our incarnation): whoever sent
 *   it has not heard our refutation. Not news, so not re-gossiped; our current `alive` goes
 *   straight back to the sender. (memberlist drops it, and a peer that declared us dead just
 *   before our refutation reached it holds us dead until a push-pull: when each declared the
 *   other, none runs between the two, and they stay split until Serf's reconnect.)
 */
export type SuspectVerdict = 'ignore' | 'accept' | 'refute' | 'confirm' | 'correct';
export type DeadVerdict = 'stale' | 'ignore' | 'accept' | 'refute' | 'correct';

/** What we hold about the member a message is about; null when we do not know it. */
export interface KnownMember {
  readonly state: MemberState;
  readonly incarnation: number;
}

/**
 * An `alive` for a name we hold under another address: may it take the name over? Only from a
 * member that left, or died longer than `reclaimAfterMs` ago (0: never); otherwise it is an
 * address conflict (a protocol error). A takeover is accepted whatever its incarnation.
 */
export function addressReclaimable(state: MemberState, changedAtMs: number, nowMs: number, reclaimAfterMs: number): boolean {
  if (state === MemberState.Left) return true;
  return state === MemberState.Dead && reclaimAfterMs > 0 && nowMs - changedAtMs > reclaimAfterMs;
}

/**
 * An `alive` about another member. A member we do not know is accepted, unless its
 * incarnation is 0 (memberlist drops those: they come from a node that never started);
 * a known one only with a newer incarnation.
 */
export function judgeAlive(incoming: number, known: KnownMember | null): 'ignore' | 'accept' {
  if (known === null) return incoming === 0 ? 'ignore' : 'accept';
  return incoming > known.incarnation ? 'accept' : 'ignore';
}

/**
 * An `alive` about ourselves (a peer's echo of our own announcement, or an impostor's, or our
 * previous life's). Refuted when it is newer than ours, or as new but with other meta or
 * versions; ignored at join (`bootstrap`) and while leaving.
 */
export function judgeSelfAlive(incoming: number, mine: number, sameMetaAndVsn: boolean, bootstrap: boolean, leaving: boolean): 'ignore' | 'refute' {
  if (leaving || bootstrap || incoming < mine) return 'ignore';
  if (incoming === mine && sameMetaAndVsn) return 'ignore';
  return 'refute';
}

/**
 * A `suspect`. Older than what we hold: ignored (about us: corrected). A member already suspected: another
 * confirmation. Only an alive member becomes suspect; if it is us, we refute (unless leaving).
 */
export function judgeSuspect(incoming: number, known: KnownMember, suspected: boolean, isSelf: boolean, leaving: boolean): SuspectVerdict {
  if (incoming < known.incarnation) return isSelf && !leaving ? 'correct' : 'ignore';
  if (suspected) return 'confirm';
  if (known.state !== MemberState.Alive) return 'ignore';
  if (isSelf) return leaving ? 'ignore' : 'refute';
  return 'accept';
}

/**
 * A `dead` (`from === node`: a graceful leave). Older than what we hold: stale (about us: corrected). A member
 * already dead or left stays so; if it is us, we refute (unless leaving).
 */
export function judgeDead(incoming: number, known: KnownMember, isSelf: boolean, leaving: boolean): DeadVerdict {
  if (incoming < known.incarnation) return isSelf && !leaving ? 'correct' : 'stale';
  if (known.state === MemberState.Dead || known.state === MemberState.Left) return 'ignore';
  if (isSelf) return leaving ? 'ignore' : 'refute';
  return 'accept';
}

/** The state an accepted `dead` moves a member to: `left` when it announced its own death. */
export function deadState(node: string, from: string): MemberState.Dead | MemberState.Left {
  return node === from ? MemberState.Left : MemberState.Dead;
}

/** The incarnation a refutation announces: above both ours and the accusation's. */
export function refutingIncarnation(mine: number, accused: number): number {
  return Math.max(mine + 1, accused + 1);
}

/**
 * Whether gossip about a member goes in the urgent tier of the broadcast queue: suspicions,
 * deaths and incarnation bumps (refutations, restarts) race suspicion timers; a first `alive`
 * (a join announcement) does not.
 */
export function isUrgent(type: 'alive' | 'suspect' | 'dead', incarnation: number): boolean {
  return type !== 'alive' || incarnation > 1;
}
