import { describe, expect, it } from 'vitest';
import { address } from '../../../src/core/ids.js';
import type { SerfKeyring } from '../../../src/core/serf/keyring.js';
import { encodeBase64 } from '../../../src/core/serf/keyring.js';
import type { SerfNode } from '../../../src/core/serf/index.js';
import { encodeSerfMessage } from '../../../src/wire/serf.js';
import { SerfCluster, codec, deliver, ofType, trio, userPayloads } from './cluster.js';

class FakeKeyring implements SerfKeyring {
  constructor(public ks: Uint8Array[]) {}
  keys(): Uint8Array[] {
    return this.ks;
  }
  primary(): Uint8Array | null {
    return this.ks[0] ?? null;
  }
  install(key: Uint8Array): void {
    if (![16, 24, 32].includes(key.length)) throw new Error('key size must be 16, 24 or 32 bytes');
    if (!this.ks.some((k) => Buffer.from(k).equals(key))) this.ks.push(key);
  }
  use(key: Uint8Array): void {
    const i = this.ks.findIndex((k) => Buffer.from(k).equals(key));
    if (i < 0) throw new Error('Requested key is not in the keyring');
    this.ks = [key, ...this.ks.filter((_, j) => j !== i)];
  }
  remove(key: Uint8Array): void {
    if (this.ks[0] !== undefined && Buffer.from(this.ks[0]).equals(key)) throw new Error('Removing the primary key is not allowed');
    this.ks = this.ks.filter((k) => !Buffer.from(k).equals(key));
  }
}

describe('SerfNode: internal queries', () => {
  const k1 = new Uint8Array(32).fill(1);
  const k2 = new Uint8Array(16).fill(2);

  function keyQuery(c: SerfCluster, to: SerfNode, from: SerfNode, name: string, key: Uint8Array | null, ltime: number): unknown[] {
    const start = c.packets.length;
    const payload = key === null ? null : codec.encode({ type: 'key-request', key });
    deliver(c, to, from, encodeSerfMessage({
      type: 'query', ltime, id: ltime, addr: address('127.0.0.99:7000'), sourceNode: 'serf', filters: [], flags: 1, relayFactor: 0, timeoutMs: 2000,
      name, payload,
    }));
    return c.packets.slice(start).filter((p) => p.to === '127.0.0.99:7000').flatMap((p) => userPayloads(p.message)).map((u) => {
      const r = codec.decode(u);
      if (!r.ok || r.value.type !== 'query-response') return r;
      const inner = r.value.payload === null ? null : codec.decode(r.value.payload);
      return { flags: r.value.flags, body: inner !== null && inner.ok ? inner.value : inner };
    });
  }

  it('_serf_ping is acked and not shown to the application', () => {
    const { c, a, b } = trio();
    const out = keyQuery(c, b, a, '_serf_ping', null, 50);
    expect(out).toEqual([{ flags: 1, body: null }]);
    expect(ofType(c.eventsOf(b), 'query')).toHaveLength(0);
  });

  it('list-keys answers the keys in base64 and the primary key', () => {
    const c = new SerfCluster();
    const ring = new FakeKeyring([k1, k2]);
    const a = c.add('a');
    const b = c.add('b', { keyring: ring });
    const out = keyQuery(c, b, a, '_serf_list-keys', null, 60);
    expect(out[1]).toEqual({
      flags: 0, body: { type: 'key-response', result: true, message: '', keys: [encodeBase64(k1), encodeBase64(k2)], primaryKey: encodeBase64(k1) },
    });
    expect(encodeBase64(k2)).toBe(Buffer.from(k2).toString('base64'));
  });

  it('install, use, remove go to the keyring; errors travel back in Message', () => {
    const c = new SerfCluster();
    const ring = new FakeKeyring([k1]);
    const a = c.add('a');
    const b = c.add('b', { keyring: ring });
    expect(keyQuery(c, b, a, '_serf_install-key', k2, 70)[1]).toMatchObject({ body: { result: true, message: '' } });
    expect(ring.ks).toHaveLength(2);
    expect(keyQuery(c, b, a, '_serf_use-key', k2, 71)[1]).toMatchObject({ body: { result: true } });
    expect(ring.primary()).toEqual(k2);
    expect(keyQuery(c, b, a, '_serf_remove-key', k2, 72)[1]).toMatchObject({ body: { result: false, message: 'Removing the primary key is not allowed' } });
    expect(keyQuery(c, b, a, '_serf_remove-key', k1, 73)[1]).toMatchObject({ body: { result: true } });
    expect(ring.ks).toEqual([k2]);
    expect(keyQuery(c, b, a, '_serf_install-key', new Uint8Array(5), 74)[1]).toMatchObject({ body: { result: false, message: 'key size must be 16, 24 or 32 bytes' } });
    expect(ofType(c.eventsOf(b), 'keyring-change').map((e) => e.op)).toEqual(['install', 'use', 'remove']);
  });

  it('without a keyring, key queries answer like a serf agent without encryption', () => {
    const { c, a, b } = trio();
    expect(keyQuery(c, b, a, '_serf_list-keys', null, 80)[1]).toMatchObject({ body: { result: false, message: 'Keyring is empty (encryption not enabled)' } });
    expect(keyQuery(c, b, a, '_serf_install-key', k1, 81)[1]).toMatchObject({ body: { result: false, message: 'No keyring to modify (encryption not enabled)' } });
  });

  it('a long key list is truncated to fit the 1024-byte response limit, saying so', () => {
    const c = new SerfCluster();
    const ring = new FakeKeyring(Array.from({ length: 40 }, (_, i) => new Uint8Array(32).fill(i)));
    const a = c.add('a');
    const b = c.add('b', { keyring: ring });
    const out = keyQuery(c, b, a, '_serf_list-keys', null, 90)[1] as { body: { keys: string[]; message: string } };
    expect(out.body.keys.length).toBeLessThan(40);
    expect(out.body.keys.length).toBeGreaterThan(10);
    expect(out.body.message).toBe(`truncated key list response, showing first ${out.body.keys.length} of 40 keys`);
  });
});
