import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PacketBuilder } from '../../../../src/core/broadcast/packet-builder.js';
import { address, incarnation, nodeName } from '../../../../src/core/ids.js';
import type { AliveMsg, Message } from '../../../../src/core/messages.js';
import { DEFAULT_VSN, messageBytes } from '../../../../src/core/messages.js';
import { decodeMessage, encodeMessage } from '../../../../src/wire/index.js';
import { message } from '../../wire/arbitraries.js';

/** Each membership broadcast is encoded once, however often it is piggybacked (memberlist keeps its bytes too). */
describe('encoded membership broadcasts', () => {
  it('a message encodes to the same bytes the first time, the next times, and inside compounds', () => {
    fc.assert(
      fc.property(message, (m) => {
        const first = encodeMessage(m);
        expect(encodeMessage(m)).toEqual(first);
        // A structurally equal copy (never encoded before) gives the same bytes.
        expect(encodeMessage({ ...m })).toEqual(first);
        if (m.type !== 'compound') {
          const inCompound = encodeMessage({ type: 'compound', parts: [m, m] });
          expect(decodeMessage(inCompound)).toEqual({ ok: true, value: { type: 'compound', parts: [m, m] } });
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('a queued alive replaced by a newer one about the same member is never sent stale', () => {
    const sent: Message[] = [];
    const stats = { userMessagesOut: 0, userBroadcastsDropped: 0 };
    const b = new PacketBuilder(1400, () => 100, null, stats, (_to, m) => sent.push(m));
    const alive = (inc: number, meta: number): AliveMsg => ({
      type: 'alive', node: nodeName('n1'), addr: address('127.0.0.9:7946'), incarnation: incarnation(inc), meta: Uint8Array.of(meta), vsn: DEFAULT_VSN,
    });
    const onWire = (): readonly unknown[] => {
      const m = sent.at(-1) as Message;
      const r = decodeMessage(encodeMessage(m));
      if (!r.ok) throw new Error(r.detail);
      return r.value.type === 'compound' ? r.value.parts : [r.value];
    };
    const peer = address('127.0.0.2:7946');
    const a1 = alive(1, 1);
    b.queue.enqueue('n1', a1, messageBytes(a1));
    b.gossip(peer);
    b.gossip(peer);
    expect(onWire()).toEqual([a1]);
    const a2 = alive(2, 2);
    b.queue.enqueue('n1', a2, messageBytes(a2));
    for (let i = 0; i < 3; i++) {
      expect(b.gossip(peer)).toBe(true);
      expect(onWire()).toEqual([a2]);
    }
  });
});
