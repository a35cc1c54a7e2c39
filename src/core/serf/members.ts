import type { MemberView } from '../events.js';
import type { Address } from '../ids.js';
import { DEFAULT_VSN } from '../messages.js';
import type { SerfBroadcasts } from './broadcasts.js';
import { META_BYTES_MAX } from './config.js';
import type { SerfContext } from './context.js';
import { peerError } from './context.js';
import { LamportClock } from './lamport-clock.js';
import type { SerfCodec, SerfJoinMsg, SerfLeaveMsg } from './messages.js';
import type { SerfMember, SerfMemberStatus } from './member.js';

/** A row of the member table (mutable; `view` gives the caller's copy). */
export interface MemberState {
  name: string;
  addr: Address;
  tags: Record<string, string>;
  status: SerfMemberStatus;
  statusLTime: number;
  vsn: readonly number[];
  /** When it failed or left (for reaping); 0 while alive. */
  leaveMs: number;
  /** A prune asked while it was still leaving: forget it at the first reap after this time. */
  pruneAtMs?: number;
}

/** An intent about a node not known yet (Serf's recentIntents). */
interface Intent {
  readonly type: 'join' | 'leave';
  readonly ltime: number;
  readonly atMs: number;
}

export function view(m: MemberState): SerfMember {
  return {
    name: m.name, addr: m.addr, tags: m.tags, status: m.status, statusLTime: m.statusLTime,
    protocol: { min: m.vsn[0] ?? 0, max: m.vsn[1] ?? 0, cur: m.vsn[2] ?? 0 },
    delegate: { min: m.vsn[3] ?? 0, max: m.vsn[4] ?? 0, cur: m.vsn[5] ?? 0 },
  };
}

/** Encodes tags as node meta; throws when they exceed memberlist's meta limit. */
export function encodeTags(codec: SerfCodec, tags: Readonly<Record<string, string>>): Uint8Array {
  const meta = codec.encodeTags(tags);
  if (meta.length > META_BYTES_MAX) throw new Error(`encoded tags are ${meta.length} bytes, over memberlist's limit of ${META_BYTES_MAX}`);
  return meta;
}

/**
 * Serf's member table (serf.go: members, recentIntents, the member Lamport clock): memberlist's
 * join, update and leave turn into `alive`, `failed` or `left` (a leave intent seen first makes
 * it `left`); join and leave intents are ordered by the member clock, the newest wins, and an
 * intent about a node not known yet waits for it; a leave intent about ourselves while we are
 * alive is refuted with a newer join intent; a leave intent about a failed member is a forced
 * leave (failed → left), and with prune (Serf 0.9's `force-leave -prune`) the member is
 * forgotten at once.
 */
export class SerfMembers {
  readonly clock = new LamportClock();
  private readonly map = new Map<string, MemberState>();
  private readonly byAddr = new Map<Address, string>();
  private readonly intents = new Map<string, Intent>();
  private changes = 0;
  private changedAt = 0;

  constructor(
    private readonly ctx: SerfContext,
    private readonly broadcasts: SerfBroadcasts,
    /** This node is alive (not leaving, left or shut down): a leave intent about it is refuted. */
    private readonly selfAlive: () => boolean,
    selfTags: Record<string, string>,
  ) {
    // memberlist tells Serf about the local node first (NotifyJoin for itself).
    this.map.set(ctx.name, {
      name: ctx.name, addr: ctx.addr, tags: selfTags, status: 'alive', statusLTime: 0, vsn: DEFAULT_VSN, leaveMs: 0,
    });
    this.byAddr.set(ctx.addr, ctx.name);
  }

  get size(): number {
    return this.map.size;
  }

  /**
   * Grows whenever a row's name, address, tags, version or status changes, or a row comes or
   * goes: what is derived from the rows (the data peers) is recomputed only when it moved.
   */
  get version(): number {
    return this.changes;
  }

