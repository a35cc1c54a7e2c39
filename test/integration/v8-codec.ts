import { deserialize, serialize } from 'node:v8';
import type { Message, StreamMessage } from '../../src/core/messages.js';
import type { Codec, Decoded, StreamDecoding } from '../../src/runtime/codec.js';

/**
 * A stand-in codec for runtime tests that are about sockets and timing, not bytes: V8's
 * structured serialization, streams framed with a 4-byte length. Malformed input is a
 * `malformed` rejection, as the real codec reports it.
 */
export const v8Codec: Codec = {
  encodePacket: (m: Message) => new Uint8Array(serialize(m)),
  decodePacket: (bytes: Uint8Array): Decoded<Message> => decode<Message>(bytes),
  encodeStream: (m: StreamMessage) => {
    const body = serialize(m);
    const out = new Uint8Array(4 + body.length);
    new DataView(out.buffer).setUint32(0, body.length);
    out.set(body, 4);
    return out;
  },
  streamDecoder: (): StreamDecoding => {
    let buf = new Uint8Array(0);
    return {
      push(chunk) {
        const next = new Uint8Array(buf.length + chunk.length);
        next.set(buf);
        next.set(chunk, buf.length);
        buf = next;
        if (buf.length < 4) return undefined;
        const len = new DataView(buf.buffer, buf.byteOffset).getUint32(0);
        if (buf.length < 4 + len) return undefined;
        return decode<StreamMessage>(buf.subarray(4, 4 + len));
      },
    };
  },
};

function decode<T>(bytes: Uint8Array): Decoded<T> {
  try {
    const v = deserialize(bytes) as unknown;
    if (typeof v !== 'object' || v === null || !('type' in v)) return { ok: false, reason: 'malformed', detail: 'not a message' };
    return { ok: true, value: v as T };
  } catch (e) {
    return { ok: false, reason: 'malformed', detail: e instanceof Error ? e.message : String(e) };
  }
}
