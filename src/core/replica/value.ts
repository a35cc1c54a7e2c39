import type { Hasher64 } from './hash.js';

/** A JSON-compatible value (what `JSON.stringify` round-trips). */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [k: string]: JsonValue };
/** What a key holds: bytes, or a JSON-compatible value. */
export type Value = Uint8Array | JsonValue;

/** UTF-8 length of a string without encoding it. */
export function utf8Bytes(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 2; // surrogate pair: 4 bytes for 2 code units
      i++;
    } else n += 2;
  }
  return n;
}

/** Bytes a length or counter takes as an unsigned LEB128 varint. */
export function varintBytes(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/**
 * Encoded size of a value: the byte length for bytes, the UTF-8 length of its JSON text for
 * JSON. -1 when the value is not JSON-compatible (functions, undefined, cycles, NaN/∞, …).
 */
export function valueBytes(v: unknown): number {
  if (v instanceof Uint8Array) return v.length;
  if (!isJsonValue(v, 0)) return -1;
  return utf8Bytes(JSON.stringify(v));
}

function isJsonValue(v: unknown, depth: number): v is JsonValue {
  if (depth > 64) return false;
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(v);
    case 'object': {
      if (v === null) return true;
      if (Array.isArray(v)) {
        for (const x of v as unknown[]) if (!isJsonValue(x, depth + 1)) return false;
        return true;
      }
      const proto = Object.getPrototypeOf(v) as unknown;
      if (proto !== Object.prototype && proto !== null) return false;
      for (const k of Object.keys(v)) if (!isJsonValue((v as Record<string, unknown>)[k], depth + 1)) return false;
      return true;
    }
    case 'bigint':
    case 'function':
    case 'symbol':
    case 'undefined':
      return false;
  }
}

// Type tags fed to the hasher before each value, so bytes, strings and numbers never collide.
const T_BYTES = 1;
const T_NULL = 2;
const T_FALSE = 3;
const T_TRUE = 4;
const T_NUMBER = 5;
const T_STRING = 6;
const T_ARRAY = 7;
const T_OBJECT = 8;

/** Feeds a value canonically (object keys sorted), so equal values hash equal on every node. */
export function hashValue(h: Hasher64, v: Value): void {
  if (v instanceof Uint8Array) {
    h.word(T_BYTES).bytes(v);
    return;
  }
  if (v === null) h.word(T_NULL);
  else if (v === true) h.word(T_TRUE);
  else if (v === false) h.word(T_FALSE);
  else if (typeof v === 'number') h.word(T_NUMBER).number(v);
  else if (typeof v === 'string') h.word(T_STRING).string(v);
  else if (Array.isArray(v)) {
    h.word(T_ARRAY).word(v.length);
    for (const x of v as readonly JsonValue[]) hashValue(h, x);
  } else {
    const o = v as { readonly [k: string]: JsonValue };
    const keys = Object.keys(o).sort();
    h.word(T_OBJECT).word(keys.length);
    for (const k of keys) {
      h.string(k);
      hashValue(h, o[k] as JsonValue);
    }
  }
}
