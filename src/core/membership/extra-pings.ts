import type { Config } from '../config.js';
import type { Millis, NodeName } from '../ids.js';
import type { AckMsg, PingMsg } from '../messages.js';
import { MemberState } from '../messages.js';
import type { PacketBuilder } from '../broadcast/packet-builder.js';
import type { MemberList } from './member-list.js';
import type { Outbox } from './outbox.js';

/** Whom to ping beside the probes (the delegate's `extraPingTarget`). */
export type ExtraPingTarget = (now: Millis, probeCycleMs: number, isAlive: (node: NodeName) => boolean) => NodeName | null;
/** A ping was answered (the delegate's `notifyPingComplete`). */
export type PingComplete = (now: Millis, node: NodeName, rttMs: number, payload: Uint8Array | null) => void;

/**
 * How many of its nearest members an extra ping asks the peer to name in its ack (`PingMsg.near`):
 * the pinger's candidates for discovery (`Topology.handlePingComplete`). Serf agents ignore the field.
 */
export const EXTRA_PING_NEAR = 3;

interface PendingPing {
  readonly target: NodeName;
  readonly sentMs: number;
  readonly deadlineMs: number;
}

/**
 * Pings sent beside SWIM's probes to measure a round trip (the delegate asks for them: network
 * coordinates settle `nearest` by direct measurement in large clusters). Memberlist sends no
 * such ping; to a peer it is an ordinary ping, answered with an ack and its ack payload.
 *
 * They are not probes: an unanswered one raises no suspicion, changes no health score and
 * sends no indirect ping; it is only counted (`stats.extraPingsUnanswered`). Their sequence
 * numbers come from the prober's counter, so an ack is matched to exactly one of a probe, a
 * relayed ping or an extra ping; an ack that comes after `probeTimeoutMs` is dropped as
 * unknown, as memberlist drops acks nobody waits for. An answered one is reported to the ping
 * delegate like a direct probe's ack (`notifyPingComplete`).
 */
export class ExtraPings {
  private readonly pending = new Map<number, PendingPing>();

  constructor(
    private readonly config: Config,
    private readonly members: MemberList,
    private readonly packets: PacketBuilder,
    private readonly out: Outbox,
    private readonly target: ExtraPingTarget,
    private readonly complete: PingComplete | null,
    private readonly nextSeqNo: () => number,
  ) {}

  /** At a probe tick: asks the delegate whether to ping someone (`probeCycleMs`: how long the prober takes to reach every member), and does. */
  tick(now: Millis, probeCycleMs: number): void {
    const table = this.members.table;
    const isAlive = (name: NodeName): boolean => {
      const s = table.slotOf(name);
      return s >= 0 && s !== this.members.selfSlot && table.state(s) === MemberState.Alive;
    };
    const name = this.target(now, probeCycleMs, isAlive);
    if (name === null || !isAlive(name)) return;
    const seqNo = this.nextSeqNo();
    const t = now as number;
    this.pending.set(seqNo, { target: name, sentMs: t, deadlineMs: t + this.config.probeTimeoutMs });
    this.out.stats.extraPings++;
    const ping: PingMsg = { type: 'ping', seqNo, node: name, sourceAddr: this.members.addr, sourceNode: this.members.name, near: EXTRA_PING_NEAR };
    this.packets.sendPacket(table.addr(table.slotOf(name)), ping);
  }

  /** An ack for one of our extra pings (true), or not ours (false). */
  handleAck(now: Millis, m: AckMsg): boolean {
    const p = this.pending.get(m.seqNo);
    if (p === undefined) return false;
    this.pending.delete(m.seqNo);
    this.complete?.(now, p.target, Math.max(0, (now as number) - p.sentMs), m.payload);
    return true;
  }

  /** The earliest deadline of a pending ping, or `t` if that is earlier. */
  nextDeadline(t: number): number {
    if (this.pending.size > 0) for (const p of this.pending.values()) if (p.deadlineMs < t) t = p.deadlineMs;
    return t;
  }

  /** Pings unanswered by their deadline are forgotten (and counted: nothing else). */
  expire(t: number): void {
    if (this.pending.size === 0) return;
    for (const [seq, p] of this.pending) {
      if (p.deadlineMs <= t) {
        this.pending.delete(seq);
        this.out.stats.extraPingsUnanswered++;
      }
    }
  }
}
