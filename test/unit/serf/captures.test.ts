import { describe, expect, it } from 'vitest';
import { loadCaptures } from '../../fixtures/serf-captures.js';
import type { WireMessage, WireStreamMessage } from '../../../src/wire/index.js';
import { decodePacket, StreamDecoder } from '../../../src/wire/index.js';
import { decodeSerfMessage, decodeSerfTags, encodeSerfMessage, encodeSerfTags } from '../../../src/wire/serf.js';

/**
 * Every Serf payload Debian's serf sent to a fake node (test/fixtures/serf-captures): user
 * messages in packets, push-pull user state, and tags in node meta decode with our Serf
 * codec and re-encode to the same bytes (Go's map order is kept as decoded).
 */
interface Found {
  readonly where: string;
  readonly kind: 'user' | 'state' | 'meta';
  readonly bytes: Uint8Array;
}

function collect(m: WireMessage | WireStreamMessage, where: string, out: Found[]): void {
  switch (m.type) {
    case 'user':
      out.push({ where, kind: 'user', bytes: m.payload });
      return;
    case 'compound':
      m.parts.forEach((p, i) => collect(p, `${where} part ${i}`, out));
      return;
    case 'alive':
      out.push({ where, kind: 'meta', bytes: m.meta ?? new Uint8Array() });
      return;
    case 'push-pull':
      if (m.userState !== null && m.userState.length > 0) out.push({ where, kind: 'state', bytes: m.userState });
      m.records.forEach((r) => out.push({ where: `${where} ${r.node}`, kind: 'meta', bytes: r.meta ?? new Uint8Array() }));
      return;
    case 'ack':
    case 'dead':
    case 'error':
    case 'indirect-ping':
    case 'nack':
    case 'ping':
    case 'suspect':
      return;
  }
}

const found: Found[] = [];
for (const c of loadCaptures()) {
  const where = `${c.file}#${c.index} ${c.note}`;
  if (c.transport === 'udp') {
    const r = decodePacket(c.bytes, c.options);
    if (r.ok) collect(r.value, where, found);
  } else {
    const r = new StreamDecoder(c.options).push(c.bytes);
    if (r !== undefined && r.ok) collect(r.value, where, found);
  }
}

describe('serf codec against real serf captures', () => {
  it('found user messages of several Serf types, push-pull states and tags', () => {
    const types = new Set(found.filter((f) => f.kind === 'user').map((f) => f.bytes[0]));
    for (const t of [0, 1, 3, 4]) expect(types.has(t)).toBe(true);
    expect(found.some((f) => f.kind === 'state')).toBe(true);
    expect(found.some((f) => f.kind === 'meta' && f.bytes[0] === 0xff)).toBe(true);
  });

  it.each(found.filter((f) => f.kind !== 'meta').map((f) => [`${f.where} (type ${f.bytes[0]})`, f] as const))('decodes and re-encodes %s', (_n, f) => {
    const r = decodeSerfMessage(f.bytes);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    if (r.value.type === 'push-pull') {
      expect(r.value.events).toHaveLength(512);
      expect(r.value.trailer).toBeNull();
    }
    expect(Buffer.from(encodeSerfMessage(r.value)).toString('hex')).toBe(Buffer.from(f.bytes).toString('hex'));
  });

  it('tags in every captured meta decode and re-encode to the same bytes', () => {
    const metas = found.filter((f) => f.kind === 'meta' && f.bytes[0] === 0xff);
    for (const f of metas) {
      const r = decodeSerfTags(f.bytes);
      expect(r.ok).toBe(true);
      if (r.ok) expect(Buffer.from(encodeSerfTags(r.value)).toString('hex')).toBe(Buffer.from(f.bytes).toString('hex'));
    }
  });
});
