/**
 * A quorum write or read that did not reach its `w` or `r` replicas within its timeout (issue 16).
 * A failed write is NOT rolled back (Dynamo's rule): it is durable on the coordinator and on the
 * replicas named in `answered`, and it keeps spreading (rumors, anti-entropy) to the others, so a
 * later read may well see it. Only what `answered` names is known durable; a replica whose ack was
 * lost may hold it too. Retrying the same write is safe for registers under the same context.
 */
export class QuorumError extends Error {
  override name = 'QuorumError';

  constructor(
    readonly op: 'write' | 'read',
    /** Replicas that acknowledged the write durable (the coordinator among them when it is a replica), or replied to the read. */
    readonly answered: readonly string[],
    readonly need: number,
    /** Replicas in the quorum basis (N). */
    readonly replicas: number,
    readonly timeoutMs: number,
    /** Replicas that refused the write (their store failed), with why. */
    readonly refused: ReadonlyMap<string, string> = new Map(),
    /** The other replicas, with how often each was asked (0: never reachable, not an alive data peer while the round ran). */
    readonly unanswered: ReadonlyMap<string, number> = new Map(),
  ) {
    super(QuorumError.describe(op, answered, need, replicas, timeoutMs, refused, unanswered));
  }

  private static describe(op: 'write' | 'read', answered: readonly string[], need: number, replicas: number, timeoutMs: number, refused: ReadonlyMap<string, string>, unanswered: ReadonlyMap<string, number>): string {
    const got = `${answered.length} of ${need} needed`;
    const names = answered.length === 0 ? 'none' : answered.join(', ');
    const refusals = refused.size === 0 ? '' : `; refused by ${[...refused].map(([n, why]) => `${n} (${why})`).join(', ')}`;
    const silent = [...unanswered].filter(([, asks]) => asks > 0);
    const away = [...unanswered].filter(([, asks]) => asks === 0).map(([n]) => n);
    const why = (silent.length === 0 ? '' : `; asked, no answer: ${silent.map(([n, asks]) => `${n} (${asks} ${asks === 1 ? 'time' : 'times'})`).join(', ')}`) +
      (away.length === 0 ? '' : `; never reachable (not an alive data peer here): ${away.join(', ')}`);
    if (op === 'read') return `quorum read failed: ${got} replies within ${timeoutMs} ms (${replicas} replicas in the quorum basis; replied: ${names})${refusals}${why}`;
    return `quorum write failed: ${got} durable acknowledgements within ${timeoutMs} ms (${replicas} replicas in the quorum basis; durable on: ${names})${refusals}${why}. ` +
      'The write is not rolled back: it stays on those replicas and may still spread to the others';
  }
}
