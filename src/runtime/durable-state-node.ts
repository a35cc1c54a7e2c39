import type { Address, Millis, NodeName } from '../core/ids.js';
import { address, millis, nodeName } from '../core/ids.js';
import type { Rng } from '../core/rng.js';
import type { DisseminationConfig } from '../core/dissemination/config.js';
import type { PeerSampler } from '../core/dissemination/disseminator.js';
import type { Agreement, ConvergedUpdate } from '../core/convergence/index.js';
import type { Entry, Read, ReplicaOptions, Resolver } from '../core/replica/index.js';
import { isValidEntry, Replica } from '../core/replica/index.js';
import type { StateMessage } from '../core/state/index.js';
import { STATE_AGENT_TUNING, STATE_DISSEMINATION, StateNode } from '../core/state/index.js';
import type { StateBudgetOptions } from '../core/state/budget.js';
import type { StateStore } from '../store/state-store.js';
import type { DataStats } from '../wire/data.js';
import { decodeDataValue, encodeDataValue } from '../wire/data.js';
import type { WireStateMessage } from '../wire/state.js';
import type { DecodeResult } from '../wire/result.js';
import { fail, ok } from '../wire/result.js';
import { decodeStateMessage, encodeStateMessage, stateSizes } from '../wire/state.js';
import type { DataEvent, DataLayerStats, DataTransmit, KvOp, KvOpResult } from './data-layer.js';
import { NotWritableError } from './data-layer.js';
import { PollQueue } from '../core/poll-queue.js';

/** A `DurableStateNode`'s settings (the StateNode's knobs the runtime exposes, and its own). */
export interface DurableStateNodeOptions {
  readonly name: NodeName;
  readonly rng: Rng;
  readonly now: Millis;
  readonly wallOffsetMs: number;
  /** Live data peers, self excluded (names). */
  readonly peers: () => readonly NodeName[];
  readonly replica?: Omit<ReplicaOptions, 'node' | 'counterStart'>;
  readonly store?: StateStore | null;
  /** Restart count: each life's rumor origins differ. */
  readonly incarnation?: number;
  readonly dissemination?: Partial<DisseminationConfig>;
  readonly digestIntervalMs?: number;
  readonly antiEntropyIntervalMs?: number;
  readonly tombstoneGraceMs?: number;
  /** Every this many of a node's writes, one is timed until every member has it (default `AGENT_SAMPLE_EVERY`). */
  readonly sampleEvery?: number;
  /**
   * Relearn the dot counter from peers before taking writes (see `writable`): true when the
   * store lost part of this node's history (opened with `recover`); false when this name is
   * known never to have written before (a fresh cluster in a test); default: when nothing was
   * restored (no store, or an empty one: a previous life's dots may be out there).
   */
  readonly relearn?: boolean;
  /**
   * A byte budget for everything this node sends (see `StateNode`'s `budget`; membership's
   * bytes charged through `chargeMembership`). Each message is counted at its encoded length
   * (the data frame's type byte and body) plus `packetOverheadBytes`. Default: none.
   */
  readonly budget?: StateBudgetOptions;
  /** What a message sent over a stream of `bytes` takes beyond the datagram framing `budget` assumes (TCP segments). */
  readonly streamExtraBytes?: (bytes: number) => number;
  readonly stats: DataStats;
}


/**
 * One write in 10 of each node is timed until everyone has it (the API's recent convergences):
 * every member acknowledges each sampled write to its writer, three times, so sampling every write
 * cost about as much as spreading it (issue 12 item 6).
 */
export const AGENT_SAMPLE_EVERY = 10;

/** A data message's body up to this size goes in a datagram; a larger one over a stream. */
const PACKET_PAYLOAD_BYTES_MAX = 1200;

/**
 * The rumor engine's packet size here: what `dissemination.packetBytesMax` asks, at most a
 * datagram's frame (type byte + body), so rumors never fall back to a stream (a stream's TCP
 * segments would cost the byte budget several times a datagram's headers).
 */
