import type { Config } from '../config.js';
import type { MemberView } from '../events.js';
import type { Address, Millis, NodeName } from '../ids.js';
import { incarnation as toIncarnation } from '../ids.js';
import type { AliveMsg, DeadMsg, MembershipMsg, SuspectMsg, Vsn } from '../messages.js';
import { MEMBER_STATE_NAMES, MemberState, messageBytes } from '../messages.js';
import type { Rng } from '../rng.js';
import type { PacketBuilder } from '../broadcast/packet-builder.js';
import type { Awareness } from './awareness.js';
import { MemberTable } from './member-table.js';
import type { NameDirectory } from './member-table.js';
import type { Outbox } from './outbox.js';
import { SlotList } from './slot-list.js';
import { Suspicion } from './suspicion.js';
import {
  addressReclaimable, deadState, isUrgent, judgeAlive, judgeDead, judgeSelfAlive, judgeSuspect, refutingIncarnation,
} from './state-rules.js';

export interface MemberListOptions {
  readonly name: NodeName;
  readonly addr: Address;
  readonly config: Config;
  readonly rng: Rng;
  readonly now: Millis;
  readonly meta: Uint8Array | null;
  readonly vsn: Vsn;
  readonly incarnation: number;
  readonly directory: NameDirectory;
  readonly awareness: Awareness;
  readonly out: Outbox;
  readonly packets: PacketBuilder;
}

/**
 * One node's view of the cluster (memberlist's `nodes`, `nodeMap` and `nodeTimers`): the
 * member table, the member order that probing walks and random choices draw from, running
 * suspicions, the last probe round trips, and ourselves (incarnation, meta, leaving).
 *
 * `alive`, `suspect` and `dead` land here: `state-rules.ts` says what each one does, this
 * class does it (table, suspicion timers, re-gossip, events, refutation).
 */
export class MemberList {
  readonly table: MemberTable;
  readonly selfSlot: number;
  /** Every member in random order: the probe cycle walks it, random choices draw from it. */
  readonly order = new SlotList();
  readonly suspicions = new Map<number, Suspicion>();
  /** Last probe round trip (ms) by member slot: only members probed successfully. */
  readonly rtts = new Map<number, number>();
  readonly name: NodeName;
  readonly addr: Address;
  readonly vsn: Vsn;
  inc: number;
  meta: Uint8Array | null;
  /** We announced our leave: accusations are no longer refuted, our own alive is ignored. */
  leaving = false;

  private readonly config: Config;
  private readonly rng: Rng;
  private readonly awareness: Awareness;
  private readonly out: Outbox;
  private readonly packets: PacketBuilder;

  constructor(o: MemberListOptions) {
    this.name = o.name;
    this.addr = o.addr;
    this.config = o.config;
    this.rng = o.rng;
    this.meta = o.meta;
    this.vsn = o.vsn;
    this.inc = o.incarnation;
    this.awareness = o.awareness;
    this.out = o.out;
    this.packets = o.packets;
    this.table = new MemberTable(o.directory);
    const self = this.selfAlive();
    this.selfSlot = this.table.add(o.name, self, o.now);
    this.table.setIncarnation(this.selfSlot, this.inc);
    this.table.setState(this.selfSlot, MemberState.Alive, o.now);
    this.order.push(this.selfSlot);
  }

  // ------------------------------------------------------------------ reading

  /** Members alive or suspect, self included: memberlist's `NumMembers`. */
  get liveCount(): number {
    return this.table.countIn(MemberState.Alive) + this.table.countIn(MemberState.Suspect);
  }

  view(slot: number): MemberView {
    const r = this.table.record(slot);
    return {
      name: this.table.name(slot), addr: r.addr, meta: r.meta, incarnation: this.table.incarnation(slot),
      status: MEMBER_STATE_NAMES[this.table.state(slot)], vsn: r.vsn,
    };
  }

