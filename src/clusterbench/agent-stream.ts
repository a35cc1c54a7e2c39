import http from 'node:http';

/** One server-sent event from an agent's `/v1/stream`, stamped when it arrived here. */
export interface StreamEvent {
  readonly event: string;
  readonly data: unknown;
  readonly atMs: number;
}

/**
 * Splits server-sent-event text into events; keeps an incomplete tail for the next chunk.
 * Returns the complete events and the remainder.
 */
export function splitSse(text: string): { events: { event: string; data: string }[]; rest: string } {
  const events: { event: string; data: string }[] = [];
  let rest = text;
  for (let i = rest.indexOf('\n\n'); i >= 0; i = rest.indexOf('\n\n')) {
    const block = rest.slice(0, i);
    rest = rest.slice(i + 2);
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (data.length > 0) events.push({ event, data: data.join('\n') });
  }
  return { events, rest };
}

/** The stream events the bench reads. */
export const BENCH_STREAM_EVENTS = 'user-event,kv';

/**
 * A subscription to one agent's `/v1/stream`, for the events the bench reads (user events and kv
 * changes: `?events=user-event,kv`, so the agent is not asked to write every member change and
 * convergence report to an observer serf's side does not have): each event goes to `onEvent`
 * with the time it arrived. Closed by `close`; a dropped connection ends it (the caller reopens
 * it if it still needs it).
 */
export class AgentStream {
  private req: http.ClientRequest | null = null;
  private ended = false;

  private constructor(private readonly onEvent: (e: StreamEvent) => void) {}

  /** Resolves once the agent answered with the stream's headers. */
  static open(httpAddr: string, onEvent: (e: StreamEvent) => void, timeoutMs = 15_000): Promise<AgentStream> {
    const s = new AgentStream(onEvent);
    return new Promise((resolve, reject) => {
      const req = http.get(`http://${httpAddr}/v1/stream?events=${BENCH_STREAM_EVENTS}`, { agent: false, timeout: timeoutMs }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`stream ${httpAddr}: HTTP ${res.statusCode ?? '?'}`));
          return;
        }
        req.setTimeout(0);
        res.setEncoding('utf8');
        let buf = '';
        res.on('data', (chunk: string) => {
          const atMs = Date.now();
          const { events, rest } = splitSse(buf + chunk);
          buf = rest;
          for (const e of events) {
            let data: unknown;
            try {
              data = JSON.parse(e.data);
            } catch {
              data = e.data;
            }
            s.onEvent({ event: e.event, data, atMs });
          }
        });
        res.on('end', () => (s.ended = true));
        res.on('error', () => (s.ended = true));
        resolve(s);
      });
      req.on('timeout', () => req.destroy(new Error(`stream ${httpAddr}: no answer within ${timeoutMs} ms`)));
      req.on('error', (e) => {
        s.ended = true;
        reject(e);
      });
      s.req = req;
    });
  }

  get isOpen(): boolean {
    return !this.ended;
  }

  close(): void {
    this.ended = true;
    this.req?.destroy();
  }
}
