/**
 * msgpack as HashiCorp's go-msgpack `MsgpackHandle{}` (v0.5.x, default settings) writes and
 * reads it (reference §1).
 *
 * Writing is Go-exact: strings and byte slices both as "raw" (fixstr, str16, str32; never
 * str8, never bin), unsigned integers in the smallest form, structs as maps with their field
 * names sorted by byte order, nil for absent slices, float64 as `0xcb`.
 *
 * Reading is as lenient as Go's decoder: str8 and bin for strings and bytes, an array of ints
 * for a byte slice, any integer width for any integer field (range-checked), 0/1 for a bool,
 * nil for anything (the zero value), structs as maps (unknown keys skipped) or as arrays in
 * declaration order. Errors are thrown as `MsgpackError` inside this module's readers; the
 * public decoders of the wire layer catch them and return a `DecodeResult`.
 */

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: false });

/**
 * Thrown by `Reader` on malformed or truncated input; caught at the wire layer's boundary.
 * It captures no stack trace: a flood of bad packets must be cheap to reject (and a stream
 * parser that waits for more bytes throws one per partial chunk).
 */
export class MsgpackError extends Error {
  readonly reason: 'truncated' | 'malformed';

  constructor(reason: 'truncated' | 'malformed', detail: string) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(detail);
    Error.stackTraceLimit = limit;
    this.reason = reason;
    this.name = 'MsgpackError';
  }
}

// ---------------------------------------------------------------------------------------
// Writer

/** A growable byte buffer with Go-exact msgpack primitives. */
export class Writer {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(initialBytes = 256) {
    this.buf = new Uint8Array(Math.max(16, initialBytes));
    this.view = new DataView(this.buf.buffer);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** One raw byte (a message type, not msgpack). */
  byte(b: number): this {
    this.ensure(1);
    this.buf[this.pos++] = b & 0xff;
    return this;
  }

  /** Raw bytes appended as they are (not msgpack-framed). */
  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  nil(): this {
    return this.byte(0xc0);
  }

  bool(b: boolean): this {
    return this.byte(b ? 0xc3 : 0xc2);
  }

  /** Unsigned integer in the smallest form Go uses: posfixint, u8, u16, u32, u64. */
  uint(n: number | bigint): this {
    if (typeof n === 'bigint') {
      if (n < 0n) throw new RangeError(`msgpack uint: negative ${n}`);
      if (n <= 0xffffffffn) return this.uint(Number(n));
      if (n > 0xffffffffffffffffn) throw new RangeError(`msgpack uint: ${n} exceeds 64 bits`);
      this.ensure(9);
      this.buf[this.pos] = 0xcf;
      this.view.setBigUint64(this.pos + 1, n);
      this.pos += 9;
      return this;
    }
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`msgpack uint: not a non-negative integer: ${n}`);
    if (n <= 0x7f) return this.byte(n);
    if (n <= 0xff) {
      this.ensure(2);
      this.buf[this.pos] = 0xcc;
      this.buf[this.pos + 1] = n;
      this.pos += 2;
    } else if (n <= 0xffff) {
      this.ensure(3);
      this.buf[this.pos] = 0xcd;
      this.view.setUint16(this.pos + 1, n);
      this.pos += 3;
    } else if (n <= 0xffffffff) {
      this.ensure(5);
      this.buf[this.pos] = 0xce;
      this.view.setUint32(this.pos + 1, n);
      this.pos += 5;
    } else {
      if (n > Number.MAX_SAFE_INTEGER) throw new RangeError(`msgpack uint: ${n} is not a safe integer; pass a bigint`);
      this.ensure(9);
      this.buf[this.pos] = 0xcf;
      this.view.setBigUint64(this.pos + 1, BigInt(n));
      this.pos += 9;
    }
    return this;
  }

