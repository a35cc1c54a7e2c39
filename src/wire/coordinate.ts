/**
 * Serf's ack payload (reference §8.7): the ping-delegate version byte `01`, then the sender's
 * network coordinate as Go's msgpack writes `coordinate.Coordinate` — a map with the field
 * names sorted (`Adjustment`, `Error`, `Height`, `Vec`), every number a `0xcb` float64.
 * The one definition of the coordinate type; the core's topology imports it as a type.
 *
 * Decoding is as lenient as Go's decoder (missing fields are zero, unknown ones skipped,
 * float32 and integers read as numbers, bytes after the map ignored) and never throws; whether
 * the values make sense (finite, bounded, the right dimensions) is the core's call.
 */
import { Reader, structFields } from './msgpack-reader.js';
import { Float64, Writer } from './msgpack-writer.js';
import type { DecodeResult } from './result.js';
import { fail, ok, WireError } from './result.js';

/** A network coordinate (Serf's `Coordinate`, seconds; `error` is dimensionless). */
export interface Coordinate {
  /** Serf's `Vec`: the Euclidean part. */
  readonly vec: readonly number[];
  /** Serf's `Error`. */
  readonly error: number;
  /** Serf's `Adjustment`. */
  readonly adjustment: number;
  /** Serf's `Height`. */
  readonly height: number;
}

/** How the core turns its coordinate into an ack payload and back (injected: the core imports no wire code). */
export interface CoordinateCodec {
  /** Serf's payload; with `local`, our local-space coordinate follows it (Serf reads only the first). */
  encode(c: Coordinate, local?: Coordinate | null): Uint8Array;
  decode(payload: Uint8Array): DecodeResult<Coordinate>;
  /** The local-space coordinate after Serf's, null when the payload has none (Serf's own acks). */
  decodeLocal(payload: Uint8Array): DecodeResult<Coordinate | null>;
  /** Serf's payload with extensions: `local` (as `encode`), then the names of the answerer's nearest members (`near`, when non-empty). */
  encodeWithNear(c: Coordinate, local: Coordinate | null, near: readonly string[]): Uint8Array;
  /** The nearest-member names after Serf's coordinate ([] when the payload has none); more than `NEAR_NAMES_MAX`, or one longer than `NEAR_NAME_BYTES_MAX`, refuses the list. */
  decodeNear(payload: Uint8Array): DecodeResult<readonly string[]>;
}

/** Serf's `PingVersion`. */
export const PING_VERSION = 1;
/** More dimensions than any sane configuration (Serf uses 8): a longer `Vec` is refused before it is read. */
export const COORDINATE_DIMENSIONS_MAX = 64;

const FIELDS = structFields('Vec', 'Error', 'Adjustment', 'Height');

/** The version of our local-space extension (the first element of its array). */
export const LOCAL_COORDINATE_VERSION = 1;
/** The tag of our nearest-names extension (the first element of its array: `[2, [name, …]]`). */
export const NEAR_NAMES_TAG = 2;
/** At most this many names in a nearest-names extension (a longer list is refused whole). */
export const NEAR_NAMES_MAX = 8;
/** A name longer than this (bytes) refuses the list (memberlist's names are far shorter). */
export const NEAR_NAME_BYTES_MAX = 512;

/**
 * `01` + msgpack `Coordinate`, byte for byte as serf's ping delegate writes it. With `local`,
 * our extension follows: a msgpack array `[1, Vec, Error, Adjustment, Height]` of float32s
 * (a local coordinate spans milliseconds: float32 keeps it to a nanosecond). Serf's ping
 * delegate decodes one value from the payload and ignores the bytes after it, so a Serf agent
 * reads the first coordinate and never sees the second (checked against real serf in
 * `test/integration/serf-coordinates.test.ts`).
 */
export function encodeCoordinatePayload(c: Coordinate, local: Coordinate | null = null, near: readonly string[] = []): Uint8Array {
  let nearBytes = 0;
  for (const n of near) nearBytes += 5 + 3 * n.length;
  const w = new Writer(16 + 9 * c.vec.length + 48 + (local === null ? 0 : 24 + 5 * local.vec.length) + (near.length > 0 ? 8 + nearBytes : 0));
  w.byte(PING_VERSION);
  w.value({
    Adjustment: new Float64(c.adjustment),
    Error: new Float64(c.error),
    Height: new Float64(c.height),
    Vec: c.vec.map((v) => new Float64(v)),
  });
  if (local !== null) {
    w.arrayHeader(5).uint(LOCAL_COORDINATE_VERSION).arrayHeader(local.vec.length);
    for (const v of local.vec) w.float32(v);
    w.float32(local.error).float32(local.adjustment).float32(local.height);
  }
  if (near.length > 0) {
    w.arrayHeader(2).uint(NEAR_NAMES_TAG).arrayHeader(near.length);
    for (const n of near) w.str(n);
  }
  return w.finish().slice();
}

/** The coordinate in a non-empty ack payload; a wrong version byte is `unknown-type`. Never throws. */
export function decodeCoordinatePayload(payload: Uint8Array): DecodeResult<Coordinate> {
  if (payload.length === 0) return fail('truncated', 'empty ack payload');
  if (payload[0] !== PING_VERSION) return fail('unknown-type', `unsupported ping version ${payload[0] ?? 0}`);
  try {
    return ok(readCoordinate(new Reader(payload, 1)));
  } catch (e) {
    return failure(e);
  }
}

/**
 * Our extensions after Serf's coordinate in an ack payload (see `encodeCoordinatePayload`):
 * each a msgpack array whose first element is its tag (`LOCAL_COORDINATE_VERSION`, then
 * `NEAR_NAMES_TAG`); `onExtension` reads the one it wants (the reader is after the tag, `n` is
 * the array's length) and returns true, or false to have it skipped. A tag we do not know is
 * skipped, as Serf skips what it does not know. Throws `WireError`.
 */
