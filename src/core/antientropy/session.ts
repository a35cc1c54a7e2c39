import type { MerkleTree } from './merkle.js';
import type { RcEntriesMsg, RcHashesMsg, RcKeysMsg, RcOpenMsg, ReconcileBytes, ReconcileMessage } from './messages.js';
import { PollQueue } from '../poll-queue.js';

/**
 * A sans-IO Merkle reconciliation between two nodes (theory.md §7.1). Each side drives one
 * `ReconcileSession` over its own tree: `start()` on the initiator, then hand every message the
 * peer sent to `handleMessage(msg)` and send whatever `pollMessage()` yields; entries the peer
 * sent come out of `pollEntry()` for the caller to merge.
 *
 * The walk alternates: every message carries the sender's hashes one level deeper, for the
 * children of the nodes it just found differing, so each one-way trip descends one level:
 *
 *   1. A → B `rc-open`: shape, root and A's B level-1 hashes.
 *   2. B compares: equal roots → `rc-done`. Otherwise B flags the differing level-1 nodes and
 *      sends its level-2 hashes under them (`rc-hashes`); A compares and sends level 3; and so on.
 *   3. Whoever receives the leaf hashes flags the differing leaves and lists its keys there with
 *      their entry hashes (`rc-keys`).
 *   4. The other side now knows the exact differing keys: it sends its entries for them and a
 *      bitmap of the listed keys it wants (`rc-entries`); the lister answers with those entries.
 *
 * Hashes sent = B per differing node on levels 0…depth−1 (+ the root) ≈ B·d·log_B(N/d) + O(B·d)
 * for d differing leaves among N; one-way trips = depth + 2 (+1 when both sides hold newer
 * entries), i.e. ⌈(depth + 3)/2⌉ round trips. Only differing entries travel, in both directions.
 *
 * A message that does not fit the session (another tree shape, wrong lengths, a message out of
 * turn) never throws: the session fails with a reason (`error`), sends `rc-abort` and counts it.
 */
export interface ReconcileHost<E> {
  readonly tree: MerkleTree;
  /** The transmissible entry for `key` (all its state); undefined if it vanished meanwhile. */
  entryFor(key: string): E | undefined;
  /** Bytes a message takes on the wire, by part: the length of its real encoding (src/wire/state-reconcile.ts). */
  messageBytes(msg: ReconcileMessage<E>): ReconcileBytes;
  /**
   * A bounded walk (a byte budget's sessions): the differing nodes one message descends into
   * (sends their children's hashes, or lists their keys) at most; the rest are left to a later
   * session. The message shows it (fewer hashes or key counts than nodes flagged), so the peer
   * follows whatever bound the sender has. Default: no bound.
   */
  readonly walkNodesMax?: number;
  /** Entry bytes one `rc-entries` carries at most (at least one entry); the rest count as missing. Default: no bound. */
  readonly entriesBytesMax?: number;
}

export type ReconcileRole = 'initiator' | 'responder';

type Phase = 'idle' | 'walk' | 'listed' | 'wanting' | 'done' | 'failed';

export interface ReconcileStats {
  /** Messages this side sent / received. */
  readonly messagesSent: number;
  readonly messagesReceived: number;
  /** Request/response pairs of the whole exchange: ⌈messages / 2⌉. */
  readonly roundTrips: number;
  readonly bytesSent: number;
  readonly bytesReceived: number;
  /** Both directions, split by what the bytes carried. */
  readonly hashBytes: number;
  readonly keyListBytes: number;
  readonly entryBytes: number;
  readonly headerBytes: number;
  /** Tree hashes (8 bytes each) in both directions. */
  readonly hashes: number;
  readonly entriesSent: number;
  readonly entriesReceived: number;
  /** Malformed or out-of-turn messages from the peer. */
  readonly errors: number;
}

export class ReconcileSession<E> {
  private phase: Phase = 'idle';
  private readonly outbox = new PollQueue<ReconcileMessage<E>>();
  private readonly inbox = new PollQueue<E>();
  /** Nodes whose hashes this side sent last, and their level. */
  private sentNodes: Int32Array = new Int32Array(0);
  private sentLevel = 0;
  /** Keys this side listed in `rc-keys` (the peer's `want` bitmap indexes them). */
  private listed: string[] = [];
  private readonly sentKeys: string[] = [];
  private readonly wantedKeys: string[] = [];
  private failure: string | null = null;
  /** Differing keys whose entry `entryFor` could no longer give (or a bound left for a later session). */
  private missingEntries = 0;
  /** The walk left differing nodes for a later session (this side's bound or the peer's). */
  private partial = false;