  /** Signed integer as Go writes an `int`: non-negative values as `uint`, negatives as negfixint or i8..i64. */
  int(n: number | bigint): this {
    if (typeof n === 'bigint') {
      if (n >= 0n) return this.uint(n);
      if (n >= -0x80000000n) return this.int(Number(n));
      if (n < -0x8000000000000000n) throw new RangeError(`msgpack int: ${n} exceeds 64 bits`);
      this.ensure(9);
      this.buf[this.pos] = 0xd3;
      this.view.setBigInt64(this.pos + 1, n);
      this.pos += 9;
      return this;
    }
    if (!Number.isInteger(n)) throw new RangeError(`msgpack int: not an integer: ${n}`);
    if (n >= 0) return this.uint(n);
    if (n >= -32) return this.byte(n & 0xff);
    if (n >= -0x80) {
      this.ensure(2);
      this.buf[this.pos] = 0xd0;
      this.view.setInt8(this.pos + 1, n);
      this.pos += 2;
    } else if (n >= -0x8000) {
      this.ensure(3);
      this.buf[this.pos] = 0xd1;
      this.view.setInt16(this.pos + 1, n);
      this.pos += 3;
    } else if (n >= -0x80000000) {
      this.ensure(5);
      this.buf[this.pos] = 0xd2;
      this.view.setInt32(this.pos + 1, n);
      this.pos += 5;
    } else {
      if (n < Number.MIN_SAFE_INTEGER) throw new RangeError(`msgpack int: ${n} is not a safe integer; pass a bigint`);
      this.ensure(9);
      this.buf[this.pos] = 0xd3;
      this.view.setBigInt64(this.pos + 1, BigInt(n));
      this.pos += 9;
    }
    return this;
  }

  /** float64 (`0xcb`), as Go writes a `float64`. */
  float64(x: number): this {
    this.ensure(9);
    this.buf[this.pos] = 0xcb;
    this.view.setFloat64(this.pos + 1, x);
    this.pos += 9;
    return this;
  }

  /** Header of a raw string of `n` bytes: fixstr, str16 or str32 (Go never writes str8). */
  rawHeader(n: number): this {
    if (n < 32) return this.byte(0xa0 | n);
    if (n < 0x10000) {
      this.ensure(3);
      this.buf[this.pos] = 0xda;
      this.view.setUint16(this.pos + 1, n);
      this.pos += 3;
    } else {
      this.ensure(5);
      this.buf[this.pos] = 0xdb;
      this.view.setUint32(this.pos + 1, n);
      this.pos += 5;
    }
    return this;
  }

  /** A Go `[]byte`: raw string, or nil (`0xc0`) for a nil slice. */
  raw(b: Uint8Array | null): this {
    if (b === null) return this.nil();
    return this.rawHeader(b.length).bytes(b);
  }

  /** A Go `string` (UTF-8), as raw. */
  str(s: string): this {
    if (isAscii(s)) {
      this.rawHeader(s.length);
      this.ensure(s.length);
      for (let i = 0; i < s.length; i++) this.buf[this.pos++] = s.charCodeAt(i);
      return this;
    }
    return this.raw(textEncoder.encode(s));
  }

  mapHeader(n: number): this {
    if (n < 16) return this.byte(0x80 | n);
    if (n < 0x10000) {
      this.ensure(3);
      this.buf[this.pos] = 0xde;
      this.view.setUint16(this.pos + 1, n);
      this.pos += 3;
    } else {
      this.ensure(5);
      this.buf[this.pos] = 0xdf;
      this.view.setUint32(this.pos + 1, n);
      this.pos += 5;
    }
    return this;
  }

  arrayHeader(n: number): this {
    if (n < 16) return this.byte(0x90 | n);
    if (n < 0x10000) {
      this.ensure(3);
      this.buf[this.pos] = 0xdc;
      this.view.setUint16(this.pos + 1, n);
      this.pos += 3;
    } else {
      this.ensure(5);
      this.buf[this.pos] = 0xdd;
      this.view.setUint32(this.pos + 1, n);
      this.pos += 5;
    }
    return this;
  }