  /** Up to k distinct random members (never self) that pass `accept`, drawn with the node's RNG: memberlist's kRandomNodes. */
  randomMembers(k: number, accept: (slot: number) => boolean): number[] {
    return this.draw(k, this.rng, accept);
  }

  /** Up to k distinct random live members (never self), drawn with `rng` (a caller's own). */
  sampleMembers(k: number, rng: Rng): Address[] {
    const slots = this.draw(k, rng, (slot) => {
      const st = this.table.state(slot);
      return st === MemberState.Alive || st === MemberState.Suspect;
    });
    return slots.map((s) => this.table.addr(s));
  }

  private draw(k: number, rng: Rng, accept: (slot: number) => boolean): number[] {
    const out: number[] = [];
    const n = this.order.length;
    if (k <= 0 || n <= 1) return out;
    for (let i = 0; i < 3 * n && out.length < k; i++) {
      const slot = this.order.at(rng.int(n));
      if (slot === this.selfSlot || !this.table.inUse(slot) || out.includes(slot)) continue;
      if (accept(slot)) out.push(slot);
    }
    return out;
  }

  // ------------------------------------------------------------------ ourselves

  selfAlive(): AliveMsg {
    return { type: 'alive', incarnation: toIncarnation(this.inc), node: this.name, addr: this.addr, meta: this.meta, vsn: this.vsn };
  }

  /** Our current record goes into the table and out as gossip. */
  announceSelf(now: Millis): void {
    const a = this.selfAlive();
    this.table.setRecord(this.selfSlot, a);
    this.table.setIncarnation(this.selfSlot, this.inc);
    if (this.table.state(this.selfSlot) !== MemberState.Alive) this.table.setState(this.selfSlot, MemberState.Alive, now);
    this.enqueueBroadcast(a);
  }

  /** Someone says we are suspect or dead: come back with a higher incarnation (reference §6.4). */
  private refute(now: Millis, accused: number, by: string): void {
    this.inc = refutingIncarnation(this.inc, accused);
    this.out.stats.refutations++;
    if (this.config.lifeguard) this.awareness.apply(1);
    this.announceSelf(now);
    if (this.out.wants('self-refuted')) {
      this.out.emit({ type: 'self-refuted', incarnation: toIncarnation(this.inc), accusedAt: toIncarnation(accused), by: by as NodeName });
    }
  }

  /**
   * A peer accused an older life of ours: it has not heard our refutation (it may have declared
   * us dead just before it arrived). Our current alive goes straight back to it, alone: one
   * small answer per accusation received, so a forged source address gains an attacker little
   * (nothing piggybacked, unlike an ack).
   */
  private correct(sender: Address | null): void {
    if (sender === null) return;
    this.out.stats.staleAccusationsCorrected++;
    this.packets.sendAlone(sender, this.selfAlive());
  }

  /** Queues gossip about a member, keyed by its name (a newer message replaces an older one). */
  enqueueBroadcast(m: MembershipMsg): void {
    this.out.stats.broadcastsQueued++;
    this.packets.queue.enqueue(m.node, m, messageBytes(m), null, isUrgent(m.type, m.incarnation));
  }

  // ------------------------------------------------------------------ state changes (reference §6.4)

