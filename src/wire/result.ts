/**
 * Decoding never throws out of the wire layer: every decoder returns a `DecodeResult`, and
 * every rejection is counted in a `WireStats`.
 */

/**
 * Why bytes were rejected:
 * - `truncated`: the input ends before the message does;
 * - `malformed`: bytes that no Go peer would send or accept (bad msgpack, bad field, bad address);
 * - `unknown-type`: a message type byte we do not handle;
 * - `too-large`: a byte length over a memberlist 0.6 limit (user message, user state,
 *   decompressed size, encrypted stream length);
 * - `limit-exceeded`: a count over a limit (push-pull node count, nesting depth);
 * - `crc-mismatch`, `decrypt-failed` (no key authenticates, or encrypted input without a keyring),
 *   `not-encrypted` (plaintext while encryption is required), `decompress-failed`,
 *   `label-mismatch` (a memberlist ≥ 0.3 label header; serf 0.9.4 sends none, we accept none).
 */
export type WireErrorReason =
  | 'truncated'
  | 'malformed'
  | 'unknown-type'
  | 'too-large'
  | 'crc-mismatch'
  | 'decrypt-failed'
  | 'not-encrypted'
  | 'decompress-failed'
  | 'label-mismatch'
  | 'limit-exceeded';

export const WIRE_ERROR_REASONS: readonly WireErrorReason[] = [
  'truncated',
  'malformed',
  'unknown-type',
  'too-large',
  'crc-mismatch',
  'decrypt-failed',
  'not-encrypted',
  'decompress-failed',
  'label-mismatch',
  'limit-exceeded',
];

/**
 * A decoder's outcome, never thrown: the one result type of every decoder (memberlist packets
 * and streams, Serf messages, data-layer messages) and of the runtime's `Codec`.
 */
export type DecodeResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: WireErrorReason; readonly detail: string };

/** Thrown inside the wire layer only; converted to a `DecodeResult` at each public decoder. No stack trace (cheap rejection). */
export class WireError extends Error {
  readonly reason: WireErrorReason;

  constructor(reason: WireErrorReason, detail: string) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(detail);
    Error.stackTraceLimit = limit;
    this.reason = reason;
    this.name = 'WireError';
  }
}

export function ok<T>(value: T): DecodeResult<T> {
  return { ok: true, value };
}

export function fail<T>(reason: WireErrorReason, detail: string): DecodeResult<T> {
  return { ok: false, reason, detail };
}

/**
 * Converts what a decoder threw into a failure: a `WireError` keeps its reason; anything else
 * (e.g. a RangeError from an allocation a crafted length asked for) is still a peer's bad
 * input, `malformed`.
 */
export function toFailure<T>(e: unknown): DecodeResult<T> {
  if (e instanceof WireError) return fail(e.reason, e.message);
  return fail('malformed', e instanceof Error ? `${e.name}: ${e.message}` : String(e));
}
