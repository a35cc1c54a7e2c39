import type { Stream, StreamHandlers, Transport, TransportHandlers, TransportStats } from './transport.js';
import { emptyTransportStats } from './transport.js';

/**
 * An in-process network for tests: `transport(addr)` gives a `Transport` bound to `addr`.
 * Delivery is asynchronous (one macrotask later), in order, with no loss unless a link is cut
 * with `partition`; bytes are copied, as a socket would. Unknown destinations drop packets
 * and fail streams, as an unreachable host does.
 */
export class MemoryNetwork {
  private readonly endpoints = new Map<string, MemoryTransport>();
  private readonly cut = new Set<string>();
  private nextEphemeral = 40000;

  transport(addr: string, handlers: TransportHandlers): MemoryTransport {
    if (this.endpoints.has(addr)) throw new Error(`memory network: ${addr} is in use`);
    const t = new MemoryTransport(this, addr, handlers);
    this.endpoints.set(addr, t);
    return t;
  }

  /** Drops everything between `a` and `b` (both directions) until `heal`. */
  partition(a: string, b: string): void {
    this.cut.add(`${a}|${b}`).add(`${b}|${a}`);
  }

  heal(): void {
    this.cut.clear();
  }

  /** @internal */
  reachable(from: string, to: string): MemoryTransport | null {
    if (this.cut.has(`${from}|${to}`)) return null;
    return this.endpoints.get(to) ?? null;
  }

  /** @internal */
  release(addr: string): void {
    this.endpoints.delete(addr);
  }

  /** @internal An ephemeral source address for an outbound stream, as a TCP client port would be. */
  ephemeral(addr: string): string {
    const host = addr.slice(0, addr.lastIndexOf(':'));
    return `${host}:${this.nextEphemeral++}`;
  }
}

export class MemoryTransport implements Transport {
  readonly stats: TransportStats = emptyTransportStats();
  private closed = false;
  private readonly streams = new Set<MemoryStream>();

  constructor(
    private readonly net: MemoryNetwork,
    readonly localAddress: string,
    private readonly handlers: TransportHandlers,
  ) {}

  sendPacket(to: string, bytes: Uint8Array): void {
    if (this.closed) return;
    this.stats.packetsOut++;
    this.stats.packetBytesOut += bytes.length;
    const copy = bytes.slice();
    setImmediate(() => {
      const peer = this.net.reachable(this.localAddress, to);
      if (peer === null || peer.closed) return;
      peer.stats.packetsIn++;
      peer.stats.packetBytesIn += copy.length;
      peer.handlers.packet(this.localAddress, copy);
    });
  }

  openStream(to: string, handlers: StreamHandlers): Stream {
    this.stats.streamsOut++;
    const local = new MemoryStream(to, handlers, this);
    setImmediate(() => {
      const peer = this.net.reachable(this.localAddress, to);
      if (peer === null || peer.closed || this.closed) {
        local.destroy(new Error(`cannot reach ${to}`));
        return;
      }
      peer.stats.streamsIn++;
      const remote = new MemoryStream(this.net.ephemeral(this.localAddress), null, peer);
      local.pair(remote);
      remote.pair(local);
      remote.attach(peer.handlers.stream(remote));
    });
    return local;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of [...this.streams]) s.destroy(new Error('transport closed'));
    this.net.release(this.localAddress);
    return Promise.resolve();
  }

  /** @internal */
  track(s: MemoryStream, open: boolean): void {
    if (open) this.streams.add(s);
    else this.streams.delete(s);
  }
}

/** One end of an in-memory stream; writes before the peer end exists are held. */
class MemoryStream implements Stream {
  private peer: MemoryStream | null = null;
  private held: Uint8Array[] = [];
  private endHeld = false;
  private done = false;

  constructor(
    readonly remote: string,
    private handlers: StreamHandlers | null,
    private readonly owner: MemoryTransport,
  ) {
    owner.track(this, true);
  }

  pair(p: MemoryStream): void {
    this.peer = p;
    const held = this.held;
    this.held = [];
    for (const b of held) this.write(b);
    if (this.endHeld) this.end();
  }

  attach(h: StreamHandlers): void {
    this.handlers = h;
  }

  write(bytes: Uint8Array): void {
    if (this.done) return;
    const copy = bytes.slice();
    const p = this.peer;
    if (p === null) {
      this.held.push(copy);
      return;
    }
    setImmediate(() => {
      if (!p.done) p.handlers?.data(copy);
    });
  }

  end(): void {
    if (this.done) return;
    const p = this.peer;
    if (p === null) {
      this.endHeld = true;
      return;
    }
    // Like a socket without half-open: our end closes the stream on both sides, after the data.
    setImmediate(() => {
      p.finish(null);
      this.finish(null);
    });
  }

  destroy(error?: Error): void {
    if (this.done) return;
    const p = this.peer;
    this.finish(error ?? null);
    if (p !== null) setImmediate(() => p.finish(new Error('connection reset by peer')));
  }

  private finish(error: Error | null): void {
    if (this.done) return;
    this.done = true;
    this.owner.track(this, false);
    this.handlers?.close(error);
  }
}
