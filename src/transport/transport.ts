/**
 * What the runtime needs from a network: unreliable packets and one-exchange streams between
 * `host:port` addresses, bytes only (framing, encryption and meaning live in `wire`).
 * Implemented over real sockets by `NetTransport` and in memory by `MemoryNetwork`.
 */
export interface Transport {
  /** The address packets and streams are received on (the bound port, never 0). */
  readonly localAddress: string;
  /** Best effort: a failure is counted in `stats.packetSendErrors`, never thrown. */
  sendPacket(to: string, bytes: Uint8Array): void;
  /** Opens a stream to `to`; data, end and errors arrive through `handlers`. */
  openStream(to: string, handlers: StreamHandlers): Stream;
  close(): Promise<void>;
  readonly stats: TransportStats;
}

export interface TransportHandlers {
  /** One received datagram; `bytes` is only valid during the call. */
  packet(from: string, bytes: Uint8Array): void;
  /** A peer opened a stream to us. Return its handlers. */
  stream(s: Stream): StreamHandlers;
}

export interface StreamHandlers {
  /** A chunk of bytes, in order. */
  data(chunk: Uint8Array): void;
  /** The stream is gone: the peer closed it (`error` null) or it failed or timed out. Called once. */
  close(error: Error | null): void;
}

export interface Stream {
  /** The peer's address (for an inbound stream, its ephemeral source port). */
  readonly remote: string;
  write(bytes: Uint8Array): void;
  /** Flushes what was written, then closes our side. */
  end(): void;
  /** Closes at once; `close` is reported with `error`. */
  destroy(error?: Error): void;
}

export interface TransportStats {
  packetsIn: number;
  packetBytesIn: number;
  packetsOut: number;
  packetBytesOut: number;
  packetSendErrors: number;
  packetsOversize: number;
  streamsIn: number;
  streamsOut: number;
  /** Inbound connections closed at accept: every slot taken (`inboundStreamsMax`) or, `streamsRefusedPerIp` of them, the source address's share. */
  streamsRefused: number;
  streamsRefusedPerIp: number;
  /** Streams cut at their deadline; `streamsTimedOutFirstByte` of them inbound ones that sent nothing before the first-byte deadline. */
  streamsTimedOut: number;
  streamsTimedOutFirstByte: number;
  /** Inbound connections that had sent nothing, closed to make room for a new one when the slots (or the address's share) were full. */
  streamsEvictedIdle: number;
  /** Streams cut for receiving more than `streamBytesMax`. */
  streamsOverLimit: number;
  streamErrors: number;
}

export function emptyTransportStats(): TransportStats {
  return {
    packetsIn: 0, packetBytesIn: 0, packetsOut: 0, packetBytesOut: 0, packetSendErrors: 0, packetsOversize: 0,
    streamsIn: 0, streamsOut: 0, streamsRefused: 0, streamsRefusedPerIp: 0, streamsTimedOut: 0, streamsTimedOutFirstByte: 0,
    streamsEvictedIdle: 0, streamsOverLimit: 0, streamErrors: 0,
  };
}
