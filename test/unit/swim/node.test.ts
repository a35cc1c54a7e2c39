import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../src/core/config.js';
import type { NodeEvent } from '../../../src/core/events.js';
import { address, incarnation, millis, nodeName } from '../../../src/core/ids.js';
import type { AliveMsg, Message, StreamMessage } from '../../../src/core/messages.js';
import { DEFAULT_VSN, MemberState, pushPull } from '../../../src/core/messages.js';
import type { Transmit } from '../../../src/core/membership/node.js';
import { GossipNode } from '../../../src/core/membership/node.js';
import { seededRng } from '../../../src/core/rng.js';

const A = address('127.0.0.1:7001');
const B = address('127.0.0.2:7001');
const C = address('127.0.0.3:7001');
const cfg = defaultConfig('lan');

function node(name = 'a', addr = A): GossipNode {
  return new GossipNode({ name: nodeName(name), addr, config: cfg, rng: seededRng(3), now: millis(0) });
}
function rec(name: string, addr: typeof A, inc = 1): AliveMsg {
  return { type: 'alive', incarnation: incarnation(inc), node: nodeName(name), addr, meta: null, vsn: DEFAULT_VSN };
}
function drain(n: GossipNode): { tx: Transmit[]; ev: NodeEvent[] } {
  const tx: Transmit[] = [];
  const ev: NodeEvent[] = [];
  for (let t = n.pollTransmit(); t; t = n.pollTransmit()) tx.push(t);
  for (let e = n.pollEvent(); e; e = n.pollEvent()) ev.push(e);
  return { tx, ev };
}
const firstPart = (m: Message): Message => (m.type === 'compound' ? (m.parts[0] as Message) : m);
const parts = (m: Message): Message[] => (m.type === 'compound' ? [...m.parts] : [m]);

describe('GossipNode: direct answers', () => {
  it('acks a ping at the SourceAddr, with the same SeqNo', () => {
    const a = node();
    a.handlePacket(millis(10), C, { type: 'ping', seqNo: 77, node: nodeName('a'), sourceAddr: B, sourceNode: nodeName('b') });
    const { tx } = drain(a);
    expect(tx).toHaveLength(1);
    const t = tx[0] as Extract<Transmit, { kind: 'packet' }>;
    expect(t.to).toBe(B);
    expect(firstPart(t.message)).toEqual({ type: 'ack', seqNo: 77, payload: null });
  });

  it('ignores, counts and reports a ping meant for another node', () => {
    const a = node();
    a.handlePacket(millis(10), B, { type: 'ping', seqNo: 1, node: nodeName('zed'), sourceAddr: null, sourceNode: null });
    const { tx, ev } = drain(a);
    expect(tx).toHaveLength(0);
    expect(a.stats.protocolErrors).toBe(1);
    expect(ev.map((e) => e.type)).toEqual(['protocol-error']);
  });

  it('relays an indirect ping: new SeqNo to the target, ack with the ORIGINAL SeqNo to the requester', () => {
    const a = node();
    a.handlePacket(millis(10), B, { type: 'indirect-ping', seqNo: 500, target: C, node: nodeName('c'), nack: true, sourceAddr: B, sourceNode: nodeName('b') });
    const out = drain(a).tx[0] as Extract<Transmit, { kind: 'packet' }>;
    expect(out.to).toBe(C);
    const ping = firstPart(out.message);
    expect(ping.type).toBe('ping');
    if (ping.type !== 'ping') return;
    expect(ping.seqNo).not.toBe(500);
    a.handlePacket(millis(20), C, { type: 'ack', seqNo: ping.seqNo, payload: null });
    const back = drain(a).tx[0] as Extract<Transmit, { kind: 'packet' }>;
    expect(back.to).toBe(B);
    expect(firstPart(back.message)).toEqual({ type: 'ack', seqNo: 500, payload: null });
  });

  it('nacks an indirect ping whose target stays silent for probeTimeoutMs, when asked to', () => {
    const a = node();
    a.handlePacket(millis(10), B, { type: 'indirect-ping', seqNo: 9, target: C, node: nodeName('c'), nack: true, sourceAddr: null, sourceNode: null });
    drain(a);
    a.handleTimeout(millis(10 + cfg.probeTimeoutMs - 1));
    expect(drain(a).tx.filter((t) => t.kind === 'packet' && parts(t.message).some((p) => p.type === 'nack'))).toHaveLength(0);
    a.handleTimeout(millis(10 + cfg.probeTimeoutMs));
    const nacks = drain(a).tx.filter((t) => t.kind === 'packet' && parts(t.message).some((p) => p.type === 'nack'));
    expect(nacks).toHaveLength(1);
    expect((nacks[0] as Extract<Transmit, { kind: 'packet' }>).to).toBe(B);
  });
});

