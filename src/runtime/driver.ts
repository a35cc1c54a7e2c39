import type { Address, Millis } from '../core/ids.js';
import { address, millis } from '../core/ids.js';
import type { Message, StreamMessage } from '../core/messages.js';
import { messageBytes } from '../core/messages.js';
import type { Transmit } from '../core/membership/node.js';
import type { Stream, StreamHandlers, Transport, TransportHandlers } from '../transport/transport.js';
import type { Codec, StreamDecoding } from './codec.js';
import type { DecodeResult } from '../wire/index.js';
import { RejectionLog } from './rejection-log.js';

/** The driver interface every sans-IO node shares (`GossipNode`, `SerfNode`). */
export interface DrivenNode<E> {
  handlePacket(now: Millis, from: Address, msg: Message): void;
  handleStreamRequest(now: Millis, from: Address, streamId: number, msg: StreamMessage): void;
  handleStreamReply(now: Millis, streamId: number, msg: StreamMessage | null): void;
  handleTimeout(now: Millis): void;
  pollTransmit(): Transmit | undefined;
  pollEvent(): E | undefined;
  pollTimeout(): Millis | undefined;
  /** Told after each transmit left with the bytes handed to the transport (a byte budget charges them). */
  handleSent?(now: Millis, t: Transmit, wireBytes: number): void;
}

export interface DriverOptions<E> {
  readonly node: DrivenNode<E>;
  readonly codec: Codec;
  /** Monotonic milliseconds. Default: `performance.now()`. */
  readonly clock?: () => number;
  /** Every event the node emits, in order. Called inside the loop: it may call back into the node through the driver. */
  readonly deliver: (e: E) => void;
  /** Warnings: rejected input (rate-limited), encode failures. */
  readonly log: (line: string) => void;
}

/** What the driver itself counts (the node and the transport count the rest). */
/** Messages and bytes of one message type, each way (a compound counts each part). */
export interface TypeTraffic {
  messagesIn: number;
  bytesIn: number;
  messagesOut: number;
  bytesOut: number;
}

export interface DriverStats {
  /** Rejected input by reason: the wire layer's decode reasons, plus `stream-closed-early`. */
  readonly rejected: ReadonlyMap<string, number>;
  readonly rejectedTotal: number;
  readonly encodeErrors: number;
  /**
   * By message type (memberlist's names; user messages split into `user` for Serf's and
   * `data` for our data layer's, types 0x80 and up): messages and their encoded size, as
   * Go's msgpack counts it before CRC, compression and encryption.
   */
  readonly traffic: ReadonlyMap<string, Readonly<TypeTraffic>>;
}

/**
 * Drives a sans-IO node with real time and a transport. The loop is DESIGN.md's few lines:
 * every input is `handleX(now, …)`, then `pollTransmit()` and `pollEvent()` are drained and
 * one timer is armed at `pollTimeout()`. Bytes are decoded here (a failure is counted, logged
 * once per reason and peer, rate-limited, and never thrown); streams map to
 * `handleStreamRequest` / `handleStreamReply` by stream id.
 */
export class Driver<E> {
  readonly rejections: RejectionLog;
  private transport: Transport | null = null;
  private readonly node: DrivenNode<E>;
  private readonly codec: Codec;
  private readonly clock: () => number;
  private readonly deliver: (e: E) => void;
  private readonly log: (line: string) => void;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private pumping = false;
  private dirty = false;
  private stopped = false;
  private encodeErrors = 0;
  /** Inbound streams waiting for the node's reply, by the id we gave them. */
  private readonly inbound = new Map<number, Stream>();
  /** Outbound streams the node opened, by its id. */
  private readonly outbound = new Map<number, Stream>();
  private inboundSeq = 0;
  /** Peers that speak memberlist protocol ≥ 5 get the CRC wrapper, as memberlist sends it. */
  private readonly crcPeers = new Set<string>();
  private readonly traffic = new Map<string, TypeTraffic>();

  constructor(o: DriverOptions<E>) {
    this.node = o.node;
    this.codec = o.codec;
    this.clock = o.clock ?? (() => performance.now());
    this.deliver = o.deliver;
    this.log = o.log;
    this.rejections = new RejectionLog(o.log);
  }

  get stats(): DriverStats {
    return { rejected: this.rejections.counts, rejectedTotal: this.rejections.total, encodeErrors: this.encodeErrors, traffic: this.traffic };
  }