function readExtensions(payload: Uint8Array, onExtension: (r: Reader, tag: number, n: number) => boolean): void {
  if (payload.length === 0 || payload[0] !== PING_VERSION) return;
  const r = new Reader(payload, 1);
  readCoordinate(r);
  while (r.remaining > 0) {
    const n = r.arrayLength();
    if (n < 1) throw new WireError('malformed', 'ack payload extension: expected an array [tag, ...]');
    const tag = r.uint(255, 'extension tag');
    if (onExtension(r, tag, n)) return;
    for (let i = 1; i < n; i++) r.skip();
  }
}

/**
 * Our local-space coordinate after Serf's in an ack payload (see `encodeCoordinatePayload`):
 * null when nothing follows Serf's coordinate; an extension of a later version is ignored
 * (null) as Serf ignores what it does not know. Never throws.
 */
export function decodeLocalCoordinate(payload: Uint8Array): DecodeResult<Coordinate | null> {
  return decodeExtension<Coordinate | null>(payload, LOCAL_COORDINATE_VERSION, null, (r, n) => {
    if (n < 5) throw new WireError('malformed', 'local coordinate: expected an array [version, Vec, Error, Adjustment, Height]');
    const dims = r.arrayLength();
    if (dims < 0) throw new WireError('malformed', 'local Vec: expected an array');
    if (dims > COORDINATE_DIMENSIONS_MAX) throw new WireError('malformed', `local Vec: ${dims} dimensions (at most ${COORDINATE_DIMENSIONS_MAX})`);
    const vec: number[] = [];
    for (let k = 0; k < dims; k++) vec.push(r.float('Vec'));
    const error = r.float('Error');
    const adjustment = r.float('Adjustment');
    const height = r.float('Height');
    return { vec, error, adjustment, height };
  });
}

/**
 * The names of the answerer's nearest members after Serf's coordinate (our extension, only in
 * acks to pings that asked for it: `WirePing.near`): [] when the payload has none. A list
 * longer than `NEAR_NAMES_MAX`, an element that is not a string or longer than
 * `NEAR_NAME_BYTES_MAX` refuses the whole list. Never throws.
 */
export function decodeNearNames(payload: Uint8Array): DecodeResult<readonly string[]> {
  return decodeExtension<readonly string[]>(payload, NEAR_NAMES_TAG, [], (r, n) => {
    if (n < 2) throw new WireError('malformed', 'nearest names: expected an array [2, [name, ...]]');
    const count = r.arrayLength();
    if (count < 0) throw new WireError('malformed', 'nearest names: expected an array of names');
    if (count > NEAR_NAMES_MAX) throw new WireError('malformed', `nearest names: ${count} names (at most ${NEAR_NAMES_MAX})`);
    const out: string[] = [];
    for (let i = 0; i < count; i++) {
      const b = r.peek();
      // A str of any width (fixstr, str8/16/32); anything else is refused.
      if (!((b >= 0xa0 && b <= 0xbf) || b === 0xd9 || b === 0xda || b === 0xdb)) throw new WireError('malformed', `nearest names: element ${i} is not a string`);
      const name = r.string('nearest name');
      if (name.length > NEAR_NAME_BYTES_MAX) throw new WireError('malformed', `nearest names: a name of ${name.length} characters (at most ${NEAR_NAME_BYTES_MAX})`);
      out.push(name);
    }
    return out;
  });
}

/**
 * One extension (`tag`) of an ack payload, read by `read` (the reader after the tag, `n` the
 * extension array's length); `absent` when the payload has none. Never throws: a broken payload
 * is a failure, and nothing partly read is returned.
 */
function decodeExtension<T>(payload: Uint8Array, tag: number, absent: T, read: (r: Reader, n: number) => T): DecodeResult<T> {
  let out = absent;
  try {
    readExtensions(payload, (r, t, n) => {
      if (t !== tag) return false;
      out = read(r, n);
      return true;
    });
    return ok(out);
  } catch (e) {
    return failure(e);
  }
}

function failure<T>(e: unknown): DecodeResult<T> {
  if (e instanceof WireError) return fail(e.reason, e.message);
  return fail('malformed', e instanceof Error ? e.message : String(e));
}

/** Serf's `Coordinate` map at the reader's position (throws `WireError`). */
function readCoordinate(r: Reader): Coordinate {
  let vec: number[] = [];
  let error = 0;
  let adjustment = 0;
  let height = 0;
  r.struct(FIELDS, (i) => {
    switch (i) {
      case 0: {
        vec = [];
        if (r.nil()) return;
        const n = r.arrayLength();
        if (n < 0) throw new WireError('malformed', 'Vec: expected an array');
        if (n > COORDINATE_DIMENSIONS_MAX) throw new WireError('malformed', `Vec: ${n} dimensions (at most ${COORDINATE_DIMENSIONS_MAX})`);
        for (let k = 0; k < n; k++) vec.push(r.float('Vec'));
        return;
      }
      case 1:
        error = r.float('Error');
        return;
      case 2:
        adjustment = r.float('Adjustment');
        return;
      default:
        height = r.float('Height');
    }
  }, 'Coordinate');
  return { vec, error, adjustment, height };
}

/** The codec the runtime hands the core. */
export const coordinateCodec: CoordinateCodec = {
  encode: encodeCoordinatePayload,
  decode: decodeCoordinatePayload,
  decodeLocal: decodeLocalCoordinate,
  encodeWithNear: encodeCoordinatePayload,
  decodeNear: decodeNearNames,
};
