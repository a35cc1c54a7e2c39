import type { Config } from '../config.js';
import type { Address, Millis, NodeName } from '../ids.js';
import { incarnation as toIncarnation } from '../ids.js';
import type { AckMsg, IndirectPingMsg, NackMsg, PingMsg, SuspectMsg } from '../messages.js';
import { MemberState } from '../messages.js';
import type { PacketBuilder } from '../broadcast/packet-builder.js';
import type { Awareness } from './awareness.js';
import type { MemberList } from './member-list.js';
import type { Outbox } from './outbox.js';
import type { ExtraPingTarget } from './extra-pings.js';
import { ExtraPings } from './extra-pings.js';

/**
 * How late a verdict timer may be handled before the node counts itself slow (see
 * `Awareness.late`): a fifth of the probe timeout (100 ms with lan timings); timers and
 * garbage collection in a healthy process stay far below it.
 */
export function lateToleranceMs(c: Pick<Config, 'probeTimeoutMs'>): number {
  return c.probeTimeoutMs / 5;
}

interface ProbeState {
  readonly seqNo: number;
  readonly target: NodeName;
  readonly targetSlot: number;
  /** The target's incarnation when the probe started: a refutation during the probe makes the suspicion stale, as in memberlist. */
  readonly targetIncarnation: number;
  readonly sentMs: number;
  readonly timeoutMs: number;
  deadlineMs: number;
  indirectSent: boolean;
  /** The failure verdict was deferred once because this node handled it late (see `Awareness.late`). */
  deferred: boolean;
  expectedNacks: number;
  nacks: number;
  done: boolean;
}

/** An indirect ping we relay for a peer: ack back on success, nack on timeout if asked. */
interface RelayState {
  readonly origSeqNo: number;
  readonly replyTo: Address;
  readonly nack: boolean;
  readonly deadlineMs: number;
}

/**
 * SWIM's failure detector as memberlist runs it (reference §6.2, §6.3), with Lifeguard: every
 * probe interval (stretched by the health score) the next member in the shuffled order gets a
 * ping; no ack by the probe timeout sends indirect pings through `indirectChecks` members (and
 * a stream ping); no ack by the end of the interval raises a suspicion. Acks carry the round
 * trip; missed acks and nacks feed the awareness score. Indirect pings from others are relayed
 * here too: the target's ack goes back to the requester, or a nack when asked for.
 */
export class Prober {
  private probe: ProbeState | null = null;
  private probeIndex = 0;
  private readonly relays = new Map<number, RelayState>();
  private seqNo = 0;
  /** Pings beside the probes, when the delegate asks for them (else null). */
  private readonly extras: ExtraPings | null;
  /** When the next probe starts. */
  nextProbeMs: number;

  constructor(
    private readonly config: Config,
    private readonly members: MemberList,
    private readonly awareness: Awareness,
    private readonly packets: PacketBuilder,
    private readonly out: Outbox,
    /** The payload of our acks to direct pings (memberlist's PingDelegate.AckPayload). */
    private readonly ackPayload: (near?: { readonly count: number; readonly from: NodeName | null }) => Uint8Array | null,
    firstProbeMs: number,
    /** A direct probe was answered (memberlist's PingDelegate.NotifyPingComplete). */
    private readonly pingComplete: ((now: Millis, node: NodeName, rttMs: number, payload: Uint8Array | null) => void) | null = null,
    /** Whom to ping beside the probes (not memberlist's: see `extra-pings.ts`). */
    extraPingTarget: ExtraPingTarget | null = null,
    /** A ping for us came from a member (not memberlist's: see the delegate's `notifyPinged`). */
    private readonly pinged: ((now: Millis, from: NodeName) => void) | null = null,
  ) {
    this.nextProbeMs = firstProbeMs;
    this.extras = extraPingTarget === null ? null : new ExtraPings(config, members, packets, out, extraPingTarget, pingComplete, () => this.nextSeqNo());
  }

  /** The earliest deadline of the probe cycle (next tick, running probe, relays), or `t` if that is earlier. */
  nextDeadline(t: number): number {
    t = Math.min(t, this.nextProbeMs);
    const p = this.probe;
    if (p !== null && !p.done) t = Math.min(t, p.indirectSent ? p.deadlineMs : p.timeoutMs);
    if (this.relays.size > 0) for (const r of this.relays.values()) if (r.deadlineMs < t) t = r.deadlineMs;
    return this.extras?.nextDeadline(t) ?? t;
  }

  /** Relayed pings that timed out (nack if asked), and extra pings unanswered. */
  expireRelays(t: number): void {
    this.extras?.expire(t);
    if (this.relays.size === 0) return;
    for (const [seq, r] of this.relays) {
      if (r.deadlineMs <= t) {
        this.relays.delete(seq);
        if (r.nack) this.packets.sendPacket(r.replyTo, { type: 'nack', seqNo: r.origSeqNo } satisfies NackMsg);
      }
    }
  }

