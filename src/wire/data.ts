/**
 * The data layer's type bytes and data values. Its messages (the replicated state's rumors,
 * digests, Merkle walks and acknowledgements) travel as memberlist user messages under a type
 * byte in [0x80, 0xbf], a range Serf does not use (`SerfNode.sendData` puts the byte in front),
 * with compact bodies (src/wire/state.ts). A data value (an entry as the store keeps it, an
 * application's value) is MessagePack (`@msgpack/msgpack`) with extensions for what plain
 * MessagePack lacks:
 * - ext 1, `Map`: a MessagePack array `[k0, v0, k1, v1, …]` (keys of any type, insertion order);
 * - ext 2, typed arrays other than `Uint8Array` (which is MessagePack `bin`): one subtype byte,
 *   then the elements little-endian;
 * - ext 3, `bigint`: its decimal digits (ASCII, optional leading `-`).
 * `undefined` fields are left out (optional fields stay absent). `-0` comes back as `0`.
 *
 * Decoding never throws: `decodeDataValue` returns a `DecodeResult` and counts every rejection
 * in a `DataStats` (over the size limit, truncated, malformed), as the message decoders do.
 * Imports nothing of ours but the wire layer's result type.
 */
import { DecodeError, Decoder, Encoder, ExtData, ExtensionCodec } from '@msgpack/msgpack';
import type { DecodeResult, WireErrorReason } from './result.js';
import { WIRE_ERROR_REASONS } from './result.js';

/**
 * The type byte of each data-layer message kind: the core StateNode's message union
 * (src/core/state/messages.ts). The replicated state keeps [0xa0, 0xbf] for itself; [0x80, 0x9f]
 * stays free for applications' own `sendData` messages (they pass through as `data-message` events).
 */
export const DataMessageType = {
  /** The StateNode's rumor: a dissemination request or reply carrying replica entries. */
  'state-rumor': 0xb8,
  /** One message of a Merkle reconciliation session (anti-entropy), with the sender's digest first. */
  'state-reconcile': 0xb9,
  /** Relayed convergence digests: members' Merkle roots and version summaries. */
  'state-digests': 0xba,
  /** A member's acknowledgements of a writer's sampled writes, sent to that writer. */
  'state-acks': 0xbb,
  /** Entries of a write pushed down its writer's broadcast tree. */
  'state-tree': 0xbe,
} as const satisfies Record<string, number>;

export type DataMessageKind = keyof typeof DataMessageType;
export const DATA_MESSAGE_KINDS = Object.keys(DataMessageType) as DataMessageKind[];

/**
 * Type bytes of the application range [0x80, 0x9f] that our own adapters use, registered here so
 * no two of them collide (they travel as `data-message` events, untouched by the data layer).
 */
export const AppDataType = {
  /** Yjs document replication (src/yjs): updates, state-vector digests, diffs, awareness. */
  yjs: 0x90,
} as const satisfies Record<string, number>;

/**
 * Largest body accepted or produced: memberlist's reliable user message limit (20 MiB), so any
 * body we encode can travel over a stream. Packets are bounded far lower by the transport.
 */
export const DATA_MESSAGE_BYTES_MAX = 20 * 1024 * 1024;

/**
 * Values a data message may hold. Objects are plain records (no class instances); `Map` keys
 * and values are data values too.
 */
export type DataValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array
  | readonly DataValue[]
  | ReadonlyMap<DataValue, DataValue>
  | { readonly [field: string]: DataValue | undefined };

/** Decoded and rejected data-layer messages (rejections by reason). */
export class DataStats {
  decoded = 0;
  rejectedTotal = 0;
  readonly rejected: Record<WireErrorReason, number> = Object.fromEntries(WIRE_ERROR_REASONS.map((r) => [r, 0])) as Record<WireErrorReason, number>;

  reject(reason: WireErrorReason): void {
    this.rejected[reason]++;
    this.rejectedTotal++;
  }
}

// ------------------------------------------------------------------ extensions

const EXT_MAP = 1;
const EXT_TYPED_ARRAY = 2;
const EXT_BIGINT = 3;

type TypedArrayCtor =
  | Uint16ArrayConstructor | Uint32ArrayConstructor | Int8ArrayConstructor | Int16ArrayConstructor | Int32ArrayConstructor
  | Float32ArrayConstructor | Float64ArrayConstructor | BigInt64ArrayConstructor | BigUint64ArrayConstructor | Uint8ClampedArrayConstructor;

