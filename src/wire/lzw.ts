import { WireError } from './result.js';

/**
 * LZW exactly as Go's `compress/lzw` does it with `lzw.LSB` and literal width 8, which is what
 * memberlist's `compress{Algo: 0}` carries (reference §3.3): codes 0–255 literals, 256 clear,
 * 257 EOF, first free code 258; 9 to 12 bits, packed least-significant bit first.
 *
 * The writer mirrors Go's (a hash table of code<<8|byte → code; a clear code when 4095 codes
 * are used). Go ≥ 1.17 starts every stream with a clear code; older Go did not. Both decode
 * the same; `initialClear` picks which bytes we write (the captures of Debian's serf decide
 * the default, see test/unit/wire/captures.test.ts).
 */

const LIT_WIDTH = 8;
const MAX_WIDTH = 12;
const CLEAR = 1 << LIT_WIDTH;
const EOF = CLEAR + 1;
const MAX_CODE = (1 << MAX_WIDTH) - 1;
const TABLE_SIZE = 4 * (1 << MAX_WIDTH);
const TABLE_MASK = TABLE_SIZE - 1;
const INVALID_CODE = 0xffffffff;

export interface CompressOptions {
  /** Start with a clear code, as Go ≥ 1.17 does (default true). */
  readonly initialClear?: boolean;
}

// Encoder table, reused across calls: a call records every slot it fills (at most one per code
// before a reset) and zeroes exactly those when it resets or returns, so the next call starts
// from an empty table without allocating and clearing 64 KB for a packet of a few hundred bytes.
const TABLE = new Uint32Array(TABLE_SIZE);
const FILLED = new Uint16Array(MAX_CODE + 1);
let filledCount = 0;
function clearTable(): void {
  for (let i = 0; i < filledCount; i++) TABLE[FILLED[i] as number] = 0;
  filledCount = 0;
}

/** Compresses `input` as Go's `lzw.NewWriter(w, lzw.LSB, 8)`, one Write then Close. */
export function compress(input: Uint8Array, options: CompressOptions = {}): Uint8Array {
  const initialClear = options.initialClear ?? true;
  let out = new Uint8Array(Math.max(16, input.length + (input.length >> 1) + 8));
  let outLen = 0;
  let bits = 0;
  let nBits = 0;
  let width = LIT_WIDTH + 1;
  let hi = EOF;
  let overflow = 1 << (LIT_WIDTH + 1);
  const table = TABLE;

  const write = (code: number): void => {
    bits |= code << nBits;
    nBits += width;
    while (nBits >= 8) {
      if (outLen === out.length) {
        const next = new Uint8Array(out.length * 2);
        next.set(out);
        out = next;
      }
      out[outLen++] = bits & 0xff;
      bits >>>= 8;
      nBits -= 8;
    }
  };
  /** Go's incHi: true when the codes ran out and the table was reset. */
  const incHi = (): boolean => {
    hi++;
    if (hi === overflow) {
      width++;
      overflow <<= 1;
    }
    if (hi === MAX_CODE) {
      write(CLEAR);
      width = LIT_WIDTH + 1;
      hi = EOF;
      overflow = CLEAR << 1;
      clearTable();
      return true;
    }
    return false;
  };

  let code = INVALID_CODE;
  let i = 0;
  if (input.length > 0) {
    if (initialClear) write(CLEAR);
    code = input[0] as number;
    i = 1;
  }
  outer: for (; i < input.length; i++) {
    const literal = input[i] as number;
    const key = ((code << 8) | literal) >>> 0;
    let hash = ((key >>> 12) ^ key) & TABLE_MASK;
    for (let h = hash, t = table[hash] as number; t !== 0; ) {
      if (key === t >>> 12) {
        code = t & MAX_CODE;
        continue outer;
      }
      h = (h + 1) & TABLE_MASK;
      t = table[h] as number;
    }
    write(code);
    code = literal;
    if (incHi()) continue;
    for (;;) {
      if (table[hash] === 0) {
        table[hash] = ((key << 12) | hi) >>> 0;
        FILLED[filledCount++] = hash;
        break;
      }
      hash = (hash + 1) & TABLE_MASK;
    }
  }
  if (code !== INVALID_CODE) {
    write(code);
    incHi();
  } else if (initialClear) {
    write(CLEAR);
  }
  clearTable();
  write(EOF);
  if (nBits > 0) {
    if (outLen === out.length) {
      const next = new Uint8Array(out.length + 1);
      next.set(out);
      out = next;
    }
    out[outLen++] = bits & 0xff;
  }
  return out.slice(0, outLen);
}

