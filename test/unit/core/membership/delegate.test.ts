import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../../src/core/config.js';
import type { NodeEvent } from '../../../../src/core/events.js';
import { address, incarnation, millis, nodeName } from '../../../../src/core/ids.js';
import type { Address } from '../../../../src/core/ids.js';
import type { AliveMsg, Message } from '../../../../src/core/messages.js';
import { DEFAULT_VSN, messageBytes, pushPull } from '../../../../src/core/messages.js';
import type { NodeDelegate, PushPullPeer, Transmit } from '../../../../src/core/membership/node.js';
import { GossipNode } from '../../../../src/core/membership/node.js';
import { seededRng } from '../../../../src/core/rng.js';
import { userPayloads } from '../../serf/cluster.js';
import { propertySeed } from '../../../property/seed.js';

const A = address('127.0.0.1:7946');
const B = address('127.0.0.2:7946');
const cfg = defaultConfig('lan');

function node(delegate?: NodeDelegate, packetBytesMax = cfg.packetBytesMax): GossipNode {
  return new GossipNode({
    name: nodeName('a'), addr: A, config: { ...cfg, packetBytesMax }, rng: seededRng(5), now: millis(0), ...(delegate ? { delegate } : {}),
  });
}
function rec(name: string, addr: Address): AliveMsg {
  return { type: 'alive', incarnation: incarnation(1), node: nodeName(name), addr, meta: null, vsn: DEFAULT_VSN };
}
function drain(n: GossipNode): { tx: Transmit[]; ev: NodeEvent[] } {
  const tx: Transmit[] = [];
  const ev: NodeEvent[] = [];
  for (let t = n.pollTransmit(); t; t = n.pollTransmit()) tx.push(t);
  for (let e = n.pollEvent(); e; e = n.pollEvent()) ev.push(e);
  return { tx, ev };
}
const packets = (tx: Transmit[]): Extract<Transmit, { kind: 'packet' }>[] => tx.filter((t): t is Extract<Transmit, { kind: 'packet' }> => t.kind === 'packet');
const ping = (seqNo: number): Message => ({ type: 'ping', seqNo, node: nodeName('a'), sourceAddr: B, sourceNode: nodeName('b') });