  /** When `version` last grew (the context's clock then); 0 before any change. */
  get changedAtMs(): number {
    return this.changedAt;
  }

  private changed(): void {
    this.changes++;
    this.changedAt = this.ctx.now;
  }

  get(name: string): MemberState | undefined {
    return this.map.get(name);
  }

  /** The member at `addr`, if we know one there. */
  at(addr: Address): MemberState | undefined {
    const name = this.byAddr.get(addr);
    return name === undefined ? undefined : this.map.get(name);
  }

  nameAt(addr: Address): string | undefined {
    return this.byAddr.get(addr);
  }

  rows(): IterableIterator<MemberState> {
    return this.map.values();
  }

  setSelfTags(tags: Record<string, string>): void {
    const self = this.map.get(this.ctx.name);
    if (self !== undefined) self.tags = tags;
    this.changed();
  }

  hasAliveMembers(): boolean {
    for (const m of this.map.values()) if (m.name !== this.ctx.name && m.status === 'alive') return true;
    return false;
  }

  // ------------------------------------------------------------------ memberlist events (Serf's event delegate)

  handleNodeJoin(v: MemberView): void {
    this.changed();
    let m = this.map.get(v.name);
    const tags = this.decodeTags(v);
    if (m === undefined) {
      m = { name: v.name, addr: v.addr, tags, status: 'alive', statusLTime: 0, vsn: v.vsn, leaveMs: 0 };
      // An intent that arrived before the member: the latest one takes effect.
      const intent = this.intents.get(v.name);
      if (intent !== undefined) {
        m.statusLTime = intent.ltime;
        if (intent.type === 'leave') m.status = 'leaving';
      }
      this.map.set(v.name, m);
    } else {
      if (m.addr !== v.addr && this.byAddr.get(m.addr) === m.name) this.byAddr.delete(m.addr);
      m.status = 'alive';
      m.leaveMs = 0;
      delete m.pruneAtMs;
      m.addr = v.addr;
      m.tags = tags;
      m.vsn = v.vsn;
    }
    this.byAddr.set(v.addr, v.name);
    this.ctx.events.push({ type: 'member-joined', member: view(m) });
  }

  handleNodeUpdate(v: MemberView): void {
    const m = this.map.get(v.name);
    if (m === undefined) return;
    this.changed();
    m.tags = this.decodeTags(v);
    m.vsn = v.vsn;
    m.addr = v.addr;
    this.byAddr.set(v.addr, v.name);
    this.ctx.events.push({ type: 'member-updated', member: view(m) });
  }

  /** memberlist says the member is gone: `left` if it announced a leave, else `failed`. */
  handleNodeLeave(v: MemberView): void {
    const m = this.map.get(v.name);
    if (m === undefined) return;
    if (m.status === 'leaving') m.status = 'left';
    else if (m.status === 'alive') m.status = 'failed';
    else return;
    this.changed();
    m.leaveMs = this.ctx.now;
    this.ctx.events.push({ type: m.status === 'left' ? 'member-left' : 'member-failed', member: view(m) });
  }

  // ------------------------------------------------------------------ intents (reference §8.4)

  /** Applies a join intent; true when it was news (re-broadcast it). */
  handleJoinIntent(msg: SerfJoinMsg): boolean {
    this.clock.witness(msg.ltime);
    const m = this.map.get(msg.node);
    if (m === undefined) return this.upsertIntent(msg.node, 'join', msg.ltime);
    if (msg.ltime <= m.statusLTime) return false;
    m.statusLTime = msg.ltime;
    if (m.status === 'leaving') {
      m.status = 'alive';
      this.changed();
    }
    return true;
  }

