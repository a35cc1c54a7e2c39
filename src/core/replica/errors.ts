/**
 * Misuse of the replica by its caller (the application): thrown, with a code to branch on.
 * Data from peers never throws; it is counted in `Replica.stats()` instead.
 * - `wrong-type`: the operation does not fit the key's type (its prefix's resolver), e.g.
 *   `increment` on an `lww` key or `put` on an `orset` key.
 * - `unsupported`: the type has no such operation (deleting a counter, decrementing a G-Counter).
 * - `bad-value`: not bytes and not JSON-compatible.
 * - `bad-context`: not a causal context (a version vector from `get`/`put`).
 * - `bad-argument`: e.g. a negative or fractional increment.
 * - `config`: an invalid resolver configuration.
 */
export type ReplicaErrorCode = 'wrong-type' | 'unsupported' | 'bad-value' | 'bad-context' | 'bad-argument' | 'config';

export class ReplicaError extends Error {
  override readonly name = 'ReplicaError';

  constructor(
    readonly code: ReplicaErrorCode,
    message: string,
  ) {
    super(message);
  }
}