/**
 * Decompresses as Go's `lzw.NewReader(r, lzw.LSB, 8)` read to the end: a missing EOF code is
 * an error (Go's "unexpected EOF"), bytes after the EOF code are ignored. Output beyond
 * `maxBytes` is rejected as `too-large` before it is produced. Throws `WireError`.
 */
// Decoder tables, reused across calls: every entry below `hi` is written in the current
// stream before it is read, so stale entries from an earlier call are never used. LENGTH is each
// code's expansion length, so a code's bytes are written straight into the output, last first.
const SUFFIX = new Uint8Array(1 << MAX_WIDTH);
const PREFIX = new Uint16Array(1 << MAX_WIDTH);
const LENGTH = new Uint16Array(1 << MAX_WIDTH);

export function decompress(input: Uint8Array, maxBytes: number): Uint8Array {
  let out = new Uint8Array(Math.min(maxBytes, Math.max(64, input.length * 3)));
  let outLen = 0;
  const suffix = SUFFIX;
  const prefix = PREFIX;
  const length = LENGTH;
  let width = LIT_WIDTH + 1;
  let hi = EOF;
  let overflow = 1 << width;
  let last = -1;
  let bits = 0;
  let nBits = 0;
  let pos = 0;

  /** Room for `n` more output bytes (this runs once per code of every packet received). */
  const reserve = (n: number): void => {
    const end = outLen + n;
    if (end <= out.length) return;
    if (end > maxBytes) throw new WireError('too-large', `decompressed payload exceeds ${maxBytes} bytes`);
    let size = out.length * 2;
    while (size < end) size *= 2;
    const next = new Uint8Array(Math.min(size, maxBytes));
    next.set(out.subarray(0, outLen));
    out = next;
  };
  const lengthOf = (c: number): number => (c < CLEAR ? 1 : (length[c] as number));

  for (;;) {
    while (nBits < width) {
      if (pos >= input.length) throw new WireError('decompress-failed', 'lzw: unexpected EOF (no EOF code)');
      bits |= (input[pos++] as number) << nBits;
      nBits += 8;
    }
    const code = bits & ((1 << width) - 1);
    bits >>>= width;
    nBits -= width;

    let first: number;
    if (code < CLEAR) {
      reserve(1);
      out[outLen++] = code;
      first = code;
    } else if (code === CLEAR) {
      width = LIT_WIDTH + 1;
      hi = EOF;
      overflow = 1 << width;
      last = -1;
      continue;
    } else if (code === EOF) {
      return out.slice(0, outLen);
    } else if (code <= hi) {
      // The code's bytes, written from the end: a code not yet defined (code === hi) is the
      // last code's bytes followed by their first byte.
      const kwk = code === hi && last !== -1;
      const n = kwk ? lengthOf(last) + 1 : lengthOf(code);
      reserve(n);
      let i = outLen + n - 1;
      let c = code;
      if (kwk) {
        c = last;
        let f = last;
        let guard = 0;
        while (f >= CLEAR) {
          f = prefix[f] as number;
          if (++guard > MAX_CODE) throw new WireError('decompress-failed', 'lzw: prefix cycle');
        }
        out[i--] = f;
      }
      while (c >= CLEAR) {
        if (i <= outLen) throw new WireError('decompress-failed', 'lzw: expansion too long');
        out[i--] = suffix[c] as number;
        c = prefix[c] as number;
      }
      if (i !== outLen) throw new WireError('decompress-failed', 'lzw: expansion length mismatch');
      out[i] = c;
      outLen += n;
      first = c;
    } else {
      throw new WireError('decompress-failed', 'lzw: invalid code');
    }
    if (last !== -1) {
      suffix[hi] = first;
      prefix[hi] = last;
      length[hi] = lengthOf(last) + 1;
    }
    last = code;
    hi++;
    if (hi >= overflow) {
      if (width === MAX_WIDTH) {
        last = -1;
        hi--;
      } else {
        width++;
        overflow = 1 << width;
      }
    }
  }
}
