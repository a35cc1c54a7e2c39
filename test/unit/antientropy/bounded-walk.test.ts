import { describe, expect, it } from 'vitest';
import type { ReconcileMessage } from '../../../src/core/antientropy/messages.js';
import type { ReconcileHost } from '../../../src/core/antientropy/session.js';
import { ReconcileSession } from '../../../src/core/antientropy/session.js';
import type { KvEntry } from './kv-host.js';
import { KvHost, kvMessageBytes, trueDiff } from './kv-host.js';

const shape = { fanout: 16, depth: 3 };
const bytesOf = (m: ReconcileMessage<KvEntry>): number => kvMessageBytes(m).total;

/** One session between a and b, each side bounded by its own host: the largest message, and whether both sides call it complete. */
function session(a: ReconcileHost<KvEntry>, b: ReconcileHost<KvEntry>, merge: [(e: KvEntry) => void, (e: KvEntry) => void]): { largest: number; complete: boolean; failed: string | null } {
  const sa = new ReconcileSession(a, 'initiator');
  const sb = new ReconcileSession(b, 'responder');
  sa.start();
  let largest = 0;
  for (let moved = true; moved; ) {
    moved = false;
    for (const [from, to] of [[sa, sb], [sb, sa]] as const) {
      for (let m = from.pollMessage(); m !== undefined; m = from.pollMessage()) {
        largest = Math.max(largest, bytesOf(m));
        to.handleMessage(m);
        moved = true;
      }
    }
  }
  for (let e = sa.pollEntry(); e !== undefined; e = sa.pollEntry()) merge[0](e);
  for (let e = sb.pollEntry(); e !== undefined; e = sb.pollEntry()) merge[1](e);
  expect(sa.complete).toBe(sb.complete); // both sides know when the walk was bounded
  return { largest, complete: sa.complete, failed: sa.error ?? sb.error };
}

describe('ReconcileSession with a bounded walk', () => {
  it('a byte budget bounds every message; sessions stay incomplete until the last one, and together repair everything', () => {
    const a = new KvHost(shape);
    const b = new KvHost(shape);
    for (let i = 0; i < 3000; i++) {
      a.set(`k${i}`, i, i);
      b.set(`k${i}`, i, i);
    }
    for (let i = 0; i < 600; i++) a.set(`a${i}`, i + 1, 7); // 600 keys only A has, spread over the leaves
    for (let i = 0; i < 600; i += 3) b.set(`k${i}`, 99_999, i); // and 200 B changed
    const unbounded = session(Object.create(a) as KvHost, Object.create(b) as KvHost, [() => undefined, () => undefined]);
    expect(unbounded.largest).toBeGreaterThan(20_000);
    // A bounds by 4 nodes per message and 800 entry bytes, B by 10 and 1,500: each follows the other's.
    const boundA = Object.assign(Object.create(a) as KvHost, { walkNodesMax: 4, entriesBytesMax: 800 });
    const boundB = Object.assign(Object.create(b) as KvHost, { walkNodesMax: 10, entriesBytesMax: 1500 });
    let sessions = 0;
    let largest = 0;
    for (;;) {
      const r = session(sessions % 2 === 0 ? boundA : boundB, sessions % 2 === 0 ? boundB : boundA, sessions % 2 === 0 ? [(e) => a.merge(e), (e) => b.merge(e)] : [(e) => b.merge(e), (e) => a.merge(e)]);
      sessions++;
      expect(r.failed).toBeNull();
      largest = Math.max(largest, r.largest);
      if (r.complete) break;
      expect(sessions).toBeLessThan(500);
    }
    expect(trueDiff(a, b)).toEqual([]);
    expect(a.tree.root()).toBe(b.tree.root());
    expect(sessions).toBeGreaterThan(10);
    expect(largest).toBeLessThan(10 * 16 * 8 + 1500 + 200);
  });
});
