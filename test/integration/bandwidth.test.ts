import { afterAll, describe, expect, it } from 'vitest';
import { freePorts } from '../../src/clusterbench/ports.js';
import { budgetForCap } from '../../src/core/state/index.js';
import type { ClusterNode } from '../../src/runtime/cluster-node.js';
import type { TransportStats } from '../../src/transport/transport.js';
import { createTestNode } from './harness.js';
import { waitFor } from './wait.js';

/**
 * Issue 12, item 8: `bandwidth` on real sockets. Four nodes on loopback, each capped at
 * 12,000 B/s, take 3 s of writes that need about twice that to reach everyone; the bytes each
 * node's transport sent (IP/UDP headers added per datagram, TCP/IP per stream segment), sampled
 * every 100 ms, never exceed the bucket's bound in any window of 1 s (burst + rate × length ≤
 * the cap), and once the writes stop every write reaches every node. Rumors are packed to a
 * datagram's payload (`rumorPacketBytesMax`), so none falls back to a stream.
 */
const N = 4;
const CAP = 12_000;
const IP_UDP = 28;
const IP_TCP = 52;

/** Bytes on the wire so far, from the transport's own counters. */
function wireBytes(s: TransportStats): number {
  const streams = s.streamsIn + s.streamsOut;
  return s.packetBytesOut + IP_UDP * s.packetsOut + s.streamBytesOut + IP_TCP * (4 * streams + Math.ceil(s.streamBytesOut / 1448));
}

describe('bandwidth cap on loopback sockets', () => {
  const nodes: ClusterNode[] = [];
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.shutdown()));
  });

  it('no 1 s window over the cap under a write load above it; every write arrives once the load drops', async () => {
    const ports = await freePorts(N);
    for (let i = 0; i < N; i++) nodes.push(await createTestNode(`b${i}`, { seed: i + 1, bind: `127.0.0.1:${ports[i]}`, bandwidth: CAP, kv: { relearn: false } }));
    await Promise.all(nodes.slice(1).map((n) => n.join([(nodes[0] as ClusterNode).addr])));
    await waitFor('every node to list all alive', 10_000, () => nodes.every((n) => n.members().filter((m) => m.status === 'alive').length === N));

    const samples: { at: number; bytes: number[] }[] = [];
    const sample = (): void => {
      samples.push({ at: performance.now(), bytes: nodes.map((n) => wireBytes(n.stats.transport)) });
    };
    sample();
    const timer = setInterval(sample, 100);
    // 3 s at about 160 writes/s over the cluster, ~100-byte values.
    const keys: string[] = [];
    const started = performance.now();
    let k = 0;
    while (performance.now() - started < 3000) {
      for (const n of nodes) {
        const key = `w${k++}`;
        keys.push(key);
        await n.kv.put(key, `value ${key} ${'x'.repeat(80)}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    const deferred = nodes.reduce((a, n) => a + (n.stats.data.budget?.deferred ?? 0), 0);
    await waitFor('every write on every node', 90_000, () => nodes.every((n) => keys.every((key) => n.kv.get(key) !== undefined)),
      () => nodes.map((n) => `${n.name}: ${keys.filter((key) => n.kv.get(key) !== undefined).length}/${keys.length}`).join(', '));
    clearInterval(timer);
    sample();

    const b = budgetForCap(CAP, 1);
    let worst = 0;
    let worstRatio = 0;
    for (let i = 0; i < samples.length; i++) {
      for (let j = i + 1; j < samples.length; j++) {
        const a = samples[i] as (typeof samples)[number];
        const z = samples[j] as (typeof samples)[number];
        const ms = z.at - a.at;
        if (ms > 1000) break;
        for (let n = 0; n < N; n++) {
          const sent = (z.bytes[n] as number) - (a.bytes[n] as number);
          const bound = b.burstBytes + (b.rateBytesPerSec * ms) / 1000;
          worst = Math.max(worst, sent);
          worstRatio = Math.max(worstRatio, sent / bound);
        }
      }
    }
    const total = nodes.map((n) => wireBytes(n.stats.transport));
    console.log(`bandwidth: ${keys.length} writes, held back ${deferred}, busiest 1 s window ${worst} B of ${CAP}, worst window / bound ${worstRatio.toFixed(3)}, sent per node ${total.join(' ')}`);
    expect(deferred).toBeGreaterThan(0);
    expect(worstRatio).toBeLessThanOrEqual(1);
    expect(worst).toBeLessThanOrEqual(CAP);
  }, 150_000);
});
