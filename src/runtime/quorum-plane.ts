import type { Millis } from '../core/ids.js';
import type { Read } from '../core/replica/index.js';
import type { SerfNode } from '../core/serf/index.js';
import { QuorumRound } from '../core/state/quorum-round.js';
import type { QuorumSize } from '../core/state/quorum-size.js';
import { quorumNeed } from '../core/state/quorum-size.js';
import type { QuorumMessage } from '../wire/quorum.js';
import { decodeQuorum, encodeQuorum, QUORUM_TYPE } from '../wire/quorum.js';
import type { DurableStateNode } from './durable-state-node.js';
import { QuorumError } from './quorum-error.js';

/** Quorum writes and reads wait this long by default (ms). */
export const QUORUM_TIMEOUT_MS = 5000;
/** Replicas that have not answered are asked again this often (ms). */
export const QUORUM_RESEND_MS = 500;
/** A body up to this size goes in a datagram, a larger one over a stream (as the state's messages). */
const PACKET_PAYLOAD_BYTES_MAX = 1200;

export interface QuorumOptions {
  /** Give up after this long (ms, default 5,000): a write then fails with a `QuorumError` (not rolled back), a read too. */
  readonly timeoutMs?: number;
}

/** What a quorum write resolved with: the replicas that hold it durably (the coordinator first when it is one). */
export interface QuorumWriteAcks {
  readonly acked: readonly string[];
  readonly need: number;
  readonly replicas: number;
}

/** What a quorum read resolved with: the merged read and the replicas whose state it merged. */
export interface QuorumReadResult {
  /** The merge of the replies (by the key's resolver: the newest, or siblings), as `get` reads it after. */
  readonly read: Read | undefined;
  readonly replied: readonly string[];
  readonly need: number;
  readonly replicas: number;
}

/** The quorum plane's counters (`node.stats.data.quorum`). */
export interface QuorumStats {
  writes: number;
  writesFailed: number;
  reads: number;
  readsFailed: number;
  /** Requests of other coordinators this node answered as a replica (acks, refusals, read replies). */
  served: number;
  /** Writes this node could not make durable (its store refused), answered with a refusal. */
  refusedSent: number;
  /** Reads left unanswered because the key's state here was not in the store yet (its write refused, waiting for a retry). */
  notDurable: number;
  /** Messages that did not decode, named another sender than the packet's, or carried an entry that is not a valid state. */
  malformed: number;
  /** Answers from a node that is not a replica of the round. */
  strangers: number;
  /** Answers to a round that is over (or never was). */
  late: number;
  /** Messages to a member that is not (or no longer) an alive data peer: not sent. */
  unsent: number;
}

export function emptyQuorumStats(): QuorumStats {
  return { writes: 0, writesFailed: 0, reads: 0, readsFailed: 0, served: 0, refusedSent: 0, notDurable: 0, malformed: 0, strangers: 0, late: 0, unsent: 0 };
}

interface Pending {
  readonly round: QuorumRound;
  readonly kind: 'write' | 'read';
  readonly key: string;
  readonly body: Uint8Array;
  readonly timeoutMs: number;
  readonly resolve: (r: { answered: readonly string[] }) => void;
  readonly reject: (e: Error) => void;
}

/**
 * Quorum writes and reads (issue 16) beside a running node: the coordinator side (rounds in flight,
 * asked again until they are done or time out) and the replica side (merge a write, make it durable,
 * then acknowledge it; answer a read with the key's entry). Messages travel as data messages of type
 * 0xbd (src/wire/quorum.ts), straight to the replica, over a stream when large.
 *
 * Replicas: `replicas()` (the node's quorum basis: see `ViewPlane.replicas`). Only answers from them
 * count; the coordinator counts itself when it is one. A replica acknowledges a write only when its
 * state reflects the write's dot and the key's state is in its store (`durablyHolds`): after the
 * store's transaction committed, never from memory alone. Reads merge every reply into the
 * coordinator's replica (a read repair, made durable as any merge) and read the key from it once
 * `r` replicas (the coordinator included) replied.
 */
