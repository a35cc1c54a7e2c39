import { parseQuorumSize } from '../index.js';
import { HttpError } from './http-body.js';
import type { QuorumParams } from './kv-service.js';

/** `?timeout=` of a quorum request is at most this (ms). */
export const QUORUM_TIMEOUT_MAX_MS = 600_000;

/**
 * A quorum request's `?w=` (`name` w) or `?r=` and `?timeout=` (ms): undefined without `name`;
 * a 400 for a size that is not a whole number ≥ 1, `majority` or `all`, or for a timeout alone.
 */
export function quorumParams(query: URLSearchParams, name: 'w' | 'r'): QuorumParams | undefined {
  const raw = query.get(name);
  const t = query.get('timeout');
  if (raw === null) {
    if (t !== null) throw new HttpError(400, `timeout: applies to a quorum ${name === 'w' ? 'write (?w=)' : 'read (?r=)'} only`);
    return undefined;
  }
  const size = parseQuorumSize(raw);
  if (size === null) throw new HttpError(400, `${name}: expected a whole number ≥ 1, "majority" or "all", got ${JSON.stringify(raw)}`);
  if (t === null) return { size };
  const ms = /^[0-9]{1,9}$/.test(t) ? Number(t) : NaN;
  if (!(ms >= 1 && ms <= QUORUM_TIMEOUT_MAX_MS)) throw new HttpError(400, `timeout: expected milliseconds from 1 to ${QUORUM_TIMEOUT_MAX_MS}, got ${JSON.stringify(t)}`);
  return { size, timeoutMs: ms };
}
