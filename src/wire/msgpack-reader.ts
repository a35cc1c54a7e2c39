/**
 * msgpack reading as leniently as HashiCorp's go-msgpack `MsgpackHandle{}` (v0.5.x) decoder
 * (reference §1): str8 and bin for strings and bytes, an array of ints for a byte slice, any
 * integer width for any integer field (range-checked), 0/1 for a bool, nil for anything (the
 * zero value), structs as maps (unknown keys skipped) or as arrays in declaration order.
 * Errors are thrown as `WireError` ('truncated' or 'malformed') inside the readers; the public
 * decoders of the wire layer catch them and return a `DecodeResult`. Writing is
 * `msgpack-writer.ts`; generic (schema-less) decoding is `msgpack-value.ts`.
 */
import { WireError } from './result.js';

const textDecoder = new TextDecoder('utf-8', { fatal: false });

/** Nesting limit for generic decoding and skipping (go-msgpack has none; a peer has no use for more). */
export const DEPTH_MAX = 64;

/** Reads msgpack from a byte buffer; every method throws `WireError` ('truncated' or 'malformed') on bad input. */
export class Reader {
  pos: number;
  private readonly view: DataView;

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Throws a `truncated` error unless `n` more bytes are there. */
  need(n: number, what: string): void {
    if (this.pos + n > this.end) throw new WireError('truncated', `truncated ${what}: need ${n} bytes at offset ${this.pos}, have ${this.end - this.pos}`);
  }

  peek(): number {
    this.need(1, 'value');
    return this.buf[this.pos] as number;
  }

  /** One raw byte (a message type byte, not msgpack). */
  byte(): number {
    this.need(1, 'byte');
    return this.buf[this.pos++] as number;
  }