export class QuorumPlane {
  readonly stats: QuorumStats = emptyQuorumStats();
  private readonly pending = new Map<number, Pending>();
  private nextId: number;

  constructor(
    private readonly engine: SerfNode,
    private readonly data: DurableStateNode,
    /** The replicas that count (names, self included when it is one). */
    private readonly replicas: () => ReadonlySet<string>,
    firstId: number,
    private readonly resendMs = QUORUM_RESEND_MS,
  ) {
    this.nextId = firstId;
  }

  /** The replicas and how many `size` needs of them; a RangeError when it cannot be (before anything is written). */
  plan(size: QuorumSize, what: 'w' | 'r'): { readonly replicas: ReadonlySet<string>; readonly need: number } {
    const replicas = this.replicas();
    return { replicas, need: quorumNeed(size, replicas.size, what) };
  }

  /** After a local write of `key` took dot (self, `counter`) and is durable here: asks the other replicas to hold it durably. */
  write(now: Millis, plan: ReturnType<QuorumPlane['plan']>, key: string, counter: number, o: QuorumOptions = {}): Promise<QuorumWriteAcks> {
    const entry = this.data.entry(key);
    if (entry === undefined) throw new Error(`quorum write: ${key} has no entry after the write`);
    this.stats.writes++;
    const body = (id: number): Uint8Array => encodeQuorum({ kind: 'write', src: this.engine.name, id, origin: this.engine.name, counter, entry });
    return this.start(now, 'write', key, plan, body, o).then((r) => ({ acked: r.answered, need: plan.need, replicas: plan.replicas.size }));
  }

  /** Asks the replicas for their state of `key`, merges the replies here, and reads it once `need` replied. */
  read(now: Millis, plan: ReturnType<QuorumPlane['plan']>, key: string, o: QuorumOptions = {}): Promise<QuorumReadResult> {
    this.stats.reads++;
    const body = (id: number): Uint8Array => encodeQuorum({ kind: 'read', src: this.engine.name, id, key });
    return this.start(now, 'read', key, plan, body, o).then((r) => ({ read: this.data.get(key), replied: r.answered, need: plan.need, replicas: plan.replicas.size }));
  }

  private start(now: Millis, kind: 'write' | 'read', key: string, plan: ReturnType<QuorumPlane['plan']>, body: (id: number) => Uint8Array, o: QuorumOptions): Promise<{ answered: readonly string[] }> {
    const timeoutMs = o.timeoutMs ?? QUORUM_TIMEOUT_MS;
    const id = this.nextId;
    this.nextId = (this.nextId + 1) % Number.MAX_SAFE_INTEGER;
    const round = new QuorumRound({ id, replicas: plan.replicas, need: plan.need, self: this.engine.name, now, timeoutMs, resendMs: this.resendMs });
    if (round.done) return Promise.resolve({ answered: [...round.answered] });
    return new Promise((resolve, reject) => {
      const p: Pending = { round, kind, key, body: body(id), timeoutMs, resolve, reject };
      this.pending.set(id, p);
      this.ask(now, p);
    });
  }

  /** A data message of type 0xbd; `node`: the member the packet came from (null over a stream). Never throws for bad input. */
  handleMessage(now: Millis, node: string | null, payload: Uint8Array): void {
    const r = decodeQuorum(payload);
    if (!r.ok || (node !== null && node !== r.value.src)) {
      this.stats.malformed++;
      return;
    }
    const m = r.value;
    if (node === null && !this.engine.dataPeers().some((p) => p.name === m.src)) {
      this.stats.strangers++;
      return;
    }
    switch (m.kind) {
      case 'write':
        return this.serveWrite(now, m);
      case 'read':
        // Nothing leaves that the store does not hold: while the key's state waits for a retry, the reader asks again later.
        if (!this.data.isDurable(m.key)) {
          this.stats.notDurable++;
          return;
        }
        return this.reply(now, m.src, { kind: 'value', src: this.engine.name, id: m.id, entry: this.data.entry(m.key) ?? null });
      case 'ack':
      case 'refused':
      case 'value':
        return this.handleAnswer(now, m);
    }
  }

