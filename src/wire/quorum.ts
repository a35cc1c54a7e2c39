/**
 * Quorum writes and reads (issue 16) on the wire: a memberlist user message under data type byte
 * 0xbd, one body layout for the five kinds (LE words, LEB128 varints, as src/wire/bin.ts):
 *   kind byte, src (string), id (varint), then
 *   0 write     origin (string), counter (varint): the write's dot; the key's entry (state-entry.ts)
 *   1 read      key (string)
 *   2 ack       nothing: the replica holds the write's dot in its durable state
 *   3 refused   reason (string): the replica could not make it durable (its store refused)
 *   4 value     flag byte (0 none, 1 an entry follows), the key's entry
 * A write is about 12 + names + the entry; an ack about 4 + the sender's name. The receiver checks
 * an entry's invariants (`isValidEntry`): the decoder checks shapes only. Decoding never throws.
 */
import { BinReader, BinWriter } from './bin.js';
import { DATA_MESSAGE_BYTES_MAX } from './data.js';
import type { DecodeResult } from './result.js';
import { fail, ok, WireError } from './result.js';
import type { WireEntry } from './state-entry.js';
import { readEntry, writeEntry } from './state-entry.js';

/** The type byte in front of a quorum message (our data range; state 0xb8–0xbb, view notes 0xbc). */
export const QUORUM_TYPE = 0xbd;

export type QuorumMessage =
  | { readonly kind: 'write'; readonly src: string; readonly id: number; readonly origin: string; readonly counter: number; readonly entry: WireEntry }
  | { readonly kind: 'read'; readonly src: string; readonly id: number; readonly key: string }
  | { readonly kind: 'ack'; readonly src: string; readonly id: number }
  | { readonly kind: 'refused'; readonly src: string; readonly id: number; readonly reason: string }
  | { readonly kind: 'value'; readonly src: string; readonly id: number; readonly entry: WireEntry | null };

export type QuorumKind = QuorumMessage['kind'];
const KINDS: readonly QuorumKind[] = ['write', 'read', 'ack', 'refused', 'value'];

/** The body (without the type byte). Throws a RangeError for an id or counter that is not a whole number ≥ 0 (a bug of the caller). */
export function encodeQuorum(m: QuorumMessage): Uint8Array {
  const w = BinWriter.writing(64).byte(KINDS.indexOf(m.kind)).str(m.src).varint(m.id);
  switch (m.kind) {
    case 'write':
      w.str(m.origin).varint(m.counter);
      writeEntry(w, m.entry);
      break;
    case 'read':
      w.str(m.key);
      break;
    case 'ack':
      break;
    case 'refused':
      w.str(m.reason);
      break;
    case 'value':
      w.byte(m.entry === null ? 0 : 1);
      if (m.entry !== null) writeEntry(w, m.entry);
      break;
  }
  return w.finish();
}

/** The body's fields, or why not (never throws). */
export function decodeQuorum(body: Uint8Array): DecodeResult<QuorumMessage> {
  if (body.length > DATA_MESSAGE_BYTES_MAX) return fail('too-large', `quorum message of ${body.length} bytes, over ${DATA_MESSAGE_BYTES_MAX}`);
  try {
    const r = new BinReader(body);
    const kind = KINDS[r.byte('kind')];
    if (kind === undefined) return fail('malformed', 'quorum message: unknown kind');
    const src = r.str('src');
    if (src.length === 0) return fail('malformed', 'quorum message: empty sender name');
    const id = r.varint('id');
    let m: QuorumMessage;
    switch (kind) {
      case 'write': {
        const origin = r.str('origin');
        const counter = r.varint('counter');
        if (origin.length === 0 || counter < 1) return fail('malformed', 'quorum write: no dot');
        m = { kind, src, id, origin, counter, entry: readEntry(r) };
        break;
      }
      case 'read':
        m = { kind, src, id, key: r.str('key') };
        break;
      case 'ack':
        m = { kind, src, id };
        break;
      case 'refused':
        m = { kind, src, id, reason: r.str('reason') };
        break;
      case 'value': {
        const has = r.byte('entry flag');
        if (has > 1) return fail('malformed', 'quorum value: bad entry flag');
        m = { kind, src, id, entry: has === 1 ? readEntry(r) : null };
        break;
      }
    }
    r.end(`quorum ${kind}`);
    return ok(m);
  } catch (e) {
    if (e instanceof WireError) return fail(e.reason, `quorum message: ${e.message}`);
    return fail('malformed', `quorum message: ${e instanceof Error ? e.message : String(e)}`);
  }
}