/** Subtype byte → constructor (index = subtype). */
const TYPED: readonly (TypedArrayCtor | null)[] = [
  null, Uint16Array, Uint32Array, Int8Array, Int16Array, Int32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array, Uint8ClampedArray,
];
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function typedSubtype(v: ArrayBufferView): number {
  for (let i = 1; i < TYPED.length; i++) {
    const C = TYPED[i] as TypedArrayCtor;
    if (v.constructor === C) return i;
  }
  return 0;
}

function encodeTypedArray(v: ArrayBufferView, sub: number): Uint8Array {
  const out = new Uint8Array(1 + v.byteLength);
  out[0] = sub;
  out.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), 1);
  if (!LITTLE_ENDIAN) swapBytes(out.subarray(1), (TYPED[sub] as TypedArrayCtor).BYTES_PER_ELEMENT);
  return out;
}

function decodeTypedArray(data: Uint8Array): ArrayBufferView {
  if (data.length === 0) throw new DecodeError('typed array extension without a subtype');
  const C = TYPED[data[0] as number];
  if (C === null || C === undefined) throw new DecodeError(`unknown typed array subtype ${String(data[0])}`);
  const body = data.slice(1); // own, aligned buffer
  if (body.length % C.BYTES_PER_ELEMENT !== 0) throw new DecodeError(`typed array of ${body.length} bytes is not a whole number of ${C.BYTES_PER_ELEMENT}-byte elements`);
  if (!LITTLE_ENDIAN) swapBytes(body, C.BYTES_PER_ELEMENT);
  return new C(body.buffer, 0, body.length / C.BYTES_PER_ELEMENT);
}

function swapBytes(b: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let i = 0; i < b.length; i += size) b.subarray(i, i + size).reverse();
}

const BIGINT_DIGITS_MAX = 4096;
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

const extensions = new ExtensionCodec();
// Registered before Map so a Map never reaches the typed-array check and vice versa.
extensions.register({
  type: EXT_MAP,
  encode: (v: unknown) => {
    if (!(v instanceof Map)) return null;
    const flat: unknown[] = [];
    for (const [k, x] of v) flat.push(k, x);
    return encodeNested(flat);
  },
  decode: (data: Uint8Array) => {
    const flat = decodeNested(data);
    if (!Array.isArray(flat) || flat.length % 2 !== 0) throw new DecodeError('map extension is not an array of key, value pairs');
    const m = new Map<unknown, unknown>();
    for (let i = 0; i < flat.length; i += 2) m.set(flat[i], flat[i + 1]);
    return m;
  },
});
extensions.register({
  type: EXT_TYPED_ARRAY,
  encode: (v: unknown) => {
    if (!ArrayBuffer.isView(v) || v instanceof Uint8Array || v instanceof DataView) return null;
    const sub = typedSubtype(v);
    if (sub === 0) throw new TypeError(`cannot encode a ${v.constructor.name}`);
    return encodeTypedArray(v, sub);
  },
  decode: (data: Uint8Array) => decodeTypedArray(data),
});
extensions.register({
  type: EXT_BIGINT,
  encode: (v: unknown) => (typeof v === 'bigint' ? textEncoder.encode(v.toString()) : null),
  decode: (data: Uint8Array) => {
    if (data.length === 0 || data.length > BIGINT_DIGITS_MAX) throw new DecodeError(`bigint extension of ${data.length} digits`);
    const s = textDecoder.decode(data);
    if (!/^-?[0-9]+$/.test(s)) throw new DecodeError('bigint extension is not a decimal integer');
    return BigInt(s);
  },
});

// Encoders and decoders are not reentrant: the Map extension encodes and decodes its contents
// with another one per nesting level (a small pool, reused).
const encoders: Encoder[] = [];
const decoders: Decoder[] = [];
let encDepth = 0;
let decDepth = 0;
/** Map extensions nested deeper than this are refused (each level recurses). */
const MAP_NESTING_MAX = 32;

function encodeNested(v: unknown): Uint8Array {
  if (encDepth >= MAP_NESTING_MAX) throw new TypeError(`maps nested deeper than ${MAP_NESTING_MAX}`);
  let e = encoders[encDepth];
  if (e === undefined) {
    e = new Encoder({ extensionCodec: extensions, ignoreUndefined: true });
    encoders[encDepth] = e;
  }
  encDepth++;
  try {
    return e.encode(v);
  } finally {
    encDepth--;
  }
}

function decodeNested(b: Uint8Array): unknown {
  if (decDepth >= MAP_NESTING_MAX) throw new DecodeError(`maps nested deeper than ${MAP_NESTING_MAX}`);
  let d = decoders[decDepth];
  if (d === undefined) {
    d = new Decoder({
      extensionCodec: extensions, useBigInt64: false, maxStrLength: DATA_MESSAGE_BYTES_MAX, maxBinLength: DATA_MESSAGE_BYTES_MAX,
      maxArrayLength: DATA_MESSAGE_BYTES_MAX, maxMapLength: DATA_MESSAGE_BYTES_MAX, maxExtLength: DATA_MESSAGE_BYTES_MAX,
    });
    decoders[decDepth] = d;
  }
  decDepth++;
  try {
    return d.decode(b);
  } finally {
    decDepth--;
  }
}