describe('GossipNode delegate: piggybacked user broadcasts', () => {
  it('asks for broadcasts after membership gossip, with the bytes left and the per-part overhead (2 + 1)', () => {
    const calls: [number, number, Address][] = [];
    const n = node({
      getBroadcasts: (overhead, limit, to) => {
        calls.push([overhead, limit, to]);
        return [new Uint8Array([3, 1, 2])];
      },
    });
    n.handlePacket(millis(1), B, ping(1));
    const [t] = packets(drain(n).tx);
    const ack = { type: 'ack', seqNo: 1, payload: null } as const;
    expect(calls).toEqual([[3, cfg.packetBytesMax - 2 - 2 - messageBytes(ack), B]]);
    expect(t?.message).toEqual({ type: 'compound', parts: [ack, { type: 'user', payload: new Uint8Array([3, 1, 2]) }] });
    expect(t?.bytes).toBe(messageBytes(t?.message as Message));
  });

  it('a delegate that overshoots the budget is cut: the packet stays within packetBytesMax, the rest is counted', () => {
    const n = node({ getBroadcasts: () => [new Uint8Array(900).fill(3), new Uint8Array(900).fill(3), new Uint8Array(0)] });
    n.handlePacket(millis(1), B, ping(1));
    const [t] = packets(drain(n).tx);
    expect(t?.bytes).toBeLessThanOrEqual(cfg.packetBytesMax);
    expect(messageBytes(t?.message as Message)).toBe(t?.bytes);
    expect(userPayloads(t?.message as Message)).toHaveLength(1);
    expect(n.stats.userBroadcastsDropped).toBe(2);
  });

  it('never more than 127 compound parts (memberlist 0.2.2 mis-parses 128+)', () => {
    const n = node({ getBroadcasts: () => Array.from({ length: 300 }, () => new Uint8Array([3])) });
    n.handlePacket(millis(1), B, ping(1));
    const [t] = packets(drain(n).tx);
    expect(t?.message.type === 'compound' ? t.message.parts.length : 0).toBe(127);
  });

  it('gossips user broadcasts on the gossip tick even when membership has nothing to say', () => {
    let pending = 3;
    const n = node({ getBroadcasts: () => (pending-- > 0 ? [new Uint8Array([3, 9])] : []) });
    n.restoreMembers(millis(0), [rec('b', B)]);
    drain(n);
    n.handleTimeout(millis(cfg.gossipIntervalMs + 1));
    const sent = packets(drain(n).tx).filter((t) => t.to === B).flatMap((t) => userPayloads(t.message));
    expect(sent.length).toBeGreaterThan(0);
  });

  it('law: whatever the delegate and the membership queue hold, every packet is within packetBytesMax and its byte count is exact', () => {
    fc.assert(fc.property(
      fc.array(fc.integer({ min: 0, max: 1500 }), { maxLength: 30 }),
      fc.integer({ min: 0, max: 40 }),
      fc.integer({ min: 200, max: 1400 }),
      (sizes, members, budget) => {
        let calls = 0;
        const n = node({ getBroadcasts: (_o, limit) => (calls++ < 5 ? sizes.map((s) => new Uint8Array(Math.min(s, limit + 10)).fill(3)) : []) }, budget);
        n.restoreMembers(millis(0), Array.from({ length: members }, (_, i) => rec(`m${i}-${'x'.repeat(i % 20)}`, address(`127.0.1.${i + 1}:7946`))));
        // Make membership gossip: suspect everyone.
        for (let i = 0; i < members; i++) n.handlePacket(millis(1), B, { type: 'suspect', incarnation: incarnation(1), node: nodeName(`m${i}-${'x'.repeat(i % 20)}`), from: nodeName('b') });
        n.handlePacket(millis(2), B, ping(2));
        n.handleTimeout(millis(cfg.gossipIntervalMs * 2));
        for (const t of packets(drain(n).tx)) {
          expect(t.bytes).toBeLessThanOrEqual(budget);
          expect(messageBytes(t.message)).toBe(t.bytes);
        }
      },
    ), { numRuns: 200, seed: propertySeed(7) });
  });
});

