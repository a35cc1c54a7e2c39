import type { NodeEvent, NodeEventType, ProtocolErrorReason } from '../events.js';
import type { Address, Millis } from '../ids.js';
import type { Message, StreamMessage } from '../messages.js';
import { messageBytes } from '../messages.js';
import { PollQueue } from '../poll-queue.js';

/** What the node asks its driver to send. `bytes` is the encoded size (Go's msgpack). */
export type Transmit =
  | { readonly kind: 'packet'; readonly to: Address; readonly message: Message; readonly bytes: number }
  /** Open a stream to `to`, send `message`, deliver the reply with `handleStreamReply(streamId)`. */
  | { readonly kind: 'stream'; readonly to: Address; readonly streamId: number; readonly message: StreamMessage; readonly bytes: number }
  /** Answer the stream request the driver delivered as `streamId`; `null` closes it without a reply. */
  | { readonly kind: 'stream-reply'; readonly streamId: number; readonly message: StreamMessage | null; readonly bytes: number };

export interface NodeStats {
  packetsOut: number;
  bytesOut: number;
  packetsIn: number;
  streamsOut: number;
  streamBytesOut: number;
  protocolErrors: number;
  probes: number;
  probesFailed: number;
  indirectProbes: number;
  suspicionsRaised: number;
  /** Failure and death verdicts deferred once because this node handled their timer late (Lifeguard: the observer was the slow one). */
  verdictsDeferred: number;
  refutations: number;
  /** Accusations of an older life of ours answered with our current alive, straight to their sender. */
  staleAccusationsCorrected: number;
  broadcastsQueued: number;
  /** Probes answered, and the sum of their round-trip times (ms): the mean is the ratio. */
  probeRtts: number;
  probeRttSumMs: number;
  /** User messages sent: delegate broadcasts piggybacked on packets, plus `sendUserMessage`. */
  userMessagesOut: number;
  /** Delegate broadcasts refused because they did not fit the packet budget (a delegate bug). */
  userBroadcastsDropped: number;
  /** Pings sent beside the probes at the delegate's request (`extraPingTarget`), and those unanswered in time (not failures: counted only). */
  extraPings: number;
  extraPingsUnanswered: number;
}

/** A stream we opened and whose reply we wait for. */
export interface PendingStream {
  readonly kind: 'push-pull' | 'ping' | 'join' | 'user';
  readonly to: Address;
  readonly deadlineMs: number;
  readonly seqNo: number;
}

/**
 * Everything a GossipNode hands back to its driver, in order: transmits (packets, streams,
 * stream replies) and events (only the types asked for), with the counters that go with them,
 * and the streams it opened that still wait for their reply.
 */
export class Outbox {
  readonly stats: NodeStats = {
    packetsOut: 0, bytesOut: 0, packetsIn: 0, streamsOut: 0, streamBytesOut: 0, protocolErrors: 0,
    probes: 0, probesFailed: 0, indirectProbes: 0, suspicionsRaised: 0, verdictsDeferred: 0, refutations: 0, staleAccusationsCorrected: 0, broadcastsQueued: 0,
    probeRtts: 0, probeRttSumMs: 0, userMessagesOut: 0, userBroadcastsDropped: 0, extraPings: 0, extraPingsUnanswered: 0,
  };
  readonly transmits = new PollQueue<Transmit>();
  readonly events = new PollQueue<NodeEvent>();
  /** Streams we opened, by id, until their reply, failure or deadline. */
  readonly streams = new Map<number, PendingStream>();
  private streamSeq = 0;

  /** `eventMask`: the event types to queue (others are not even built); null: all. */
  constructor(private readonly eventMask: ReadonlySet<NodeEventType> | null, private readonly streamTimeoutMs: number) {}

  wants(t: NodeEventType): boolean {
    return this.eventMask === null || this.eventMask.has(t);
  }

  emit(e: NodeEvent): void {
    if (this.eventMask !== null && !this.eventMask.has(e.type)) return;
    this.events.push(e);
  }

  /** A peer's bad input (or a failed exchange): counted and reported, never thrown. */
  protocolError(from: Address | null, reason: ProtocolErrorReason, detail: string): void {
    this.stats.protocolErrors++;
    this.emit({ type: 'protocol-error', from, reason, detail });
  }

  /** One packet, exactly as built (see PacketBuilder for piggybacking). */
  pushPacket(to: Address, m: Message, bytes: number): void {
    this.stats.packetsOut++;
    this.stats.bytesOut += bytes;
    this.transmits.push({ kind: 'packet', to, message: m, bytes });
  }

  /** Answers the stream request `streamId`; null closes it without a reply. */
  reply(streamId: number, message: StreamMessage | null): void {
    this.transmits.push({ kind: 'stream-reply', streamId, message, bytes: message === null ? 0 : messageBytes(message) });
  }

  /** Opens a stream carrying `message`; its reply comes back through `handleStreamReply`, or it fails at `deadlineMs` (default: now + streamTimeoutMs). */
  openStream(now: Millis, to: Address, kind: PendingStream['kind'], message: StreamMessage, seqNo: number, deadlineMs?: number): void {
    const streamId = ++this.streamSeq;
    this.streams.set(streamId, { kind, to, seqNo, deadlineMs: deadlineMs ?? (now as number) + this.streamTimeoutMs });
    const bytes = messageBytes(message);
    this.stats.streamsOut++;
    this.stats.streamBytesOut += bytes;
    this.transmits.push({ kind: 'stream', to, streamId, message, bytes });
  }
}