describe('GossipNode: bad input never throws', () => {
  it('counts a compound inside a compound and a push-pull with an unknown state, and keeps serving', () => {
    const a = node();
    const inner: Message = { type: 'compound', parts: [{ type: 'nack', seqNo: 1 }] };
    expect(() => a.handlePacket(millis(1), B, { type: 'compound', parts: [inner] })).not.toThrow();
    const bad: StreamMessage = pushPull(false, [{ record: rec('b', B), incarnation: 1, state: 7 }]);
    expect(() => a.handleStreamRequest(millis(2), B, 1, bad)).not.toThrow();
    const ragged: StreamMessage = { type: 'push-pull', join: false, records: [rec('b', B)], incarnations: new Uint32Array(0), states: new Uint8Array(1), userState: null };
    expect(() => a.handleStreamRequest(millis(2), B, 2, ragged)).not.toThrow();
    expect(a.stats.protocolErrors).toBe(3);
    expect(a.member('b')).toBeUndefined();
    const reasons = drain(a).ev.filter((e) => e.type === 'protocol-error').map((e) => (e.type === 'protocol-error' ? e.reason : ''));
    expect(reasons).toEqual(['compound-in-compound', 'malformed', 'malformed']);
    a.handlePacket(millis(3), B, { type: 'ping', seqNo: 4, node: '', sourceAddr: null, sourceNode: null });
    expect(drain(a).tx).toHaveLength(1);
  });

  it('throws for caller misuse: using a node after it stopped', () => {
    const a = node();
    a.shutdown();
    expect(() => a.join(millis(1), [B])).toThrow(/stopped/);
  });
});

describe('GossipNode: membership rules', () => {
  it('a remote "dead" in a push-pull only makes us suspect (reference §4.1)', () => {
    const a = node();
    a.restoreMembers(millis(0), [rec('b', B)]);
    a.handleStreamRequest(millis(5), C, 1, pushPull(false, [{ record: rec('b', B), incarnation: 1, state: MemberState.Dead }]));
    expect(a.member('b')?.status).toBe('suspect');
  });

  it('Lifeguard buddy system: probing a suspect sends ping + suspect in one packet', () => {
    const a = node();
    a.restoreMembers(millis(0), [rec('b', B)]);
    a.handlePacket(millis(1), C, { type: 'suspect', incarnation: incarnation(1), node: nodeName('b'), from: nodeName('c') });
    drain(a);
    let probe: Message | undefined;
    for (let t = 0; t < 5000 && probe === undefined; t += 50) {
      a.handleTimeout(millis(t));
      for (const x of drain(a).tx) if (x.kind === 'packet' && x.to === B && parts(x.message).some((p) => p.type === 'ping')) probe = x.message;
    }
    expect(probe?.type).toBe('compound');
    const ps = parts(probe as Message);
    expect(ps[0]?.type).toBe('ping');
    expect(ps[1]).toEqual({ type: 'suspect', incarnation: 1, node: 'b', from: 'a' });
  });

  it('a silent member is suspected after the probe, then declared dead after the suspicion timeout', () => {
    const a = node();
    a.restoreMembers(millis(0), [rec('b', B), rec('c', C)]);
    drain(a);
    const events: NodeEvent[] = [];
    let suspectedAt = -1;
    let deadAt = -1;
    for (let t = 0; t <= 40_000; t += 10) {
      a.handleTimeout(millis(t));
      const { tx, ev } = drain(a);
      events.push(...ev);
      // c answers everything (pings and indirect pings to b fail); b never answers.
      for (const x of tx) {
        if (x.kind === 'packet' && x.to === C) {
          for (const p of parts(x.message)) if (p.type === 'ping') a.handlePacket(millis(t), C, { type: 'ack', seqNo: p.seqNo, payload: null });
        }
        if (x.kind === 'packet' && x.to === C && parts(x.message).some((p) => p.type === 'indirect-ping')) {
          const req = parts(x.message).find((p) => p.type === 'indirect-ping');
          if (req?.type === 'indirect-ping') a.handlePacket(millis(t + 400), C, { type: 'nack', seqNo: req.seqNo });
        }
        if (x.kind === 'stream' && x.to === B) a.handleStreamReply(millis(t), x.streamId, null);
      }
      if (suspectedAt < 0 && a.member('b')?.status === 'suspect') suspectedAt = t;
      if (deadAt < 0 && a.member('b')?.status === 'dead') deadAt = t;
    }
    expect(suspectedAt).toBeGreaterThan(0);
    expect(events.some((e) => e.type === 'member-suspected' && e.member.name === 'b')).toBe(true);
    expect(events.some((e) => e.type === 'member-failed' && e.member.name === 'b')).toBe(true);
    // n = 3 ⇒ k = 0: the fixed minimum of 4 s (reference §6.3)
    expect(deadAt - suspectedAt).toBeGreaterThanOrEqual(4000 - 10);
    expect(deadAt - suspectedAt).toBeLessThanOrEqual(4000 + 10);
  });

  it('graceful leave: peers see "left", the leaver emits "left" and stops', () => {
    const a = node();
    const b = node('b', B);
    a.restoreMembers(millis(0), [rec('b', B)]);
    b.restoreMembers(millis(0), [rec('a', A)]);
    a.leave(millis(100));
    let leftSeen = false;
    for (let t = 100; t < 2000 && !a.isStopped; t += 10) {
      a.handleTimeout(millis(t));
      const { tx, ev } = drain(a);
      if (ev.some((e) => e.type === 'left')) leftSeen = true;
      for (const x of tx) if (x.kind === 'packet' && x.to === B) b.handlePacket(millis(t), A, x.message);
    }
    expect(leftSeen).toBe(true);
    expect(a.isStopped).toBe(true);
    expect(b.member('a')?.status).toBe('left');
    expect(drain(b).ev.some((e) => e.type === 'member-left' && e.member.name === 'a')).toBe(true);
  });
});

