import { describe, expect, it } from 'vitest';
import type { StreamMessage } from '../../../src/core/messages.js';
import { wireCodec } from '../../../src/runtime/wire-codec.js';
import { MessageType } from '../../../src/wire/message.js';

/** A push-pull of `n` members, as a node sends it (its whole member list). */
function pushPull(n: number): StreamMessage {
  const records = Array.from({ length: n }, (_, i) => ({
    type: 'alive' as const, incarnation: 1, node: `node-${i}`, addr: `127.0.0.1:${20000 + i}`,
    meta: new TextEncoder().encode(`gc=1`), vsn: new Uint8Array([1, 5, 5, 2, 5, 4]),
  }));
  return { type: 'push-pull', join: false, records, incarnations: Uint32Array.from(records, () => 1), states: new Uint8Array(n), userState: null } as unknown as StreamMessage;
}

describe('wire codec', () => {
  it('compresses the streams it sends, as memberlist does (push-pull carries the whole member list), and reads them back', () => {
    const codec = wireCodec({ keyring: null });
    const m = pushPull(30);
    const bytes = codec.encodeStream(m);
    expect(bytes[0]).toBe(MessageType.compress);
    const plain = wireCodec({ keyring: null, compressStreams: false }).encodeStream(m);
    expect(plain[0]).toBe(MessageType.pushPull);
    expect(bytes.length).toBeLessThan(plain.length / 2);
    const d = codec.streamDecoder();
    const r = d.push(bytes) ?? d.end?.();
    expect(r?.ok).toBe(true);
    if (r?.ok !== true || r.value.type !== 'push-pull') throw new Error('not a push-pull');
    expect(r.value.records.map((x) => x.node)).toEqual(Array.from({ length: 30 }, (_, i) => `node-${i}`));
  });
});
