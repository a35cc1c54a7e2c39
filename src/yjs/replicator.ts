/**
 * Yjs documents replicated across a cluster (issue 17). One `YjsReplicator` per node holds many
 * documents, each loaded on demand (from the store, when there is one) and unloaded when idle.
 *
 * - A local update (an application's edit, a websocket client's) is made durable first (appended
 *   to the document's tail in the store, synchronously: once `applyUpdate` returns, it survives a
 *   crash), then pushed to the peers: one packet each, or one stream each when it is larger than
 *   a datagram. Up to `pushFanout` peers get it from the writer; in a larger cluster those that
 *   learn something new from it forward it once to `pushFanout` others (infect-and-die).
 * - Anti-entropy with Yjs state vectors: every `antiEntropyIntervalMs`, when a document is loaded,
 *   and when a member joins, a node sends a peer its digest (per document: state vector and a
 *   hash of its delete set); the peer answers with `encodeStateAsUpdate(doc, sv)`, only what the
 *   sender lacks, and asks for what it lacks itself. Deletions do not move state vectors, so the
 *   delete-set hash catches a lost deletion.
 * - The store keeps a snapshot and a tail per document; when the tail outgrows the snapshot (and
 *   `compactBytesMin`) or on unload, both are replaced by one snapshot.
 * - Awareness (cursors, presence) travels as its own messages, never stored; a remote state
 *   lives as long as y-protocols' awareness timeout (30 s) unless renewed: the time to live.
 *
 * Its bytes leave through `sendData` and are charged to the node's byte budget like membership.
 */
import { randomInt } from 'node:crypto';
import * as Y from 'yjs';
import { applyAwarenessUpdate, Awareness, encodeAwarenessUpdate } from 'y-protocols/awareness';
import type { ClusterNode, ClusterEventMap } from '../runtime/cluster-node.js';
import type { DocStore } from '../store/doc-store.js';
import { AppDataType } from '../wire/data.js';
import { crc32 } from '../wire/crc32.js';
import type { DigestEntry, YjsMessage } from './messages.js';
import { decodeYjsMessage, DOC_NAME_BYTES_MAX, encodeYjsMessage } from './messages.js';

export interface ReplicatorOptions {
  /** Where documents live across restarts; null: memory only (a document is kept only while held). */
  readonly store?: DocStore | null;
  /** Period of the state-vector anti-entropy round (one random peer each). Default 2000 ms. */
  readonly antiEntropyIntervalMs?: number;
  /** A document nobody holds is unloaded after this long without activity. Default 30 s. */
  readonly idleMs?: number;
  /** Peers a writer pushes an update to directly (all of them in a cluster this small). Default 16. */
  readonly pushFanout?: number;
  /** Largest message sent as a packet; larger ones go over a stream. Default 1200 bytes. */
  readonly packetBytesMax?: number;
  /** The tail is compacted once it holds more than max(this, the snapshot's size). Default 64 KiB. */
  readonly compactBytesMin?: number;
  /** Problems worth a log line (a refused message, a store error). */
  readonly onProblem?: (line: string) => void;
}

/** What the replicator counts (`stats`). */
export interface ReplicatorStats {
  docsLoaded: number;
  loads: number;
  unloads: number;
  compactions: number;
  /** Local updates made durable and pushed, and their bytes (the Yjs update's). */
  localUpdates: number;
  localUpdateBytes: number;
  /** Messages and payload bytes sent, by kind (the message's encoding, without headers). */
  sent: Record<YjsMessage['kind'], { messages: number; bytes: number }>;
  received: Record<YjsMessage['kind'], { messages: number; bytes: number }>;
  /** Bytes of Yjs updates sent in anti-entropy diffs (the catch-up), and of full states at that time for comparison. */
  diffUpdateBytes: number;
  /** Messages refused (malformed, an update Yjs would not apply). */
  rejected: number;
  storeErrors: number;
}

/** A document someone holds: release it when done (it is unloaded once idle). */
export interface DocHandle {
  readonly name: string;
  readonly doc: Y.Doc;
  readonly awareness: Awareness;
  release(): void;
}

