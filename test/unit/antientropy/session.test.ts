import { describe, expect, it } from 'vitest';
import { reconcileLocally } from '../../../src/core/antientropy/exchange.js';
import type { ReconcileMessage } from '../../../src/core/antientropy/messages.js';
import { ReconcileSession } from '../../../src/core/antientropy/session.js';
import type { KvEntry } from './kv-host.js';
import { KvHost, kvMessageBytes, trueDiff } from './kv-host.js';

const shape = { fanout: 4, depth: 3 };

function pair(n: number): [KvHost, KvHost] {
  const a = new KvHost(shape);
  const b = new KvHost(shape);
  for (let i = 0; i < n; i++) {
    a.set(`k${i}`, i, i * 3);
    b.set(`k${i}`, i, i * 3);
  }
  return [a, b];
}

const bytesOf = (m: ReconcileMessage<KvEntry>): number => kvMessageBytes(m).total;

describe('ReconcileSession', () => {
  it('equal trees: one round trip, rc-open then rc-done, nothing else', () => {
    const [a, b] = pair(200);
    const r = reconcileLocally(a, b, (e) => a.merge(e), (e) => b.merge(e));
    expect(r.messages).toBe(2);
    expect(r.stats.roundTrips).toBe(1);
    expect(r.stats.hashes).toBe(1 + 4); // the root and the 4 level-1 hashes
    expect(r.stats.entryBytes).toBe(0);
    expect(r.differingKeys).toEqual([]);
    expect(r.error).toBeNull();
  });

  it('finds a changed key, a key only on A and a key only on B, and exchanges exactly those entries', () => {
    const [a, b] = pair(200);
    a.set('k7', 1000, 1000);
    a.set('only-a', 5, 5);
    b.set('only-b', 6, 6);
    const diff = trueDiff(a, b);
    const r = reconcileLocally(a, b, (e) => a.merge(e), (e) => b.merge(e));
    expect(r.differingKeys).toEqual(diff);
    expect(r.differingKeys).toEqual(['k7', 'only-a', 'only-b']);
    expect(a.tree.root()).toBe(b.tree.root());
    expect(trueDiff(a, b)).toEqual([]);
    // k7 travels both ways (both sides need the other's state), only-a to B, only-b to A.
    expect(r.stats.entriesSent + r.stats.entriesReceived).toBe(4);
    // depth 3: open(1) hashes(2) hashes(3 = leaves) → keys → entries+want → entries
    expect(r.messages).toBe(6);
    expect(r.stats.roundTrips).toBe(3);
  });

  it('when only A holds newer entries the exchange ends without a want (one message fewer)', () => {
    const [a, b] = pair(100);
    a.set('k3', 77, 77);
    b.delete('k3'); // B lacks k3 entirely; A has it
    const r = reconcileLocally(a, b, (e) => a.merge(e), (e) => b.merge(e));
    expect(r.differingKeys).toEqual(['k3']);
    expect(b.map.get('k3')).toEqual([77, 77]);
    expect(a.tree.root()).toBe(b.tree.root());
  });

  it('counts every byte of every message in both directions', () => {
    const [a, b] = pair(300);
    for (let i = 0; i < 300; i += 37) b.set(`k${i}`, 1, i);
    const sa = new ReconcileSession(a, 'initiator');
    const sb = new ReconcileSession(b, 'responder');
    sa.start();
    let total = 0;
    let messages = 0;
    for (let guard = 0; guard < 20 && !(sa.done && sb.done); guard++) {
      for (let m = sa.pollMessage(); m !== undefined; m = sa.pollMessage()) { total += bytesOf(m); messages++; sb.handleMessage(m); }
      for (let m = sb.pollMessage(); m !== undefined; m = sb.pollMessage()) { total += bytesOf(m); messages++; sa.handleMessage(m); }
    }
    const s = sa.stats();
    expect(s.bytesSent + s.bytesReceived).toBe(total);
    expect(s.hashBytes + s.keyListBytes + s.entryBytes + s.headerBytes).toBe(total);
    expect(sb.stats().bytesSent).toBe(s.bytesReceived);
    expect(s.messagesSent + s.messagesReceived).toBe(messages);
    expect(sa.done && sb.done).toBe(true);
  });

  it('rejects a peer with another tree shape with a clear reason, on both sides', () => {
    const a = new KvHost({ fanout: 4, depth: 3 });
    const b = new KvHost({ fanout: 16, depth: 2 });
    a.set('x', 1, 1);
    const r = reconcileLocally(a, b, (e) => a.merge(e), (e) => b.merge(e));
    expect(r.error).toMatch(/tree shape differs: peer fanout 4 depth 3, mine fanout 16 depth 2/);
    expect(r.stats.errors).toBe(1); // A counts the peer's abort
  });

  it('malformed and out-of-turn messages fail the session without throwing and are counted', () => {
    const [a] = pair(50);
    const bad: ReconcileMessage<KvEntry>[] = [
      { type: 'rc-hashes', level: 2, differ: new Uint8Array(1), hashes: new Uint32Array(0) }, // before rc-open
      { type: 'rc-open', fanout: 4, depth: 3, rootHi: 1, rootLo: 1, hashes: new Uint32Array(3) }, // wrong length
      { type: 'rc-entries', entries: [], want: new Uint8Array(9), missing: 0 },
      { type: 'rc-entries', entries: [], want: null, missing: -1 },
      { type: 'rc-keys', differ: new Uint8Array(0), counts: new Uint32Array(0), keys: [], hashes: new Uint32Array(0) },
    ];
    for (const m of bad) {
      const s = new ReconcileSession(a, 'responder');
      expect(() => s.handleMessage(m)).not.toThrow();
      expect(s.done).toBe(true);
      expect(s.error).not.toBeNull();
      expect(s.stats().errors).toBe(1);
      expect(s.pollMessage()?.type).toBe('rc-abort');
    }
  });

  it('a differ bitmap or hash count that does not match the walk fails the session', () => {
    const [a, b] = pair(100);
    b.set('k1', 9, 9);
    const sa = new ReconcileSession(a, 'initiator');
    const sb = new ReconcileSession(b, 'responder');
    sa.start();
    sb.handleMessage(sa.pollMessage() as ReconcileMessage<KvEntry>);
    const reply = sb.pollMessage();
    expect(reply?.type).toBe('rc-hashes');
    if (reply?.type !== 'rc-hashes') return;
    sa.handleMessage({ ...reply, hashes: reply.hashes.subarray(2) });
    expect(sa.error).toMatch(/carries \d+ hashes for \d+ nodes/);
  });

  it('rc-keys listing a key under a leaf it does not hash to is rejected', () => {
    const [a, b] = pair(100);
    b.set('k1', 9, 9);
    const sa = new ReconcileSession(a, 'initiator');
    const sb = new ReconcileSession(b, 'responder');
    sa.start();
    let m = sa.pollMessage();
    let keysMsg: ReconcileMessage<KvEntry> | undefined;
    let from: 'a' | 'b' = 'a';
    while (m !== undefined) {
      if (m.type === 'rc-keys') { keysMsg = m; break; }
      const to = from === 'a' ? sb : sa;
      to.handleMessage(m);
      from = from === 'a' ? 'b' : 'a';
      m = to.pollMessage();
    }
    expect(keysMsg?.type).toBe('rc-keys');
    if (keysMsg?.type !== 'rc-keys') return;
    const forged = { ...keysMsg, keys: keysMsg.keys.map(() => 'definitely-elsewhere-key-zz') };
    const receiver = from === 'a' ? sb : sa;
    receiver.handleMessage(forged);
    expect(receiver.error).toMatch(/does not belong|where it does not belong/);
  });
});