  /** The running probe's timers (indirect probes, failure), then the next tick. */
  handleTimeout(now: Millis): void {
    const t = now as number;
    const p = this.probe;
    if (p !== null && !p.done) {
      // First whether the verdict waits (then the indirect probes below get the new deadline).
      if (t >= p.deadlineMs) this.deferLate(t, p);
      if (!p.indirectSent && t >= p.timeoutMs) this.startIndirectProbe(now, p);
      if (p.indirectSent && !p.done && t >= p.deadlineMs) this.probeFailed(now, p);
    }
    if (t >= this.nextProbeMs) this.tick(now);
  }

  /**
   * Lifeguard, the observer's own health: when this node handles the probe's failure late
   * (more than `lateToleranceMs(config)` after the deadline), the ack may be waiting unread
   * behind the stall, so the verdict waits once more, a probe timeout, and the health score
   * grows (the next probes are spaced and given longer). The next tick waits with it.
   */
  private deferLate(t: number, p: ProbeState): void {
    if (!this.config.lifeguard || p.deferred || !this.awareness.late(t - p.deadlineMs, lateToleranceMs(this.config))) return;
    p.deferred = true;
    this.out.stats.verdictsDeferred++;
    p.deadlineMs = t + this.config.probeTimeoutMs;
    this.nextProbeMs = Math.max(this.nextProbeMs, p.deadlineMs);
  }

  /** A ping for us: ack it (with the delegate's payload). */
  handlePing(now: Millis, from: Address, m: PingMsg): void {
    if (m.node !== '' && m.node !== this.members.name) {
      this.out.protocolError(from, 'ping-for-other-node', `ping for ${m.node}`);
      return;
    }
    if (this.pinged !== null && m.sourceNode !== null && m.sourceNode !== this.members.name) this.pinged(now, m.sourceNode);
    // Only a ping that asks (our extra pings) gets the nearest names: every other ack is memberlist's.
    const payload = m.near !== undefined && m.near > 0 ? this.ackPayload({ count: m.near, from: m.sourceNode }) : this.ackPayload();
    const ack: AckMsg = { type: 'ack', seqNo: m.seqNo, payload };
    this.packets.sendPacket(m.sourceAddr ?? from, ack);
  }

  /** Someone asks us to ping a member for them. */
  handleIndirectPing(now: Millis, from: Address, m: IndirectPingMsg): void {
    const seqNo = this.nextSeqNo();
    const ping: PingMsg = { type: 'ping', seqNo, node: m.node, sourceAddr: this.members.addr, sourceNode: this.members.name };
    this.relays.set(seqNo, {
      origSeqNo: m.seqNo,
      replyTo: m.sourceAddr ?? from,
      nack: m.nack,
      deadlineMs: (now as number) + this.config.probeTimeoutMs,
    });
    this.packets.sendPacket(m.target, ping);
  }

  /** An ack: for a ping we relay (pass it back), or for our probe (it succeeded). `viaStream`: the stream ping's answer. */
  handleAck(now: Millis, m: AckMsg, viaStream: boolean): void {
    const relay = this.relays.get(m.seqNo);
    if (relay !== undefined) {
      this.relays.delete(m.seqNo);
      this.packets.sendPacket(relay.replyTo, { type: 'ack', seqNo: relay.origSeqNo, payload: null } satisfies AckMsg);
      return;
    }
    if (!viaStream && this.extras?.handleAck(now, m) === true) return;
    const p = this.probe;
    if (p === null || p.done || p.seqNo !== m.seqNo) return; // late or unknown ack
    p.done = true;
    // Round trip of the probe that was answered (direct, indirect or over a stream).
    const rtt = Math.max(0, (now as number) - p.sentMs);
    this.out.stats.probeRtts++;
    this.out.stats.probeRttSumMs += rtt;
    this.members.rtts.set(p.targetSlot, rtt);
    // memberlist tells its ping delegate only of an ack that came before the probe timeout.
    if (this.pingComplete !== null && !viaStream && !p.indirectSent) this.pingComplete(now, p.target, rtt, m.payload);
    if (viaStream) this.out.protocolError(null, 'stream-failed', `was able to reach ${p.target} over a stream but other probes failed, network may be misconfigured`);
    if (this.config.lifeguard) this.awareness.apply(-1);
  }

  handleNack(m: NackMsg): void {
    const p = this.probe;
    if (p !== null && !p.done && p.seqNo === m.seqNo) p.nacks++;
  }

