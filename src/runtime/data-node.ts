import type { Address, Millis } from '../core/ids.js';
import { millis } from '../core/ids.js';
import type { Rng } from '../core/rng.js';
import type { DisseminationConfig } from '../core/dissemination/config.js';
import { DEFAULT_DISSEMINATION } from '../core/dissemination/config.js';
import { Disseminator } from '../core/dissemination/disseminator.js';
import type { PeerSampler } from '../core/dissemination/disseminator.js';
import { GOSSIP_HEADER_BYTES } from '../core/dissemination/messages.js';
import type { ReconcileHost } from '../core/antientropy/index.js';
import { MerkleTree, ReconcileSession } from '../core/antientropy/index.js';
import type { Agreement, ConvergedUpdate } from '../core/convergence/index.js';
import { ConvergenceTracker } from '../core/convergence/index.js';
import type { ChangeEvent, Entry, Read, ReplicaOptions, Resolver } from '../core/replica/index.js';
import { isValidEntry, minSummary, Replica } from '../core/replica/index.js';
import type { StateStore } from '../store/state-store.js';
import type { DataMessage, DataMessageKind, DataStats } from '../wire/data.js';
import { decodeDataFrame, decodeDataMessage, decodeDataValue, encodeDataFrame, encodeDataMessage, encodeDataValue } from '../wire/data.js';
import type { DataMachine, KvOp, KvOpResult } from './data-machine.js';
import { applyKvOp } from './data-machine.js';
import { toDigestMessage, toDisseminationMessage, toEntriesMessage, toReconcileMessage } from './data-messages.js';

/**
 * The replicated key-value state of one node, sans-IO: a `Replica` (DVV, HLC, CRDTs), its
 * Merkle tree, a `Disseminator` spreading each local change as a rumor (push-pull with digest
 * repair), a `ConvergenceTracker` fed by digests (root + version summary) every
 * `digestIntervalMs`, and anti-entropy: every `antiEntropyIntervalMs` a Merkle reconciliation
 * (`ReconcileSession`) with one peer whose last digest root differs from ours (only differing
 * subtrees walked, only differing entries sent, both ways), plus the full state both ways in
 * Serf's push-pull at a join. Tombstones are collected once every live peer's fresh summary
 * covers the delete and `tombstoneGraceMs` has passed.
 *
 * It stands in for the `StateNode` of src/core/state (being built) and has its driver shape:
 * `handleX(now, …)` in, `pollTransmit()` / `pollEvent()` / `pollTimeout()` out, peers from a
 * sampler over Serf's live members that advertise our data tag. Time `now` is the driver's
 * monotonic clock; the replica's HLC reads `now + wallOffsetMs` (wall-clock ms).
 *
 * Durability: every entry change (local write, merge, collection) is written to the injected
 * `StateStore` (synchronous: it returns once durable) before a local operation returns, and
 * before the rumor of a local write is published. Dots never repeat across restarts: the dot
 * counter is reserved in blocks of `DOT_RESERVE` in the store's meta before any local write
 * uses it, and a restarted node starts above the reservation.
 */
export interface DataNodeOptions {
  readonly name: string;
  /** Tells this life's rumors from a previous life's (the rumor origin is `name#bootId`). */
  readonly bootId: string;
  readonly rng: Rng;
  readonly now: Millis;
  /** Wall-clock ms minus the monotonic `now` (the replica's HLC time). */
  readonly wallOffsetMs: number;
  /** Live data peers, self excluded (names). */
  readonly peers: () => readonly string[];
  readonly replica?: Omit<ReplicaOptions, 'node' | 'counterStart'>;
  readonly store?: StateStore | null;
  readonly dissemination?: Partial<DisseminationConfig>;
  /** A digest (root + summary) to every peer this often (ms). Default 1,000. */
  readonly digestIntervalMs?: number;
  /** A Merkle reconciliation with one peer whose root differs from ours this often (ms). Default 5,000. */
  readonly antiEntropyIntervalMs?: number;
  /**
   * A tombstone is collected once every live data member's summary covers its delete and it
   * has been dead here this long (ms): a member down or cut off longer may bring back a write
   * concurrent with the delete (Replica.collectTombstones). Default 3,600,000 (1 h).
   */
  readonly tombstoneGraceMs?: number;
  /** Counts decoded and rejected data messages. */
  readonly stats: DataStats;
}