interface Entry {
  readonly name: string;
  readonly doc: Y.Doc;
  readonly awareness: Awareness;
  /** Created by us (destroyed on unload), or the application's (left alone). */
  readonly own: boolean;
  /** The awareness was created by us (its timer stops on unload), or given. */
  readonly ownAwareness: boolean;
  holders: number;
  lastActiveMs: number;
  /** Remote updates not yet in the store (appended in one transaction per tick). */
  pending: Uint8Array[];
  tailBytes: number;
  snapshotBytes: number;
  readonly onUpdate: (update: Uint8Array, origin: unknown) => void;
  readonly onAwareness: (c: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) => void;
  readonly onEvict: Set<(reason: string) => void>;
}

/** Transaction origins of what the replicator applies itself. */
const LOAD = Symbol('yjs-load');
const REMOTE_PUSH = Symbol('yjs-remote-push');
const REMOTE_SYNC = Symbol('yjs-remote-sync');
const REMOTE_AWARENESS = Symbol('yjs-remote-awareness');
const EMPTY = new Uint8Array(0);

const emptyCounts = (): ReplicatorStats['sent'] => ({ update: { messages: 0, bytes: 0 }, digest: { messages: 0, bytes: 0 }, diff: { messages: 0, bytes: 0 }, awareness: { messages: 0, bytes: 0 } });

const replicators = new WeakMap<ClusterNode, YjsReplicator>();

export class YjsReplicator {
  readonly stats: ReplicatorStats = {
    docsLoaded: 0, loads: 0, unloads: 0, compactions: 0, localUpdates: 0, localUpdateBytes: 0,
    sent: emptyCounts(), received: emptyCounts(), diffUpdateBytes: 0, rejected: 0, storeErrors: 0,
  };
  private readonly docs = new Map<string, Entry>();
  private readonly store: DocStore | null;
  private readonly o: Required<Omit<ReplicatorOptions, 'store'>>;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly unsubscribe: (() => void)[] = [];
  private flushScheduled = false;
  private closed = false;
  /**
   * Diffs sent, by peer and document: the state vector they answered and when. The same request
   * again within `diffRepeatMs` means the diff is still on its way (a stream takes a while), so it
   * is not sent twice.
   */
  private readonly diffsSent = new Map<string, { sv: string; atMs: number }>();
  private readonly diffRepeatMs: number;

  /** The node's replicator (one per node; the options count only at the first call). */
  static for(node: ClusterNode, o: ReplicatorOptions = {}): YjsReplicator {
    let r = replicators.get(node);
    if (r === undefined || r.closed) replicators.set(node, (r = new YjsReplicator(node, o)));
    return r;
  }

  constructor(readonly node: ClusterNode, o: ReplicatorOptions = {}) {
    this.store = o.store ?? null;
    this.o = {
      antiEntropyIntervalMs: o.antiEntropyIntervalMs ?? 2000, idleMs: o.idleMs ?? 30_000, pushFanout: o.pushFanout ?? 16,
      packetBytesMax: o.packetBytesMax ?? 1200, compactBytesMin: o.compactBytesMin ?? 64 * 1024, onProblem: o.onProblem ?? (() => undefined),
    };
    this.diffRepeatMs = Math.max(2000, 2 * this.o.antiEntropyIntervalMs);
    this.unsubscribe.push(node.on('data-message', (e) => this.receive(e)));
    this.unsubscribe.push(node.on('member-joined', (e) => {
      if (e.member.name !== node.name) this.sendDigest(e.member.name, [...this.docs.keys()]);
    }));
    const ae = setInterval(() => this.antiEntropyRound(), this.o.antiEntropyIntervalMs);
    const idle = setInterval(() => this.unloadIdle(), Math.max(100, Math.min(this.o.idleMs / 2, 10_000)));
    ae.unref();
    idle.unref();
    this.timers.push(ae, idle);
  }

