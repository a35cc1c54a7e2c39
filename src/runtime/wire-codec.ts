import type { Message, StreamMessage } from '../core/messages.js';
import type { DecodeResult, Keyring, PacketOptions, WireStats } from '../wire/index.js';
import { StreamDecoder, decodePacket, encodePacket, encodeStreamMessage } from '../wire/index.js';
import type { Codec, StreamDecoding } from './codec.js';

export interface WireCodecOptions {
  /** Encrypt with the primary key, decrypt with any; null: plaintext. Mutations (install/use/remove) apply at once. */
  readonly keyring: Keyring | null;
  /** With a keyring: reject plaintext input (memberlist's GossipVerifyIncoming). Default true. */
  readonly verifyIncoming?: boolean;
  /** LZW-compress the packets we send when that makes them smaller (memberlist's EnableCompression). Default false: peers accept both, and our packets are small. */
  readonly compress?: boolean;
  /**
   * LZW-compress the streams we send (push-pull carries the whole member list: memberlist
   * compresses it, 2.8× smaller at 10 members). Default true.
   */
  readonly compressStreams?: boolean;
  /** This node's wire counters (decoded, rejected by reason, compound parts dropped). Default: the process-wide ones. */
  readonly stats?: WireStats;
}

/**
 * memberlist's bytes, through the wire layer: CRC for peers with protocol ≥ 5, AES-GCM with a
 * keyring, stream framing. The message types are defined once (`WireMessage<I>` in
 * src/wire/message.ts); a decoded one carries plain ids and the core's `Message` is the same
 * type with branded ids, so the casts below only brand them (names, addresses, incarnations).
 */
export function wireCodec(o: WireCodecOptions): Codec {
  const base: PacketOptions = {
    keyring: o.keyring,
    ...(o.verifyIncoming !== undefined ? { gossipVerifyIncoming: o.verifyIncoming } : {}),
    ...(o.compress !== undefined ? { compress: o.compress } : {}),
    ...(o.stats !== undefined ? { stats: o.stats } : {}),
  };
  const plain: PacketOptions = { ...base, crc: false };
  const withCrc: PacketOptions = { ...base, crc: true };
  const stream: PacketOptions = { ...plain, compress: o.compressStreams ?? true };
  return {
    encodePacket: (m: Message, crc: boolean) => encodePacket(m, crc ? withCrc : plain),
    decodePacket: (bytes: Uint8Array) => decodePacket(bytes, plain) as DecodeResult<Message>,
    encodeStream: (m: StreamMessage) => encodeStreamMessage(m, stream),
    streamDecoder: (): StreamDecoding => {
      const d = new StreamDecoder(plain);
      return {
        push: (chunk: Uint8Array) => d.push(chunk) as DecodeResult<StreamMessage> | undefined,
        end: () => d.end() as DecodeResult<StreamMessage> | undefined,
      };
    },
  };
}