  private messagesSent = 0;
  private messagesReceived = 0;
  private bytesSent = 0;
  private bytesReceived = 0;
  private hashBytes = 0;
  private keyListBytes = 0;
  private entryByteCount = 0;
  private headerBytes = 0;
  private entriesSent = 0;
  private entriesReceived = 0;
  private errors = 0;

  constructor(
    private readonly host: ReconcileHost<E>,
    readonly role: ReconcileRole,
  ) {}

  /** Initiator only: queues `rc-open`. */
  start(): void {
    if (this.role !== 'initiator' || this.phase !== 'idle') return;
    const tree = this.host.tree;
    const all = new Int32Array(tree.fanout);
    for (let i = 0; i < all.length; i++) all[i] = i;
    const msg: RcOpenMsg = {
      type: 'rc-open', fanout: tree.fanout, depth: tree.depth, rootHi: tree.rootHi(), rootLo: tree.rootLo(),
      hashes: this.hashesOf(1, all),
    };
    this.sentNodes = all;
    this.sentLevel = 1;
    this.phase = 'walk';
    this.send(msg);
  }

  /** Handles one message from the peer. Never throws on bad input: the session fails instead. */
  handleMessage(msg: ReconcileMessage<E>): void {
    this.messagesReceived++;
    let parts: ReconcileBytes;
    try {
      parts = this.host.messageBytes(msg);
    } catch (e) {
      // Only a message no peer could have sent (decoded messages always encode) gets here.
      this.fail(`${String(msg.type)} cannot be encoded: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    this.bytesReceived += parts.total;
    this.account(parts);
    if (this.phase === 'done' || this.phase === 'failed') {
      if (msg.type !== 'rc-abort') this.fail(`${msg.type} after the session ended`, false);
      return;
    }
    switch (msg.type) {
      case 'rc-open':
        this.onOpen(msg);
        return;
      case 'rc-hashes':
        this.onHashes(msg);
        return;
      case 'rc-keys':
        this.onKeys(msg);
        return;
      case 'rc-entries':
        this.onEntries(msg);
        return;
      case 'rc-done':
        if (this.phase !== 'walk') return this.fail(`rc-done in phase ${this.phase}`);
        this.phase = 'done';
        return;
      case 'rc-abort':
        this.errors++;
        this.failure = `peer aborted: ${msg.reason}`;
        this.phase = 'failed';
        return;
    }
  }

  /** The next message to send to the peer. */
  pollMessage(): ReconcileMessage<E> | undefined {
    return this.outbox.poll();
  }

  /** The next entry the peer sent, for the caller to merge. */
  pollEntry(): E | undefined {
    return this.inbox.poll();
  }

  /** True once this side has nothing more to send or receive (also after a failure). */
  get done(): boolean {
    return this.phase === 'done' || this.phase === 'failed';
  }

  /**
   * True when the exchange ended without failure and every differing entry travelled both ways
   * (or the roots were equal): each side counts the entries it could not produce and tells the
   * peer (`missing`); a bounded walk (`walkNodesMax`) is never complete. Once the received entries are merged, this side holds everything the peer
   * held when the session started (e.g. to absorb the peer's version summary).
   */
  get complete(): boolean {
    return this.phase === 'done' && this.failure === null && this.missingEntries === 0 && !this.partial;
  }

  /** Why the session failed, or null. */
  get error(): string | null {
    return this.failure;
  }

  /**
   * The differing keys this side learned: on the side that received `rc-keys` (it decides the
   * difference) every key whose entries differ or exist on one side only; on the other side, the
   * keys the peer asked it for.
   */
  differingKeys(): string[] {
    return [...new Set([...this.sentKeys, ...this.wantedKeys])].sort();
  }

  stats(): ReconcileStats {
    return {
      messagesSent: this.messagesSent,
      messagesReceived: this.messagesReceived,
      roundTrips: Math.ceil((this.messagesSent + this.messagesReceived) / 2),
      bytesSent: this.bytesSent,
      bytesReceived: this.bytesReceived,
      hashBytes: this.hashBytes,
      keyListBytes: this.keyListBytes,
      entryBytes: this.entryByteCount,
      headerBytes: this.headerBytes,
      hashes: this.hashBytes / 8,
      entriesSent: this.entriesSent,
      entriesReceived: this.entriesReceived,
      errors: this.errors,
    };
  }

  private onOpen(msg: RcOpenMsg): void {
    const tree = this.host.tree;
    if (this.role !== 'responder' || this.phase !== 'idle') return this.fail(`rc-open in phase ${this.phase} as ${this.role}`);
    if (msg.fanout !== tree.fanout || msg.depth !== tree.depth) {
      return this.fail(`tree shape differs: peer fanout ${msg.fanout} depth ${msg.depth}, mine fanout ${tree.fanout} depth ${tree.depth}`);
    }
    if (msg.hashes.length !== 2 * tree.fanout) return this.fail(`rc-open carries ${msg.hashes.length / 2} level-1 hashes, expected ${tree.fanout}`);
    if (msg.rootHi === tree.rootHi() && msg.rootLo === tree.rootLo()) {
      this.phase = 'done';
      this.send({ type: 'rc-done', reason: 'equal' });
      return;
    }
    this.phase = 'walk';
    const all = new Int32Array(tree.fanout);
    for (let i = 0; i < all.length; i++) all[i] = i;
    this.compareAndDescend(1, all, msg.hashes);
  }

  private onHashes(msg: RcHashesMsg): void {
    if (this.phase !== 'walk') return this.fail(`rc-hashes in phase ${this.phase}`);
    if (msg.level !== this.sentLevel + 1 || msg.level > this.host.tree.depth) {
      return this.fail(`rc-hashes for level ${msg.level}, expected ${this.sentLevel + 1}`);
    }
    const all = this.flaggedSent(msg.differ);
    if (all === null) return;
    const b = this.host.tree.fanout;
    const flagged = msg.hashes.length > 0 && msg.hashes.length < 2 * b * all.length && msg.hashes.length % (2 * b) === 0 ? this.bounded(all, msg.hashes.length / (2 * b)) : all;
    const received = this.childrenOf(flagged);
    if (msg.hashes.length !== 2 * received.length) {
      return this.fail(`rc-hashes carries ${msg.hashes.length / 2} hashes for ${received.length} nodes`);
    }
    this.compareAndDescend(msg.level, received, msg.hashes);
  }

  /** Compares the peer's hashes of `nodes` on `level` with ours and sends the next message. */
  private compareAndDescend(level: number, nodes: Int32Array, peer: Uint32Array): void {
    const tree = this.host.tree;
    const differ = new Uint8Array((nodes.length + 7) >> 3);
    let count = 0;
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i] as number;
      if (tree.nodeHi(level, n) !== peer[2 * i] || tree.nodeLo(level, n) !== peer[2 * i + 1]) {
        differ[i >> 3] = (differ[i >> 3] as number) | (1 << (i & 7));
        count++;
      }
    }
    if (count === 0) {
      this.phase = 'done';
      this.send({ type: 'rc-done', reason: 'no-difference' });
      return;
    }
    const flagged = new Int32Array(count);
    for (let i = 0, j = 0; i < nodes.length; i++) if (bit(differ, i)) flagged[j++] = nodes[i] as number;
    const descend = this.bounded(flagged, this.host.walkNodesMax ?? Infinity);
    if (level === tree.depth) {
      this.sendKeys(differ, descend);
      return;
    }
    const next = this.childrenOf(descend);
    this.sentNodes = next;
    this.sentLevel = level + 1;
    const msg: RcHashesMsg = { type: 'rc-hashes', level: level + 1, differ, hashes: this.hashesOf(level + 1, next) };
    this.send(msg);
  }

  private sendKeys(differ: Uint8Array, leaves: Int32Array): void {
    const tree = this.host.tree;
    const counts = new Uint32Array(leaves.length);
    let total = 0;
    for (let i = 0; i < leaves.length; i++) total += counts[i] = tree.leafKeyCount(leaves[i] as number);
    const keys: string[] = [];
    const hashes = new Uint32Array(2 * total);
    for (const leaf of leaves) {
      tree.forEachLeafKey(leaf, (key, hi, lo) => {
        hashes[2 * keys.length] = hi;
        hashes[2 * keys.length + 1] = lo;
        keys.push(key);
      });
    }
    this.listed = keys;
    this.phase = 'listed';
    const msg: RcKeysMsg = { type: 'rc-keys', differ, counts, keys, hashes };
    this.send(msg);
  }

  private onKeys(msg: RcKeysMsg): void {
    const tree = this.host.tree;
    if (this.phase !== 'walk' || this.sentLevel !== tree.depth) return this.fail(`rc-keys in phase ${this.phase} at level ${this.sentLevel}`);
    const flagged = this.flaggedSent(msg.differ);
    if (flagged === null) return;
    const leaves = msg.counts.length > 0 && msg.counts.length < flagged.length ? this.bounded(flagged, msg.counts.length) : flagged;
    if (msg.counts.length !== leaves.length) return this.fail(`rc-keys has ${msg.counts.length} key counts for ${leaves.length} differing leaves`);
    let total = 0;
    for (const c of msg.counts) total += c;
    if (total !== msg.keys.length || msg.hashes.length !== 2 * total) {
      return this.fail(`rc-keys lists ${msg.keys.length} keys and ${msg.hashes.length / 2} hashes, counts say ${total}`);
    }
    const want = new Uint8Array((total + 7) >> 3);
    let wanted = 0;
    const entries: E[] = [];
    const missingBefore = this.missingEntries;
    const fits = this.entryBound();
    const mine = new Uint32Array(2);
    let at = 0;
    for (let li = 0; li < leaves.length; li++) {
      const leaf = leaves[li] as number;
      const count = msg.counts[li] as number;
      const peerIndex = new Map<string, number>();
      for (let k = at; k < at + count; k++) {
        const key = msg.keys[k] as string;
        if (tree.leafOf(key) !== leaf || peerIndex.has(key)) return this.fail(`rc-keys lists '${key}' under leaf ${leaf}, where it does not belong`);
        peerIndex.set(key, k);
        if (!tree.entryHashOf(key, mine) || mine[0] !== msg.hashes[2 * k] || mine[1] !== msg.hashes[2 * k + 1]) {
          want[k >> 3] = (want[k >> 3] as number) | (1 << (k & 7));
          wanted++;
          this.wantedKeys.push(key);
        }
      }
      tree.forEachLeafKey(leaf, (key, hi, lo) => {
        const k = peerIndex.get(key);
        if (k !== undefined && msg.hashes[2 * k] === hi && msg.hashes[2 * k + 1] === lo) return;
        this.sentKeys.push(key);
        const e = this.host.entryFor(key);
        if (e !== undefined && fits(e)) entries.push(e);
        else this.missingEntries++;
      });
      at += count;
    }
    this.entriesSent += entries.length;
    this.phase = wanted === 0 ? 'done' : 'wanting';
    const out: RcEntriesMsg<E> = { type: 'rc-entries', entries, want: wanted === 0 ? null : want, missing: this.missingEntries - missingBefore };
    this.send(out);
  }

  private onEntries(msg: RcEntriesMsg<E>): void {
    if (!Number.isSafeInteger(msg.missing) || msg.missing < 0) return this.fail(`rc-entries with missing = ${msg.missing}`);
    if (this.phase === 'wanting') {
      if (msg.want !== null) return this.fail('rc-entries answering a want must not want more');
      this.receiveEntries(msg.entries);
      this.missingEntries += Math.max(msg.missing, this.wantedKeys.length - msg.entries.length);
      this.phase = 'done';
      return;
    }
    if (this.phase !== 'listed') return this.fail(`rc-entries in phase ${this.phase}`);
    this.receiveEntries(msg.entries);
    this.missingEntries += msg.missing;
    if (msg.want === null) {
      this.phase = 'done';
      return;
    }
    if (msg.want.length !== (this.listed.length + 7) >> 3 || !tailClear(msg.want, this.listed.length)) {
      return this.fail(`rc-entries want bitmap of ${msg.want.length} bytes for ${this.listed.length} listed keys`);
    }
    const entries: E[] = [];
    const missingBefore = this.missingEntries;
    const fits = this.entryBound();
    for (let k = 0; k < this.listed.length; k++) {
      if (!bit(msg.want, k)) continue;
      const key = this.listed[k] as string;
      this.sentKeys.push(key);
      const e = this.host.entryFor(key);
      if (e !== undefined && fits(e)) entries.push(e);
      else this.missingEntries++;
    }
    this.entriesSent += entries.length;
    this.phase = 'done';
    this.send({ type: 'rc-entries', entries, want: null, missing: this.missingEntries - missingBefore });
  }

  private receiveEntries(entries: readonly E[]): void {
    for (const e of entries) this.inbox.push(e);
    this.entriesReceived += entries.length;
  }

  /** The sent nodes `differ` flags; null (and the session failed) when the bitmap does not fit. */
  private flaggedSent(differ: Uint8Array): Int32Array | null {
    const n = this.sentNodes.length;
    if (differ.length !== (n + 7) >> 3 || !tailClear(differ, n)) {
      this.fail(`differ bitmap of ${differ.length} bytes for ${n} nodes`);
      return null;
    }
    let count = 0;
    for (let i = 0; i < n; i++) if (bit(differ, i)) count++;
    const out = new Int32Array(count);
    for (let i = 0, j = 0; i < n; i++) if (bit(differ, i)) out[j++] = this.sentNodes[i] as number;
    return out;
  }

  /** The first `max` of `nodes`; the walk is partial when that leaves some out. */
  private bounded(nodes: Int32Array, max: number): Int32Array {
    if (nodes.length <= max) return nodes;
    this.partial = true;
    return nodes.subarray(0, Math.max(1, max));
  }

  /** Whether the next entry still fits one `rc-entries` (`entriesBytesMax`; the first always does). */
  private entryBound(): (e: E) => boolean {
    const max = this.host.entriesBytesMax ?? Infinity;
    let used = 0;
    let count = 0;
    return (e: E): boolean => {
      const b = this.host.messageBytes({ type: 'rc-entries', entries: [e], want: null, missing: 0 }).entryBytes;
      if (count > 0 && used + b > max) {
        this.partial = true;
        return false;
      }
      used += b;
      count++;
      return true;
    };
  }

  private childrenOf(parents: Int32Array): Int32Array {
    const b = this.host.tree.fanout;
    const out = new Int32Array(parents.length * b);
    for (let i = 0; i < parents.length; i++) {
      const first = (parents[i] as number) * b;
      for (let c = 0; c < b; c++) out[i * b + c] = first + c;
    }
    return out;
  }

  private hashesOf(level: number, nodes: Int32Array): Uint32Array {
    const tree = this.host.tree;
    const out = new Uint32Array(2 * nodes.length);
    for (let i = 0; i < nodes.length; i++) {
      out[2 * i] = tree.nodeHi(level, nodes[i] as number);
      out[2 * i + 1] = tree.nodeLo(level, nodes[i] as number);
    }
    return out;
  }

  private send(msg: ReconcileMessage<E>): void {
    const parts = this.host.messageBytes(msg);
    this.messagesSent++;
    this.bytesSent += parts.total;
    this.account(parts);
    this.outbox.push(msg);
  }

  private account(p: { hashBytes: number; keyListBytes: number; entryBytes: number; headerBytes: number }): void {
    this.hashBytes += p.hashBytes;
    this.keyListBytes += p.keyListBytes;
    this.entryByteCount += p.entryBytes;
    this.headerBytes += p.headerBytes;
  }

  private fail(reason: string, tell = true): void {
    this.errors++;
    if (this.phase === 'failed' || this.phase === 'done') {
      this.failure ??= reason;
      return;
    }
    this.failure = reason;
    this.phase = 'failed';
    if (tell) this.send({ type: 'rc-abort', reason });
  }
}

function bit(bits: Uint8Array, i: number): boolean {
  return (((bits[i >> 3] as number) >> (i & 7)) & 1) === 1;
}

/** No bit set at or beyond `n`. */
function tailClear(bits: Uint8Array, n: number): boolean {
  for (let i = n; i < bits.length * 8; i++) if (bit(bits, i)) return false;
  return true;
}
