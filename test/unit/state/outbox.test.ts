import { describe, expect, it } from 'vitest';
import type { Millis } from '../../../src/core/ids.js';
import type { StateMessage } from '../../../src/core/state/messages.js';
import { encodeStateFrame, stateMessageBytes } from '../../../src/wire/state.js';
import { Cluster } from './harness.js';

describe('The outbox', () => {
  it('counts the bytes of every message it sends by class, each transmit carrying its encoded length', () => {
    // syncFirst: peers' roots are never known here (nothing is delivered), so sessions start
    // instead of root probes and every class of message is sent.
    const c = new Cluster(['a', 'b', 'c'], { antiEntropyIntervalMs: 200, syncFirst: true });
    c.run(5);
    const a = c.node('a');
    // What joining sent (root probes, drained by the harness) is counted already.
    let sent = a.stats.rumorBytes + a.stats.antiEntropyBytes + a.stats.digestBytes;
    a.put(6, 'k', 'v');
    for (let t = a.pollTransmit(); t !== undefined; t = a.pollTransmit()) {
      expect(t.bytes).toBe(encodeStateFrame('a', t.message).length);
      sent += t.bytes;
    }
    for (let now = 7; now < 2000; now++) {
      if ((a.pollTimeout() ?? Infinity) > now) continue;
      a.handleTimeout(now as Millis);
      for (let t = a.pollTransmit(); t !== undefined; t = a.pollTransmit()) {
        expect(t.bytes).toBe(encodeStateFrame('a', t.message).length);
        sent += t.bytes;
      }
    }
    const st = a.stats;
    expect(st.rumorBytes).toBeGreaterThan(0);
    expect(st.antiEntropyBytes).toBeGreaterThan(0);
    expect(st.digestBytes).toBeGreaterThan(0);
    expect(st.rumorBytes + st.antiEntropyBytes + st.digestBytes).toBe(sent);
    const m: StateMessage = { type: 'state-digests', roots: [{ member: 'a', atMs: 1, seq: 1, rootHi: 0, rootLo: 0 }], summaries: [], stability: null };
    // type 1 + sender (new name: 0, length, 'a') 3 + roots count 1 + member (interned: #1) 1 + time 1 + seq 1 + root 8 + summaries count 1 + no stability 1
    expect(stateMessageBytes('a', m).total).toBe(1 + 3 + 1 + 1 + 1 + 1 + 8 + 1 + 1);
  });
});
