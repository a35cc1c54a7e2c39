/**
 * Generic (schema-less) msgpack decoding, for what has no Go struct to read it into: raw
 * strings stay bytes (Go's raw), maps have string keys. Throws `WireError` on bad input.
 */
import { DEPTH_MAX, Reader } from './msgpack-reader.js';
import { WireError } from './result.js';

const textDecoder = new TextDecoder('utf-8', { fatal: false });

/** A value as the lenient generic decoder returns it: raw strings stay bytes (Go's raw). */
export type DecodedValue = null | boolean | number | bigint | Uint8Array | DecodedValue[] | Map<string, DecodedValue>;

/** Any value at the reader's position, generically (raw strings as bytes, maps with str keys). */
export function readValue(r: Reader, depth = 0): DecodedValue {
  if (depth > DEPTH_MAX) throw new WireError('malformed', `nesting deeper than ${DEPTH_MAX}`);
  if (r.nil()) return null;
  const b = r.peek();
  if (b === 0xc2 || b === 0xc3) return r.bool();
  if (b === 0xca || b === 0xcb) return r.float();
  const raw = r.rawLength();
  if (raw >= 0) return r.take(raw).slice();
  const a = r.arrayLength();
  if (a >= 0) {
    r.need(Math.min(a, r.remaining + 1), 'array');
    const out: DecodedValue[] = [];
    for (let i = 0; i < a; i++) out.push(readValue(r, depth + 1));
    return out;
  }
  const m = r.mapLength();
  if (m >= 0) {
    r.need(Math.min(m * 2, r.remaining + 1), 'map');
    const out = new Map<string, DecodedValue>();
    for (let i = 0; i < m; i++) {
      const k = r.string('map key');
      out.set(k, readValue(r, depth + 1));
    }
    return out;
  }
  return r.integer();
}

/** Generic lenient decode of one value that must fill the buffer exactly; throws `WireError`. */
export function decodeValue(buf: Uint8Array): DecodedValue {
  const r = new Reader(buf);
  const v = readValue(r);
  if (r.remaining !== 0) throw new WireError('malformed', `${r.remaining} bytes after the value`);
  return v;
}

/** Text of a raw string value (`DecodedValue` keeps raw strings as bytes). */
export function text(b: Uint8Array): string {
  return textDecoder.decode(b);
}
