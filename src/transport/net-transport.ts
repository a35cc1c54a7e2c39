import dgram from 'node:dgram';
import net from 'node:net';
import type { HostPort } from './address.js';
import { AddressError, formatHostPort, parseHostPort, unmapIPv4 } from './address.js';
import type { Stream, StreamHandlers, Transport, TransportHandlers, TransportStats } from './transport.js';
import { emptyTransportStats } from './transport.js';

export interface NetTransportOptions {
  /** `host:port` to bind; port 0 picks a free port, the same one for UDP and TCP (as memberlist). */
  readonly bind: string;
  /** A whole exchange on one stream, connecting included, must finish within this (memberlist's TCPTimeout). */
  readonly streamTimeoutMs: number;
  /** Inbound streams open at once; more are refused at accept (memberlist refuses push-pulls beyond 128). */
  readonly inboundStreamsMax?: number;
  /** Inbound streams one source address may hold at once. Default: half of `inboundStreamsMax`, so one host never takes every slot. */
  readonly inboundStreamsPerIpMax?: number;
  /**
   * An inbound stream must send its first byte within this (a memberlist peer writes as soon as
   * it connects); idle connections are closed then, not at `streamTimeoutMs`. Default
   * `min(streamTimeoutMs, 2000)`.
   */
  readonly firstByteTimeoutMs?: number;
  /** Bytes received on one stream before it is cut: bounds memory per connection (memberlist 0.6 caps decompressed state at 40 MiB). */
  readonly streamBytesMax?: number;
  /** Datagrams larger than this are not sent (UDP's payload limit is 65,507 bytes over IPv4). */
  readonly packetBytesMax?: number;
  /** With port 0: how many ports to try before giving up when the UDP port is taken. */
  readonly bindAttempts?: number;
  /** Kernel receive buffer for the UDP socket, best effort (memberlist asks for 2 MiB). */
  readonly udpRecvBufferBytes?: number;
}

const DEFAULTS = {
  inboundStreamsMax: 128,
  inboundStreamsPerIpMax: 64,
  firstByteTimeoutMs: 2000,
  streamBytesMax: 40 * 1024 * 1024,
  packetBytesMax: 65_507,
  bindAttempts: 20,
  udpRecvBufferBytes: 2 * 1024 * 1024,
} as const;

/**
 * UDP + TCP on one port over `node:dgram` / `node:net`, IPv4 or IPv6 (`::` binds dual-stack
 * and reports IPv4 peers as plain IPv4). One UDP socket and one TCP listener per node.
 * Every stream carries a deadline and a byte limit; no error from a peer escapes as a throw.
 *
 * Idle connections cannot lock peers out: an inbound stream that sends nothing is closed at
 * its first-byte deadline, and when the slots (or the source address's share of them) are
 * full, the oldest connection that has sent nothing yet makes room for the new one. Only when
 * every slot is busy with a real exchange is a new connection refused.
 */
export class NetTransport implements Transport {
  readonly stats: TransportStats = emptyTransportStats();
  readonly localAddress: string;
  readonly bound: HostPort;
  private readonly open = new Set<SocketStream>();
  private inbound = 0;
  /** Inbound streams open, by source address. */
  private readonly perIp = new Map<string, number>();
  private closed = false;
  private readonly targets = new Map<string, HostPort | null>();

  private constructor(
    private readonly udp: dgram.Socket,
    private readonly server: net.Server,
    bound: HostPort,
    private readonly o: Required<NetTransportOptions>,
    handlers: TransportHandlers,
  ) {
    this.bound = bound;
    this.localAddress = formatHostPort(bound.host, bound.port);
    udp.on('message', (msg, rinfo) => {
      this.stats.packetsIn++;
      this.stats.packetBytesIn += msg.length;
      handlers.packet(formatHostPort(unmapIPv4(rinfo.address), rinfo.port), new Uint8Array(msg.buffer, msg.byteOffset, msg.length));
    });
    udp.on('error', () => {
      this.stats.packetSendErrors++;
    });
    server.on('connection', (sock) => this.accept(sock, handlers));
    server.on('error', () => {
      this.stats.streamErrors++;
    });
  }