  /** Any `Value` (see `encode`). */
  value(v: Value): this {
    if (v === null || v === undefined) return this.nil();
    if (typeof v === 'boolean') return this.bool(v);
    if (typeof v === 'number') return Number.isInteger(v) ? this.int(v) : this.float64(v);
    if (typeof v === 'bigint') return this.int(v);
    if (typeof v === 'string') return this.str(v);
    if (v instanceof Uint8Array) return this.raw(v);
    if (v instanceof Float64) return this.float64(v.value);
    if (isValueArray(v)) {
      this.arrayHeader(v.length);
      for (const x of v) this.value(x);
      return this;
    }
    if (v instanceof Map) {
      // A Go map: whatever order the caller gives (Go's own order is random).
      const m = v as ReadonlyMap<string, Value>;
      this.mapHeader(m.size);
      for (const [k, x] of m) this.str(k).value(x);
      return this;
    }
    // A Go struct: keys sorted by byte order of the field name; `undefined` fields are omitted
    // (this is how a caller expresses `omitempty`).
    const obj = v as StructValue;
    const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort(compareBytes);
    this.mapHeader(keys.length);
    for (const k of keys) this.str(k).value(obj[k]);
    return this;
  }

  /** The bytes written (a copy-free view of the internal buffer; do not write after taking it). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

/** A number that must be written as float64 even when it is integral (Go `float64` fields). */
export class Float64 {
  constructor(readonly value: number) {}
}

/**
 * What `encode` writes: `null`/`undefined` → nil; booleans; integers (Go's widths) and
 * non-integral numbers (float64); `Float64` for a float64 field holding an integral value;
 * bigint for 64-bit integers; strings and `Uint8Array` as raw; arrays; `Map<string, Value>`
 * for Go maps (order kept); plain objects for Go structs (keys sorted, `undefined` omitted).
 */
export type Value = null | undefined | boolean | number | bigint | string | Uint8Array | Float64 | readonly Value[] | ReadonlyMap<string, Value> | StructValue;
export interface StructValue {
  readonly [field: string]: Value;
}

/** Encodes one value exactly as go-msgpack's `MsgpackHandle{}` would. */
export function encode(v: Value): Uint8Array {
  return new Writer().value(v).finish().slice();
}

/** Byte-order comparison of ASCII/UTF-16 strings (Go sorts field names by bytes). */
function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isValueArray(v: Value): v is readonly Value[] {
  return Array.isArray(v);
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** Encoded size of a raw string/bytes of `n` bytes (fixstr, str16, str32). */
export function rawBytes(n: number): number {
  return n < 32 ? 1 + n : n < 0x10000 ? 3 + n : 5 + n;
}

// ---------------------------------------------------------------------------------------
// Reader

/** A value as the lenient generic decoder returns it: raw strings stay bytes (Go's raw). */
export type Decoded = null | boolean | number | bigint | Uint8Array | Decoded[] | Map<string, Decoded>;

/** Nesting limit for generic decoding (go-msgpack has none; a peer has no use for more). */
const DEPTH_MAX = 64;

/** Reads msgpack from a byte buffer; every method throws `MsgpackError` on bad input. */
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

  private need(n: number, what: string): void {
    if (this.pos + n > this.end) throw new MsgpackError('truncated', `truncated ${what}: need ${n} bytes at offset ${this.pos}, have ${this.end - this.pos}`);
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
        throw new MsgpackError('malformed', `expected an integer, got 0x${hex(b)} at offset ${this.pos}`);
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
    if (typeof v === 'bigint' || v < 0 || v > max) throw new MsgpackError('malformed', `${field}: ${v} out of range [0, ${max}]`);
    return v;
  }

  /** A signed integer field within [min, max]; nil reads as 0. */
  int(min: number, max: number, field = 'int'): number {
    if (this.nil()) return 0;
    const v = this.integer();
    if (typeof v === 'bigint' || v < min || v > max) throw new MsgpackError('malformed', `${field}: ${v} out of range [${min}, ${max}]`);
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
    throw new MsgpackError('malformed', `${field}: expected a bool, got ${v}`);
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
    if (typeof v === 'bigint') throw new MsgpackError('malformed', `${field}: integer too large for a float`);
    return v;
  }

  /** Length of a str/bin header if the next value is one (consumed), else -1 (nothing consumed). */
  private rawLength(): number {
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
    throw new MsgpackError('malformed', `${field}: expected bytes, got 0x${hex(this.peek())} at offset ${this.pos}`);
  }

  /** A Go `string`: any str or bin form (UTF-8, lossy on invalid sequences); nil reads as ''. */
  string(field = 'string'): string {
    if (this.nil()) return '';
    const n = this.rawLength();
    if (n < 0) throw new MsgpackError('malformed', `${field}: expected a string, got 0x${hex(this.peek())} at offset ${this.pos}`);
    const b = this.take(n);
    if (b.length > 64) return textDecoder.decode(b);
    for (let i = 0; i < b.length; i++) if ((b[i] as number) > 0x7f) return textDecoder.decode(b);
    return String.fromCharCode(...b);
  }

  /** Map length if the next value is a map (consumed), else -1. */
  mapLength(): number {
    const b = this.peek();
    if (b >= 0x80 && b <= 0x8f) {
      this.pos++;
      return b & 0x0f;
    }
    if (b === 0xde) {
      this.pos++;
      return this.u16();
    }
    if (b === 0xdf) {
      this.pos++;
      return this.u32();
    }
    return -1;
  }

  /** Array length if the next value is an array (consumed), else -1. */
  arrayLength(): number {
    const b = this.peek();
    if (b >= 0x90 && b <= 0x9f) {
      this.pos++;
      return b & 0x0f;
    }
    if (b === 0xdc) {
      this.pos++;
      return this.u16();
    }
    if (b === 0xdd) {
      this.pos++;
      return this.u32();
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
        const k = this.string(`${what} key`);
        const idx = fields.index.get(k);
        if (idx === undefined) this.skip();
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
    throw new MsgpackError('malformed', `${what}: expected a map, got 0x${hex(this.peek())} at offset ${this.pos}`);
  }

  /** Skips one value of any type. */
  skip(depth = 0): void {
    if (depth > DEPTH_MAX) throw new MsgpackError('malformed', `nesting deeper than ${DEPTH_MAX}`);
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
        throw new MsgpackError('malformed', `reserved byte 0xc1 at offset ${this.pos - 1}`);
    }
  }

  private skipN(n: number, depth: number): void {
    this.need(Math.min(n, this.remaining + 1), 'container');
    for (let i = 0; i < n; i++) this.skip(depth + 1);
  }

  /** Any value, generically (raw strings as bytes, maps with str keys). */
  value(depth = 0): Decoded {
    if (depth > DEPTH_MAX) throw new MsgpackError('malformed', `nesting deeper than ${DEPTH_MAX}`);
    const b = this.peek();
    if (b === 0xc0) {
      this.pos++;
      return null;
    }
    if (b === 0xc2 || b === 0xc3) {
      this.pos++;
      return b === 0xc3;
    }
    if (b === 0xca || b === 0xcb) return this.float();
    const raw = this.rawLength();
    if (raw >= 0) return this.take(raw).slice();
    const a = this.arrayLength();
    if (a >= 0) {
      this.need(Math.min(a, this.remaining + 1), 'array');
      const out: Decoded[] = [];
      for (let i = 0; i < a; i++) out.push(this.value(depth + 1));
      return out;
    }
    const m = this.mapLength();
    if (m >= 0) {
      this.need(Math.min(m * 2, this.remaining + 1), 'map');
      const out = new Map<string, Decoded>();
      for (let i = 0; i < m; i++) {
        const k = this.string('map key');
        out.set(k, this.value(depth + 1));
      }
      return out;
    }
    return this.integer();
  }
}

/** Field names of a Go struct in declaration order, with a lookup index. */
export interface StructFields {
  readonly names: readonly string[];
  readonly index: ReadonlyMap<string, number>;
}

/** Declares a struct's fields in Go declaration order (for `Reader.struct`). */
export function structFields(...names: string[]): StructFields {
  return { names, index: new Map(names.map((n, i) => [n, i])) };
}

/** Generic lenient decode of one value that must fill the buffer exactly; throws `MsgpackError`. */
export function decodeValue(buf: Uint8Array): Decoded {
  const r = new Reader(buf);
  const v = r.value();
  if (r.remaining !== 0) throw new MsgpackError('malformed', `${r.remaining} bytes after the value`);
  return v;
}

/** Text of a raw string value (`Decoded` keeps raw strings as bytes). */
export function text(b: Uint8Array): string {
  return textDecoder.decode(b);
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}
