import type { Message, StreamMessage } from '../core/messages.js';
import type { DecodeResult } from '../wire/index.js';

/** Incremental decoder of one stream: feed chunks; undefined = need more bytes. */
export interface StreamDecoding {
  push(chunk: Uint8Array): DecodeResult<StreamMessage> | undefined;
  /** The peer closed the stream: undefined if nothing was pending, else a `truncated` failure. */
  end?(): DecodeResult<StreamMessage> | undefined;
}

/**
 * The bytes side of the runtime: how core messages become packets and stream frames and back.
 * `wireCodec` (memberlist's format, with CRC and a keyring) is the one in use; tests may pass
 * their own.
 */
export interface Codec {
  /** A whole datagram; `crc` for peers that speak memberlist protocol ≥ 5. May throw on a message it cannot encode. */
  encodePacket(m: Message, crc: boolean): Uint8Array;
  decodePacket(bytes: Uint8Array): DecodeResult<Message>;
  /** One stream message, framed (and encrypted when configured). May throw on a message it cannot encode. */
  encodeStream(m: StreamMessage): Uint8Array;
  streamDecoder(): StreamDecoding;
}