  handleTimeout(now: Millis): void {
    for (const p of [...this.pending.values()]) {
      if (p.round.expired(now)) {
        this.pending.delete(p.round.id);
        if (p.kind === 'write') this.stats.writesFailed++;
        else this.stats.readsFailed++;
        p.reject(new QuorumError(p.kind, [...p.round.answered], p.round.need, p.round.replicas.size, p.timeoutMs, p.round.refused, p.round.unanswered()));
      } else this.ask(now, p);
    }
  }

  pollTimeout(): number | undefined {
    let t: number | undefined;
    for (const p of this.pending.values()) {
      const at = p.round.nextAt();
      if (t === undefined || at < t) t = at;
    }
    return t;
  }

  /** Rounds in flight. */
  get inFlight(): number {
    return this.pending.size;
  }

  // ------------------------------------------------------------------ internals

  private ask(now: Millis, p: Pending): void {
    const alive = new Set(this.engine.dataPeers().map((m) => m.name));
    for (const to of p.round.due(now, (n) => alive.has(n))) this.send(now, to, p.body);
  }

  /** A replica's part of a write: merge, store, then acknowledge only what the store holds. */
  private serveWrite(now: Millis, m: Extract<QuorumMessage, { kind: 'write' }>): void {
    const entry = m.entry;
    if (!this.data.absorb(now, entry)) {
      this.stats.malformed++;
      this.refuse(now, m, 'not a valid entry');
      return;
    }
    if (this.data.durablyHolds(entry.key, m.origin, m.counter)) {
      this.reply(now, m.src, { kind: 'ack', src: this.engine.name, id: m.id });
      return;
    }
    this.refuse(now, m, this.data.unsavedKeys > 0 ? 'the store refused the write' : `the entry does not hold write ${m.origin}:${m.counter}`);
  }

  private refuse(now: Millis, m: { readonly src: string; readonly id: number }, reason: string): void {
    this.stats.refusedSent++;
    this.reply(now, m.src, { kind: 'refused', src: this.engine.name, id: m.id, reason });
  }

  private handleAnswer(now: Millis, m: Extract<QuorumMessage, { kind: 'ack' | 'refused' | 'value' }>): void {
    const p = this.pending.get(m.id);
    if (p === undefined || (p.kind === 'write') !== (m.kind !== 'value')) {
      this.stats.late++;
      return;
    }
    if (!p.round.replicas.has(m.src)) {
      this.stats.strangers++;
      return;
    }
    if (m.kind === 'refused') {
      p.round.handleRefusal(m.src, m.reason);
      return;
    }
    if (m.kind === 'value' && m.entry !== null) {
      const entry = m.entry;
      // A read repair: the reply merged here (durable as any merge); `get` reads the merge once enough replied.
      if (entry.key !== p.key || !this.data.absorb(now, entry)) {
        this.stats.malformed++;
        return;
      }
    }
    p.round.handleAnswer(m.src);
    if (!p.round.done) return;
    this.pending.delete(m.id);
    p.resolve({ answered: [...p.round.answered] });
  }

  private reply(now: Millis, to: string, m: QuorumMessage): void {
    this.stats.served++;
    this.send(now, to, encodeQuorum(m));
  }

  private send(now: Millis, to: string, body: Uint8Array): void {
    if (!this.engine.sendData(now, to, QUORUM_TYPE, body, body.length > PACKET_PAYLOAD_BYTES_MAX)) this.stats.unsent++;
  }
}
