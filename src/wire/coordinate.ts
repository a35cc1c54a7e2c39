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
import { Float64, MsgpackError, Reader, Writer, structFields } from './msgpack.js';
import type { DecodeResult } from './result.js';
import { fail, ok } from './result.js';

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
  encode(c: Coordinate): Uint8Array;
  decode(payload: Uint8Array): DecodeResult<Coordinate>;
}

/** Serf's `PingVersion`. */
export const PING_VERSION = 1;
/** More dimensions than any sane configuration (Serf uses 8): a longer `Vec` is refused before it is read. */
export const COORDINATE_DIMENSIONS_MAX = 64;

const FIELDS = structFields('Vec', 'Error', 'Adjustment', 'Height');

/** `01` + msgpack `Coordinate`, byte for byte as serf's ping delegate writes it. */
export function encodeCoordinatePayload(c: Coordinate): Uint8Array {
  const w = new Writer(16 + 9 * c.vec.length + 48);
  w.byte(PING_VERSION);
  w.value({
    Adjustment: new Float64(c.adjustment),
    Error: new Float64(c.error),
    Height: new Float64(c.height),
    Vec: c.vec.map((v) => new Float64(v)),
  });
  return w.finish().slice();
}

/** The coordinate in a non-empty ack payload; a wrong version byte is `unknown-type`. Never throws. */
export function decodeCoordinatePayload(payload: Uint8Array): DecodeResult<Coordinate> {
  if (payload.length === 0) return fail('truncated', 'empty ack payload');
  if (payload[0] !== PING_VERSION) return fail('unknown-type', `unsupported ping version ${payload[0] ?? 0}`);
  try {
    const r = new Reader(payload, 1);
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
          if (n < 0) throw new MsgpackError('malformed', 'Vec: expected an array');
          if (n > COORDINATE_DIMENSIONS_MAX) throw new MsgpackError('malformed', `Vec: ${n} dimensions (at most ${COORDINATE_DIMENSIONS_MAX})`);
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
    return ok({ vec, error, adjustment, height });
  } catch (e) {
    if (e instanceof MsgpackError) return fail(e.reason, e.message);
    return fail('malformed', e instanceof Error ? e.message : String(e));
  }
}

/** The codec the runtime hands the core. */
export const coordinateCodec: CoordinateCodec = {
  encode: encodeCoordinatePayload,
  decode: decodeCoordinatePayload,
};
