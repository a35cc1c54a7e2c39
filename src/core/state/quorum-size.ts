/**
 * How many replicas a quorum write (`w`) or read (`r`) waits for (issue 16): a whole number, or
 * `majority` (⌊N/2⌋ + 1) or `all` (N) of the N replicas. The replicas are the members of the
 * node's quorum basis (the last stable view it adopted with quorum; see src/core/views/quorum.ts)
 * that run our data layer: every member holds every key, so every one of them is a replica. A
 * read with R and a write with W such that R + W > N always have a replica in common.
 */
export type QuorumSize = number | 'majority' | 'all';

/** A `w` or `r` that cannot be met by the replicas there are, or is not a size at all (the caller's mistake). */
export class QuorumSizeError extends RangeError {
  override name = 'QuorumSizeError';
}

/** The replicas `size` asks for out of `replicas`; a QuorumSizeError for a size that is not one, or more than there are. */
export function quorumNeed(size: QuorumSize, replicas: number, what = 'w'): number {
  if (!Number.isSafeInteger(replicas) || replicas < 1) throw new QuorumSizeError(`${what}: no replicas to count (a node's quorum basis holds at least itself)`);
  if (size === 'majority') return Math.floor(replicas / 2) + 1;
  if (size === 'all') return replicas;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 1) throw new QuorumSizeError(`${what}: expected a whole number ≥ 1, "majority" or "all", got ${JSON.stringify(size)}`);
  if (size > replicas) throw new QuorumSizeError(`${what}=${size}: only ${replicas} replica${replicas === 1 ? '' : 's'} (the quorum basis) can take it`);
  return size;
}

/** A size as typed by a person (`3`, `majority`, `all`), or null when it is none. */
export function parseQuorumSize(s: string): QuorumSize | null {
  const t = s.trim().toLowerCase();
  if (t === 'majority' || t === 'all') return t;
  if (!/^[0-9]{1,9}$/.test(t)) return null;
  const n = Number(t);
  return n >= 1 ? n : null;
}