  private tick(now: Millis): void {
    const t = now as number;
    // Lifeguard LHA-probe: the probe interval stretches with the local health score.
    this.nextProbeMs = t + this.awareness.scale(this.config.probeIntervalMs);
    if (this.members.leaving) return;
    // A probe still running (its deadline is later than the next tick) is abandoned as failed.
    if (this.probe !== null && !this.probe.done) this.probeFailed(now, this.probe);
    const target = this.nextTarget(t);
    if (target < 0) return;
    this.probeNode(now, target);
    // The cycle: every other live member once, one probe interval each (not as Lifeguard
    // stretches it: a node that judges itself slow sends no more pings for that).
    this.extras?.tick(now, (this.members.liveCount - 1) * this.config.probeIntervalMs);
  }

  private nextTarget(nowMs: number): number {
    const { order, table, selfSlot } = this.members;
    for (let tries = 0; tries <= order.length; tries++) {
      if (this.probeIndex >= order.length) {
        this.probeIndex = 0;
        this.members.reapAndShuffle(nowMs);
        if (tries > 0) return -1;
      }
      const slot = order.at(this.probeIndex++);
      if (slot === selfSlot || !table.inUse(slot)) continue;
      const st = table.state(slot);
      if (st === MemberState.Dead || st === MemberState.Left) continue;
      return slot;
    }
    return -1;
  }

  private probeNode(now: Millis, slot: number): void {
    const t = now as number;
    const table = this.members.table;
    const seqNo = this.nextSeqNo();
    const target = table.name(slot);
    const addr = table.addr(slot);
    const ping: PingMsg = { type: 'ping', seqNo, node: target, sourceAddr: this.members.addr, sourceNode: this.members.name };
    this.out.stats.probes++;
    this.probe = {
      seqNo, target, targetSlot: slot, targetIncarnation: table.incarnation(slot), sentMs: t,
      timeoutMs: t + this.config.probeTimeoutMs,
      deadlineMs: t + this.awareness.scale(this.config.probeIntervalMs),
      indirectSent: false, deferred: false, expectedNacks: 0, nacks: 0, done: false,
    };
    if (this.config.lifeguard && table.state(slot) === MemberState.Suspect) {
      // Lifeguard buddy system: tell the suspect it is suspected, in the same packet.
      const suspect: SuspectMsg = { type: 'suspect', incarnation: table.incarnation(slot), node: target, from: this.members.name };
      this.packets.sendCompound(addr, [ping, suspect]);
    } else {
      this.packets.sendPacket(addr, ping);
    }
  }

  private startIndirectProbe(now: Millis, p: ProbeState): void {
    const table = this.members.table;
    p.indirectSent = true;
    if (!table.inUse(p.targetSlot) || table.name(p.targetSlot) !== p.target) {
      p.done = true;
      return;
    }
    const targetAddr = table.addr(p.targetSlot);
    const peers = this.members.randomMembers(this.config.indirectChecks, (s) => s !== p.targetSlot && table.state(s) === MemberState.Alive);
    for (const s of peers) {
      const rec = table.record(s);
      const nack = rec.vsn[1] >= 4;
      if (nack) p.expectedNacks++;
      this.out.stats.indirectProbes++;
      const req: IndirectPingMsg = {
        type: 'indirect-ping', seqNo: p.seqNo, target: targetAddr, node: p.target, nack,
        sourceAddr: this.members.addr, sourceNode: this.members.name,
      };
      this.packets.sendPacket(rec.addr, req);
    }
    // Stream (TCP) fallback ping to peers that speak protocol ≥ 3.
    const rec = table.record(p.targetSlot);
    if (!this.config.disableStreamPings && rec.vsn[1] >= 3) {
      const ping: PingMsg = { type: 'ping', seqNo: p.seqNo, node: p.target, sourceAddr: this.members.addr, sourceNode: this.members.name };
      this.out.openStream(now, targetAddr, 'ping', ping, p.seqNo, p.deadlineMs);
    }
  }

  private probeFailed(now: Millis, p: ProbeState): void {
    const table = this.members.table;
    p.done = true;
    this.out.stats.probesFailed++;
    if (this.config.lifeguard) {
      const missed = p.expectedNacks > 0 ? Math.max(0, p.expectedNacks - p.nacks) : 1;
      this.awareness.apply(missed);
    }
    const slot = p.targetSlot;
    if (!table.inUse(slot) || table.name(slot) !== p.target) return;
    const st = table.state(slot);
    if (st === MemberState.Dead || st === MemberState.Left) return;
    this.out.stats.suspicionsRaised++;
    this.members.suspectNode(now, { type: 'suspect', incarnation: toIncarnation(p.targetIncarnation), node: p.target, from: this.members.name });
  }

  private nextSeqNo(): number {
    this.seqNo = (this.seqNo + 1) >>> 0;
    return this.seqNo;
  }
}
