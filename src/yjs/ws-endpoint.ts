/**
 * The y-websocket protocol on the server side (as y-websocket's `setupWSConnection`): each
 * connection holds one replicated document. Messages are `varuint type | body`:
 * - 0 sync: step 1 (a state vector; we answer step 2, what it lacks), step 2 and update (Yjs
 *   updates; applied with the connection as origin, which makes them local: durable in the store
 *   before `applyUpdate` returns, then pushed to peers). We send step 1 at connect, so a client
 *   gets what we have and we get what it has.
 * - 1 awareness: applied and relayed; the connection's clients are removed when it closes.
 * - 3 query awareness: answered with every known state.
 * A connection without write access has its updates dropped (counted); it still reads and has
 * presence. A client that does not read (its send buffer over `bufferedBytesMax`) is closed.
 */
import type { WebSocket } from 'ws';
import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { applyAwarenessUpdate, encodeAwarenessUpdate, removeAwarenessStates } from 'y-protocols/awareness';
import { messageYjsSyncStep1, messageYjsSyncStep2, messageYjsUpdate, readSyncStep1, writeSyncStep1, writeUpdate } from 'y-protocols/sync';
import type { DocHandle, YjsReplicator } from './replicator.js';

const MESSAGE_SYNC = 0;
const MESSAGE_AWARENESS = 1;
const MESSAGE_QUERY_AWARENESS = 3;

export interface WsEndpointOptions {
  /** A client whose unsent bytes exceed this is closed (it does not read). Default 16 MiB. */
  readonly bufferedBytesMax?: number;
  /** Ping period; a client that missed the previous pong is closed. Default 30 s. */
  readonly pingMs?: number;
}

export interface WsEndpointStats {
  connections: number;
  opened: number;
  /** Updates from clients applied (made durable and spread). */
  updatesIn: number;
  /** Updates dropped from read-only connections. */
  refusedWrites: number;
  /** Messages refused as malformed (the connection is closed). */
  malformed: number;
  /** Slow readers and dead connections closed. */
  closedSlow: number;
  bytesIn: number;
  bytesOut: number;
}

interface Conn {
  readonly ws: WebSocket;
  readonly handle: DocHandle;
  readonly write: boolean;
  /** Awareness client ids this connection controls. */
  readonly clients: Set<number>;
  alive: boolean;
}

export class YjsWsEndpoint {
  readonly stats: WsEndpointStats = { connections: 0, opened: 0, updatesIn: 0, refusedWrites: 0, malformed: 0, closedSlow: 0, bytesIn: 0, bytesOut: 0 };
  private readonly conns = new Set<Conn>();
  private readonly bufferedBytesMax: number;
  private readonly pinger: NodeJS.Timeout;

  constructor(readonly replicator: YjsReplicator, o: WsEndpointOptions = {}) {
    this.bufferedBytesMax = o.bufferedBytesMax ?? 16 * 1024 * 1024;
    this.pinger = setInterval(() => {
      for (const c of this.conns) {
        if (!c.alive) {
          this.stats.closedSlow++;
          c.ws.terminate();
          continue;
        }
        c.alive = false;
        c.ws.ping();
      }
    }, o.pingMs ?? 30_000);
    this.pinger.unref();
  }

