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
  ) {
    super(QuorumError.describe(op, answered, need, replicas, timeoutMs, refused));
  }

  private static describe(op: 'write' | 'read', answered: readonly string[], need: number, replicas: number, timeoutMs: number, refused: ReadonlyMap<string, string>): string {
    const got = `${answered.length} of ${need} needed`;
    const names = answered.length === 0 ? 'none' : answered.join(', ');
    const refusals = refused.size === 0 ? '' : `; refused by ${[...refused].map(([n, why]) => `${n} (${why})`).join(', ')}`;
    if (op === 'read') return `quorum read failed: ${got} replies within ${timeoutMs} ms (${replicas} replicas in the quorum basis; replied: ${names})${refusals}`;
    return `quorum write failed: ${got} durable acknowledgements within ${timeoutMs} ms (${replicas} replicas in the quorum basis; durable on: ${names})${refusals}. ` +
      'The write is not rolled back: it stays on those replicas and may still spread to the others';
  }
}
