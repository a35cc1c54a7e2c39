/**
 * Limits as memberlist 0.6 sets them (reference §10, HCSEC-2026-18). What exceeds them is
 * rejected with a `DecodeResult` error and counted; nothing is allocated for it first.
 */

/** A push-pull header may announce at most this many node states (memberlist 0.6). */
export const PUSH_PULL_NODES_MAX = 1 << 20;
/** A push-pull's user state (`UserStateLen`) and an encrypted stream's length: `maxPushStateBytes`, 20 MiB. */
export const PUSH_STATE_BYTES_MAX = 20 * 1024 * 1024;
/** A reliable (stream) user message (`UserMsgLen`): 20 MiB (memberlist 0.6). */
export const USER_MSG_BYTES_MAX = 20 * 1024 * 1024;
/** Output of LZW decompression: 40 MiB (memberlist 0.6); an empty output is an error too. */
export const DECOMPRESSED_BYTES_MAX = 40 * 1024 * 1024;
/** Go reads at most this many bytes per UDP datagram. */
export const PACKET_BYTES_MAX = 65536;
/**
 * Nesting of compound/compress wrappers inside a packet or stream. Go recurses without a bound;
 * its own senders nest at most compress(compound(...)). Deeper input is rejected, so a crafted
 * packet cannot exhaust the stack.
 */
export const NESTING_MAX = 8;
/** Go's compound header holds a u8 count; v0.2.2 mis-parses ≥ 128 (reference §3.2), so we send ≤ 127. */
export const COMPOUND_PARTS_MAX = 127;
