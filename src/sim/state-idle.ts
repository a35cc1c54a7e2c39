import type { StateMessage } from '../core/state/messages.js';
import type { StateCluster } from './state.js';

/**
 * The idle window of `gossip simulate state`: after the scenario converged, the cluster runs on
 * with no write until it has settled (every node idle: for `QUIET_MS` no data-layer message but an
 * idle node's root-only digest; an active node relays digests with summaries every second), then
 * for `windowMs`, and what it sends in the window is divided by the live nodes and the window's
 * seconds. What the settling cost is reported apart (`settle`). The data layer's bytes (the real encoding's lengths) by what they carried;
 * membership's beside them: the production SWIM/memberlist node (`GossipNode`, the real
 * memberlist sizes) started on every node when the settling starts, already knowing every other
 * node as alive (no join traffic), packets (probes, acks, gossip) apart from streams
 * (push-pull: memberlist's full-state exchange, O(members) bytes every 30 s × scale(n)).
 */
export interface IdleWindowResult {
  windowMs: number;
  /** Live nodes through the window. */
  nodes: number;
  /** From the heal (or the end of the writes) to the window's start. */
  startedAfterHealMs: number;
  /**
   * From the scenario's end (converged, agreement 1) until every node was idle (`settled` false:
   * it did not happen within `SETTLE_MAX_MS`; the window started anyway), and the data layer's
   * bytes per live node meanwhile (the activity writes leave behind: digest rounds, sessions,
   * stability generations until the tombstones are collected).
   */
  settle: { settled: boolean; ms: number; dataBytesPerNode: number };
  bytesPerNodePerSecond: {
    /** The data layer (`StateNode`), by what its messages carried. */
    data: { rumor: number; antiEntropy: number; digest: number; total: number };
    /** Membership (`GossipNode`): UDP packets, TCP streams (push-pull), and both. */
    membership: { packets: number; streams: number; total: number };
  };
  /** Data-layer messages sent in the window (all kinds). */
  dataMessages: number;
  /** Anti-entropy sessions started in the window (an idle node whose peers agree starts none). */
  sessionsStarted: number;
  /** Tombstones still held, summed over the live replicas, at the window's start and end. */
  tombstones: { atStart: number; atEnd: number };
}

interface Counters {
  rumor: number;
  antiEntropy: number;
  digest: number;
  sessions: number;
}

/** The live nodes' counters (no node crashes in the window, so the live set is the same at both ends). */
function counters(c: StateCluster): Counters {
  const k: Counters = { rumor: 0, antiEntropy: 0, digest: 0, sessions: 0 };
  for (const s of c.states) {
    if (s === null) continue;
    k.rumor += s.stats.rumorBytes;
    k.antiEntropy += s.stats.antiEntropyBytes;
    k.digest += s.stats.digestBytes;
    k.sessions += s.stats.sessionsStarted;
  }
  return k;
}

function tombstones(c: StateCluster): number {
  let n = 0;
  for (const s of c.states) if (s !== null) n += s.replica.tombstoneCount;
  return n;
}

/** Quiet this long (no data-layer message but idle digests) ⇒ every node is idle: an active one relays digests every second. */
export const QUIET_MS = 2_500;
/** Longest wait for the cluster to settle before the window starts anyway. */
export const SETTLE_MAX_MS = 300_000;

/** An idle node's digest: its root alone (`StateNode`'s idle mode); anything else comes from an active node. */
function idleMessage(m: StateMessage): boolean {
  return m.type === 'state-digests' && m.summaries.length === 0 && m.stability === null && m.roots.length <= 1;
}

/** Settles the cluster, then runs the idle window (see `IdleWindowResult`); `healAt` only dates its start. */
export function idleWindow(c: StateCluster, windowMs: number, healAt: number): IdleWindowResult {
  const { sim } = c;
  const settleFrom = sim.now;
  for (let i = 0; i < c.n; i++) if (c.isUp(i)) sim.startConverged(i);
  let lastBusy = sim.now;
  sim.observeDataSends((now, _i, t) => {
    if (!idleMessage(t.message)) lastBusy = now;
  });
  const s0 = counters(c);
  let settled = false;
  for (let t = sim.now + 500; t <= settleFrom + SETTLE_MAX_MS; t += 500) {
    sim.run(t);
    if (sim.now - lastBusy >= QUIET_MS) {
      settled = true;
      break;
    }
  }
  const start = sim.now;
  const before = counters(c);
  const settleBytes = before.rumor + before.antiEntropy + before.digest - s0.rumor - s0.antiEntropy - s0.digest;
  const tombAtStart = tombstones(c);
  const p0 = sim.bytes;
  const st0 = sim.streamBytes;
  const m0 = sim.dataPackets;
  sim.run(start + windowMs);
  const after = counters(c);
  const perNodeSecond = (b: number): number => Math.round((b / c.live / (windowMs / 1000)) * 10) / 10;
  const rumor = perNodeSecond(after.rumor - before.rumor);
  const antiEntropy = perNodeSecond(after.antiEntropy - before.antiEntropy);
  const digest = perNodeSecond(after.digest - before.digest);
  const data = perNodeSecond(after.rumor + after.antiEntropy + after.digest - before.rumor - before.antiEntropy - before.digest);
  const packets = perNodeSecond(sim.bytes - p0);
  const streams = perNodeSecond(sim.streamBytes - st0);
  return {
    windowMs,
    nodes: c.live,
    startedAfterHealMs: Math.round(start - healAt),
    settle: { settled, ms: Math.round(start - settleFrom), dataBytesPerNode: Math.round(settleBytes / c.live) },
    bytesPerNodePerSecond: {
      data: { rumor, antiEntropy, digest, total: data },
      membership: { packets, streams, total: perNodeSecond(sim.bytes - p0 + sim.streamBytes - st0) },
    },
    dataMessages: sim.dataPackets - m0,
    sessionsStarted: after.sessions - before.sessions,
    tombstones: { atStart: tombAtStart, atEnd: tombstones(c) },
  };
}
