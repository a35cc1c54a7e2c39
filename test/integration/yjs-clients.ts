/**
 * Yjs clients for tests: the real `y-websocket` provider (with `ws` as its WebSocket) on an
 * agent's `ws://HOST/v1/yjs/{doc}`, and helpers to compare documents.
 */
import { WebSocket } from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { waitFor } from './wait.js';

export interface Client {
  readonly doc: Y.Doc;
  readonly provider: WebsocketProvider;
  /** Resolves at the first sync with the agent. */
  readonly synced: Promise<void>;
  close(): void;
}

/** A provider for `doc` on the agent at `http` (host:port). */
export function connectClient(http: string, name: string, o: { token?: string; doc?: Y.Doc; connect?: boolean } = {}): Client {
  const doc = o.doc ?? new Y.Doc();
  const provider = new WebsocketProvider(`ws://${http}/v1/yjs`, name, doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
    connect: o.connect ?? true,
    maxBackoffTime: 500,
    ...(o.token !== undefined ? { params: { token: o.token } } : {}),
  });
  const synced = new Promise<void>((resolve) => {
    if (provider.synced) resolve();
    provider.once('sync', (s: boolean) => {
      if (s) resolve();
    });
  });
  return {
    doc, provider, synced,
    close: () => {
      provider.destroy();
      doc.destroy();
    },
  };
}

/** The document's full state, as bytes to compare. */
export const stateOf = (d: Y.Doc): Buffer => Buffer.from(Y.encodeStateAsUpdate(d));

/** Whether every document holds the same content (same state vector and same text). */
export function converged(docs: readonly Y.Doc[], field = 't'): boolean {
  const first = docs[0];
  if (first === undefined) return true;
  const sv = Buffer.from(Y.encodeStateVector(first));
  const text = first.getText(field).toJSON();
  return docs.every((d) => Buffer.from(Y.encodeStateVector(d)).equals(sv) && d.getText(field).toJSON() === text);
}

export async function waitConverged(what: string, docs: readonly Y.Doc[], deadlineMs = 60_000, field = 't'): Promise<void> {
  await waitFor(what, deadlineMs, () => converged(docs, field));
}