// ------------------------------------------------------------------ values

/** Encodes one data value (e.g. a replica entry to store or to put in an update). Throws on values it cannot carry (functions, symbols, class instances other than the ones listed). */
export function encodeDataValue(v: unknown): Uint8Array {
  checkEncodable(v, 0);
  const out = encodeNested(v);
  if (out.length > DATA_MESSAGE_BYTES_MAX) throw new RangeError(`encoded value is ${out.length} bytes, over ${DATA_MESSAGE_BYTES_MAX}`);
  return out;
}

/** Decodes one data value; never throws. */
export function decodeDataValue(bytes: Uint8Array, stats?: DataStats): DecodeResult<DataValue> {
  if (bytes.length > DATA_MESSAGE_BYTES_MAX) return dataFailure(stats, 'too-large', `value of ${bytes.length} bytes, over ${DATA_MESSAGE_BYTES_MAX}`);
  if (bytes.length === 0) return dataFailure(stats, 'truncated', 'empty value');
  try {
    const v = decodeNested(bytes) as DataValue;
    checkDecoded(v, 0);
    if (stats !== undefined) stats.decoded++;
    return { ok: true, value: v };
  } catch (e) {
    return rejectThrown(stats, e);
  }
}

// ------------------------------------------------------------------ message kinds

const KIND_OF_BYTE = new Map<number, DataMessageKind>(DATA_MESSAGE_KINDS.map((k) => [DataMessageType[k], k]));

/** The message kind of a type byte, or undefined when the byte is none of ours. */
export function dataMessageKind(dataType: number): DataMessageKind | undefined {
  return KIND_OF_BYTE.get(dataType);
}

// ------------------------------------------------------------------ helpers

function checkEncodable(v: unknown, depth: number): void {
  if (depth > 512) throw new TypeError('value nested deeper than 512');
  switch (typeof v) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return;
    case 'object':
      if (v === null || ArrayBuffer.isView(v)) return;
      if (Array.isArray(v)) {
        for (const x of v) checkEncodable(x, depth + 1);
        return;
      }
      if (v instanceof Map) {
        for (const [k, x] of v) {
          checkEncodable(k, depth + 1);
          checkEncodable(x, depth + 1);
        }
        return;
      }
      {
        const proto: unknown = Object.getPrototypeOf(v);
        if (proto !== Object.prototype && proto !== null) throw new TypeError(`cannot encode an instance of ${v.constructor.name}`);
      }
      for (const x of Object.values(v)) checkEncodable(x, depth + 1);
      return;
    case 'function':
    case 'symbol':
      throw new TypeError(`cannot encode a ${typeof v}`);
  }
}

/**
 * Extension types we do not define come out of the decoder as `ExtData`, and MessagePack's
 * timestamp (ext −1) as a `Date`: neither is a data value, so the message is malformed.
 */
function checkDecoded(v: unknown, depth: number): void {
  if (typeof v !== 'object' || v === null || ArrayBuffer.isView(v)) return;
  if (depth > 4096) throw new DecodeError('value nested too deep');
  if (v instanceof ExtData) throw new DecodeError(`unknown extension type ${v.type}`);
  if (v instanceof Date) throw new DecodeError('timestamp extension is not a data value');
  if (Array.isArray(v)) {
    for (const x of v) checkDecoded(x, depth + 1);
  } else if (v instanceof Map) {
    for (const [k, x] of v) {
      checkDecoded(k, depth + 1);
      checkDecoded(x, depth + 1);
    }
  } else {
    for (const x of Object.values(v)) checkDecoded(x, depth + 1);
  }
}

/** A data-layer decode failure, counted in `stats` by reason. */
export function dataFailure<T>(stats: DataStats | undefined, reason: WireErrorReason, detail: string): DecodeResult<T> {
  stats?.reject(reason);
  return { ok: false, reason, detail };
}

function rejectThrown<T>(stats: DataStats | undefined, e: unknown): DecodeResult<T> {
  const msg = e instanceof Error ? e.message : String(e);
  // @msgpack/msgpack reports input that ends early as "Insufficient data" (a RangeError).
  const reason: WireErrorReason = /insufficient data/i.test(msg) ? 'truncated' : /max length exceeded/i.test(msg) ? 'too-large' : 'malformed';
  return dataFailure(stats, reason, msg);
}