export function rumorPacketBytesMax(d: Partial<DisseminationConfig> | undefined): number {
  return Math.min(d?.packetBytesMax ?? STATE_DISSEMINATION.packetBytesMax, 1 + PACKET_PAYLOAD_BYTES_MAX);
}
const RECENT_CONVERGED_MAX = 64;
/** Dot counters reserved in the store ahead of use. */
const DOT_RESERVE = 1024;
/** Store meta holding the highest dot counter this node may have used (decimal ASCII). */
const DOT_COUNTER_META = 'dot-counter';

/** `SerfWithState` routes the StateNode's messages by member name: a peer's name is its address here. */
function routeTo(name: NodeName): Address {
  return address(name);
}
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The runtime's data layer: the core's `StateNode` (replica, rumors, Merkle anti-entropy, relayed
 * digests, tombstone collection: the same machine the simulator runs) on the real network, driven
 * beside the Serf node by `SerfWithState` and written to by `node.kv`: its typed messages are
 * carried by src/wire/state.ts (checked field by field on the way in), and the runtime adds what
 * the sans-IO core leaves to the agent:
 * - durability: the `Replica` is restored from the `StateStore` (entries, then the dot
 *   counter above the reserved block) and handed to the StateNode as `durable`; a local write
 *   goes to the store through the replica's commit hook before it takes effect (refused: it
 *   leaves no trace in the replica, the Merkle tree, the rumor queue or the summary, and its
 *   dot is not used); other changes (merged, collected) are written through a replica
 *   subscription, and while one is not durable nothing leaves the node;
 * - time: the StateNode's clock is wall-clock ms (its replica's HLC reads it); the driver's
 *   monotonic time is shifted by `wallOffsetMs` on the way in and back on `pollTimeout`.
 */
export class DurableStateNode {
  readonly name: NodeName;
  readonly node: StateNode;
  readonly replica: Replica;
  private readonly store: StateStore | null;
  private readonly peers: () => readonly NodeName[];
  private readonly wallOffsetMs: number;
  private readonly dataStats: DataStats;
  private readonly events = new PollQueue<DataEvent>();
  private readonly outbox = new PollQueue<DataTransmit>();
  private readonly unsaved = new Set<string>();
  /** Entries the commit hook wrote (their change events need no second write). */
  private readonly committed = new Map<string, Entry>();
  private readonly recent: ConvergedUpdate[] = [];
  private reserved: number;
  /** Encoded messages waiting for budget for what the node did not count (see `releasePaced`). */
  private readonly paced = new PollQueue<{ readonly t: DataTransmit; readonly uncounted: number; charged: boolean }>();
  private readonly streamExtraBytes: (bytes: number) => number;
  /** The latest wall time an input brought (what output drained later is charged at). */
  private lastWallMs = 0;
  /** Writes wait until this node knows how far its previous lives counted (see `writable`). */
  private learning: boolean;
  private counters = { rejected: 0, storeErrors: 0 };

