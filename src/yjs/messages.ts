/**
 * The Yjs replication's gossip messages (one data type byte, `AppDataType.yjs`), each sent with
 * the sender's name (over a stream the transport's address names no member):
 *
 *   kind u8 | src varstring | body
 *   update     doc varstring | update varbytes                 a local edit, pushed to peers
 *   digest     count varuint | (doc varstring | sv varbytes | dsHash u32)*   anti-entropy: what I hold
 *   diff       doc varstring | update varbytes | sv varbytes | dsHash u32 | want u8
 *              what you lack of a doc (`encodeStateAsUpdate(doc, yourSv)`), and, with `want`,
 *              my state vector so you send back what I lack
 *   awareness  doc varstring | awareness update varbytes        presence, never stored
 *
 * Encoded with lib0 (Yjs's own varints). Decoding never throws: a malformed message is an error
 * result, counted by the caller.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';

export const YjsKind = { update: 1, digest: 2, diff: 3, awareness: 4 } as const;

export interface DigestEntry {
  readonly doc: string;
  readonly sv: Uint8Array;
  readonly dsHash: number;
}

export type YjsMessage =
  | { readonly kind: 'update'; readonly src: string; readonly doc: string; readonly update: Uint8Array }
  | { readonly kind: 'digest'; readonly src: string; readonly entries: readonly DigestEntry[] }
  | { readonly kind: 'diff'; readonly src: string; readonly doc: string; readonly update: Uint8Array; readonly sv: Uint8Array; readonly dsHash: number; readonly want: boolean }
  | { readonly kind: 'awareness'; readonly src: string; readonly doc: string; readonly update: Uint8Array };

/** Longest document name (UTF-8 bytes) accepted on the wire and by the endpoint. */
export const DOC_NAME_BYTES_MAX = 512;
/** Most digest entries in one message. */
export const DIGEST_ENTRIES_MAX = 4096;

export function encodeYjsMessage(m: YjsMessage): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeUint8(e, YjsKind[m.kind]);
  encoding.writeVarString(e, m.src);
  switch (m.kind) {
    case 'update':
    case 'awareness':
      encoding.writeVarString(e, m.doc);
      encoding.writeVarUint8Array(e, m.update);
      break;
    case 'digest':
      encoding.writeVarUint(e, m.entries.length);
      for (const d of m.entries) {
        encoding.writeVarString(e, d.doc);
        encoding.writeVarUint8Array(e, d.sv);
        encoding.writeUint32(e, d.dsHash);
      }
      break;
    case 'diff':
      encoding.writeVarString(e, m.doc);
      encoding.writeVarUint8Array(e, m.update);
      encoding.writeVarUint8Array(e, m.sv);
      encoding.writeUint32(e, m.dsHash);
      encoding.writeUint8(e, m.want ? 1 : 0);
      break;
  }
  return encoding.toUint8Array(e);
}

export type YjsDecodeResult = { readonly ok: true; readonly message: YjsMessage } | { readonly ok: false; readonly error: string };

/** Decodes one message; malformed input (truncated, bad kind, trailing bytes, a bad name) is an error, never a throw. */
export function decodeYjsMessage(buf: Uint8Array): YjsDecodeResult {
  try {
    // A copy: lib0 reads views of the underlying buffer, and a received payload is a view into a larger packet.
    const d = decoding.createDecoder(buf.slice());
    const kind = decoding.readUint8(d);
    const src = readName(d, 'sender');
    let m: YjsMessage;
    switch (kind) {
      case YjsKind.update:
      case YjsKind.awareness: {
        const doc = readName(d, 'document');
        const update = readBytes(d);
        m = { kind: kind === YjsKind.update ? 'update' : 'awareness', src, doc, update };
        break;
      }
      case YjsKind.digest: {
        const n = decoding.readVarUint(d);
        if (n > DIGEST_ENTRIES_MAX) return { ok: false, error: `digest of ${n} entries, over ${DIGEST_ENTRIES_MAX}` };
        const entries: DigestEntry[] = [];
        for (let i = 0; i < n; i++) entries.push({ doc: readName(d, 'document'), sv: readBytes(d), dsHash: decoding.readUint32(d) });
        m = { kind: 'digest', src, entries };
        break;
      }
      case YjsKind.diff: {
        const doc = readName(d, 'document');
        const update = readBytes(d);
        const sv = readBytes(d);
        const dsHash = decoding.readUint32(d);
        const want = decoding.readUint8(d);
        if (want > 1) return { ok: false, error: `diff: want flag ${want}` };
        m = { kind: 'diff', src, doc, update, sv, dsHash, want: want === 1 };
        break;
      }
      default:
        return { ok: false, error: `unknown message kind ${kind}` };
    }
    // lib0 reads past the end as undefined rather than throwing.
    if (d.pos > d.arr.length) return { ok: false, error: `truncated ${m.kind} message` };
    if (decoding.hasContent(d)) return { ok: false, error: `${buf.length - d.pos} trailing bytes after a ${m.kind} message` };
    return { ok: true, message: m };
  } catch (e) {
    return { ok: false, error: `malformed message: ${e instanceof Error ? e.message : String(e)}` };
  }
}

function readName(d: decoding.Decoder, what: string): string {
  const s = decoding.readVarString(d);
  if (s.length === 0 || Buffer.byteLength(s) > DOC_NAME_BYTES_MAX) throw new Error(`${what} name of ${Buffer.byteLength(s)} bytes (1–${DOC_NAME_BYTES_MAX})`);
  return s;
}

function readBytes(d: decoding.Decoder): Uint8Array {
  const n = decoding.readVarUint(d);
  if (n > d.arr.length - d.pos) throw new Error(`length ${n} past the message's end`);
  return decoding.readUint8Array(d, n);
}