describe('GossipNode: a refutation during a probe', () => {
  it('makes the failed probe’s suspicion stale (memberlist suspects at the incarnation the probe started with)', () => {
    const a = node();
    a.restoreMembers(millis(0), [rec('b', B)]);
    drain(a);
    let probing = false;
    for (let t = 0; t < 3000 && !probing; t += 10) {
      a.handleTimeout(millis(t));
      probing = drain(a).tx.some((x) => x.kind === 'packet' && x.to === B && parts(x.message).some((p) => p.type === 'ping'));
      if (probing) {
        // b refutes an old accusation while the probe is out; then the probe fails.
        a.handlePacket(millis(t + 1), B, rec('b', B, 2));
        for (let u = t + 10; u <= t + cfg.probeIntervalMs; u += 10) {
          a.handleTimeout(millis(u));
          for (const x of drain(a).tx) if (x.kind === 'stream') a.handleStreamReply(millis(u), x.streamId, null);
        }
      }
    }
    expect(probing).toBe(true);
    expect(a.member('b')?.incarnation).toBe(2);
    expect(a.member('b')?.status).toBe('alive');
  });
});

describe('GossipNode: a joiner announces itself', () => {
  it('after the join push-pull, its own alive goes out in gossip (memberlist setAlive), once', () => {
    const a = node('a', A);
    a.join(millis(0), [B]);
    const join = drain(a).tx.find((t) => t.kind === 'stream') as Extract<Transmit, { kind: 'stream' }>;
    expect(join).toBeDefined();
    // The seed answers with itself and a third member.
    a.handleStreamReply(millis(5), join.streamId, pushPull(true, [
      { record: rec('b', B), incarnation: 1, state: MemberState.Alive },
      { record: rec('c', C), incarnation: 1, state: MemberState.Alive },
    ]));
    drain(a);
    const gossiped: Message[] = [];
    for (let t = 1; t <= 50; t++) {
      a.handleTimeout(millis(5 + t * 200));
      for (const x of drain(a).tx) if (x.kind === 'packet') gossiped.push(...parts(x.message));
    }
    const mine = gossiped.filter((m) => m.type === 'alive' && m.node === 'a');
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((m) => m.type === 'alive' && m.incarnation === 1)).toBe(true);
    expect(a.broadcastQueueLength).toBe(0); // sent its retransmit limit of times
    a.join(millis(20_000), [C]); // a second join does not queue it again
    expect(a.broadcastQueueLength).toBe(0);
  });
});

describe('GossipNode: probe round trips', () => {
  it('records the round trip of an answered probe per member and in the stats', () => {
    const a = node('a', A);
    a.restoreMembers(millis(0), [rec('b', B)]);
    drain(a);
    let ping: Extract<Message, { type: 'ping' }> | undefined;
    let sentAt = 0;
    for (let t = 0; t <= 2000 && ping === undefined; t += 10) {
      a.handleTimeout(millis(t));
      for (const x of drain(a).tx) {
        if (x.kind !== 'packet') continue;
        const p = parts(x.message).find((m) => m.type === 'ping');
        if (p?.type === 'ping') {
          ping = p;
          sentAt = t;
        }
      }
    }
    expect(ping).toBeDefined();
    expect(a.probeRttMs('b')).toBeUndefined();
    a.handlePacket(millis(sentAt + 7), B, { type: 'ack', seqNo: ping?.seqNo ?? -1, payload: null });
    expect(a.probeRttMs('b')).toBe(7);
    expect(a.stats.probeRtts).toBe(1);
    expect(a.stats.probeRttSumMs).toBe(7);
    // A late duplicate ack changes nothing.
    a.handlePacket(millis(sentAt + 50), B, { type: 'ack', seqNo: ping?.seqNo ?? -1, payload: null });
    expect(a.stats.probeRtts).toBe(1);
    expect(a.probeRttMs('nobody')).toBeUndefined();
  });
});
