import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../../src/core/config.js';
import { address, incarnation, millis, nodeName } from '../../../../src/core/ids.js';
import type { Address, Millis, NodeName } from '../../../../src/core/ids.js';
import type { AliveMsg, Message } from '../../../../src/core/messages.js';
import { DEFAULT_VSN } from '../../../../src/core/messages.js';
import type { NodeDelegate, Transmit } from '../../../../src/core/membership/node.js';
import { GossipNode } from '../../../../src/core/membership/node.js';
import { seededRng } from '../../../../src/core/rng.js';
import { Topology } from '../../../../src/core/topology/index.js';
import { coordinateCodec, decodeNearNames, encodeCoordinatePayload } from '../../../../src/wire/coordinate.js';

const cfg = defaultConfig('lan');
const addrOf = (i: number): Address => address(`127.0.${i >> 8}.${(i & 255) + 1}:7946`);
const rec = (i: number): AliveMsg => ({ type: 'alive', incarnation: incarnation(1), node: nodeName(`m${i}`), addr: addrOf(i), meta: null, vsn: DEFAULT_VSN });
/** Peer `i`'s coordinate: `i` tenths of a millisecond along one axis (m1 the nearest). */
const payloadOf = (i: number): Uint8Array => encodeCoordinatePayload({ vec: [i * 1e-4, 0, 0, 0, 0, 0, 0, 0], error: 0.1, adjustment: 0, height: 10e-6 });

interface Run {
  readonly node: GossipNode;
  readonly topology: Topology;
  /** Every ping sent, in order, and whether it was an extra ping. */
  readonly pings: { to: Address; seqNo: number; extra: boolean; at: number }[];
  readonly completed: string[];
  readonly sent: Message[];
}

/**
 * Node `a` with `members` others (all alive), the production Topology as its ping delegate
 * (as the simulator and the runtime wire it), run for `durationMs`. Member `mi` answers after
 * its round trip, 0.2·i ms, with its coordinate; extra pings are answered so (`answer`), after
 * the probe timeout (`late`) or not at all (`never`).
 */
function run(members: number, durationMs: number, extras: 'answer' | 'late' | 'never'): Run {
  const topology = new Topology('a', { codec: coordinateCodec, rng: seededRng(1) });
  // Every member's coordinate is known already (as after a few probe cycles).
  for (let i = 1; i <= members; i++) topology.observe(`m${i}`, { vec: [i * 1e-4, 0, 0, 0, 0, 0, 0, 0], error: 0.1, adjustment: 0, height: 10e-6 }, 0.2 * i);
  const completed: string[] = [];
  const delegate: NodeDelegate = {
    ackPayload: (near) => topology.ackPayload(near),
    notifyPingComplete: (now, who, rttMs, payload) => {
      completed.push(`${who} ${rttMs}`);
      topology.handlePingComplete(who, rttMs, payload, now);
    },
    extraPingTarget: (now: Millis, cycle: number, isAlive: (n: NodeName) => boolean) => topology.extraPingTarget(now, cycle, (n) => isAlive(nodeName(n))) as NodeName | null,
  };
  const node = new GossipNode({ name: nodeName('a'), addr: address('127.1.0.1:7946'), config: cfg, rng: seededRng(5), now: millis(0), delegate });
  node.restoreMembers(millis(0), Array.from({ length: members }, (_, k) => rec(k + 1)));
  const pings: Run['pings'] = [];
  const sent: Message[] = [];
  const replies: { at: number; from: Address; seqNo: number; payload: Uint8Array }[] = [];
  const drain = (now: number): void => {
    const extrasBefore = pings.filter((p) => p.extra).length;
    const batch: { to: Address; seqNo: number }[] = [];
    for (let t: Transmit | undefined = node.pollTransmit(); t; t = node.pollTransmit()) {
      if (t.kind !== 'packet') continue;
      const ms = t.message.type === 'compound' ? t.message.parts : [t.message];
      for (const m of ms) {
        sent.push(m);
        if (m.type === 'ping') batch.push({ to: t.to, seqNo: m.seqNo });
      }
    }
    // A tick sends the probe, then the extra ping (if any): the stats tell how many extras went out.
    const extrasNow = node.stats.extraPings - extrasBefore;
    batch.forEach((b, k) => {
      const extra = k >= batch.length - extrasNow;
      pings.push({ ...b, extra, at: now });
      const i = Number(b.to.split(':')[0]?.split('.')[3]) - 1 + 256 * Number(b.to.split('.')[2]);
      const delay = !extra || extras === 'answer' ? 0.2 * i : extras === 'late' ? cfg.probeTimeoutMs + 5 : null;
      if (delay !== null) replies.push({ at: now + delay, from: b.to, seqNo: b.seqNo, payload: payloadOf(i) });
    });
    while (node.pollEvent() !== undefined);
  };
  let now = 0;
  while (now < durationMs) {
    replies.sort((x, y) => x.at - y.at);
    const next = Math.min(node.pollTimeout() as number, replies[0]?.at ?? Infinity);
    now = next;
    if (replies[0] !== undefined && replies[0].at === next) {
      const r = replies.shift() as (typeof replies)[number];
      node.handlePacket(millis(now), r.from, { type: 'ack', seqNo: r.seqNo, payload: r.payload });
    } else node.handleTimeout(millis(now));
    drain(now);
  }
  return { node, topology, pings, completed, sent };
}