  constructor(o: DurableStateNodeOptions) {
    this.name = o.name;
    this.store = o.store ?? null;
    this.peers = o.peers;
    this.wallOffsetMs = o.wallOffsetMs;
    this.dataStats = o.stats;
    this.streamExtraBytes = o.streamExtraBytes ?? (() => 0);
    const wall = this.wall(o.now);
    // A local write reaches the store before it takes effect: if the store refuses it, the
    // replica, the Merkle tree, the rumor queue and the summary never see it.
    this.replica = new Replica({ ...o.replica, node: o.name, ...(this.store !== null ? { commit: (key, entry) => this.commitLocal(key, entry) } : {}) });
    let restored = 0;
    if (this.store !== null) {
      for (const s of this.store.loadEntries()) {
        const r = decodeDataValue(s.entry, this.dataStats);
        if (!r.ok || !isValidEntry(r.value) || r.value.key !== s.key) {
          this.counters.rejected++;
          continue;
        }
        this.replica.merge(wall, r.value);
      }
      const meta = this.store.loadMeta(DOT_COUNTER_META);
      const n = meta === null ? 0 : Number(decoder.decode(meta));
      if (Number.isSafeInteger(n) && n > 0) restored = n;
    }
    const floor = Math.max(restored, this.ownCounter());
    // Nothing restored: a previous life under this name may have used dots that peers hold.
    this.learning = o.relearn ?? floor === 0;
    // Any dot up to the old reservation may have been issued: start above it. Not when the
    // store lost part of the history (relearn): marking those dots seen would make this node
    // drop its own lost writes as stale copies when peers send them back; it relearns instead.
    if (floor > 0 && o.relearn !== true) this.replica.absorbSummary(new Map([[o.name, floor]]));
    this.reserved = floor;
    this.replica.subscribe('');
    const sampler: PeerSampler = {
      size: () => this.peers().length,
      sample: (k, rng) => {
        const all = [...this.peers()];
        const out: Address[] = [];
        while (out.length < k && all.length > 0) out.push(routeTo(all.splice(rng.int(all.length), 1)[0] as NodeName));
        return out;
      },
    };
    this.node = new StateNode({
      name: o.name, rng: o.rng, now: wall, peers: sampler, durable: this.replica, sizes: stateSizes(o.name),
      ...(o.incarnation !== undefined ? { incarnation: o.incarnation } : {}),
      dissemination: { ...o.dissemination, packetBytesMax: rumorPacketBytesMax(o.dissemination) },
      ...(o.digestIntervalMs !== undefined ? { digestIntervalMs: o.digestIntervalMs } : {}),
      ...(o.antiEntropyIntervalMs !== undefined ? { antiEntropyIntervalMs: o.antiEntropyIntervalMs } : {}),
      ...(o.tombstoneGraceMs !== undefined ? { tombstoneGraceMs: o.tombstoneGraceMs } : {}),
      ...STATE_AGENT_TUNING,
      // Sampled writes are timed until everyone has them (the API's recent convergences); members
      // acknowledge straight to the writer, by name (`SerfWithState` routes names).
      sampleEvery: o.sampleEvery ?? AGENT_SAMPLE_EVERY,
      ...(o.budget !== undefined ? { budget: o.budget } : {}),
      addressOf: (name: NodeName) => (this.isPeer(name) ? routeTo(name) : undefined),
      // A node relearning its counter needs a peer's summary, which only a complete session brings.
      syncFirst: this.learning,
    });
    this.syncMembers(wall);
  }

  /**
   * Hands the live data peers to the StateNode, unless the list is the one it already has: the
   * peers function returns the same array until membership changes, and a join storm asks on
   * every timer and message (O(N) each time otherwise).
   */
  private syncMembers(w: number): void {
    const peers = this.peers();
    if (peers === this.membersGiven) return;
    this.node.setMembers(w, peers);
    this.membersGiven = peers;
  }

  private membersGiven: readonly NodeName[] | null = null;
  private peerSet: { readonly of: readonly NodeName[]; readonly set: ReadonlySet<NodeName> } | null = null;

  /** Whether `name` is a live data peer (a set kept per peers array). */
  private isPeer(name: NodeName): boolean {
    const peers = this.peers();
    if (this.peerSet?.of !== peers) this.peerSet = { of: peers, set: new Set(peers) };
    return this.peerSet.set.has(name);
  }

  // ------------------------------------------------------------------ what SerfWithState and node.kv drive

  apply<O extends KvOp>(now: Millis, op: O): KvOpResult[O['op']] {
    if (!this.writable) throw new NotWritableError(`${this.name} is learning its write counter from its peers (restarted without its history): retry shortly`);
    this.reserve();
    const w = this.wall(now);
    // The broadcast tree is computed from the live members: as they are now, not at the last timer.
    this.syncMembers(w);
    const out = this.dispatch(w, op);
    // Durable before it took effect (the commit hook); what it queued leaves only after (the
    // driver drains later). Other changes pending here (none normally) are retried if refused.
    this.drainChanges();
    return out as KvOpResult[O['op']];
  }

