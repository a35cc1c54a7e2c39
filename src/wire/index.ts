/**
 * The wire layer: memberlist's bytes (reference/memberlist-wire.md §1–5). Imports nothing of
 * ours; decoders never throw (every result is a `DecodeResult`, every rejection is counted).
 */
export type { DecodeResult, WireErrorReason } from './result.js';
export { WIRE_ERROR_REASONS } from './result.js';
export type {
  WireMessage,
  WireStreamMessage,
  WirePing,
  WireIndirectPing,
  WireAck,
  WireNack,
  WireSuspect,
  WireAlive,
  WireDead,
  WireUser,
  WireCompound,
  WirePushPull,
  WireErrorMsg,
  WireVsn,
} from './message.js';
export { encodeMessage, decodeMessage, MessageType } from './message.js';
export { Keyring, ENCRYPT_OVERHEAD_BYTES, encryptedLength } from './keyring.js';
export type { PacketOptions } from './packet.js';
export { encodePacket, decodePacket, CRC_WRAPPER_BYTES } from './packet.js';
export { encodeStreamMessage, encodeStreamBody, StreamDecoder, STREAM_BUFFER_BYTES_MAX } from './stream.js';
export { WireStats, wireStats, type WireStatsSnapshot } from './stats.js';
export * from './limits.js';
export { crc32 } from './crc32.js';
export { compress as lzwCompress, decompress as lzwDecompress } from './lzw.js';
export { parseAddress, formatAddress } from './address.js';