  /** Applies a leave intent; true when it was news (re-broadcast it). */
  handleLeaveIntent(msg: SerfLeaveMsg): boolean {
    this.clock.witness(msg.ltime);
    const m = this.map.get(msg.node);
    if (m === undefined) return this.upsertIntent(msg.node, 'leave', msg.ltime);
    if (msg.ltime <= m.statusLTime) return false;
    if (msg.node === this.ctx.name && this.selfAlive()) {
      // Someone says we are leaving, and we are not: refute with a join intent.
      this.broadcastJoin(this.clock.time());
      return false;
    }
    switch (m.status) {
      case 'alive':
        this.changed();
        m.status = 'leaving';
        m.statusLTime = msg.ltime;
        if (msg.prune) this.prune(m);
        return true;
      case 'failed':
        // A forced leave (serf force-leave): failed → left.
        this.changed();
        m.status = 'left';
        m.statusLTime = msg.ltime;
        this.ctx.events.push({ type: 'member-left', member: view(m) });
        if (msg.prune) this.prune(m);
        return true;
      case 'leaving':
      case 'left':
        // Serf 0.9 prunes a leaving or left member too (`force-leave -prune` of a left node).
        if (!msg.prune) return false;
        this.prune(m);
        return true;
    }
  }

  /**
   * A leave intent about `node` stamped with our member clock (Serf's leave, and its
   * forceLeave of a failed member), applied here first. Returns it encoded for the intent
   * queue, or null when no other member is alive to hear it.
   */
  stampLeave(node: string, prune: boolean): Uint8Array | null {
    const msg: SerfLeaveMsg = { type: 'leave', ltime: this.clock.time(), node, prune };
    this.clock.increment();
    this.handleLeaveIntent(msg);
    return this.hasAliveMembers() ? this.ctx.codec.encode(msg) : null;
  }

  /** Broadcasts a join intent at `ltime` (after a join, or to refute a leave intent about us). */
  broadcastJoin(ltime: number): void {
    const msg: SerfJoinMsg = { type: 'join', ltime, node: this.ctx.name };
    this.clock.witness(ltime);
    this.handleJoinIntent(msg);
    this.broadcasts.enqueue(this.broadcasts.intents, this.ctx.codec.encode(msg), null);
  }

  /** Forgets a member (reaped, or pruned): `member-reaped`. */
  erase(m: MemberState): void {
    this.changed();
    this.map.delete(m.name);
    if (this.byAddr.get(m.addr) === m.name) this.byAddr.delete(m.addr);
    this.ctx.events.push({ type: 'member-reaped', member: view(m) });
  }

  /** Forgets the members whose prune (asked while they were leaving) is due at `t`. */
  reapPruned(t: number): void {
    for (const m of [...this.map.values()]) if (m.pruneAtMs !== undefined && t >= m.pruneAtMs) this.erase(m);
  }

  /** Drops intents about unknown nodes older than `recentIntentTimeoutMs`. */
  reapIntents(t: number): void {
    for (const [name, i] of this.intents) if (t - i.atMs > this.ctx.config.recentIntentTimeoutMs) this.intents.delete(name);
  }

  /**
   * Serf's handlePrune: a left or failed member goes at once; a leaving one after the leave
   * had its broadcast timeout (Serf sleeps that long), i.e. at the first reap past it.
   */
  private prune(m: MemberState): void {
    if (m.status === 'leaving') m.pruneAtMs = this.ctx.now + this.ctx.config.broadcastTimeoutMs;
    else this.erase(m);
  }

  /** Serf keeps one intent per unknown node; re-broadcast only if it is newer. */
  private upsertIntent(node: string, type: 'join' | 'leave', ltime: number): boolean {
    const old = this.intents.get(node);
    if (old !== undefined && ltime <= old.ltime) return false;
    this.intents.set(node, { type, ltime, atMs: this.ctx.now });
    return true;
  }

  private decodeTags(v: MemberView): Record<string, string> {
    const r = this.ctx.codec.decodeTags(v.meta);
    if (r.ok) return r.value;
    this.ctx.stats.malformedMessages++;
    peerError(this.ctx, v.addr, 'malformed', `failed to decode the tags of ${v.name}: ${r.detail}`);
    return {};
  }
}
