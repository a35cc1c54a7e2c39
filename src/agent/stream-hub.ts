import { HttpError } from './http-body.js';

/** What the hub writes to: an HTTP response (`ServerResponse`), or a fake in tests. */
export interface StreamSink {
  write(chunk: string): boolean;
  /** Bytes queued in the process, not yet taken by the socket. */
  readonly writableLength: number;
  end(): void;
  destroy(): void;
  once(event: 'drain', fn: () => void): unknown;
}

export interface StreamHubOptions {
  /** Streams open at once; the next is refused with a 503. */
  readonly streamsMax: number;
  /** Bytes a stream may have queued; past it its events are dropped (then a `lagged` event says how many). */
  readonly queueBytesMax: number;
  /** A stream that stays over `queueBytesMax` this long is disconnected. */
  readonly stallMs: number;
  /** Period of the `convergence` event (computed once for every stream). */
  readonly convergenceMs: number;
  readonly convergence: () => unknown;
  readonly now?: () => number;
}

export interface StreamHubStats {
  readonly open: number;
  /** Streams refused over `streamsMax`. */
  readonly refused: number;
  /** Events not sent to a slow reader (each counted once per reader). */
  readonly dropped: number;
  /** Slow readers disconnected after `stallMs` over the limit. */
  readonly disconnected: number;
  /** Times `convergence` was computed. */
  readonly convergenceRuns: number;
}

interface Client {
  readonly sink: StreamSink;
  /** The events it asked for; null: every event. */
  readonly only: ReadonlySet<string> | null;
  /** Events dropped since it went over the limit; 0 when it keeps up. */
  dropped: number;
  lagSinceMs: number;
}

/** Formats one server-sent event. */
export function sseEvent(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * The fan-out behind `GET /v1/stream`: each event is encoded once and written to every open
 * stream. Memory stays bounded with readers that do not read: a stream whose queue is over
 * `queueBytesMax` loses events (counted, then told with `event: lagged`, `{"dropped": n}`,
 * once it drains), and is closed when it stays stuck for `stallMs`. At most `streamsMax`
 * streams; the convergence is computed once per `convergenceMs` for all of them, and only
 * while one is open.
 */
export class StreamHub {
  private readonly clients = new Set<Client>();
  private timer: NodeJS.Timeout | null = null;
  private refused = 0;
  private dropped = 0;
  private disconnected = 0;
  private convergenceRuns = 0;
  private readonly now: () => number;

  constructor(private readonly o: StreamHubOptions) {
    this.now = o.now ?? Date.now;
  }

  get size(): number {
    return this.clients.size;
  }

  stats(): StreamHubStats {
    return { open: this.clients.size, refused: this.refused, dropped: this.dropped, disconnected: this.disconnected, convergenceRuns: this.convergenceRuns };
  }

  /** Throws a 503 `HttpError` when `streamsMax` are open (before anything is written). */
  admit(): void {
    if (this.clients.size >= this.o.streamsMax) {
      this.refused++;
      throw new HttpError(503, `too many streams open (${this.o.streamsMax}, httpStreamsMax): try again later`, { 'retry-after': '5' });
    }
  }

  /**
   * Adds a stream (after `admit`); `first` is written to it alone; `only`, when given, names the
   * events it gets (`lagged` always). Returns the function that removes it.
   */
  add(sink: StreamSink, first: readonly string[], only: ReadonlySet<string> | null = null): () => void {
    const c: Client = { sink, only, dropped: 0, lagSinceMs: 0 };
    this.clients.add(c);
    for (const text of first) this.send(c, text);
    if (this.timer === null) {
      this.timer = setInterval(() => this.tick(), this.o.convergenceMs);
      this.timer.unref();
    }
    return () => this.remove(c);
  }

  /** Sends an event to every stream that wants it; `data` is computed only when one does. */
  publish(event: string, data: () => unknown): void {
    let text: string | null = null;
    for (const c of this.clients) {
      if (c.only !== null && !c.only.has(event)) continue;
      text ??= sseEvent(event, data());
      this.send(c, text);
    }
  }

  close(): void {
    for (const c of this.clients) c.sink.end();
    this.clients.clear();
    this.stopTimer();
  }

  private tick(): void {
    if (this.clients.size === 0) return this.stopTimer();
    if (![...this.clients].some((c) => c.only === null || c.only.has('convergence'))) return;
    this.convergenceRuns++;
    this.publish('convergence', this.o.convergence);
  }

  private send(c: Client, text: string): void {
    if (c.sink.writableLength > this.o.queueBytesMax) {
      if (c.dropped === 0) {
        c.lagSinceMs = this.now();
        c.sink.once('drain', () => this.caughtUp(c));
      }
      c.dropped++;
      this.dropped++;
      if (this.now() - c.lagSinceMs > this.o.stallMs) {
        this.disconnected++;
        this.remove(c);
        c.sink.destroy();
      }
      return;
    }
    c.sink.write(text);
  }

  private caughtUp(c: Client): void {
    if (!this.clients.has(c) || c.dropped === 0) return;
    const dropped = c.dropped;
    c.dropped = 0;
    c.sink.write(sseEvent('lagged', { dropped }));
  }

  private remove(c: Client): void {
    this.clients.delete(c);
    if (this.clients.size === 0) this.stopTimer();
  }

  private stopTimer(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