/** One message for `SerfNode.sendData`: type byte, body, and whether it needs a stream. */
export interface DataTransmit {
  readonly to: string;
  readonly dataType: number;
  readonly payload: Uint8Array;
  readonly reliable: boolean;
}

export type DataEvent =
  | { readonly type: 'kv-change'; readonly key: string; readonly cause: ChangeEvent['cause']; readonly deleted: boolean }
  /** A sampled local write reached every live data member. */
  | { readonly type: 'kv-converged'; readonly update: ConvergedUpdate }
  /** A data message we could not use (counted). */
  | { readonly type: 'data-rejected'; readonly from: string; readonly reason: string; readonly detail: string };

export interface DataNodeStats {
  readonly rejected: number;
  readonly storeErrors: number;
  readonly entriesMerged: number;
  readonly statesSent: number;
  readonly statesReceived: number;
  readonly largeEntriesPushed: number;
  /** Merkle reconciliation sessions (anti-entropy) that ended complete, failed or timed out, and the entries they carried. */
  readonly sessionsComplete: number;
  readonly sessionsFailed: number;
  readonly sessionEntriesSent: number;
  readonly sessionEntriesReceived: number;
}

/** Dot counters reserved in the store ahead of use. */
export const DOT_RESERVE = 1024;
/** Store meta holding the highest dot counter this node may have used (decimal ASCII). */
export const DOT_COUNTER_META = 'dot-counter';
/** Encoded entries above this go to peers over a stream, not as a rumor in a packet. */
const RUMOR_ENTRY_BYTES_MAX = 1000;
/** Peers a large entry is pushed to directly (the rest get it from them or by anti-entropy). */
const LARGE_ENTRY_FANOUT = 3;
/** A message whose encoded body is above this goes over a stream. */
const PACKET_PAYLOAD_BYTES_MAX = 1200;
const RECENT_CONVERGED_MAX = 64;
/** Open reconciliation sessions at most (responders beyond it are refused); a session not done by its timeout is dropped. */
const SESSIONS_MAX = 16;
const SESSION_TIMEOUT_MS = 10_000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class DataNode implements DataMachine {
  readonly name: string;
  readonly replica: Replica;
  readonly tree: MerkleTree;
  private readonly diss: Disseminator<Uint8Array>;
  private readonly tracker: ConvergenceTracker;
  private readonly store: StateStore | null;
  private readonly peers: () => readonly string[];
  private readonly rng: Rng;
  private readonly wallOffsetMs: number;
  private readonly dataStats: DataStats;
  private readonly digestIntervalMs: number;
  private readonly antiEntropyIntervalMs: number;
  private readonly outbox: DataTransmit[] = [];
  private readonly events: DataEvent[] = [];
  private readonly live = new Set<string>();
  private readonly peerRoots = new Map<string, { hi: number; lo: number }>();
  /** Each live peer's version summary from its latest digest, and when it came. */
  private readonly peerSummaries = new Map<string, { summary: ReadonlyMap<string, number>; atMs: number }>();
  private readonly tombstoneGraceMs: number;
  private readonly recent: ConvergedUpdate[] = [];
  /** Keys whose latest entry the store has not taken yet (a failed write): retried on each timeout. */
  private readonly unsaved = new Set<string>();
  private nextDigestMs: number;
  private nextAntiEntropyMs: number;
  private reserved: number;
  private lastDot: number;
  private counters = {
    rejected: 0, storeErrors: 0, entriesMerged: 0, statesSent: 0, statesReceived: 0, largeEntriesPushed: 0,
    sessionsComplete: 0, sessionsFailed: 0, sessionEntriesSent: 0, sessionEntriesReceived: 0,
  };
  /** Open Merkle reconciliation sessions by `peer/sid`. */
  private readonly sessions = new Map<string, { readonly session: ReconcileSession<Uint8Array>; readonly peer: string; readonly sid: number; readonly deadlineMs: number }>();
  private readonly reconcileHost: ReconcileHost<Uint8Array>;

  constructor(o: DataNodeOptions) {
    this.name = o.name;
    this.store = o.store ?? null;
    this.peers = o.peers;
    this.rng = o.rng;
    this.wallOffsetMs = o.wallOffsetMs;
    this.dataStats = o.stats;
    this.digestIntervalMs = o.digestIntervalMs ?? 1000;
    this.antiEntropyIntervalMs = o.antiEntropyIntervalMs ?? 5000;
    this.tombstoneGraceMs = o.tombstoneGraceMs ?? 3_600_000;

    this.replica = new Replica({ ...o.replica, node: o.name });
    this.tree = new MerkleTree({ depth: MerkleTree.depthFor(4096, 16), fanout: 16 });
    this.reconcileHost = {
      tree: this.tree,
      entryFor: (key) => {
        const e = this.replica.entry(key);
        return e === undefined ? undefined : encodeDataValue(e);
      },
      entryBytes: (e) => e.length,
    };
    const sampler: PeerSampler = {
      size: () => this.peers().length,
      sample: (k, rng) => {
        const all = [...this.peers()];
        const out: Address[] = [];
        while (out.length < k && all.length > 0) out.push(all.splice(rng.int(all.length), 1)[0] as Address);
        return out;
      },
    };
    this.diss = new Disseminator<Uint8Array>({
      origin: `${o.name}#${o.bootId}`, config: { ...DEFAULT_DISSEMINATION, ...o.dissemination }, rng: o.rng.fork(), now: o.now, peers: sampler,
    });
    this.tracker = new ConvergenceTracker(o.name, { digestMaxAgeMs: 4 * this.digestIntervalMs });
    this.nextDigestMs = (o.now as number) + this.rng.next() * this.digestIntervalMs;
    this.nextAntiEntropyMs = (o.now as number) + this.antiEntropyIntervalMs * (0.5 + this.rng.next());
    // Restore: entries first (own dots in them raise the counter), then the reservation.
    let restoredCounter = 0;
    this.replica.subscribe('');
    if (this.store !== null) {
      for (const s of this.store.loadEntries()) {
        const r = decodeDataValue(s.entry, this.dataStats);
        if (!r.ok || !isValidEntry(r.value) || r.value.key !== s.key) {
          this.counters.rejected++;
          continue;
        }
        this.replica.merge(this.wall(o.now), r.value);
      }
      const meta = this.store.loadMeta(DOT_COUNTER_META);
      if (meta !== null) {
        const n = Number(decoder.decode(meta));
        if (Number.isSafeInteger(n) && n > 0) restoredCounter = n;
      }
    }
    this.lastDot = Math.max(restoredCounter, this.ownCounter());
    // Everything below the old reservation may have been used (a write in flight at a crash):
    // the counter starts above it.
    if (this.lastDot > 0) this.replica.absorbSummary(new Map([[this.name, this.lastDot]]));
    this.reserved = this.lastDot;
    this.drainChanges(o.now, false, false); // into the Merkle tree; the store has them already
    this.events.length = 0; // the restored state is not news
    this.refreshDigest(o.now);
  }

  // ------------------------------------------------------------------ local operations

  /**
   * Runs a local operation on the replica (`fn` gets the HLC time), writes every resulting
   * change to the store, and queues the rumor. Throws what `fn` throws (a `ReplicaError`) and
   * store failures (then nothing is acknowledged and no rumor leaves; the key is retried).
   */
  apply<O extends KvOp>(now: Millis, op: O): KvOpResult[O['op']] {
    const key = op.key;
    this.reserve(1);
    const out = applyKvOp(this.replica, this.wall(now), op) as KvOpResult[O['op']];
    this.drainChanges(now, true);
    const entry = this.replica.entry(key);
    if (entry !== undefined) {
      const own = ownDot(entry, this.name);
      if (own > 0) this.tracker.sampleUpdate(now, this.name, own);
      this.spread(now, key, entry);
    }
    this.refreshDigest(now);
    return out;
  }

  get(key: string): Read | undefined {
    return this.replica.get(key);
  }

  list(prefix: string): string[] {
    return this.replica.list(prefix);
  }

  resolverOf(key: string): Resolver {
    return this.replica.resolverOf(key);
  }

  /** Agreement (fraction of live data members with our Merkle root) and recent times to everyone. */
  convergence(now: Millis): { readonly agreement: Agreement; readonly recent: readonly ConvergedUpdate[] } {
    return { agreement: this.tracker.agreement(now), recent: [...this.recent] };
  }

  get stats(): DataNodeStats {
    return { ...this.counters };
  }

  get disseminationStats(): Disseminator<Uint8Array>['stats'] {
    return this.diss.stats;
  }

  // ------------------------------------------------------------------ inputs

  /**
   * A data-layer message (type byte and body, as `sendData` carried them) from member `from`,
   * or from `null` when the sender's address names no member (a stream from an ephemeral
   * port): then the `src` it carries must name a live data peer.
   */
  handleMessage(now: Millis, from: string | null, dataType: number, payload: Uint8Array, fromAddr = 'unknown address'): void {
    const r = decodeDataMessage(dataType, payload, this.dataStats);
    if (!r.ok) {
      this.reject(from ?? fromAddr, r.reason, r.detail);
      return;
    }
    let sender = from;
    if (sender === null) {
      const src = r.value.src;
      if (typeof src === 'string' && !this.live.has(src)) this.syncMembers(now);
      if (typeof src !== 'string' || !this.live.has(src)) {
        this.reject(fromAddr, 'unknown-sender', `${r.value.type} from ${fromAddr}, which names no live data peer (src ${typeof src === 'string' ? src : 'missing'})`);
        return;
      }
      sender = src;
    }
    this.handleDecoded(now, sender, r.value);
  }

  /** The full state a peer sent in Serf's push-pull (a framed `state` message). */
  handleRemoteState(now: Millis, from: string, frame: Uint8Array): void {
    const r = decodeDataFrame(frame, this.dataStats);
    if (!r.ok) {
      this.reject(from, r.reason, r.detail);
      return;
    }
    if (r.value.type !== 'state') {
      this.reject(from, 'malformed', `push-pull state holds a ${r.value.type} message`);
      return;
    }
    const src = r.value.src;
    this.handleDecoded(now, typeof src === 'string' ? src : from, r.value);
  }

  /** Our full state, framed, for Serf's push-pull. */
  localState(): Uint8Array {
    this.counters.statesSent++;
    return encodeDataFrame({ ...this.stateMessage(true), src: this.name });
  }

  handleTimeout(now: Millis): void {
    const t = now as number;
    this.syncMembers(now);
    if (this.unsaved.size > 0) this.persist([...this.unsaved]);
    const d = this.diss.pollTimeout();
    if (d !== undefined && (d as number) <= t) this.diss.handleTimeout(now);
    for (const [k, s] of this.sessions) {
      if (s.deadlineMs > t) continue;
      this.sessions.delete(k);
      this.counters.sessionsFailed++;
    }
    if (t >= this.nextDigestMs) {
      this.nextDigestMs = t + this.digestIntervalMs * (0.75 + 0.5 * this.rng.next());
      this.refreshDigest(now);
      const digest = this.tracker.localDigest();
      const msg = this.encode({ type: 'digest', rootHi: digest.rootHi, rootLo: digest.rootLo, summary: digest.summary });
      for (const p of this.live) this.outbox.push({ to: p, dataType: msg.dataType, payload: msg.payload, reliable: msg.payload.length > PACKET_PAYLOAD_BYTES_MAX });
    }
    if (t >= this.nextAntiEntropyMs) {
      this.nextAntiEntropyMs = t + this.antiEntropyIntervalMs * (0.75 + 0.5 * this.rng.next());
      this.antiEntropy(now);
      this.collectTombstones(now);
    }
    this.drainDisseminator(now);
  }

  // ------------------------------------------------------------------ outputs

  pollTransmit(): DataTransmit | undefined {
    return this.outbox.shift();
  }

  pollEvent(): DataEvent | undefined {
    return this.events.shift();
  }

  pollTimeout(): Millis {
    const d = this.diss.pollTimeout();
    let at = Math.min(this.nextDigestMs, this.nextAntiEntropyMs);
    if (d !== undefined) at = Math.min(at, d);
    return millis(at);
  }

  // ------------------------------------------------------------------ internals

  private handleDecoded(now: Millis, from: string, m: DataMessage): void {
    switch (m.type) {
      case 'gossip':
      case 'gossip-reply': {
        const c = toDisseminationMessage(m);
        if (!c.ok) {
          this.reject(from, 'malformed', c.detail);
          return;
        }
        this.diss.handleMessage(now, from as Address, c.value);
        this.drainDisseminator(now);
        return;
      }
      case 'entries':
      case 'state': {
        const c = toEntriesMessage(m);
        if (!c.ok) {
          this.reject(from, 'malformed', c.detail);
          return;
        }
        // A state carries the sender's summary, taken with its entries: once all are merged
        // this replica reflects everything the sender's did (Replica.absorbSummary).
        let summary: ReadonlyMap<string, number> | null = null;
        if (m.type === 'state') {
          this.counters.statesReceived++;
          const s = m.summary;
          if (!(s instanceof Map) || ![...s].every(([k, v]) => typeof k === 'string' && typeof v === 'number' && Number.isSafeInteger(v) && v >= 0)) {
            this.reject(from, 'malformed', 'state: summary is not origin → counter');
            return;
          }
          summary = s as ReadonlyMap<string, number>;
        }
        let allOk = true;
        for (const bytes of c.value.entries) allOk = this.mergeEncoded(now, from, bytes) && allOk;
        if (summary !== null && allOk) this.replica.absorbSummary(summary);
        this.drainChanges(now, false);
        this.refreshDigest(now);
        // Anti-entropy is push-pull: a peer that sent its state (not itself a reply) gets ours
        // back when we hold something it did not (our root now differs from its root).
        if (m.type === 'state' && m.reply === false && this.live.has(from)
          && (m.rootHi !== this.tree.rootHi() || m.rootLo !== this.tree.rootLo())) this.sendState(from, true);
        return;
      }
      case 'digest': {
        const c = toDigestMessage(m);
        if (!c.ok) {
          this.reject(from, 'malformed', c.detail);
          return;
        }
        this.peerRoots.set(from, { hi: c.value.rootHi, lo: c.value.rootLo });
        if (!this.live.has(from)) this.syncMembers(now);
        if (!this.live.has(from)) return;
        this.peerSummaries.set(from, { summary: c.value.summary, atMs: now });
        // Equal roots: our state reflects everything the peer's did when it took that summary
        // (writes superseded before they reached us included), so its summary is ours too.
        if (c.value.rootHi === this.tree.rootHi() && c.value.rootLo === this.tree.rootLo()) this.replica.absorbSummary(c.value.summary);
        this.tracker.handleDigest(now, from, c.value);
        this.drainConverged();
        return;
      }
      case 'state-rumor':
      case 'state-reconcile':
      case 'state-digests':
        this.reject(from, 'unknown-type', `${m.type}: this node does not run the StateNode yet`);
        return;
      case 'rc-open':
      case 'rc-hashes':
      case 'rc-keys':
      case 'rc-entries':
      case 'rc-done':
      case 'rc-abort': {
        const c = toReconcileMessage(m);
        if (!c.ok) {
          this.reject(from, 'malformed', c.detail);
          return;
        }
        const key = `${from}/${c.value.sid}`;
        let s = this.sessions.get(key);
        if (s === undefined) {
          // Late messages of a session that ended are dropped; a new one starts with rc-open from a live peer.
          if (c.value.msg.type !== 'rc-open' || !this.live.has(from) || this.sessions.size >= SESSIONS_MAX) return;
          s = { session: new ReconcileSession<Uint8Array>(this.reconcileHost, 'responder'), peer: from, sid: c.value.sid, deadlineMs: (now as number) + SESSION_TIMEOUT_MS };
          this.sessions.set(key, s);
        }
        s.session.handleMessage(c.value.msg);
        this.pumpSession(now, key);
        return;
      }
    }
  }

  private mergeEncoded(now: Millis, from: string, bytes: Uint8Array): boolean {
    const r = decodeDataValue(bytes, this.dataStats);
    if (!r.ok) {
      this.reject(from, r.reason, r.detail);
      return false;
    }
    if (!isValidEntry(r.value)) {
      this.reject(from, 'malformed', 'not a replica entry');
      return false;
    }
    const before = this.replica.stats();
    if (this.replica.merge(this.wall(now), r.value)) this.counters.entriesMerged++;
    const after = this.replica.stats();
    if (after.malformed > before.malformed || after.typeMismatch > before.typeMismatch) {
      this.reject(from, 'malformed', `entry for ${r.value.key} refused by the replica (${after.typeMismatch > before.typeMismatch ? 'type mismatch' : 'malformed'})`);
      return false;
    }
    return true;
  }

  /** Publishes a rumor for a local change, or pushes a large entry over streams. */
  private spread(now: Millis, key: string, entry: Entry): void {
    const bytes = encodeDataValue(entry);
    if (bytes.length + key.length + 64 + GOSSIP_HEADER_BYTES <= RUMOR_ENTRY_BYTES_MAX) {
      this.diss.publish(now, key, bytes);
      this.drainDisseminator(now);
      return;
    }
    this.counters.largeEntriesPushed++;
    const msg = this.encode({ type: 'entries', entries: [bytes] });
    const peers = [...this.live];
    for (let i = 0; i < LARGE_ENTRY_FANOUT && peers.length > 0; i++) {
      const p = peers.splice(this.rng.int(peers.length), 1)[0] as string;
      this.outbox.push({ to: p, dataType: msg.dataType, payload: msg.payload, reliable: true });
    }
  }

  private drainDisseminator(now: Millis): void {
    for (let t = this.diss.pollTransmit(); t !== undefined; t = this.diss.pollTransmit()) {
      const msg = this.encode(t.message as unknown as { type: 'gossip' | 'gossip-reply' });
      this.outbox.push({ to: t.to, dataType: msg.dataType, payload: msg.payload, reliable: msg.payload.length > PACKET_PAYLOAD_BYTES_MAX });
    }
    let merged = false;
    for (let e = this.diss.pollEvent(); e !== undefined; e = this.diss.pollEvent()) {
      if (e.type === 'protocol-error') {
        this.reject(e.from, 'malformed', e.detail);
        continue;
      }
      if (e.from === null) continue; // our own
      merged = this.mergeEncoded(now, e.from, e.update.payload) || merged;
    }
    if (merged) {
      this.drainChanges(now, false);
      this.refreshDigest(now);
    }
  }

  /**
   * Collects tombstones every live data member has seen: the pointwise minimum of our summary
   * and each live peer's latest (fresh) one. Skipped while any live peer's summary is missing or stale.
   */
  private collectTombstones(now: Millis): void {
    if (this.replica.stats().tombstones === 0) return;
    const fresh = 4 * this.digestIntervalMs;
    const sums: ReadonlyMap<string, number>[] = [this.replica.versionSummary()];
    for (const p of this.live) {
      const s = this.peerSummaries.get(p);
      if (s === undefined || (now as number) - s.atMs > fresh) return;
      sums.push(s.summary);
    }
    const collected = this.replica.collectTombstones(minSummary(sums), this.wall(now), this.tombstoneGraceMs);
    if (collected.length > 0) {
      this.drainChanges(now, false);
      this.refreshDigest(now);
    }
  }

  /** Sends what a session queued, merges what it received, and forgets it once done. */
  private pumpSession(now: Millis, key: string): void {
    const s = this.sessions.get(key);
    if (s === undefined) return;
    for (let m = s.session.pollMessage(); m !== undefined; m = s.session.pollMessage()) {
      if (m.type === 'rc-entries') this.counters.sessionEntriesSent += m.entries.length;
      const msg = this.encode({ ...m, sid: s.sid });
      this.outbox.push({ to: s.peer, dataType: msg.dataType, payload: msg.payload, reliable: msg.payload.length > PACKET_PAYLOAD_BYTES_MAX });
    }
    let merged = false;
    for (let e = s.session.pollEntry(); e !== undefined; e = s.session.pollEntry()) {
      this.counters.sessionEntriesReceived++;
      merged = this.mergeEncoded(now, s.peer, e) || merged;
    }
    if (merged) {
      this.drainChanges(now, false);
      this.refreshDigest(now);
    }
    if (s.session.done) {
      this.sessions.delete(key);
      if (s.session.complete) this.counters.sessionsComplete++;
      else this.counters.sessionsFailed++;
    }
  }

  /**
   * Anti-entropy with one peer whose last digest root differs from ours: a Merkle
   * reconciliation (only differing subtrees walked, only differing entries sent, both ways).
   */
  private antiEntropy(now: Millis): void {
    const hi = this.tree.rootHi();
    const lo = this.tree.rootLo();
    const behind: string[] = [];
    for (const p of this.live) {
      const r = this.peerRoots.get(p);
      if (r !== undefined && (r.hi !== hi || r.lo !== lo)) behind.push(p);
    }
    if (behind.length === 0) return;
    const peer = behind[this.rng.int(behind.length)] as string;
    for (const s of this.sessions.values()) if (s.peer === peer) return; // one at a time per peer
    const sid = this.rng.int(0x100000000);
    const key = `${peer}/${sid}`;
    const session = new ReconcileSession<Uint8Array>(this.reconcileHost, 'initiator');
    this.sessions.set(key, { session, peer, sid, deadlineMs: (now as number) + SESSION_TIMEOUT_MS });
    session.start();
    this.pumpSession(now, key);
  }

  private sendState(to: string, reply: boolean): void {
    const msg = this.encode(this.stateMessage(reply));
    this.counters.statesSent++;
    this.outbox.push({ to, dataType: msg.dataType, payload: msg.payload, reliable: true });
  }

  /** Every entry, our version summary taken with them, our root; `reply` says not to answer it. */
  private stateMessage(reply: boolean): { type: 'state'; entries: Uint8Array[]; summary: Map<string, number>; rootHi: number; rootLo: number; reply: boolean } {
    const summary = this.replica.versionSummary();
    const entries: Uint8Array[] = [];
    for (const k of this.replica.keys()) {
      const e = this.replica.entry(k);
      if (e !== undefined) entries.push(encodeDataValue(e));
    }
    return { type: 'state', entries, summary, rootHi: this.tree.rootHi(), rootLo: this.tree.rootLo(), reply };
  }

  /** Replica changes → Merkle tree, store, events. Local changes must be durable: a store failure throws. */
  private drainChanges(now: Millis, local: boolean, persist = true): void {
    const keys: string[] = [];
    for (let c = this.replica.pollChange(); c !== undefined; c = this.replica.pollChange()) {
      keys.push(c.key);
      const h = this.replica.entryHash(c.key);
      if (h === undefined) this.tree.delete(c.key);
      else this.tree.set(c.key, h[0] as number, h[1] as number);
      const e = this.replica.entry(c.key);
      if (e !== undefined) this.lastDot = Math.max(this.lastDot, ownDot(e, this.name));
      this.events.push({ type: 'kv-change', key: c.key, cause: c.cause, deleted: c.deleted });
    }
    void now;
    if (keys.length === 0 || !persist) return;
    const err = this.persist(keys);
    if (err !== null && local) throw err;
  }

  /** Writes the current entries of `keys` (null for keys without state); null or the store's error. */
  private persist(keys: readonly string[]): Error | null {
    if (this.store === null) return null;
    const changes = [...new Set(keys)].map((key) => {
      const e = this.replica.entry(key);
      return { key, entry: e === undefined ? null : encodeDataValue(e) };
    });
    try {
      this.store.writeEntries(changes);
      for (const k of keys) this.unsaved.delete(k);
      return null;
    } catch (e) {
      this.counters.storeErrors++;
      for (const k of keys) this.unsaved.add(k);
      return e instanceof Error ? e : new Error(String(e));
    }
  }

  /** Makes sure the next `n` dots are reserved in the store before the replica issues them. */
  private reserve(n: number): void {
    if (this.store === null) return;
    this.lastDot = Math.max(this.lastDot, this.ownCounter());
    if (this.lastDot + n + 16 <= this.reserved) return;
    const next = this.lastDot + n + DOT_RESERVE;
    this.store.saveMeta(DOT_COUNTER_META, encoder.encode(String(next)));
    this.reserved = next;
  }

  private ownCounter(): number {
    return this.replica.versionSummary().get(this.name) ?? 0;
  }

  private refreshDigest(now: Millis): void {
    this.tracker.handleLocalDigest(now, { rootHi: this.tree.rootHi(), rootLo: this.tree.rootLo(), summary: this.replica.versionSummary() });
    this.drainConverged();
  }

  private drainConverged(): void {
    for (let u = this.tracker.pollConverged(); u !== undefined; u = this.tracker.pollConverged()) {
      this.recent.push(u);
      if (this.recent.length > RECENT_CONVERGED_MAX) this.recent.shift();
      this.events.push({ type: 'kv-converged', update: u });
    }
  }

  /** The tracker's live set follows Serf's live data peers. */
  private syncMembers(now: Millis): void {
    const current = new Set(this.peers());
    for (const p of this.live) {
      if (current.has(p)) continue;
      this.live.delete(p);
      this.peerRoots.delete(p);
      this.peerSummaries.delete(p);
      this.tracker.handleMemberGone(now, p);
    }
    for (const p of current) {
      if (this.live.has(p)) continue;
      this.live.add(p);
      this.tracker.handleMemberAlive(now, p);
    }
    this.drainConverged();
  }

  /**
   * Encodes a message with our name in `src`: a message that came over a stream arrives from
   * the peer's ephemeral port, which names no member, so replies go to the name it carries.
   */
  private encode(m: { readonly type: DataMessageKind; readonly [field: string]: unknown }): { dataType: number; payload: Uint8Array } {
    return encodeDataMessage({ ...m, src: this.name });
  }

  private reject(from: string, reason: string, detail: string): void {
    this.counters.rejected++;
    this.events.push({ type: 'data-rejected', from, reason, detail });
  }

  private wall(now: Millis): number {
    return (now as number) + this.wallOffsetMs;
  }
}

/** The highest dot of `origin` in an entry's causal context (0 if none). */
function ownDot(e: Entry, origin: string): number {
  for (const d of e.context) if (d.origin === origin) return d.counter;
  return 0;
}
