/**
 * What the network adds to the bytes a node hands its transport, for the byte budget
 * (`--bandwidth` counts what goes on the wire): the IP and UDP header of each datagram, and the
 * TCP/IP segments of a stream (the handshake and close this side sends, a header per segment).
 */
export interface WireHeaders {
  /** Per datagram: IPv4 20 + UDP 8, or IPv6 40 + UDP 8. */
  readonly packetBytes: number;
  /** For a stream carrying `bytes` from this side. */
  readonly streamBytes: (bytes: number) => number;
}

export const NO_HEADERS: WireHeaders = { packetBytes: 0, streamBytes: () => 0 };

/** Linux's TCP header with timestamps (20 + 12), and its segment payload on a 1500-byte MTU. */
const TCP_HEADER_BYTES = 32;
const TCP_SEGMENT_BYTES = 1448;
/** Segments this side sends without payload: SYN (or SYN-ACK), the handshake's ACK, FIN, the ACK of the peer's FIN. */
const TCP_CONTROL_SEGMENTS = 4;

export function wireHeaders(ipVersion: 4 | 6): WireHeaders {
  const ip = ipVersion === 4 ? 20 : 40;
  return {
    packetBytes: ip + 8,
    streamBytes: (bytes) => (ip + TCP_HEADER_BYTES) * (TCP_CONTROL_SEGMENTS + Math.ceil(bytes / TCP_SEGMENT_BYTES)),
  };
}