  /**
   * Holds a document (loading it on demand): `doc` is ours unless the application passes its
   * own (which must not be held under this name already). `onEvict` runs if the document must
   * be dropped from memory (the store refused a write): the holder should drop its clients.
   */
  open(name: string, o: { readonly doc?: Y.Doc; readonly awareness?: Awareness; readonly onEvict?: (reason: string) => void } = {}): DocHandle {
    if (this.closed) throw new Error('the Yjs replicator is closed');
    checkDocName(name);
    let e = this.docs.get(name);
    if (e !== undefined && o.doc !== undefined && e.doc !== o.doc) throw new Error(`document ${name} is already replicated with another Y.Doc`);
    e ??= this.load(name, o.doc, o.awareness);
    e.holders++;
    e.lastActiveMs = Date.now();
    const entry = e;
    if (o.onEvict !== undefined) entry.onEvict.add(o.onEvict);
    let released = false;
    return {
      name, doc: entry.doc, awareness: entry.awareness,
      release: () => {
        if (released) return;
        released = true;
        entry.holders--;
        entry.lastActiveMs = Date.now();
        if (o.onEvict !== undefined) entry.onEvict.delete(o.onEvict);
      },
    };
  }

  /** Releases `h`, and unloads its document at once if it is the application's and nobody else holds it. */
  detach(h: DocHandle): void {
    h.release();
    const e = this.docs.get(h.name);
    if (e !== undefined && !e.own && e.holders <= 0) this.unload(e);
  }

  /** Names of the documents in memory. */
  loaded(): string[] {
    return [...this.docs.keys()];
  }

  /** Stops replicating: pending updates stored, documents unloaded (the application's left as they are). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    for (const u of this.unsubscribe) u();
    this.flush();
    for (const e of [...this.docs.values()]) this.unload(e);
    if (replicators.get(this.node) === this) replicators.delete(this.node);
  }

  // ------------------------------------------------------------------ documents

  private load(name: string, given: Y.Doc | undefined, givenAwareness: Awareness | undefined): Entry {
    const doc = given ?? new Y.Doc({ gc: true });
    const awareness = givenAwareness ?? new Awareness(doc);
    // A server holds no presence of its own.
    if (givenAwareness === undefined) awareness.setLocalState(null);
    const e: Entry = {
      name, doc, awareness, own: given === undefined, ownAwareness: givenAwareness === undefined, holders: 0, lastActiveMs: Date.now(), pending: [], tailBytes: 0, snapshotBytes: 0,
      onUpdate: (update, origin) => this.onUpdate(e, update, origin),
      onAwareness: (c, origin) => this.onAwareness(e, c, origin),
      onEvict: new Set(),
    };
    let hadOwnState = false;
    if (given !== undefined) hadOwnState = Y.encodeStateVector(doc).length > 1;
    if (this.store !== null) {
      try {
        const stored = this.store.loadDoc(name);
        e.snapshotBytes = stored.snapshot?.length ?? 0;
        e.tailBytes = stored.tailBytes;
        Y.transact(doc, () => {
          for (const u of stored.snapshot === null ? stored.updates : [stored.snapshot, ...stored.updates]) {
            try {
              Y.applyUpdate(doc, u, LOAD);
            } catch (err) {
              this.stats.storeErrors++;
              this.o.onProblem(`document ${name}: a stored update did not apply (${String(err)}); skipped`);
            }
          }
        }, LOAD);
      } catch (err) {
        this.stats.storeErrors++;
        this.o.onProblem(`document ${name}: loading from the store failed: ${String(err)}`);
      }
    }
    doc.on('update', e.onUpdate);
    awareness.on('update', e.onAwareness);
    this.docs.set(name, e);
    this.stats.loads++;
    this.stats.docsLoaded = this.docs.size;
    // What the application's document held before: ours now too (stored, then offered to peers).
    if (hadOwnState && this.store !== null) this.storeLocal(e, Y.encodeStateAsUpdate(doc));
    // Catch up at once: two peers hear what we have and send what we lack.
    for (const peer of this.pickPeers(2)) this.sendDigest(peer, [name]);
    return e;
  }

  private unload(e: Entry): void {
    this.flushEntry(e);
    if (this.store !== null && e.tailBytes > 0) this.compact(e);
    e.doc.off('update', e.onUpdate);
    e.awareness.off('update', e.onAwareness);
    if (e.ownAwareness) e.awareness.destroy();
    if (e.own) e.doc.destroy();
    this.docs.delete(e.name);
    this.stats.unloads++;
    this.stats.docsLoaded = this.docs.size;
  }

  private unloadIdle(): void {
    const now = Date.now();
    for (const e of [...this.docs.values()]) {
      if (e.holders <= 0 && now - e.lastActiveMs >= this.o.idleMs) this.unload(e);
    }
  }

  /** The store refused a local update: the memory copy holds what is not durable, so it goes (its holders are told). */
  private evict(e: Entry, reason: string): void {
    for (const fn of [...e.onEvict]) fn(reason);
    e.doc.off('update', e.onUpdate);
    e.awareness.off('update', e.onAwareness);
    if (e.ownAwareness) e.awareness.destroy();
    if (e.own) e.doc.destroy();
    this.docs.delete(e.name);
    this.stats.docsLoaded = this.docs.size;
  }

