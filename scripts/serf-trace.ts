/**
 * A behaviour fingerprint of the Serf layer (issue 18): `simulate membership` runs only the
 * memberlist core, so its trace hash says nothing about `SerfNode`. This runs a seeded
 * in-memory cluster of 15 SerfNodes (test/unit/serf/cluster.ts) through every part of it —
 * joins (one ignore-old), user events, queries with acks, relays and node/tag filters,
 * `_serf_list-keys`, data messages and broadcasts, push-pull data trailers, setTags, a graceful
 * leave, a crash, a partition and its heal (reconnect), reaping, a restart with saved clocks and
 * event buffer — under seeded packet loss, and prints a hash of every packet sent and of every
 * event, counter and member table. A refactor that keeps behaviour keeps both hashes.
 *
 *   npx tsx scripts/serf-trace.ts     → {"packets":6433,"packetHash":"0ecfc2287653","stateHash":"0ca359475673",…} (issue 18 split)
 */
import { createHash } from 'node:crypto';
import type { Millis } from '../src/core/ids.js';
import { seededRng } from '../src/core/rng.js';
import type { DataStateDelegate, SerfKeyring, SerfNode, SerfNodeOptions } from '../src/core/serf/index.js';
import { SerfCluster, bytes } from '../test/unit/serf/cluster.js';

const rng = seededRng(4242);
const c = new SerfCluster();
const keys: Uint8Array[] = [new Uint8Array(16).fill(1), new Uint8Array(16).fill(2)];
let primary: Uint8Array = keys[0] as Uint8Array;
const ring: SerfKeyring = {
  keys: () => [...keys],
  primary: () => primary,
  install: (k) => void keys.push(k),
  use: (k) => void (primary = k),
  remove: (k) => {
    if (k[0] === primary[0]) throw new Error('cannot remove primary');
    const i = keys.findIndex((x) => x[0] === k[0]);
    if (i >= 0) keys.splice(i, 1);
  },
};
const dataLog: string[] = [];
const dataState = (i: number): DataStateDelegate => ({
  localState: (join) => bytes(`state-${i}-${join}`),
  mergeRemoteState: (_now: Millis, buf, join) => void dataLog.push(`${i}:${Buffer.from(buf).toString()}:${join}`),
});
const serfCfg = { reconnectTimeoutMs: 40_000, tombstoneTimeoutMs: 50_000, reapIntervalMs: 5_000, reconnectIntervalMs: 3_000 };
const nodes: SerfNode[] = [];
for (let i = 0; i < 14; i++) {
  const opts: Partial<Omit<SerfNodeOptions, 'name' | 'addr' | 'now'>> = {
    tags: { role: i % 3 === 0 ? 'web' : 'db', idx: String(i) },
    serf: { ...serfCfg, ...(i % 5 === 4 ? { dataTag: null } : {}) },
    ...(i === 2 || i === 7 ? { keyring: ring } : {}),
    ...(i % 2 === 0 ? { dataState: dataState(i) } : {}),
  };
  nodes.push(c.add(`n${i}`, opts));
}
const n = (i: number): SerfNode => nodes[i] as SerfNode;
c.drop = () => rng.next() < 0.03;
for (let i = 1; i < nodes.length; i++) n(i).join(c.at(), [n(0).addr], i === 5 ? { ignoreOldEvents: true } : {});
c.runFor(3000);
const answered = new Set<string>();
const answer = (): void => {
  for (const node of nodes) {
    for (const e of c.eventsOf(node)) {
      if (e.type !== 'query' || answered.has(`${node.name}/${e.queryId}`)) continue;
      answered.add(`${node.name}/${e.queryId}`);
      try {
        if (!node.isStopped) node.respond(c.at(), e.queryId, bytes(`ans-${node.name}-${e.name}`));
      } catch {
        // past its deadline
      }
    }
  }
  c.flushAll();
};
for (let r = 0; r < 6; r++) {
  n(r).userEvent(c.at(), `ev${r}`, bytes(`payload-${r}`), r % 2 === 0);
  c.runFor(150);
}
n(3).query(c.at(), 'q1', bytes('x'), { requestAck: true, relayFactor: 2 });
n(4).query(c.at(), 'q2', bytes('y'), { filterTags: { role: '^web$' }, timeoutMs: 2000 });
n(6).query(c.at(), 'q3', bytes(''), { filterNodes: ['n1', 'n2', 'n6'], requestAck: true });
c.runFor(200);
answer();
c.runFor(3000);
answer();
n(1).query(c.at(), '_serf_list-keys', bytes(''), { requestAck: true });
c.runFor(2000);
n(8).sendData(c.at(), 'n10', 0x81, bytes('direct'));
n(8).sendData(c.at(), 'n4', 0x81, bytes('to-untagged'));
n(8).sendData(c.at(), 'n12', 0x82, bytes('reliable'), true);
n(10).broadcastData(0x90, bytes('bcast'));
n(9).setTags(c.at(), { role: 'cache' });
c.runFor(4000);
n(11).leave(c.at());
n(12).shutdown();
c.runFor(15_000);
// Partition n0–n6 | n7–n13, then heal: reconnect merges them again.
const side = (a: string): boolean => Number(a.split('.')[3]?.split(':')[0]) <= 7;
c.drop = (a, b) => side(a) !== side(b) || rng.next() < 0.02;
c.runFor(20_000);
n(2).userEvent(c.at(), 'during-partition', bytes('p'));
c.runFor(2000);
c.drop = () => rng.next() < 0.02;
c.runFor(30_000);
// Restart n13 with its saved clocks and event buffer.
const saved = { clocks: n(13).clocks, recent: n(13).recentEvents() };
n(13).shutdown();
c.runFor(5000);
n(0).userEvent(c.at(), 'while-down', bytes('w'));
c.runFor(1000);
const restarted = c.add('n13b', { clocks: saved.clocks, recentEvents: saved.recent, serf: serfCfg });
restarted.join(c.at(), [n(0).addr]);
nodes.push(restarted);
c.runFor(60_000);
answer();

const replacer = (_k: string, v: unknown): unknown => {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (v instanceof Map) return [...(v as Map<unknown, unknown>).entries()];
  if (typeof v === 'bigint') return v.toString();
  return v;
};
const packets = createHash('sha256');
for (const p of c.packets) packets.update(JSON.stringify(p, replacer));
const state = createHash('sha256');
for (const node of nodes) {
  state.update(JSON.stringify(c.eventsOf(node), replacer));
  state.update(JSON.stringify({
    s: node.stats, m: node.members(), cl: node.clocks, q: node.queueDepth, d: node.dataPeers().map((m) => m.name), t: node.pollTimeout(),
  }, replacer));
}
state.update(JSON.stringify(dataLog));
console.log(JSON.stringify({
  packets: c.packets.length, packetHash: packets.digest('hex').slice(0, 12), stateHash: state.digest('hex').slice(0, 12),
  events: nodes.reduce((sum, node) => sum + c.eventsOf(node).length, 0),
}));
