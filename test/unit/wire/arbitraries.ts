/** fast-check generators of wire messages (ports ≥ 256: core's messageBytes counts a 3-byte Port). */
import fc from 'fast-check';
import { formatAddress, type WireAlive, type WireMessage, type WireStreamMessage, type WireVsn } from '../../../src/wire/index.js';

export const u32 = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 0xffffffff }));
export const port = fc.integer({ min: 256, max: 65535 });
export const name = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.string({ minLength: 31, maxLength: 33 }) },
);
export const nonEmptyName = name.filter((s) => s !== '');
export const addr = fc.oneof(
  fc.tuple(fc.uint8Array({ minLength: 4, maxLength: 4 }), port).map(([ip, p]) => formatAddress(ip, p)),
  fc.tuple(fc.uint8Array({ minLength: 16, maxLength: 16 }), port).map(([ip, p]) => formatAddress(ip, p)),
  port.map((p) => `[::ffff:127.0.0.1]:${p}`),
);
export const bytes = fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ minLength: 30, maxLength: 300 }));
export const optBytes = fc.option(bytes, { nil: null });
export const vsn = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)) as fc.Arbitrary<WireVsn>;

export const ping = fc.record(
  { type: fc.constant('ping' as const), seqNo: u32, node: name, sourceAddr: fc.option(addr, { nil: null }), sourceNode: fc.option(nonEmptyName, { nil: null }), near: fc.integer({ min: 1, max: 8 }) },
  { requiredKeys: ['type', 'seqNo', 'node', 'sourceAddr', 'sourceNode'] },
);
export const ack = fc.record({ type: fc.constant('ack' as const), seqNo: u32, payload: optBytes });
export const alive: fc.Arbitrary<WireAlive> = fc.record({ type: fc.constant('alive' as const), incarnation: u32, node: name, addr, meta: optBytes, vsn });

const leaf: fc.Arbitrary<WireMessage> = fc.oneof(
  ping,
  fc.record({ type: fc.constant('indirect-ping' as const), seqNo: u32, target: addr, node: name, nack: fc.boolean(), sourceAddr: fc.option(addr, { nil: null }), sourceNode: fc.option(nonEmptyName, { nil: null }) }),
  ack,
  fc.record({ type: fc.constant('nack' as const), seqNo: u32 }),
  fc.record({ type: fc.constant('suspect' as const), incarnation: u32, node: name, from: name }),
  alive,
  fc.record({ type: fc.constant('dead' as const), incarnation: u32, node: name, from: name }),
  fc.record({ type: fc.constant('user' as const), payload: bytes }),
);
export const message: fc.Arbitrary<WireMessage> = fc.oneof(
  { weight: 3, arbitrary: leaf },
  { weight: 1, arbitrary: fc.array(fc.oneof({ weight: 5, arbitrary: leaf }, { weight: 1, arbitrary: fc.array(leaf, { maxLength: 3 }).map((parts) => ({ type: 'compound' as const, parts })) }), { maxLength: 12 }).map((parts) => ({ type: 'compound' as const, parts })) },
);

export const pushPull: fc.Arbitrary<WireStreamMessage> = fc
  .record({
    join: fc.boolean(),
    entries: fc.array(fc.record({ record: alive, incarnation: u32, state: fc.nat(3) }), { maxLength: 20 }),
    userState: fc.option(fc.uint8Array({ minLength: 1, maxLength: 700 }), { nil: null }),
  })
  .map(({ join, entries, userState }) => ({
    type: 'push-pull' as const,
    join,
    records: entries.map((e) => e.record),
    incarnations: Uint32Array.from(entries, (e) => e.incarnation),
    states: Uint8Array.from(entries, (e) => e.state),
    userState,
  }));

export const streamMessage: fc.Arbitrary<WireStreamMessage> = fc.oneof(
  pushPull,
  ping,
  ack,
  fc.record({ type: fc.constant('user' as const), payload: bytes }),
  fc.record({ type: fc.constant('error' as const), error: name }),
);

/** What decode gives back for `m`: push-pull records carry the node state's incarnation. */
export function expectedStream(m: WireStreamMessage): WireStreamMessage {
  if (m.type !== 'push-pull') return m;
  return { ...m, records: m.records.map((r, i) => ({ ...r, incarnation: m.incarnations[i] as number })) };
}