  /** Binds the UDP socket and the TCP listener. Rejects with a clear error if the address cannot be bound. */
  static async listen(options: NetTransportOptions, handlers: TransportHandlers): Promise<NetTransport> {
    const o: Required<NetTransportOptions> = {
      ...DEFAULTS,
      inboundStreamsPerIpMax: Math.max(1, Math.floor((options.inboundStreamsMax ?? DEFAULTS.inboundStreamsMax) / 2)),
      firstByteTimeoutMs: Math.min(options.streamTimeoutMs, DEFAULTS.firstByteTimeoutMs),
      ...options,
    };
    const bind = parseHostPort(o.bind);
    const attempts = bind.port === 0 ? o.bindAttempts : 1;
    let lastError: unknown = null;
    for (let i = 0; i < attempts; i++) {
      const server = net.createServer({ allowHalfOpen: false, noDelay: true });
      try {
        await listenTcp(server, bind.host, bind.port);
      } catch (e) {
        server.close();
        throw new AddressError(`cannot listen on TCP ${formatHostPort(bind.host, bind.port)}: ${errorText(e)}`);
      }
      const port = (server.address() as net.AddressInfo).port;
      const udp = dgram.createSocket({ type: bind.family === 6 ? 'udp6' : 'udp4', reuseAddr: false });
      try {
        await bindUdp(udp, bind.host, port);
      } catch (e) {
        lastError = e;
        server.close();
        udp.close();
        continue;
      }
      try {
        udp.setRecvBufferSize(o.udpRecvBufferBytes);
      } catch {
        // best effort: the kernel may cap it
      }
      return new NetTransport(udp, server, { host: bind.host, port, family: bind.family }, o, handlers);
    }
    throw new AddressError(`cannot bind UDP ${formatHostPort(bind.host, bind.port)}: ${errorText(lastError)}`);
  }

  sendPacket(to: string, bytes: Uint8Array): void {
    if (this.closed) return;
    const t = this.target(to);
    if (t === null) {
      this.stats.packetSendErrors++;
      return;
    }
    if (bytes.length > this.o.packetBytesMax) {
      this.stats.packetsOversize++;
      return;
    }
    this.stats.packetsOut++;
    this.stats.packetBytesOut += bytes.length;
    try {
      this.udp.send(bytes, t.port, t.host, (err) => {
        if (err) this.stats.packetSendErrors++;
      });
    } catch {
      this.stats.packetSendErrors++;
    }
  }

