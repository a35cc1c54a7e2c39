/**
 * A compact binary writer and reader for the data layer's messages (src/wire/state.ts): no field
 * names, unsigned LEB128 varints, fixed little-endian 32-bit words for hashes, length-prefixed
 * UTF-8 strings and byte strings, and names interned per scope (a message, or one entry).
 *
 * The writer either writes or only counts (`BinWriter.counting()`): every encoder is written once
 * and its size is the same code run in counting mode, so a counted size is the encoding's length.
 * The reader throws `WireError` (truncated or malformed) on bad input; the message decoders catch
 * it and return a result (nothing throws out of a receive path).
 */
import { WireError } from './result.js';

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 length of a string as `TextEncoder` encodes it (a lone surrogate becomes U+FFFD, 3 bytes). */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2; // a pair: 4 bytes for 2 code units
      i++;
    } else n += 2;
  }
  return n;
}

/** Bytes of an unsigned LEB128 varint. */
export function varintLength(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** `num`: a non-negative integer up to this is a varint of 2n; anything else a marker and a float64. */
const NUM_INT_MAX = 2 ** 52 - 1;

export class BinWriter {
  private buf: Uint8Array;
  private pos = 0;
  /** Interned names of the current scope, by first appearance. */
  private names = new Map<string, number>();

  private constructor(private readonly counts: boolean, initialBytes: number) {
    this.buf = new Uint8Array(counts ? 0 : initialBytes);
  }

  /** A writer that writes. */
  static writing(initialBytes = 256): BinWriter {
    return new BinWriter(false, initialBytes);
  }

  /** A writer that only counts bytes (nothing is allocated). */
  static counting(): BinWriter {
    return new BinWriter(true, 0);
  }

  get length(): number {
    return this.pos;
  }

  /** Starts over (an empty buffer and name table), keeping the allocation. */
  reset(): this {
    this.pos = 0;
    this.names.clear();
    return this;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = Math.max(64, this.buf.length * 2);
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  byte(b: number): this {
    if (!this.counts) {
      this.ensure(1);
      this.buf[this.pos] = b & 0xff;
    }
    this.pos++;
    return this;
  }

  /** A non-negative safe integer as an unsigned LEB128 varint. */
  varint(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`varint: ${v} is not a non-negative safe integer`);
    if (this.counts) {
      this.pos += varintLength(v);
      return this;
    }
    this.ensure(8);
    while (v >= 128) {
      this.buf[this.pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
    return this;
  }

  /** A 32-bit word, little-endian (hash halves). */
  u32(v: number): this {
    if (!this.counts) {
      this.ensure(4);
      const b = this.buf;
      const p = this.pos;
      b[p] = v & 0xff;
      b[p + 1] = (v >>> 8) & 0xff;
      b[p + 2] = (v >>> 16) & 0xff;
      b[p + 3] = (v >>> 24) & 0xff;
    }
    this.pos += 4;
    return this;
  }

  /** A finite number: a non-negative integer (times in ms, counters) as a varint of 2n; anything else 0x01 and a float64. */
  num(x: number): this {
    if (Number.isInteger(x) && x >= 0 && x <= NUM_INT_MAX && !Object.is(x, -0)) return this.varint(x * 2);
    if (!Number.isFinite(x)) throw new RangeError(`num: ${x} is not finite`);
    this.byte(1);
    if (!this.counts) {
      this.ensure(8);
      f64[0] = x;
      if (LITTLE_ENDIAN) this.buf.set(f64Bytes, this.pos);
      else for (let i = 0; i < 8; i++) this.buf[this.pos + i] = f64Bytes[7 - i] as number;
    }
    this.pos += 8;
    return this;
  }

  /** Bytes as they are (no length). */
  raw(b: Uint8Array): this {
    if (!this.counts) {
      this.ensure(b.length);
      this.buf.set(b, this.pos);
    }
    this.pos += b.length;
    return this;
  }

  /** A length, then the bytes. */
  blob(b: Uint8Array): this {
    return this.varint(b.length).raw(b);
  }

  /** A string: its UTF-8 length, then the bytes. */
  str(s: string): this {
    const len = utf8Length(s);
    this.varint(len);
    if (this.counts) {
      this.pos += len;
      return this;
    }
    this.ensure(len);
    if (len === s.length) {
      for (let i = 0; i < len; i++) this.buf[this.pos + i] = s.charCodeAt(i);
    } else {
      textEncoder.encodeInto(s, this.buf.subarray(this.pos, this.pos + len));
    }
    this.pos += len;
    return this;
  }

  /** A name (member, origin) interned in the current scope: 0 and the string the first time, then its index + 1. */
  name(s: string): this {
    const i = this.names.get(s);
    if (i !== undefined) return this.varint(i + 1);
    this.names.set(s, this.names.size);
    return this.byte(0).str(s);
  }

  /** 32-bit words: their count, then 4 bytes each, little-endian. */
  words(a: Uint32Array): this {
    this.varint(a.length);
    if (this.counts) {
      this.pos += 4 * a.length;
      return this;
    }
    if (LITTLE_ENDIAN) return this.raw(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    for (const v of a) this.u32(v);
    return this;
  }

  /** Runs `fn` in a fresh name scope (an entry encoded on its own), then restores the current one. */
  scoped(fn: () => void): this {
    const saved = this.names;
    this.names = new Map<string, number>();
    try {
      fn();
    } finally {
      this.names = saved;
    }
    return this;
  }

  /** The bytes written (a copy). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

export class BinReader {
  private pos = 0;
  private names: string[] = [];

  constructor(private readonly buf: Uint8Array) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  get offset(): number {
    return this.pos;
  }

  private need(n: number, what: string): void {
    if (this.pos + n > this.buf.length) throw new WireError('truncated', `${what}: needs ${n} bytes, ${this.buf.length - this.pos} left`);
  }

  byte(what = 'byte'): number {
    this.need(1, what);
    return this.buf[this.pos++] as number;
  }

  /** A varint up to `max` (a safe integer). */
  varint(what = 'varint', max = Number.MAX_SAFE_INTEGER): number {
    let v = 0;
    let scale = 1;
    for (let i = 0; ; i++) {
      if (i === 8) throw new WireError('malformed', `${what}: varint longer than 8 bytes`);
      const b = this.byte(what);
      v += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (i > 0 && b === 0) throw new WireError('malformed', `${what}: varint with a trailing zero byte`);
        break;
      }
      scale *= 128;
    }
    if (v > max) throw new WireError('malformed', `${what}: ${v} is over ${max}`);
    return v;
  }

  /** A count of items that take at least `minBytes` each: never more than the bytes left allow. */
  count(what: string, minBytes = 1): number {
    const n = this.varint(what);
    if (n * minBytes > this.remaining) throw new WireError('truncated', `${what}: ${n} items cannot fit in the ${this.remaining} bytes left`);
    return n;
  }

  /** A counted list (see `count`), each item read by `read`. */
  list<T>(what: string, minBytes: number, read: () => T): T[] {
    const n = this.count(what, minBytes);
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(read());
    return out;
  }

  u32(what = 'u32'): number {
    this.need(4, what);
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return ((b[p] as number) | ((b[p + 1] as number) << 8) | ((b[p + 2] as number) << 16) | ((b[p + 3] as number) << 24)) >>> 0;
  }

  num(what = 'number'): number {
    const v = this.varint(what);
    if (v % 2 === 0) return v / 2;
    if (v !== 1) throw new WireError('malformed', `${what}: bad number marker ${v}`);
    this.need(8, what);
    if (LITTLE_ENDIAN) f64Bytes.set(this.buf.subarray(this.pos, this.pos + 8));
    else for (let i = 0; i < 8; i++) f64Bytes[7 - i] = this.buf[this.pos + i] as number;
    this.pos += 8;
    const x = f64[0] as number;
    if (!Number.isFinite(x)) throw new WireError('malformed', `${what}: not a finite number`);
    return x;
  }

  raw(n: number, what = 'bytes'): Uint8Array {
    this.need(n, what);
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  blob(what = 'bytes'): Uint8Array {
    return this.raw(this.varint(what), what);
  }

  str(what = 'string'): string {
    const n = this.varint(what);
    this.need(n, what);
    let s: string;
    try {
      s = textDecoder.decode(this.buf.subarray(this.pos, this.pos + n));
    } catch {
      throw new WireError('malformed', `${what}: not UTF-8`);
    }
    this.pos += n;
    return s;
  }

  name(what = 'name'): string {
    const i = this.varint(what);
    if (i === 0) {
      const s = this.str(what);
      this.names.push(s);
      return s;
    }
    const s = this.names[i - 1];
    if (s === undefined) throw new WireError('malformed', `${what}: name #${i} not defined yet`);
    return s;
  }

  words(what = 'words'): Uint32Array {
    const n = this.count(what, 4);
    const out = new Uint32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32(what);
    return out;
  }

  bool(what = 'flag'): boolean {
    const b = this.byte(what);
    if (b > 1) throw new WireError('malformed', `${what}: ${b} is not 0 or 1`);
    return b === 1;
  }

  scoped<T>(fn: () => T): T {
    const saved = this.names;
    this.names = [];
    try {
      return fn();
    } finally {
      this.names = saved;
    }
  }

  /** Every byte read. */
  end(what: string): void {
    if (this.pos !== this.buf.length) throw new WireError('malformed', `${what}: ${this.buf.length - this.pos} bytes after the end`);
  }
}