describe('GossipNode delegate: messages, state, acks', () => {
  it('user messages go to notifyMsg (packet and stream) instead of the user-message event', () => {
    const got: string[] = [];
    const n = node({ notifyMsg: (_now, from, p) => got.push(`${from}:${p.join(',')}`) });
    n.handlePacket(millis(1), B, { type: 'compound', parts: [{ type: 'user', payload: new Uint8Array([1]) }, { type: 'user', payload: new Uint8Array([2]) }] });
    n.handleStreamRequest(millis(2), B, 1, { type: 'user', payload: new Uint8Array([3]) });
    expect(got).toEqual([`${B}:1`, `${B}:2`, `${B}:3`]);
    expect(drain(n).ev.filter((e) => e.type === 'user-message')).toHaveLength(0);
    const bare = node();
    bare.handlePacket(millis(1), B, { type: 'user', payload: new Uint8Array([1]) });
    expect(drain(bare).ev.map((e) => e.type)).toEqual(['user-message']);
  });

  it('push-pull: localState per exchange (initiator knows the peer; responder sees the remote state), merge after the members', () => {
    const calls: string[] = [];
    const n = node({
      localState: (join, peer: PushPullPeer) => {
        calls.push(`local join=${join} ${peer.role} ${peer.role === 'initiator' ? peer.to : String(peer.remoteState?.length)}`);
        return new Uint8Array([2, 7]);
      },
      mergeRemoteState: (_now, buf, join, peer) => {
        calls.push(`merge join=${join} ${peer.role} ${buf.join(',')} known=${String(n.member('z')?.status)}`);
      },
    });
    n.join(millis(1), [B]);
    const [stream] = drain(n).tx;
    expect(stream).toMatchObject({ kind: 'stream', message: { type: 'push-pull', join: true, userState: new Uint8Array([2, 7]) } });
    const reply = pushPull(true, [{ record: rec('z', address('127.0.0.9:1')), incarnation: 1, state: 0 }], new Uint8Array([2, 9]));
    n.handleStreamReply(millis(2), (stream as Extract<Transmit, { kind: 'stream' }>).streamId, reply);
    n.handleStreamRequest(millis(3), address('127.0.0.3:5555'), 8, pushPull(false, [], new Uint8Array([2, 1, 1])));
    n.handleStreamRequest(millis(4), address('127.0.0.3:5555'), 9, pushPull(false, [], null));
    expect(calls).toEqual([
      `local join=true initiator ${B}`,
      'merge join=true initiator 2,9 known=alive',
      'local join=false responder 3',
      'merge join=false responder 2,1,1 known=alive',
      'local join=false responder undefined',
    ]);
  });

  it('an empty local state is sent as no user state', () => {
    const n = node({ localState: () => new Uint8Array(0) });
    n.join(millis(1), [B]);
    expect(drain(n).tx[0]).toMatchObject({ message: { userState: null } });
  });

  it('ack payload goes on acks of direct UDP pings only', () => {
    const n = node({ ackPayload: () => new Uint8Array([1, 2]) });
    n.handlePacket(millis(1), B, ping(4));
    expect(packets(drain(n).tx)[0]?.message).toEqual({ type: 'ack', seqNo: 4, payload: new Uint8Array([1, 2]) });
    n.handleStreamRequest(millis(2), B, 3, { type: 'ping', seqNo: 5, node: nodeName('a'), sourceAddr: null, sourceNode: null });
    expect(drain(n).tx[0]).toMatchObject({ kind: 'stream-reply', message: { type: 'ack', seqNo: 5, payload: null } });
  });

  it('notifyPingComplete: a direct probe answered before the probe timeout, with its round trip and the ack payload; not a late ack', () => {
    const calls: string[] = [];
    const n = node({ notifyPingComplete: (_now, who, rttMs, payload) => calls.push(`${who} ${rttMs} ${payload?.join(',') ?? 'null'}`) });
    n.restoreMembers(millis(0), [rec('b', B)]);
    const probe = (): { at: number; seqNo: number } => {
      for (;;) {
        const at = n.pollTimeout() as number;
        n.handleTimeout(millis(at));
        const p = packets(drain(n).tx).find((t) => t.message.type === 'ping');
        if (p !== undefined && p.message.type === 'ping') return { at, seqNo: p.message.seqNo };
      }
    };
    const first = probe();
    n.handlePacket(millis(first.at + 3), B, { type: 'ack', seqNo: first.seqNo, payload: new Uint8Array([1, 9]) });
    expect(calls).toEqual(['b 3 1,9']);
    // The next probe's ack comes after the probe timeout (the indirect phase has begun): memberlist tells its delegate nothing.
    const second = probe();
    n.handleTimeout(millis(second.at + cfg.probeTimeoutMs));
    drain(n);
    n.handlePacket(millis(second.at + cfg.probeTimeoutMs + 1), B, { type: 'ack', seqNo: second.seqNo, payload: new Uint8Array([1]) });
    expect(calls).toEqual(['b 3 1,9']);
    expect(n.stats.probeRtts).toBe(2);
  });

  it('sendUserMessage: a bare packet, or one stream whose close is quiet', () => {
    const n = node();
    n.sendUserMessage(millis(1), B, new Uint8Array([5, 5]));
    n.sendUserMessage(millis(1), B, new Uint8Array([6]), true);
    const tx = drain(n).tx;
    expect(tx[0]).toEqual({ kind: 'packet', to: B, message: { type: 'user', payload: new Uint8Array([5, 5]) }, bytes: 3 });
    expect(tx[1]).toMatchObject({ kind: 'stream', to: B, message: { type: 'user', payload: new Uint8Array([6]) } });
    n.handleStreamReply(millis(2), (tx[1] as Extract<Transmit, { kind: 'stream' }>).streamId, null);
    expect(drain(n).ev).toEqual([]);
    expect(n.stats.userMessagesOut).toBe(2);
  });
});