  openStream(to: string, handlers: StreamHandlers): Stream {
    const t = this.target(to);
    this.stats.streamsOut++;
    if (t === null || this.closed) {
      const s = new SocketStream(null, to, this, this.o);
      s.attach(handlers);
      s.destroy(new Error(this.closed ? 'transport closed' : `cannot reach ${to} from ${this.localAddress}`));
      return s;
    }
    const sock = net.connect({ host: t.host, port: t.port, noDelay: true, allowHalfOpen: false });
    const s = new SocketStream(sock, to, this, this.o);
    this.open.add(s);
    s.attach(handlers);
    return s;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of [...this.open]) s.destroy(new Error('transport closed'));
    await Promise.all([
      new Promise<void>((resolve) => this.server.close(() => resolve())),
      new Promise<void>((resolve) => {
        try {
          this.udp.close(() => resolve());
        } catch {
          resolve();
        }
      }),
    ]);
  }

  /** @internal */
  forget(s: SocketStream): void {
    this.open.delete(s);
    if (s.sourceIp === null) return;
    this.inbound--;
    const n = (this.perIp.get(s.sourceIp) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(s.sourceIp);
    else this.perIp.set(s.sourceIp, n);
  }

  private accept(sock: net.Socket, handlers: TransportHandlers): void {
    if (this.closed) {
      this.stats.streamsRefused++;
      sock.destroy();
      return;
    }
    const ip = unmapIPv4(sock.remoteAddress ?? '0.0.0.0');
    const ipFull = (this.perIp.get(ip) ?? 0) >= this.o.inboundStreamsPerIpMax;
    if (ipFull || this.inbound >= this.o.inboundStreamsMax) {
      // Make room by closing the oldest connection that has sent nothing yet (from this address
      // when it is the address's share that is full); refuse only when every slot is busy.
      const idle = this.oldestIdle(ipFull ? ip : null);
      if (idle === null) {
        this.stats.streamsRefused++;
        if (ipFull) this.stats.streamsRefusedPerIp++;
        sock.destroy();
        return;
      }
      this.stats.streamsEvictedIdle++;
      idle.destroy(new Error(`idle connection from ${idle.remote} closed to make room for a new one`));
    }
    this.inbound++;
    this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1);
    this.stats.streamsIn++;
    const remote = formatHostPort(ip, sock.remotePort ?? 0);
    const s = new SocketStream(sock, remote, this, this.o, ip);
    this.open.add(s);
    let h: StreamHandlers;
    try {
      h = handlers.stream(s);
    } catch (e) {
      s.destroy(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    s.attach(h);
  }

  /** The inbound stream open longest without a byte received (from `ip`, if given), or null. */
  private oldestIdle(ip: string | null): SocketStream | null {
    for (const s of this.open) if (s.sourceIp !== null && !s.gotBytes && (ip === null || s.sourceIp === ip)) return s;
    return null;
  }

  /** Parses and checks a destination once; null when it is malformed or of the other IP family. */
  private target(to: string): HostPort | null {
    let t = this.targets.get(to);
    if (t === undefined) {
      try {
        t = parseHostPort(to);
        // A udp4 socket cannot reach an IPv6 peer; a udp6 socket reaches both (dual-stack) only
        // when bound to ::, and then an IPv4 peer must be addressed as ::ffff:a.b.c.d.
        if (t.family !== this.bound.family) {
          if (this.bound.family === 6 && this.bound.host === '::') t = { host: `::ffff:${t.host}`, port: t.port, family: 6 };
          else t = null;
        }
      } catch {
        t = null;
      }
      if (this.targets.size >= 4096) this.targets.clear();
      this.targets.set(to, t);
    }
    return t;
  }
}

/** One TCP connection with a deadline for the whole exchange and a cap on the bytes it may receive. */
class SocketStream implements Stream {
  private handlers: StreamHandlers | null = null;
  private pending: Uint8Array[] = [];
  private received = 0;
  private error: Error | null = null;
  private done = false;
  private reported = false;
  private readonly timer: NodeJS.Timeout;
  private firstByteTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly sock: net.Socket | null,
    readonly remote: string,
    private readonly owner: NetTransport,
    o: Required<NetTransportOptions>,
    /** For an inbound stream, the peer's address (what the per-address limit counts); null for ours. */
    readonly sourceIp: string | null = null,
  ) {
    this.timer = setTimeout(() => {
      owner.stats.streamsTimedOut++;
      this.destroy(new Error(`stream with ${remote} timed out after ${o.streamTimeoutMs} ms`));
    }, o.streamTimeoutMs);
    this.timer.unref();
    if (sourceIp !== null && o.firstByteTimeoutMs < o.streamTimeoutMs) {
      let armedAt = performance.now();
      const expire = (): void => {
        // A timer that fires late means our event loop was stalled: the peer's bytes may be
        // waiting unread behind it, so it gets one more period before it counts as idle.
        const late = performance.now() - armedAt > 1.5 * o.firstByteTimeoutMs;
        if (late) {
          armedAt = performance.now();
          this.firstByteTimer = setTimeout(expire, o.firstByteTimeoutMs);
          this.firstByteTimer.unref();
          return;
        }
        owner.stats.streamsTimedOut++;
        owner.stats.streamsTimedOutFirstByte++;
        this.destroy(new Error(`stream from ${remote} sent nothing within ${o.firstByteTimeoutMs} ms`));
      };
      this.firstByteTimer = setTimeout(expire, o.firstByteTimeoutMs);
      this.firstByteTimer.unref();
    }
    if (sock === null) return;
    sock.on('data', (chunk: Buffer) => {
      if (this.firstByteTimer !== null) {
        clearTimeout(this.firstByteTimer);
        this.firstByteTimer = null;
      }
      this.received += chunk.length;
      if (this.received > o.streamBytesMax) {
        owner.stats.streamsOverLimit++;
        this.destroy(new Error(`stream from ${remote} exceeded ${o.streamBytesMax} bytes`));
        return;
      }
      const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length);
      if (this.handlers === null) this.pending.push(bytes);
      else this.handlers.data(bytes);
    });
    sock.on('error', (e) => {
      this.error ??= e;
      owner.stats.streamErrors++;
    });
    sock.on('close', () => this.finish());
  }

  /** Whether the peer has sent anything yet. */
  get gotBytes(): boolean {
    return this.received > 0;
  }

  attach(h: StreamHandlers): void {
    this.handlers = h;
    const p = this.pending;
    this.pending = [];
    for (const b of p) if (!this.done) h.data(b);
    if (this.done) this.report();
  }

  write(bytes: Uint8Array): void {
    if (this.done || this.sock === null || this.sock.destroyed) return;
    this.sock.write(bytes);
  }

  end(): void {
    if (this.done || this.sock === null) return;
    this.sock.end();
  }

  destroy(error?: Error): void {
    if (this.done) return;
    if (error) this.error ??= error;
    // Released at once (its slot too), not when the socket's close event comes.
    if (this.sock !== null && !this.sock.destroyed) this.sock.destroy();
    this.finish();
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    if (this.firstByteTimer !== null) clearTimeout(this.firstByteTimer);
    this.owner.forget(this);
    if (this.handlers !== null) this.report();
  }

  private report(): void {
    if (this.reported || this.handlers === null) return;
    this.reported = true;
    this.handlers.close(this.error);
  }
}

function listenTcp(server: net.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function bindUdp(udp: dgram.Socket, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    udp.once('error', reject);
    udp.bind({ address: host, port, exclusive: true }, () => {
      udp.off('error', reject);
      resolve();
    });
  });
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