  /** One operation on the node, and what it resolves with. */
  private dispatch(w: number, op: KvOp): KvOpResult[KvOp['op']] {
    const n = this.node;
    switch (op.op) {
      case 'put': return n.put(w, op.key, op.value, op.context);
      case 'delete':
        n.delete(w, op.key, op.context);
        return this.replica.get(op.key)?.context ?? [];
      case 'increment': return n.increment(w, op.key, op.by);
      case 'decrement': return n.decrement(w, op.key, op.by);
      case 'add': return void n.add(w, op.key, op.element);
      case 'remove': return void n.remove(w, op.key, op.element);
      case 'mapIncrement': return void n.mapIncrement(w, op.key, op.field, op.by);
      case 'mapAdd': return void n.mapAdd(w, op.key, op.field, op.element);
      case 'mapRemove': return void n.mapRemove(w, op.key, op.field, op.element);
      case 'mapSet': return void n.mapSet(w, op.key, op.field, op.value);
      case 'mapRemoveField': return void n.mapRemoveField(w, op.key, op.field);
    }
  }

  /**
   * Whether a local write may take a dot now. A node that restarted without its history
   * (empty data dir, no store, or a recovered one) would start its dot counter below dots its
   * previous life used and peers still hold: a reused dot counts as seen everywhere, so the new
   * write is dropped as a stale copy. It waits until a complete anti-entropy session with a peer
   * (which merges that peer's entries and absorbs its summary, raising our counter to what it
   * saw of us) and until our counter reaches what every live member's summary says it has seen
   * of us. With no data peer there is nobody to learn from, or to clash with: writable.
   */
  get writable(): boolean {
    if (!this.learning) return true;
    if (this.peers().length === 0) return true;
    if (this.node.stats.sessionsComplete > 0 && this.replica.lastCounter >= this.node.counterHeard()) this.learning = false;
    return !this.learning;
  }

  get(key: string): Read | undefined {
    return this.node.get(key);
  }

  /** The key's entry as this replica holds it (what a quorum read replies). */
  entry(key: string): Entry | undefined {
    return this.replica.entry(key);
  }

  /**
   * Merges a peer's entry handed over directly (a quorum write, a quorum read's reply) and writes
   * the change to the store before returning (a refused write stays pending: `durablyHolds` says
   * no until a retry succeeds). False for an entry that is not a valid state (counted).
   */
  absorb(now: Millis, entry: Entry): boolean {
    if (!isValidEntry(entry)) {
      this.counters.rejected++;
      return false;
    }
    this.node.mergeEntry(this.wall(now), entry);
    this.afterInput(now);
    return true;
  }

  /**
   * Whether this replica's state reflects write `counter` of `origin` (held, or superseded by a
   * newer one) and the key's state is in the store (durable): what a quorum write's ack means.
   * Without a store, held in memory.
   */
  durablyHolds(key: string, origin: string, counter: number): boolean {
    return this.replica.hasSeen(origin, counter) && this.isDurable(key);
  }

  /** Whether the key's state here is the one in the store (false while a refused write of it waits for a retry). */
  isDurable(key: string): boolean {
    return !this.unsaved.has(key);
  }

  list(prefix: string): string[] {
    return this.node.list(prefix);
  }

  resolverOf(key: string): Resolver {
    return this.replica.resolverOf(key);
  }

  convergence(now: Millis): { readonly agreement: Agreement; readonly recent: readonly ConvergedUpdate[] } {
    return { agreement: this.node.agreement(this.wall(now)), recent: [...this.recent] };
  }