  /** `n` raw bytes as a view into the buffer. */
  take(n: number): Uint8Array {
    this.need(n, 'bytes');
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /** True (and consumed) if the next value is nil. */
  nil(): boolean {
    if (this.peek() === 0xc0) {
      this.pos++;
      return true;
    }
    return false;
  }

  private u8(): number {
    this.need(1, 'u8');
    return this.buf[this.pos++] as number;
  }
  private u16(): number {
    this.need(2, 'u16');
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }
  private u32(): number {
    this.need(4, 'u32');
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  /** Any msgpack integer as number (bigint when it is beyond 2^53). */
  integer(): number | bigint {
    const b = this.byte();
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 256;
    switch (b) {
      case 0xcc:
        return this.u8();
      case 0xcd:
        return this.u16();
      case 0xce:
        return this.u32();
      case 0xcf: {
        this.need(8, 'u64');
        const v = this.view.getBigUint64(this.pos);
        this.pos += 8;
        return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
      }
      case 0xd0: {
        this.need(1, 'i8');
        return this.view.getInt8(this.pos++);
      }
      case 0xd1: {
        this.need(2, 'i16');
        const v = this.view.getInt16(this.pos);
        this.pos += 2;
        return v;
      }
      case 0xd2: {
        this.need(4, 'i32');
        const v = this.view.getInt32(this.pos);
        this.pos += 4;
        return v;
      }
      case 0xd3: {
        this.need(8, 'i64');
        const v = this.view.getBigInt64(this.pos);
        this.pos += 8;
        return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
      }
      default:
        this.pos--;
        throw new WireError('malformed', `expected an integer, got 0x${hex(b)} at offset ${this.pos}`);
    }
  }

  /**
   * An unsigned integer field no larger than `max` (e.g. 0xffffffff for uint32). nil reads as 0,
   * as Go does; any width is accepted; negative or out-of-range values are malformed (Go's
   * overflow check).
   */
  uint(max: number, field = 'uint'): number {
    if (this.nil()) return 0;
    const v = this.integer();
    if (typeof v === 'bigint' || v < 0 || v > max) throw new WireError('malformed', `${field}: ${v} out of range [0, ${max}]`);
    return v;
  }

  /** A signed integer field within [min, max]; nil reads as 0. */
  int(min: number, max: number, field = 'int'): number {
    if (this.nil()) return 0;
    const v = this.integer();
    if (typeof v === 'bigint' || v < min || v > max) throw new WireError('malformed', `${field}: ${v} out of range [${min}, ${max}]`);
    return v;
  }

  /** A bool field: `0xc2`/`0xc3`, or the integers 0 and 1; nil reads as false. */
  bool(field = 'bool'): boolean {
    const b = this.peek();
    if (b === 0xc0) {
      this.pos++;
      return false;
    }
    if (b === 0xc2 || b === 0xc3) {
      this.pos++;
      return b === 0xc3;
    }
    const v = this.integer();
    if (v === 0 || v === 1) return v === 1;
    throw new WireError('malformed', `${field}: expected a bool, got ${v}`);
  }

  /** A float (float32 or float64); integers are accepted too. */
  float(field = 'float'): number {
    const b = this.peek();
    if (b === 0xc0) {
      this.pos++;
      return 0;
    }
    if (b === 0xcb) {
      this.pos++;
      this.need(8, 'float64');
      const v = this.view.getFloat64(this.pos);
      this.pos += 8;
      return v;
    }
    if (b === 0xca) {
      this.pos++;
      this.need(4, 'float32');
      const v = this.view.getFloat32(this.pos);
      this.pos += 4;
      return v;
    }
    const v = this.integer();
    if (typeof v === 'bigint') throw new WireError('malformed', `${field}: integer too large for a float`);
    return v;
  }

  /** Length of a str/bin header if the next value is one (consumed), else -1 (nothing consumed). */
  rawLength(): number {
    const b = this.peek();
    if (b >= 0xa0 && b <= 0xbf) {
      this.pos++;
      return b & 0x1f;
    }
    switch (b) {
      case 0xd9:
      case 0xc4:
        this.pos++;
        return this.u8();
      case 0xda:
      case 0xc5:
        this.pos++;
        return this.u16();
      case 0xdb:
      case 0xc6:
        this.pos++;
        return this.u32();
      default:
        return -1;
    }
  }

  /**
   * A Go `[]byte`: any str or bin form, or an array of integers 0..255; nil reads as null.
   * The result is a view into the input buffer (copy it to keep it past the buffer's life).
   */
  bytes(field = 'bytes'): Uint8Array | null {
    if (this.nil()) return null;
    const n = this.rawLength();
    if (n >= 0) return this.take(n);
    const count = this.arrayLength();
    if (count >= 0) {
      // Each element takes at least one byte: don't allocate beyond what the buffer can hold.
      this.need(count, `${field} array`);
      const out = new Uint8Array(count);
      for (let i = 0; i < count; i++) out[i] = this.uint(0xff, field);
      return out;
    }
    throw new WireError('malformed', `${field}: expected bytes, got 0x${hex(this.peek())} at offset ${this.pos}`);
  }

  /** A Go `string`: any str or bin form (UTF-8, lossy on invalid sequences); nil reads as ''. */
  string(field = 'string'): string {
    if (this.nil()) return '';
    const n = this.rawLength();
    if (n < 0) throw new WireError('malformed', `${field}: expected a string, got 0x${hex(this.peek())} at offset ${this.pos}`);
    const b = this.take(n);
    if (b.length > 64) return textDecoder.decode(b);
    for (let i = 0; i < b.length; i++) if ((b[i] as number) > 0x7f) return textDecoder.decode(b);
    return String.fromCharCode.apply(null, b as unknown as number[]);
  }

  /** Map length if the next value is a map (consumed), else -1. */
  mapLength(): number {
    return this.containerLength(0x80, 0xde, 0xdf);
  }

  /** Array length if the next value is an array (consumed), else -1. */
  arrayLength(): number {
    return this.containerLength(0x90, 0xdc, 0xdd);
  }

  /** Entries of a Go slice field: its array length, 0 for nil; anything else is malformed. */
  arrayField(field: string): number {
    if (this.nil()) return 0;
    const n = this.arrayLength();
    if (n < 0) throw new WireError('malformed', `${field}: expected an array`);
    return n;
  }

  /** Entries of a Go map field: its map length, 0 for nil; anything else is malformed. */
  mapField(field: string): number {
    if (this.nil()) return 0;
    const n = this.mapLength();
    if (n < 0) throw new WireError('malformed', `${field}: expected a map`);
    return n;
  }

  /** Length of a container whose fix form is `fix | n` (n < 16), else `tag16` + uint16 or `tag32` + uint32; -1 if the next value is none of them. */
  private containerLength(fix: number, tag16: number, tag32: number): number {
    const b = this.peek();
    if ((b & 0xf0) === fix) {
      this.pos++;
      return b & 0x0f;
    }
    if (b === tag16) {
      this.pos++;
      return this.u16();
    }
    if (b === tag32) {
      this.pos++;
      return this.u32();
    }
    return -1;
  }

  /**
   * A struct's map key, matched byte by byte against the field names where it lies (no string
   * is made: every message decodes a handful of keys): the field's index, or -1 for a key the
   * struct does not have. Same answers as decoding the key and looking it up, as field names are ASCII.
   */
  private fieldKey(fields: StructFields, what: string): number {
    if (this.nil()) return fields.names.indexOf('');
    const n = this.rawLength();
    if (n < 0) throw new WireError('malformed', `${what} key: expected a string, got 0x${hex(this.peek())} at offset ${this.pos}`);
    this.need(n, 'bytes');
    const buf = this.buf;
    const at = this.pos;
    this.pos += n;
    const keys = fields.keys;
    next: for (let f = 0; f < keys.length; f++) {
      const k = keys[f] as Uint8Array;
      if (k.length !== n) continue;
      for (let i = 0; i < n; i++) if (buf[at + i] !== k[i]) continue next;
      return f;
    }
    return -1;
  }

  /**
   * A Go struct with the given fields (in declaration order). Accepts a map (string keys;
   * unknown keys skipped), an array in declaration order, or nil (all zero values).
   * `onField(i)` must read exactly one value for field `fields[i]`.
   */
  struct(fields: StructFields, onField: (index: number) => void, what = 'struct'): void {
    if (this.nil()) return;
    const n = this.mapLength();
    if (n >= 0) {
      // Each entry takes at least two bytes.
      this.need(Math.min(n * 2, this.remaining + 1), `${what} map`);
      for (let i = 0; i < n; i++) {
        const idx = this.fieldKey(fields, what);
        if (idx < 0) this.skip();
        else onField(idx);
      }
      return;
    }
    const a = this.arrayLength();
    if (a >= 0) {
      this.need(Math.min(a, this.remaining + 1), `${what} array`);
      for (let i = 0; i < a; i++) {
        if (i < fields.names.length) onField(i);
        else this.skip();
      }
      return;
    }
    throw new WireError('malformed', `${what}: expected a map, got 0x${hex(this.peek())} at offset ${this.pos}`);
  }

  /** Skips one value of any type. */
  skip(depth = 0): void {
    if (depth > DEPTH_MAX) throw new WireError('malformed', `nesting deeper than ${DEPTH_MAX}`);
    const b = this.byte();
    if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) return;
    if (b >= 0xa0 && b <= 0xbf) return void this.take(b & 0x1f);
    if (b >= 0x80 && b <= 0x8f) return this.skipN((b & 0x0f) * 2, depth);
    if (b >= 0x90 && b <= 0x9f) return this.skipN(b & 0x0f, depth);
    switch (b) {
      case 0xcc:
      case 0xd0:
        return void this.take(1);
      case 0xcd:
      case 0xd1:
        return void this.take(2);
      case 0xce:
      case 0xd2:
      case 0xca:
        return void this.take(4);
      case 0xcf:
      case 0xd3:
      case 0xcb:
        return void this.take(8);
      case 0xd9:
      case 0xc4:
        return void this.take(this.u8());
      case 0xda:
      case 0xc5:
        return void this.take(this.u16());
      case 0xdb:
      case 0xc6:
        return void this.take(this.u32());
      case 0xdc:
        return this.skipN(this.u16(), depth);
      case 0xdd:
        return this.skipN(this.u32(), depth);
      case 0xde:
        return this.skipN(this.u16() * 2, depth);
      case 0xdf:
        return this.skipN(this.u32() * 2, depth);
      case 0xd4:
        return void this.take(2);
      case 0xd5:
        return void this.take(3);
      case 0xd6:
        return void this.take(5);
      case 0xd7:
        return void this.take(9);
      case 0xd8:
        return void this.take(17);
      case 0xc7:
        return void this.take(this.u8() + 1);
      case 0xc8:
        return void this.take(this.u16() + 1);
      case 0xc9:
        return void this.take(this.u32() + 1);
      default:
        throw new WireError('malformed', `reserved byte 0xc1 at offset ${this.pos - 1}`);
    }
  }

  private skipN(n: number, depth: number): void {
    this.need(Math.min(n, this.remaining + 1), 'container');
    for (let i = 0; i < n; i++) this.skip(depth + 1);
  }
}


/** Field names of a Go struct in declaration order, with their bytes for matching keys in place. */
export interface StructFields {
  readonly names: readonly string[];
  /** Each name's bytes, in the same order (matched in place by `Reader.struct`). */
  readonly keys: readonly Uint8Array[];
}

/** Declares a struct's fields in Go declaration order (for `Reader.struct`); names are ASCII and distinct. */
export function structFields(...names: string[]): StructFields {
  const enc = new TextEncoder();
  for (const n of names) if (!/^[\x20-\x7e]*$/.test(n)) throw new Error(`structFields: '${n}' is not printable ASCII`);
  if (new Set(names).size !== names.length) throw new Error(`structFields: a name twice in ${names.join(', ')}`);
  return { names, keys: names.map((n) => enc.encode(n)) };
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}
