/**
 * The view note (src/core/views/view-note.ts) on the wire: a memberlist user message under data
 * type byte 0xbc, body `[u32 checksum][varint size][str from][size/8 bytes of bitmap]` (LE words,
 * LEB128 varints, as src/wire/bin.ts). About 10 + name + N/8 bytes: 140 at 1,000 members.
 * Decoding never throws; a bitmap with bits past `size` is malformed.
 */
import { BinReader, BinWriter } from './bin.js';
import type { DecodeResult } from './result.js';
import { fail, ok, WireError } from './result.js';

/** The type byte in front of a view note (our data range, [0x80, 0xbf]; the state uses 0xb8–0xbb and 0xbe: `DataMessageType`). */
export const VIEW_NOTE_TYPE = 0xbc;
/** A view of more members than this is refused (a bitmap of 128 KiB; a packet holds far less). */
export const VIEW_NOTE_SIZE_MAX = 1 << 20;

export interface ViewNoteWire {
  readonly from: string;
  readonly checksum: number;
  readonly size: number;
  readonly bits: Uint8Array;
}

/** The body (without the type byte). */
export function encodeViewNote(n: ViewNoteWire): Uint8Array {
  return BinWriter.writing(16 + n.from.length * 3 + n.bits.length).u32(n.checksum).varint(n.size).str(n.from).raw(n.bits).finish();
}

/** With the type byte in front (a memberlist user message's payload). */
export function encodeViewNoteMessage(n: ViewNoteWire): Uint8Array {
  const body = encodeViewNote(n);
  const out = new Uint8Array(body.length + 1);
  out[0] = VIEW_NOTE_TYPE;
  out.set(body, 1);
  return out;
}

export function decodeViewNote(body: Uint8Array): DecodeResult<ViewNoteWire> {
  try {
    const r = new BinReader(body);
    const checksum = r.u32('checksum');
    const size = r.varint('size', VIEW_NOTE_SIZE_MAX);
    const from = r.str('from');
    const bytes = (size + 7) >>> 3;
    const bits = r.raw(bytes, 'bitmap');
    r.end('view note');
    if (size % 8 !== 0 && bytes > 0 && ((bits[bytes - 1] as number) >>> (size % 8)) !== 0) return fail('malformed', 'view note: bits past the view size');
    if (from.length === 0) return fail('malformed', 'view note: empty sender name');
    return ok({ from, checksum, size, bits });
  } catch (e) {
    if (e instanceof WireError) return fail(e.reason, e.message);
    throw e;
  }
}