  private onUpdate(e: Entry, update: Uint8Array, origin: unknown): void {
    e.lastActiveMs = Date.now();
    if (origin === LOAD) return;
    if (origin === REMOTE_PUSH || origin === REMOTE_SYNC) {
      // Durable on its writer already: stored with the next flush (one transaction per tick).
      if (this.store !== null) {
        e.pending.push(update);
        this.scheduleFlush();
      }
      return;
    }
    // Local: durable before anyone hears of it. A refusal throws out of the writer's applyUpdate.
    this.storeLocal(e, update);
    this.stats.localUpdates++;
    this.stats.localUpdateBytes += update.length;
    const msg = encodeYjsMessage({ kind: 'update', src: this.node.name, doc: e.name, update });
    for (const peer of this.pickPeers(this.o.pushFanout)) this.send(peer, 'update', msg);
  }

  private storeLocal(e: Entry, update: Uint8Array): void {
    if (this.store === null) return;
    try {
      this.flushEntry(e);
      this.store.appendDocUpdates([{ doc: e.name, update }]);
    } catch (err) {
      this.stats.storeErrors++;
      this.evict(e, `the store refused an update: ${String(err)}`);
      throw err;
    }
    e.tailBytes += update.length;
    this.maybeCompact(e);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    for (const e of this.docs.values()) this.flushEntry(e);
  }

  private flushEntry(e: Entry): void {
    if (this.store === null || e.pending.length === 0) return;
    const updates = e.pending;
    e.pending = [];
    try {
      this.store.appendDocUpdates(updates.map((update) => ({ doc: e.name, update })));
      for (const u of updates) e.tailBytes += u.length;
      this.maybeCompact(e);
    } catch (err) {
      // Remote updates are durable on their writers; anti-entropy brings them back after a restart.
      this.stats.storeErrors++;
      this.o.onProblem(`document ${e.name}: storing ${updates.length} remote updates failed: ${String(err)}`);
    }
  }

  private maybeCompact(e: Entry): void {
    if (e.tailBytes > Math.max(this.o.compactBytesMin, e.snapshotBytes)) this.compact(e);
  }

  private compact(e: Entry): void {
    if (this.store === null) return;
    const snapshot = Y.encodeStateAsUpdate(e.doc);
    try {
      this.store.compactDoc(e.name, snapshot);
    } catch (err) {
      this.stats.storeErrors++;
      this.o.onProblem(`document ${e.name}: compaction failed (the tail stays): ${String(err)}`);
      return;
    }
    // The snapshot holds every pending remote update too.
    e.pending = [];
    e.snapshotBytes = snapshot.length;
    e.tailBytes = 0;
    this.stats.compactions++;
  }

  // ------------------------------------------------------------------ awareness