describe('extra pings beside the probes (nearest refinement)', () => {
  it('at 64 members nothing changes on the wire: every ping is a probe, none extra, over 5 minutes', () => {
    const r = run(63, 300_000, 'answer');
    expect(r.node.stats.probes).toBeGreaterThan(250);
    expect(r.node.stats.extraPings).toBe(0);
    expect(r.pings.length).toBe(r.node.stats.probes);
    expect(r.topology.stats.refinePings).toBe(0);
  });

  it('at 200 members (a 199 s probe cycle): one every 5 s, to the nearest candidates; the answer is reported like a probe\'s and settles nearest', () => {
    const r = run(199, 60_000, 'answer');
    const extras = r.pings.filter((p) => p.extra);
    expect(r.node.stats.extraPings).toBe(extras.length);
    expect(extras.length).toBeGreaterThanOrEqual(11);
    expect(extras.length).toBeLessThanOrEqual(13);
    for (let k = 1; k < extras.length; k++) expect((extras[k] as (typeof extras)[number]).at - (extras[k - 1] as (typeof extras)[number]).at).toBeGreaterThanOrEqual(5000);
    // Each to one of the 20 nearest by coordinate (m1..m20), the least measured first: all different here.
    const targets = extras.map((p) => Number(p.to.split('.')[3]?.split(':')[0]) - 1);
    for (const t of targets) expect(t).toBeLessThanOrEqual(20);
    expect(new Set(targets).size).toBe(targets.length);
    expect(r.node.stats.extraPingsUnanswered).toBe(0);
    expect(r.completed.length).toBe(r.node.stats.probeRtts + extras.length);
    // Measured, the 5 nearest are the true 5 (coordinates alone say so too here; the unit tests of Topology show measurement winning).
    expect(r.topology.nearest(5, Array.from({ length: 199 }, (_, k) => `m${k + 1}`)).map((e) => e.name)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
  });

  it('an unanswered extra ping is not a failed probe: no suspicion, no indirect ping, no health change; a late ack is dropped', () => {
    const late = run(199, 60_000, 'late');
    const never = run(199, 60_000, 'never');
    for (const r of [late, never]) {
      expect(r.node.stats.extraPings).toBeGreaterThanOrEqual(11);
      expect(r.node.stats.extraPingsUnanswered).toBe(r.node.stats.extraPings);
      expect(r.node.stats.probesFailed).toBe(0);
      expect(r.node.stats.suspicionsRaised).toBe(0);
      expect(r.node.healthScore).toBe(0);
      expect(r.sent.filter((m) => m.type === 'indirect-ping' || m.type === 'suspect')).toEqual([]);
      expect(r.node.countIn('alive')).toBe(200);
      // Only the probes' answers reached the delegate.
      expect(r.completed.length).toBe(r.node.stats.probeRtts);
    }
  });

  it('only extra pings ask for nearest names (Near 3); probes and every ping at 64 members are memberlist\'s', () => {
    const small = run(63, 60_000, 'answer');
    expect(small.sent.filter((m) => m.type === 'ping' && m.near !== undefined)).toEqual([]);
    const large = run(199, 60_000, 'answer');
    const pings = large.sent.filter((m) => m.type === 'ping');
    const asking = pings.filter((m) => m.type === 'ping' && m.near === 3);
    expect(asking.length).toBe(large.node.stats.extraPings);
    expect(pings.length - asking.length).toBe(large.node.stats.probes);
  });

  it('answers names only to a ping that asks; an ordinary ping\'s ack is exactly the coordinate payload', () => {
    const r = run(199, 10_000, 'answer');
    const ackTo = (near: number | undefined): Uint8Array => {
      const base = { type: 'ping' as const, seqNo: 99, node: nodeName('a'), sourceAddr: addrOf(1), sourceNode: nodeName('m1') };
      r.node.handlePacket(millis(10_001), addrOf(1), near === undefined ? base : { ...base, near });
      for (let t: Transmit | undefined = r.node.pollTransmit(); t; t = r.node.pollTransmit()) {
        if (t.kind !== 'packet') continue;
        for (const m of t.message.type === 'compound' ? t.message.parts : [t.message]) if (m.type === 'ack' && m.seqNo === 99) return m.payload ?? new Uint8Array(0);
      }
      throw new Error('no ack');
    };
    const plain = ackTo(undefined);
    expect(Buffer.from(plain).toString('hex')).toBe(Buffer.from(r.topology.ackPayload()).toString('hex'));
    expect(decodeNearNames(plain)).toEqual({ ok: true, value: [] });
    // Our 3 nearest as nearest ranks them (measured round trips settle the order), the asker (m1) left out.
    const named = decodeNearNames(ackTo(3));
    expect(named.ok && [...named.value].sort()).toEqual(['m2', 'm3', 'm4']);
  });
});
