/**
 * msgpack writing as HashiCorp's go-msgpack `MsgpackHandle{}` (v0.5.x, default settings) does
 * it (reference §1), byte for byte: strings and byte slices both as "raw" (fixstr, str16,
 * str32; never str8, never bin), unsigned integers in the smallest form, structs as maps with
 * their field names sorted by byte order, nil for absent slices, float64 as `0xcb`.
 * Reading is `msgpack-reader.ts`.
 */

const textEncoder = new TextEncoder();

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
      return this.tag64(0xcf, n);
    }
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`msgpack uint: not a non-negative integer: ${n}`);
    if (n <= 0x7f) return this.byte(n);
    if (n <= 0xff) return this.byte(0xcc).byte(n);
    if (n <= 0xffff) return this.tagU16(0xcd, n);
    if (n <= 0xffffffff) return this.tagU32(0xce, n);
    if (n > Number.MAX_SAFE_INTEGER) throw new RangeError(`msgpack uint: ${n} is not a safe integer; pass a bigint`);
    return this.tag64(0xcf, BigInt(n));
  }

  /** Signed integer as Go writes an `int`: non-negative values as `uint`, negatives as negfixint or i8..i64. */
  int(n: number | bigint): this {
    if (typeof n === 'bigint') {
      if (n >= 0n) return this.uint(n);
      if (n >= -0x80000000n) return this.int(Number(n));
      if (n < -0x8000000000000000n) throw new RangeError(`msgpack int: ${n} exceeds 64 bits`);
      return this.tag64(0xd3, n);
    }
    if (!Number.isInteger(n)) throw new RangeError(`msgpack int: not an integer: ${n}`);
    if (n >= 0) return this.uint(n);
    // Two's complement: the low 8, 16 or 32 bits of a negative number are its i8, i16 or i32 bytes.
    if (n >= -32) return this.byte(n & 0xff);
    if (n >= -0x80) return this.byte(0xd0).byte(n & 0xff);
    if (n >= -0x8000) return this.tagU16(0xd1, n & 0xffff);
    if (n >= -0x80000000) return this.tagU32(0xd2, n >>> 0);
    if (n < Number.MIN_SAFE_INTEGER) throw new RangeError(`msgpack int: ${n} is not a safe integer; pass a bigint`);
    return this.tag64(0xd3, BigInt(n));
  }

  /** float64 (`0xcb`), as Go writes a `float64`. */
  float64(x: number): this {
    this.ensure(9);
    this.buf[this.pos] = 0xcb;
    this.view.setFloat64(this.pos + 1, x);
    this.pos += 9;
    return this;
  }

  /** A float32 (`0xca`): only our own extensions use it, Go's structs here are float64. */
  float32(x: number): this {
    this.ensure(5);
    this.buf[this.pos] = 0xca;
    this.view.setFloat32(this.pos + 1, x);
    this.pos += 5;
    return this;
  }

  /** `tag`, then `n` as a big-endian uint16. */
  private tagU16(tag: number, n: number): this {
    this.ensure(3);
    this.buf[this.pos] = tag;
    this.view.setUint16(this.pos + 1, n);
    this.pos += 3;
    return this;
  }

  /** `tag`, then `n` as a big-endian uint32. */
  private tagU32(tag: number, n: number): this {
    this.ensure(5);
    this.buf[this.pos] = tag;
    this.view.setUint32(this.pos + 1, n);
    this.pos += 5;
    return this;
  }

  /** `tag`, then `n` as a big-endian 64-bit integer (two's complement when negative). */
  private tag64(tag: number, n: bigint): this {
    this.ensure(9);
    this.buf[this.pos] = tag;
    this.view.setBigUint64(this.pos + 1, BigInt.asUintN(64, n));
    this.pos += 9;
    return this;
  }

  /** A length header: the fix form `fix | n` below `fixLimit`, else `tag16` + uint16 or `tag32` + uint32. */
  private header(n: number, fix: number, fixLimit: number, tag16: number, tag32: number): this {
    if (n < fixLimit) return this.byte(fix | n);
    return n < 0x10000 ? this.tagU16(tag16, n) : this.tagU32(tag32, n);
  }

  /** Header of a raw string of `n` bytes: fixstr, str16 or str32 (Go never writes str8). */
  rawHeader(n: number): this {
    return this.header(n, 0xa0, 32, 0xda, 0xdb);
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

  /** Map header: fixmap, map16 or map32. */
  mapHeader(n: number): this {
    return this.header(n, 0x80, 16, 0xde, 0xdf);
  }

  /** Array header: fixarray, array16 or array32. */
  arrayHeader(n: number): this {
    return this.header(n, 0x90, 16, 0xdc, 0xdd);
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