  private onAwareness(e: Entry, c: { added: number[]; updated: number[]; removed: number[] }, origin: unknown): void {
    // Remote states are the remote's to renew or remove; each node times them out itself.
    if (origin === REMOTE_AWARENESS || origin === 'timeout') return;
    const changed = [...c.added, ...c.updated, ...c.removed];
    if (changed.length === 0) return;
    const msg = encodeYjsMessage({ kind: 'awareness', src: this.node.name, doc: e.name, update: encodeAwarenessUpdate(e.awareness, changed) });
    for (const peer of this.pickPeers(this.o.pushFanout)) this.send(peer, 'awareness', msg);
  }

  // ------------------------------------------------------------------ anti-entropy

  private antiEntropyRound(): void {
    if (this.docs.size === 0) return;
    const [peer] = this.pickPeers(1);
    if (peer !== undefined) this.sendDigest(peer, [...this.docs.keys()]);
  }

  private summary(e: Entry): { sv: Uint8Array; dsHash: number } {
    const sv = Y.encodeStateVector(e.doc);
    // With our own state vector, the update holds no structs: only the delete set.
    return { sv, dsHash: crc32(Y.encodeStateAsUpdate(e.doc, sv)) };
  }

  private sendDigest(peer: string, names: readonly string[]): void {
    const entries: DigestEntry[] = [];
    for (const doc of names) {
      const e = this.docs.get(doc);
      if (e !== undefined) entries.push({ doc, ...this.summary(e) });
    }
    if (entries.length > 0) this.send(peer, 'digest', encodeYjsMessage({ kind: 'digest', src: this.node.name, entries }));
  }

  /** A document a peer talks about: in memory, or loaded from the store (without a store, only what is held). */
  private entryFor(doc: string): Entry | undefined {
    const e = this.docs.get(doc);
    if (e !== undefined || this.store === null) return e;
    return this.load(doc, undefined, undefined);
  }

  private answerDigest(from: string, d: DigestEntry): void {
    const e = this.entryFor(d.doc);
    if (e === undefined) return;
    const mine = this.summary(e);
    let theirs: Map<number, number>;
    try {
      theirs = Y.decodeStateVector(d.sv);
    } catch {
      this.reject(from, `digest: a malformed state vector for ${d.doc}`);
      return;
    }
    const ours = Y.decodeStateVector(mine.sv);
    const dsDiffers = d.dsHash !== mine.dsHash;
    const iLack = dsDiffers || ahead(theirs, ours);
    const theyLack = dsDiffers || ahead(ours, theirs);
    if (!iLack && !theyLack) return;
    const update = theyLack && this.firstAsk(from, d.doc, d.sv) ? Y.encodeStateAsUpdate(e.doc, d.sv) : EMPTY;
    if (update.length === 0 && !iLack) return;
    this.stats.diffUpdateBytes += update.length;
    this.send(from, 'diff', encodeYjsMessage({ kind: 'diff', src: this.node.name, doc: d.doc, update, sv: mine.sv, dsHash: mine.dsHash, want: iLack }));
  }

  /** Whether `peer` asks for `doc` past state vector `sv` for the first time lately (else that diff is on its way). */
  private firstAsk(peer: string, doc: string, sv: Uint8Array): boolean {
    const now = Date.now();
    const key = `${peer}\u0000${doc}`;
    const svKey = Buffer.from(sv).toString('base64');
    const last = this.diffsSent.get(key);
    if (last !== undefined && last.sv === svKey && now - last.atMs < this.diffRepeatMs) return false;
    if (this.diffsSent.size > 10_000) {
      for (const [k, v] of this.diffsSent) if (now - v.atMs >= this.diffRepeatMs) this.diffsSent.delete(k);
    }
    this.diffsSent.set(key, { sv: svKey, atMs: now });
    return true;
  }

  // ------------------------------------------------------------------ receiving