  get stats(): DataLayerStats {
    const s = this.node.stats;
    return {
      ...this.counters, entriesMerged: s.rumorsApplied + s.treeApplied + s.repaired, largeEntriesPushed: s.rumorsTooLarge,
      sessionsComplete: s.sessionsComplete, sessionsFailed: s.sessionsFailed + s.sessionsTimedOut,
      rumorBytes: s.rumorBytes, antiEntropyBytes: s.antiEntropyBytes, digestBytes: s.digestBytes,
    };
  }

  handleMessage(now: Millis, from: string | null, dataType: number, payload: Uint8Array, fromAddr = 'unknown address'): void {
    const r = decodeStateMessage(dataType, payload, this.dataStats);
    if (!r.ok) {
      this.reject(from ?? fromAddr, r.reason, r.detail);
      return;
    }
    let sender = from;
    if (sender === null) {
      const src = r.value.src;
      if (!this.isPeer(nodeName(src))) {
        this.reject(fromAddr, 'unknown-sender', `${r.value.message.type} from ${fromAddr}, which names no live data peer`);
        return;
      }
      sender = src;
    }
    const c = toStateMessage(r.value.message);
    if (!c.ok) {
      this.reject(sender, c.reason, c.detail);
      return;
    }
    const w = this.wall(now);
    if (c.value.type === 'state-tree') this.syncMembers(w);
    this.node.handleMessage(millis(w), sender as Address, c.value);
    this.afterInput(now);
  }

  /** The StateNode repairs a joiner by anti-entropy: Serf's push-pull carries nothing of ours. */
  localState(): Uint8Array | null {
    return null;
  }

  handleRemoteState(_now: Millis, from: string, _frame: Uint8Array): void {
    this.reject(from, 'unknown-type', 'push-pull state: this node repairs by anti-entropy');
  }

  handleTimeout(now: Millis): void {
    const w = this.wall(now);
    this.syncMembers(w);
    if (this.unsaved.size > 0) this.persist([...this.unsaved]);
    const at = this.node.pollTimeout();
    if (at !== undefined && (at as number) <= w) this.node.handleTimeout(millis(w));
    this.afterInput(now);
  }

  chargeMembership(now: Millis, bytes: number): void {
    this.node.chargeMembership(millis(this.wall(now)), bytes);
  }

  pollTransmit(): DataTransmit | undefined {
    this.drainNode();
    return this.outbox.poll();
  }

  /** Keys whose latest entry the store has not taken (a failed write, retried on each timeout). */
  get unsavedKeys(): number {
    return this.unsaved.size;
  }

  pollEvent(): DataEvent | undefined {
    this.drainNode();
    return this.events.poll();
  }

  pollTimeout(): Millis {
    let at = this.node.pollTimeout() as number | undefined;
    if (this.paced.length > 0) {
      const ready = this.node.budgetClearAtMs();
      if (at === undefined || ready < at) at = ready;
    }
    return millis(at === undefined ? Infinity : at - this.wallOffsetMs);
  }

  // ------------------------------------------------------------------ internals

  /** After any input: changes to the store (merges, collections), then the node's output. */
  private afterInput(_now: Millis): void {
    this.drainChanges();
    this.drainNode();
  }

  /**
   * What the node did not count of a message is charged (on credit) when the message reaches the
   * head of this queue, and the message leaves once the budget is out of debt: everything the
   * node sends waits behind it meanwhile, so no window carries more than the budget.
   */
  private releasePaced(): void {
    const now = millis(this.lastWallMs);
    for (let p = this.paced.peek(); p !== undefined; p = this.paced.peek()) {
      if (!p.charged && p.uncounted > 0) this.node.chargeUncounted(now, p.uncounted);
      p.charged = true;
      if (!this.node.budgetClear(now)) return;
      this.paced.poll();
      this.outbox.push(p.t);
    }
  }