  /** `bootstrap`: our own alive coming back at join is not news. `quietIfNew`: a member learned without re-gossip (restore). */
  aliveNode(now: Millis, a: AliveMsg, bootstrap: boolean, quietIfNew = false): void {
    const t = now as number;
    const isSelf = a.node === this.name;
    if (this.leaving && isSelf) return;
    if (isSelf && a.addr !== this.addr) {
      // A previous life's address (a restart on a new port): not a conflict of ours to log. The
      // peer refuses our address until it declares that one dead; the host push-pulls again.
      if (!bootstrap && this.out.wants('self-address-stale')) this.out.emit({ type: 'self-address-stale', staleAddr: a.addr });
      return;
    }
    let slot = this.table.slotOf(a.node);
    let isNew = false;
    if (slot < 0) {
      if (judgeAlive(a.incarnation, null) === 'ignore') return;
      slot = this.table.add(a.node, a, t);
      isNew = true;
      // Insert at a random position of the member order.
      this.order.push(slot);
      const n = this.order.length - 1;
      const j = this.rng.int(n + 1);
      this.order.set(n, this.order.at(j));
      this.order.set(j, slot);
    } else if (this.table.addr(slot) !== a.addr) {
      if (!addressReclaimable(this.table.state(slot), this.table.changedAt(slot), t, this.config.deadNodeReclaimTimeMs)) {
        this.out.protocolError(a.addr, 'address-conflict', `conflicting address for ${a.node}: mine ${this.table.addr(slot)}, theirs ${a.addr}`);
        return;
      }
      // The address is being updated: accept whatever the incarnation.
      this.table.setIncarnation(slot, 0);
    }
    if (isSelf) {
      const same = a.incarnation === this.inc && sameBytes(a.meta, this.meta) && sameVsn(a.vsn, this.vsn);
      if (judgeSelfAlive(a.incarnation, this.inc, same, bootstrap, this.leaving) === 'refute') this.refute(now, a.incarnation, a.node);
      return;
    }
    if (!isNew && judgeAlive(a.incarnation, { state: this.table.state(slot), incarnation: this.table.incarnation(slot) }) === 'ignore') return;
    // Accept: re-broadcast, update, mark alive.
    if (!(isNew && quietIfNew)) this.enqueueBroadcast(a);
    const old = this.table.state(slot);
    const oldMeta = this.table.record(slot).meta;
    this.table.setRecord(slot, a);
    this.table.setIncarnation(slot, a.incarnation);
    this.suspicions.delete(slot);
    if (old !== MemberState.Alive) this.table.setState(slot, MemberState.Alive, t);
    if (isNew || old === MemberState.Dead || old === MemberState.Left) {
      if (this.out.wants('member-joined')) this.out.emit({ type: 'member-joined', member: this.view(slot) });
    } else {
      if (old === MemberState.Suspect && this.out.wants('member-recovered')) this.out.emit({ type: 'member-recovered', member: this.view(slot) });
      if (!sameBytes(oldMeta, a.meta) && this.out.wants('member-updated')) this.out.emit({ type: 'member-updated', member: this.view(slot) });
    }
  }

  /** `sender`: where the message came from (null: raised here, or learned by push-pull). */
  suspectNode(now: Millis, s: SuspectMsg, sender: Address | null = null): void {
    const slot = this.table.slotOf(s.node);
    if (slot < 0) return;
    const existing = this.suspicions.get(slot);
    const known = { state: this.table.state(slot), incarnation: this.table.incarnation(slot) };
    switch (judgeSuspect(s.incarnation, known, existing !== undefined, slot === this.selfSlot, this.leaving)) {
      case 'ignore':
        return;
      case 'correct':
        this.correct(sender);
        return;
      case 'confirm':
        if ((existing as Suspicion).confirm(s.from, now)) this.enqueueBroadcast(s);
        return;
      case 'refute':
        this.refute(now, s.incarnation, s.from);
        return;
      case 'accept':
        break;
    }
    this.enqueueBroadcast(s);
    const t = now as number;
    this.table.setIncarnation(slot, s.incarnation);
    this.table.setState(slot, MemberState.Suspect, t);
    this.suspicions.set(slot, new Suspicion(this.config, this.table.size, s.from, t));
    if (this.out.wants('member-suspected')) this.out.emit({ type: 'member-suspected', member: this.view(slot), from: s.from });
  }