describe('ReconcileSession.complete', () => {
  it('is true on both sides after a full exchange, false on the side whose entry vanished', () => {
    const [a, b] = pair(100);
    a.set('k5', 1, 2);
    b.set('k6', 3, 4);
    const r = reconcileLocally(a, b, (e) => a.merge(e), (e) => b.merge(e));
    expect(r.error).toBeNull();
    expect(r.complete).toBe(true);
    const [c, d] = pair(100);
    c.set('k5', 1, 2);
    d.set('k6', 3, 4);
    const sc = new ReconcileSession(c, 'initiator');
    const sd = new ReconcileSession({ tree: d.tree, entryFor: (k) => (k === 'k6' ? undefined : d.entryFor(k)), messageBytes: (m: ReconcileMessage<KvEntry>) => d.messageBytes(m) }, 'responder');
    sc.start();
    for (let guard = 0; guard < 20 && !(sc.done && sd.done); guard++) {
      for (let m = sc.pollMessage(); m !== undefined; m = sc.pollMessage()) sd.handleMessage(m);
      for (let m = sd.pollMessage(); m !== undefined; m = sd.pollMessage()) sc.handleMessage(m);
    }
    expect(sc.done && sd.done).toBe(true);
    const decider = sc.differingKeys().length === 2 ? sc : sd;
    const lister = decider === sc ? sd : sc;
    expect(decider.differingKeys()).toEqual(['k5', 'k6']);
    // k6 could not be produced by d: both sides know the exchange is partial, neither failed.
    expect(sc.complete).toBe(false);
    expect(sd.complete).toBe(false);
    expect(lister.error).toBeNull();
    expect(decider.error).toBeNull();
  });
});