  /** A `data-message` event of the node (messages of other types are ignored). */
  receive(ev: ClusterEventMap['data-message']): void {
    if (ev.dataType !== AppDataType.yjs || this.closed) return;
    const r = decodeYjsMessage(ev.payload);
    if (!r.ok) {
      this.reject(ev.node ?? ev.from, r.error);
      return;
    }
    const m = r.message;
    const c = this.stats.received[m.kind];
    c.messages++;
    c.bytes += ev.payload.length;
    if (m.src === this.node.name) return;
    switch (m.kind) {
      case 'update': {
        const e = this.entryFor(m.doc);
        if (e === undefined) return;
        let changed = false;
        const mark = (): void => {
          changed = true;
        };
        e.doc.on('update', mark);
        try {
          Y.applyUpdate(e.doc, m.update, REMOTE_PUSH);
        } catch (err) {
          this.reject(m.src, `update for ${m.doc} did not apply: ${String(err)}`);
        } finally {
          e.doc.off('update', mark);
        }
        // Beyond what the writer reached directly: whoever learned something forwards it once.
        if (changed && this.peerCount() > this.o.pushFanout) {
          for (const peer of this.pickPeers(this.o.pushFanout, m.src)) this.send(peer, 'update', ev.payload);
        }
        return;
      }
      case 'digest':
        for (const d of m.entries) this.answerDigest(m.src, d);
        return;
      case 'diff': {
        const e = this.entryFor(m.doc);
        if (e === undefined) return;
        if (m.update.length > 0) {
          try {
            Y.applyUpdate(e.doc, m.update, REMOTE_SYNC);
          } catch (err) {
            this.reject(m.src, `diff for ${m.doc} did not apply: ${String(err)}`);
            return;
          }
        }
        if (m.want && this.firstAsk(m.src, m.doc, m.sv)) {
          const update = Y.encodeStateAsUpdate(e.doc, m.sv);
          this.stats.diffUpdateBytes += update.length;
          const mine = this.summary(e);
          this.send(m.src, 'diff', encodeYjsMessage({ kind: 'diff', src: this.node.name, doc: m.doc, update, sv: mine.sv, dsHash: mine.dsHash, want: false }));
        }
        return;
      }
      case 'awareness': {
        const e = this.docs.get(m.doc);
        if (e === undefined) return; // presence matters only where someone is looking
        try {
          applyAwarenessUpdate(e.awareness, m.update, REMOTE_AWARENESS);
        } catch (err) {
          this.reject(m.src, `awareness for ${m.doc} did not apply: ${String(err)}`);
        }
        return;
      }
    }
  }

  private reject(from: string, detail: string): void {
    this.stats.rejected++;
    this.o.onProblem(`yjs message from ${from} refused: ${detail}`);
  }

  // ------------------------------------------------------------------ peers

  private peers(except?: string): string[] {
    return this.node.members().filter((m) => m.status === 'alive' && m.name !== this.node.name && m.name !== except).map((m) => m.name);
  }

  private peerCount(): number {
    return this.peers().length;
  }

  /** Up to `n` alive peers, at random. */
  private pickPeers(n: number, except?: string): string[] {
    const all = this.peers(except);
    if (all.length <= n) return all;
    for (let i = 0; i < n; i++) {
      const j = i + randomInt(all.length - i);
      [all[i], all[j]] = [all[j] as string, all[i] as string];
    }
    return all.slice(0, n);
  }

  private send(peer: string, kind: YjsMessage['kind'], payload: Uint8Array): void {
    try {
      if (!this.node.sendData(peer, AppDataType.yjs, payload, { reliable: payload.length > this.o.packetBytesMax })) return;
    } catch (err) {
      this.o.onProblem(`yjs ${kind} to ${peer} not sent: ${String(err)}`);
      return;
    }
    const c = this.stats.sent[kind];
    c.messages++;
    c.bytes += payload.length;
  }
}

/** Whether state vector `a` has something `b` lacks. */
function ahead(a: ReadonlyMap<number, number>, b: ReadonlyMap<number, number>): boolean {
  for (const [client, clock] of a) if (clock > (b.get(client) ?? 0)) return true;
  return false;
}

/** Throws a `RangeError` for a name the wire cannot carry. */
export function checkDocName(name: string): void {
  const n = Buffer.byteLength(name);
  if (n === 0 || n > DOC_NAME_BYTES_MAX) throw new RangeError(`document name of ${n} bytes: expected 1–${DOC_NAME_BYTES_MAX}`);
}