  /** Serves document `name` on an open websocket (`write`: its updates are applied). */
  connect(ws: WebSocket, name: string, o: { readonly write: boolean }): void {
    ws.binaryType = 'nodebuffer';
    let c: Conn | null = null;
    const handle = this.replicator.open(name, { onEvict: (reason) => ws.close(1011, reason.slice(0, 120)) });
    const conn: Conn = { ws, handle, write: o.write, clients: new Set(), alive: true };
    c = conn;
    this.conns.add(conn);
    this.stats.connections = this.conns.size;
    this.stats.opened++;
    const { doc, awareness } = handle;
    const onUpdate = (update: Uint8Array, origin: unknown): void => {
      if (origin === conn) return;
      const e = encoding.createEncoder();
      encoding.writeVarUint(e, MESSAGE_SYNC);
      writeUpdate(e, update);
      this.send(conn, encoding.toUint8Array(e));
    };
    const onAwareness = ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }, origin: unknown): void => {
      const changed = [...added, ...updated, ...removed];
      if (origin === conn) {
        for (const id of added) conn.clients.add(id);
        for (const id of removed) conn.clients.delete(id);
      }
      if (changed.length === 0) return;
      this.send(conn, awarenessMessage(encodeAwarenessUpdate(awareness, changed)));
    };
    doc.on('update', onUpdate);
    awareness.on('update', onAwareness);
    const cleanup = (): void => {
      if (c === null) return;
      c = null;
      doc.off('update', onUpdate);
      awareness.off('update', onAwareness);
      if (conn.clients.size > 0) removeAwarenessStates(awareness, [...conn.clients], null);
      this.conns.delete(conn);
      this.stats.connections = this.conns.size;
      handle.release();
    };
    ws.on('close', cleanup);
    ws.on('error', () => ws.terminate());
    ws.on('pong', () => {
      conn.alive = true;
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (c === null) return;
      this.stats.bytesIn += data.length;
      if (!isBinary) return this.malformed(conn, 'text frames are not part of the protocol');
      this.handleMessage(conn, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    });
    // Step 1: the client answers with what we lack; we answer its own step 1 with what it lacks.
    const e = encoding.createEncoder();
    encoding.writeVarUint(e, MESSAGE_SYNC);
    writeSyncStep1(e, doc);
    this.send(conn, encoding.toUint8Array(e));
    const states = awareness.getStates();
    if (states.size > 0) this.send(conn, awarenessMessage(encodeAwarenessUpdate(awareness, [...states.keys()])));
  }

  /** Closes every connection. */
  close(): void {
    clearInterval(this.pinger);
    for (const c of [...this.conns]) c.ws.close(1001, 'server shutting down');
  }

  private handleMessage(conn: Conn, buf: Uint8Array): void {
    const { doc, awareness } = conn.handle;
    let reply: Uint8Array | null = null;
    try {
      // A copy: lib0 reads views of the underlying buffer, and ws hands out slices of a larger one.
      const d = decoding.createDecoder(buf.slice());
      const type = decoding.readVarUint(d);
      switch (type) {
        case MESSAGE_SYNC: {
          const sub = decoding.readVarUint(d);
          if (sub === messageYjsSyncStep1) {
            const e = encoding.createEncoder();
            encoding.writeVarUint(e, MESSAGE_SYNC);
            readSyncStep1(d, e, doc);
            reply = encoding.toUint8Array(e);
          } else if (sub === messageYjsSyncStep2 || sub === messageYjsUpdate) {
            const update = decoding.readVarUint8Array(d);
            if (!conn.write) {
              this.stats.refusedWrites++;
              return;
            }
            // Durable (the replicator's handler stores it first) once this returns; a store refusal throws and evicts the document.
            Y.applyUpdate(doc, update, conn);
            this.stats.updatesIn++;
          } else return this.malformed(conn, `unknown sync message ${sub}`);
          break;
        }
        case MESSAGE_AWARENESS:
          applyAwarenessUpdate(awareness, decoding.readVarUint8Array(d), conn);
          break;
        case MESSAGE_QUERY_AWARENESS:
          reply = awarenessMessage(encodeAwarenessUpdate(awareness, [...awareness.getStates().keys()]));
          break;
        default:
          return this.malformed(conn, `unknown message type ${type}`);
      }
    } catch (err) {
      // Already closing: the replicator evicted the document (the store refused the update).
      if (conn.ws.readyState !== conn.ws.OPEN) return;
      return this.malformed(conn, err instanceof Error ? err.message : String(err));
    }
    if (reply !== null && reply.length > 1) this.send(conn, reply);
  }

  private malformed(conn: Conn, why: string): void {
    this.stats.malformed++;
    conn.ws.close(1003, `malformed message: ${why}`.slice(0, 120));
  }

  private send(conn: Conn, msg: Uint8Array): void {
    if (conn.ws.readyState !== conn.ws.OPEN) return;
    if (conn.ws.bufferedAmount > this.bufferedBytesMax) {
      this.stats.closedSlow++;
      conn.ws.terminate();
      return;
    }
    this.stats.bytesOut += msg.length;
    conn.ws.send(msg, { binary: true });
  }
}

function awarenessMessage(update: Uint8Array): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, MESSAGE_AWARENESS);
  encoding.writeVarUint8Array(e, update);
  return encoding.toUint8Array(e);
}
