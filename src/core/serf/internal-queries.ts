import type { Millis } from '../ids.js';
import type { SerfContext } from './context.js';
import type { SerfKeyring } from './keyring.js';
import { encodeBase64 } from './keyring.js';
import type { SerfKeyResponseMsg, SerfQueryMsg } from './messages.js';
import { INTERNAL_QUERY_PREFIX } from './messages.js';

/** How an internal query's answer goes back: through the query machinery that received it. */
export interface InternalAnswerPort {
  /** Answers query `queryId` with `resp`; with `mayRetry`, false (nothing sent) when the answer is over the size limit. */
  answer(now: Millis, queryId: number, resp: SerfKeyResponseMsg, mayRetry: boolean): boolean;
  /** The query needs no answer (only its ack): forget it. */
  forget(queryId: number): void;
}

const EMPTY = new Uint8Array(0);

/**
 * Serf's own queries (internal_query.go), consumed by the node and never shown to the
 * application: `_serf_ping` needs only its ack; `_serf_list-keys`, `_serf_install-key`,
 * `_serf_use-key` and `_serf_remove-key` go to the keyring and answer a key response (without
 * a keyring, as a serf agent without encryption answers). `_serf_conflict` and anything newer
 * is not answered: the asker counts one response fewer.
 */
export class InternalQueries {
  constructor(
    private readonly ctx: SerfContext,
    private readonly keyring: SerfKeyring | null,
    private readonly port: InternalAnswerPort,
  ) {}

  handle(now: Millis, queryId: number, q: SerfQueryMsg): void {
    const op = q.name.slice(INTERNAL_QUERY_PREFIX.length);
    switch (op) {
      case 'ping':
        this.port.forget(queryId);
        return;
      case 'list-keys':
        return this.answerListKeys(now, queryId);
      case 'install-key':
      case 'use-key':
      case 'remove-key':
        return this.answerKeyChange(now, queryId, q, op);
      default:
        this.port.forget(queryId);
    }
  }

  private answerKeyChange(now: Millis, queryId: number, q: SerfQueryMsg, op: 'install-key' | 'use-key' | 'remove-key'): void {
    let result = false;
    let message = '';
    const req = q.payload === null ? null : this.ctx.codec.decode(q.payload);
    if (req === null || !req.ok || req.value.type !== 'key-request') {
      this.ctx.stats.malformedMessages++;
      message = req !== null && !req.ok ? `Failed to decode key request: ${req.detail}` : 'Failed to decode key request';
    } else if (this.keyring === null) {
      message = 'No keyring to modify (encryption not enabled)';
    } else {
      const key = req.value.key ?? EMPTY;
      try {
        if (op === 'install-key') this.keyring.install(key);
        else if (op === 'use-key') this.keyring.use(key);
        else this.keyring.remove(key);
        result = true;
        this.ctx.events.push({ type: 'keyring-change', op: op === 'install-key' ? 'install' : op === 'use-key' ? 'use' : 'remove' });
      } catch (e) {
        message = e instanceof Error ? e.message : String(e);
      }
    }
    this.port.answer(now, queryId, { type: 'key-response', result, message, keys: null, primaryKey: '' }, false);
  }

  private answerListKeys(now: Millis, queryId: number): void {
    if (this.keyring === null) {
      const resp: SerfKeyResponseMsg = { type: 'key-response', result: false, message: 'Keyring is empty (encryption not enabled)', keys: null, primaryKey: '' };
      this.port.answer(now, queryId, resp, false);
      return;
    }
    const keys = this.keyring.keys().map(encodeBase64);
    const primary = this.keyring.primary();
    const primaryKey = primary === null ? '' : encodeBase64(primary);
    // Like Serf, drop keys from the end until the response fits the size limit.
    for (let n = keys.length; n >= 0; n--) {
      const message = n === keys.length ? '' : `truncated key list response, showing first ${n} of ${keys.length} keys`;
      const resp: SerfKeyResponseMsg = { type: 'key-response', result: true, message, keys: n > 0 ? keys.slice(0, n) : null, primaryKey };
      if (this.port.answer(now, queryId, resp, n > 0)) return;
    }
  }
}
