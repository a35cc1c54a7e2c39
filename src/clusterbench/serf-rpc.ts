import net from 'node:net';
import { decodeMultiStream, encode } from '@msgpack/msgpack';

/**
 * A client of Serf's agent RPC (msgpack over TCP: a request header {Command, Seq} and a body;
 * a response header {Seq, Error} and, for some commands, a body). The bench polls members and
 * fires events through it, so that asking 64 agents every 200 ms costs one socket each rather
 * than 64 `serf members` processes competing with the agents it measures.
 */

/** A member as Serf's RPC reports it (the fields the bench reads). */
export interface SerfRpcMember {
  readonly name: string;
  readonly status: string;
}

interface Pending {
  readonly withBody: boolean;
  header: { Seq: number; Error: string } | null;
  readonly resolve: (body: unknown) => void;
  readonly reject: (e: Error) => void;
}

export class SerfRpc {
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  /** Responses come back in request order for the commands we send; the head of this queue gets the next object. */
  private readonly order: number[] = [];
  private closed: Error | null = null;

  private constructor(private readonly socket: net.Socket) {}

  static async connect(addr: string, timeoutMs = 5000): Promise<SerfRpc> {
    const i = addr.lastIndexOf(':');
    const socket = net.connect({ host: addr.slice(0, i), port: Number(addr.slice(i + 1)) });
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        socket.destroy();
        reject(new Error(`serf rpc ${addr}: no connection within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(t);
        resolve();
      });
      socket.once('error', (e) => {
        clearTimeout(t);
        reject(new Error(`serf rpc ${addr}: ${e.message}`));
      });
    });
    const c = new SerfRpc(socket);
    c.readLoop();
    await c.call('handshake', { Version: 1 }, false);
    return c;
  }

  private readLoop(): void {
    const fail = (e: Error): void => {
      this.closed ??= e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
      this.order.length = 0;
    };
    this.socket.on('error', (e) => fail(e));
    this.socket.on('close', () => fail(new Error('serf rpc: connection closed')));
    void (async () => {
      try {
        for await (const obj of decodeMultiStream(this.socket)) {
          const seq = this.order[0];
          const p = seq === undefined ? undefined : this.pending.get(seq);
          if (p === undefined) continue;
          if (p.header === null) {
            p.header = obj as { Seq: number; Error: string };
            if (p.header.Error !== '' && p.header.Error !== undefined) {
              this.finish(seq as number);
              p.reject(new Error(`serf rpc: ${p.header.Error}`));
            } else if (!p.withBody) {
              this.finish(seq as number);
              p.resolve(undefined);
            }
          } else {
            this.finish(seq as number);
            p.resolve(obj);
          }
        }
      } catch (e) {
        fail(e instanceof Error ? e : new Error(String(e)));
      }
    })();
  }

  private finish(seq: number): void {
    this.pending.delete(seq);
    this.order.shift();
  }

  /** True once the connection failed, timed out or was closed: make a new one. */
  get isClosed(): boolean {
    return this.closed !== null;
  }

  /**
   * One request. An answer that does not come within `timeoutMs` closes the connection (every
   * pending call fails): answers come in request order, so a late one could not be matched.
   */
  private call(command: string, body: unknown, withBody: boolean, timeoutMs = 10_000): Promise<unknown> {
    if (this.closed !== null) return Promise.reject(this.closed);
    const seq = this.seq++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        if (!this.pending.has(seq)) return;
        const e = new Error(`serf rpc: no answer to ${command} within ${timeoutMs} ms`);
        this.closed ??= e;
        for (const p of this.pending.values()) p.reject(e);
        this.pending.clear();
        this.order.length = 0;
        this.socket.destroy();
      }, timeoutMs);
      const done = <T>(f: (x: T) => void) => (x: T): void => {
        clearTimeout(timer);
        f(x);
      };
      this.pending.set(seq, { withBody, header: null, resolve: done(resolve), reject: done(reject) });
      this.order.push(seq);
      const parts = [encode({ Command: command, Seq: seq })];
      if (body !== undefined) parts.push(encode(body));
      this.socket.write(Buffer.concat(parts));
    });
  }

  async members(timeoutMs = 10_000): Promise<SerfRpcMember[]> {
    const body = (await this.call('members', undefined, true, timeoutMs)) as { Members?: { Name: string; Status: string }[] };
    return (body.Members ?? []).map((m) => ({ name: m.Name, status: m.Status }));
  }

  async event(name: string, payload: string, coalesce = false): Promise<void> {
    await this.call('event', { Name: name, Payload: new TextEncoder().encode(payload), Coalesce: coalesce }, false);
  }

  /** `serf join`: push-pulls with `existing` (Replay false: old events are not replayed); the number of nodes contacted. */
  async join(existing: readonly string[], replay = false): Promise<number> {
    const body = (await this.call('join', { Existing: existing, Replay: replay }, true, 60_000)) as { Num?: number };
    return body.Num ?? 0;
  }

  close(): void {
    this.closed ??= new Error('serf rpc: closed');
    this.socket.destroy();
  }
}