  /** `sender`: where the message came from (null: declared here, or learned by push-pull). */
  deadNode(now: Millis, d: DeadMsg, sender: Address | null = null): void {
    const slot = this.table.slotOf(d.node);
    if (slot < 0) return;
    const known = { state: this.table.state(slot), incarnation: this.table.incarnation(slot) };
    const verdict = judgeDead(d.incarnation, known, slot === this.selfSlot, this.leaving);
    if (verdict === 'stale') return;
    if (verdict === 'correct') {
      this.correct(sender);
      return;
    }
    this.suspicions.delete(slot);
    if (verdict === 'ignore') return;
    if (verdict === 'refute') {
      this.refute(now, d.incarnation, d.from);
      return;
    }
    this.enqueueBroadcast(d);
    const state = deadState(d.node, d.from);
    this.table.setIncarnation(slot, d.incarnation);
    this.table.setState(slot, state, now);
    if (state === MemberState.Left) {
      if (this.out.wants('member-left')) this.out.emit({ type: 'member-left', member: this.view(slot) });
    } else if (this.out.wants('member-failed')) {
      this.out.emit({ type: 'member-failed', member: this.view(slot), from: d.from });
    }
  }

  /** A suspicion ran out: the member is declared dead by us, unless it changed state since. */
  suspicionExpired(now: Millis, slot: number, s: Suspicion): void {
    if (this.table.inUse(slot) && this.table.state(slot) === MemberState.Suspect && this.table.changedAt(slot) === s.startMs) {
      const dead: DeadMsg = { type: 'dead', incarnation: this.table.incarnation(slot), node: this.table.name(slot), from: this.name };
      this.deadNode(now, dead); // accepted: same incarnation as the suspicion, never about us
      // The accused hears it from us at once, not when a gossip round happens to pick it: if it
      // lives (paused, or cut off one way) it refutes, or corrects us, as soon as it reads it.
      this.packets.sendAlone(this.table.addr(slot), dead);
    }
  }

  /**
   * Seeds the member list without any traffic (see GossipNode.restoreMembers): members not
   * known yet are added in bulk, the others merged as an `alive`; nothing is re-broadcast.
   */
  restore(now: Millis, records: readonly AliveMsg[]): void {
    const table = this.table;
    const ids = new Int32Array(records.length);
    for (let i = 0; i < records.length; i++) ids[i] = table.directory.intern((records[i] as AliveMsg).node);
    table.reserve(table.directory.size);
    this.order.reserve(this.order.length + records.length);
    const t = now as number;
    let added = false;
    for (let i = 0; i < records.length; i++) {
      const r = records[i] as AliveMsg;
      const id = ids[i] as number;
      if (r.incarnation === 0 || table.inUse(id)) {
        this.aliveNode(now, r, false, true);
        continue;
      }
      // Bulk path for members not known yet: no precedence to check, nothing to broadcast.
      const slot = table.addAt(id, r, t);
      table.setIncarnation(slot, r.incarnation);
      table.setState(slot, MemberState.Alive, t);
      this.order.push(slot);
      added = true;
      if (this.out.wants('member-joined')) this.out.emit({ type: 'member-joined', member: this.view(slot) });
    }
    if (added) this.order.shuffle((bound) => this.rng.int(bound));
  }

  /** The probe order wrapped (memberlist's resetNodes): reap dead and left members older than gossipToTheDead, reshuffle. */
  reapAndShuffle(nowMs: number): void {
    this.order.retain((slot) => {
      if (!this.table.inUse(slot)) return false;
      const st = this.table.state(slot);
      if ((st === MemberState.Dead || st === MemberState.Left) && slot !== this.selfSlot &&
        nowMs - this.table.changedAt(slot) > this.config.gossipToTheDeadTimeMs) {
        const name = this.table.name(slot);
        this.suspicions.delete(slot);
        this.rtts.delete(slot);
        this.table.remove(slot);
        this.out.emit({ type: 'member-reaped', name });
        return false;
      }
      return true;
    });
    this.order.shuffle((bound) => this.rng.int(bound));
  }
}

function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === b) return true;
  const al = a?.length ?? 0;
  const bl = b?.length ?? 0;
  if (al !== bl) return false;
  for (let i = 0; i < al; i++) if ((a as Uint8Array)[i] !== (b as Uint8Array)[i]) return false;
  return true;
}

function sameVsn(a: Vsn, b: Vsn): boolean {
  for (let i = 0; i < 6; i++) if (a[i] !== b[i]) return false;
  return true;
}