  private drainNode(): void {
    // While a change is not durable nothing leaves: a write the store refused must not reach a
    // peer (after a crash this node would come back without it, above its dot, and drop it as a
    // stale copy while the peer keeps it). The StateNode's queue waits until the retry succeeds.
    for (let t = this.unsaved.size > 0 ? undefined : this.node.pollTransmit(); t !== undefined; t = this.node.pollTransmit()) {
      const msg = encodeStateMessage(this.name, t.message);
      const reliable = msg.payload.length > PACKET_PAYLOAD_BYTES_MAX;
      // The budget took what the node counted (the frame, and a datagram's framing); what really
      // leaves over a stream also has its TCP segments.
      const uncounted = 1 + msg.payload.length - t.bytes + (reliable ? this.streamExtraBytes(msg.payload.length) : 0);
      this.paced.push({ t: { to: t.to, dataType: msg.dataType, payload: msg.payload, reliable }, uncounted, charged: false });
    }
    this.releasePaced();
    for (let e = this.node.pollEvent(); e !== undefined; e = this.node.pollEvent()) {
      switch (e.type) {
        case 'update-everywhere':
          this.recent.push(e.update);
          if (this.recent.length > RECENT_CONVERGED_MAX) this.recent.shift();
          this.events.push({ type: 'kv-converged', update: e.update });
          break;
        case 'protocol-error':
          this.reject(e.from, 'malformed', e.detail);
          break;
        case 'session-end':
          break;
      }
    }
  }

  /** Replica changes → store and `kv-change` events; the store's error for a failed write, else null. */
  private drainChanges(): Error | null {
    const keys: string[] = [];
    for (let c = this.replica.pollChange(); c !== undefined; c = this.replica.pollChange()) {
      const written = this.committed.get(c.key);
      if (written === undefined || written !== this.replica.entry(c.key)) keys.push(c.key);
      this.events.push({ type: 'kv-change', key: c.key, cause: c.cause, deleted: c.deleted });
    }
    this.committed.clear();
    return keys.length === 0 ? null : this.persist(keys);
  }

  /** The replica's commit hook: a local write's entry, durable before the write takes effect (throws if refused). */
  private commitLocal(key: string, entry: Entry): void {
    try {
      (this.store as StateStore).writeEntries([{ key, entry: encodeDataValue(entry) }]);
    } catch (e) {
      this.counters.storeErrors++;
      throw e;
    }
    this.committed.set(key, entry);
    this.unsaved.delete(key);
  }

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

  /** Keeps the store's reservation ahead of the next dot. */
  private reserve(): void {
    if (this.store === null) return;
    const used = this.ownCounter();
    if (used + 17 <= this.reserved) return;
    const next = used + 1 + DOT_RESERVE;
    this.store.saveMeta(DOT_COUNTER_META, encoder.encode(String(next)));
    this.reserved = next;
  }

  private ownCounter(): number {
    return this.replica.versionSummary().get(this.name) ?? 0;
  }

  private reject(from: string, reason: string, detail: string): void {
    this.counters.rejected++;
    this.events.push({ type: 'data-rejected', from, reason, detail });
  }

  private wall(now: Millis): number {
    const w = (now as number) + this.wallOffsetMs;
    if (w > this.lastWallMs) this.lastWallMs = w;
    return w;
  }
}

// ------------------------------------------------------------------ the StateNode's messages on the wire

/**
 * A decoded message as one of the StateNode's messages: the codec checked every field's shape
 * and range; what it cannot know is an entry's invariants (canonical order, covered dots).
 */
function toStateMessage(m: WireStateMessage): DecodeResult<StateMessage> {
  const valid: (e: unknown) => boolean = isValidEntry;
  if (m.type === 'state-rumor') {
    for (const u of m.gossip.updates) if (!valid(u.payload)) return fail('malformed', `state-rumor: entry of ${u.key} is not a valid state`);
  } else if (m.type === 'state-reconcile' && m.rc.type === 'rc-entries') {
    for (const e of m.rc.entries) if (!valid(e)) return fail('malformed', `state-reconcile: entry of ${e.key} is not a valid state`);
  }
  return ok(m);
}