  now(): Millis {
    return millis(this.clock());
  }

  /** Handlers to give the transport; input before `start` is dropped. */
  readonly transportHandlers: TransportHandlers = {
    packet: (from, bytes) => this.onPacket(from, bytes),
    stream: (s) => this.onInboundStream(s),
  };

  /** Starts the loop on `transport`: drains what the node has queued and arms the timer. */
  start(transport: Transport): void {
    this.transport = transport;
    this.pump();
  }

  /** Runs `fn(now)` against the node (an API call: join, leave, user event…), then drains. */
  input<T>(fn: (now: Millis) => T): T {
    try {
      return fn(this.now());
    } finally {
      this.pump();
    }
  }

  /** Marks a peer's protocol version: CRC on packets to peers with pmax ≥ 5. */
  notePeerVersion(addr: string, pmax: number): void {
    if (pmax >= 5) this.crcPeers.add(addr);
    else this.crcPeers.delete(addr);
  }

  /** Stops the timer and drops every open stream. The node is not told; the transport stays open. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    for (const s of this.inbound.values()) s.destroy();
    for (const s of this.outbound.values()) s.destroy();
    this.inbound.clear();
    this.outbound.clear();
  }

  // ------------------------------------------------------------------ input

  private onPacket(from: string, bytes: Uint8Array): void {
    if (this.stopped || this.transport === null) return;
    const now = this.now();
    let r: DecodeResult<Message>;
    try {
      r = this.codec.decodePacket(bytes);
    } catch (e) {
      r = { ok: false, reason: 'malformed', detail: `decoder threw: ${e instanceof Error ? e.message : String(e)}` };
    }
    if (!r.ok) {
      this.rejections.reject(now, r.reason, from, r.detail);
      return;
    }
    this.count(r.value, true);
    this.node.handlePacket(now, address(from), r.value);
    this.pump();
  }

  private onInboundStream(s: Stream): StreamHandlers {
    const id = ++this.inboundSeq;
    const decoder = this.safeStreamDecoder(s.remote);
    let got = false;
    return {
      data: (chunk) => {
        if (got || this.stopped) return;
        const now = this.now();
        const r = decoder.push(chunk);
        if (r === undefined) return;
        got = true;
        if (!r.ok) {
          this.rejections.reject(now, r.reason, s.remote, r.detail);
          this.replyError(s, `${r.reason}: ${r.detail}`);
          return;
        }
        this.inbound.set(id, s);
        this.count(r.value, true);
        this.node.handleStreamRequest(now, address(s.remote), id, r.value);
        this.pump();
      },
      close: () => {
        this.inbound.delete(id);
        if (got || this.stopped) return;
        // The peer went away in the middle of a message (nothing at all is not an error).
        const r = decoder.end?.();
        if (r !== undefined && !r.ok) this.rejections.reject(this.now(), r.reason, s.remote, r.detail);
      },
    };
  }

  private openStream(t: Extract<Transmit, { kind: 'stream' }>): void {
    const transport = this.transport as Transport;
    let bytes: Uint8Array;
    try {
      bytes = this.codec.encodeStream(t.message);
    } catch (e) {
      this.encodeFailed(t.message.type, t.to, e);
      this.node.handleStreamReply(this.now(), t.streamId, null);
      this.dirty = true;
      return;
    }
    const decoder = this.safeStreamDecoder(t.to);
    let done = false;
    const finish = (msg: StreamMessage | null): void => {
      if (done) return;
      done = true;
      this.outbound.delete(t.streamId);
      if (this.stopped) return;
      this.node.handleStreamReply(this.now(), t.streamId, msg);
      this.pump();
    };
    const s = transport.openStream(t.to, {
      data: (chunk) => {
        if (done) return;
        const r = decoder.push(chunk);
        if (r === undefined) return;
        s.end();
        if (!r.ok) {
          this.rejections.reject(this.now(), r.reason, t.to, r.detail);
          finish(null);
          return;
        }
        this.count(r.value, true);
        finish(r.value);
      },
      close: () => {
        if (done) return;
        const r = decoder.end?.();
        if (r !== undefined && !r.ok && !this.stopped) this.rejections.reject(this.now(), r.reason, t.to, r.detail);
        finish(null);
      },
    });
    if (!done) {
      this.outbound.set(t.streamId, s);
      this.count(t.message, false);
      s.write(bytes);
      this.node.handleSent?.(this.now(), t, bytes.length);
    }
  }

  // ------------------------------------------------------------------ the loop

  private pump(): void {
    if (this.transport === null || this.stopped) return;
    if (this.pumping) {
      this.dirty = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.dirty = false;
        for (let t = this.node.pollTransmit(); t !== undefined; t = this.node.pollTransmit()) this.transmit(t);
        for (let e = this.node.pollEvent(); e !== undefined; e = this.node.pollEvent()) this.deliver(e);
      } while (this.dirty && !this.stopped);
    } finally {
      this.pumping = false;
    }
    this.arm();
  }

  private transmit(t: Transmit): void {
    const transport = this.transport as Transport;
    switch (t.kind) {
      case 'packet': {
        let bytes: Uint8Array;
        try {
          bytes = this.codec.encodePacket(t.message, this.crcPeers.has(t.to));
        } catch (e) {
          this.encodeFailed(t.message.type, t.to, e);
          return;
        }
        this.count(t.message, false);
        transport.sendPacket(t.to, bytes);
        this.node.handleSent?.(this.now(), t, bytes.length);
        return;
      }
      case 'stream':
        this.openStream(t);
        return;
      case 'stream-reply': {
        const s = this.inbound.get(t.streamId);
        if (s === undefined) return; // the peer went away meanwhile
        this.inbound.delete(t.streamId);
        if (t.message !== null) {
          try {
            const bytes = this.codec.encodeStream(t.message);
            s.write(bytes);
            this.count(t.message, false);
            this.node.handleSent?.(this.now(), t, bytes.length);
          } catch (e) {
            this.encodeFailed(t.message.type, s.remote, e);
            s.destroy();
            return;
          }
        }
        s.end();
        return;
      }
    }
  }

  private arm(): void {
    if (this.stopped) return;
    const at = this.node.pollTimeout();
    if (at === undefined) {
      if (this.timer !== null) clearTimeout(this.timer);
      this.timer = null;
      this.timerAt = Infinity;
      return;
    }
    if (this.timer !== null && this.timerAt === at) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerAt = at;
    const delay = Math.max(0, Math.ceil((at as number) - this.clock()));
    this.timer = setTimeout(() => this.fire(), delay);
    this.timer.unref();
  }

  private fire(): void {
    this.timer = null;
    this.timerAt = Infinity;
    if (this.stopped) return;
    this.node.handleTimeout(this.now());
    this.pump();
  }

  // ------------------------------------------------------------------ helpers

  /** Counts a message (each part of a compound) by type, with its encoded size. */
  private count(m: Message | StreamMessage, inbound: boolean): void {
    if (m.type === 'compound') {
      for (const p of m.parts) this.count(p, inbound);
      return;
    }
    const type = m.type === 'user' ? ((m.payload[0] ?? 0) >= 0x80 ? 'data' : 'user') : m.type;
    let c = this.traffic.get(type);
    if (c === undefined) this.traffic.set(type, (c = { messagesIn: 0, bytesIn: 0, messagesOut: 0, bytesOut: 0 }));
    const bytes = messageBytes(m);
    if (inbound) {
      c.messagesIn++;
      c.bytesIn += bytes;
    } else {
      c.messagesOut++;
      c.bytesOut += bytes;
    }
  }

  /** The wire decoder promises never to throw; this guard keeps a bug there from reaching the socket callbacks. */
  private safeStreamDecoder(peer: string): StreamDecoding {
    const d = this.codec.streamDecoder();
    const guard = (f: () => DecodeResult<StreamMessage> | undefined): DecodeResult<StreamMessage> | undefined => {
      try {
        return f();
      } catch (e) {
        return { ok: false, reason: 'malformed', detail: `decoder threw: ${e instanceof Error ? e.message : String(e)} (peer ${peer})` };
      }
    };
    return {
      push: (chunk) => guard(() => d.push(chunk)),
      end: () => guard(() => d.end?.()),
    };
  }

  /** Go answers a stream it cannot read with an error message; so do we. */
  private replyError(s: Stream, text: string): void {
    try {
      s.write(this.codec.encodeStream({ type: 'error', error: text }));
    } catch {
      // nothing to add: the rejection is counted already
    }
    s.end();
  }

  private encodeFailed(type: string, to: string, e: unknown): void {
    this.encodeErrors++;
    this.log(`cannot encode ${type} for ${to}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
