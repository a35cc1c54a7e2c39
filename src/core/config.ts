import type { Millis } from './ids.js';
import { millis } from './ids.js';

/**
 * Protocol configuration. Names and defaults follow memberlist v0.2.2 (reference §6.8);
 * units are suffixes, multipliers say so, and each doc comment gives the formula it feeds.
 */
export interface Config {
  /** Probe one member every `probeIntervalMs × (awareness + 1)`. */
  probeIntervalMs: number;
  /** Wait this long for a direct ack before indirect probes start. Not scaled by health. */
  probeTimeoutMs: number;
  /** Number of peers asked to ping the target when the direct probe fails (SWIM's k). */
  indirectChecks: number;
  /** Broadcast retransmit limit = `retransmitMult × ceil(log10(n + 1))`. */
  retransmitMult: number;
  /** Suspicion min = `suspicionMult × max(1, log10(max(1, n))) × probeIntervalMs`; k = suspicionMult − 2. */
  suspicionMult: number;
  /** Suspicion max = `suspicionMaxTimeoutMult × min` (Lifeguard α). */
  suspicionMaxTimeoutMult: number;
  /** Full-state push-pull every `pushPullIntervalMs × scale(n)`; scale = 1 for n ≤ 32, else ceil(log2 n − 5) + 1. 0 disables. */
  pushPullIntervalMs: number;
  /** Gossip broadcasts to `gossipNodes` random peers every `gossipIntervalMs`. */
  gossipIntervalMs: number;
  gossipNodes: number;
  /** Dead members keep receiving gossip, and stay listed, for this long before being reaped. */
  gossipToTheDeadTimeMs: number;
  /** Local health score is clamped to [0, awarenessMaxMultiplier − 1]. */
  awarenessMaxMultiplier: number;
  /** Deadline for a whole stream exchange (push-pull, fallback ping). */
  streamTimeoutMs: number;
  /** Send a stream (TCP) ping alongside indirect probes to peers that speak protocol ≥ 3. */
  disableStreamPings: boolean;
  /** A dead member's address may be reclaimed by a new node with the same name after this long; 0 = never. */
  deadNodeReclaimTimeMs: number;
  /** Byte budget of one packet (memberlist's UDPBufferSize). */
  packetBytesMax: number;
  /** Lifeguard: local health awareness, suspicion that starts at max and shrinks with confirmations, buddy system. */
  lifeguard: boolean;
  /** How long a leave waits for its own dead message to be transmitted. */
  leavePropagateMs: number;
  /**
   * Run a gossip round every `gossipIntervalMs` even when nothing is queued (memberlist's
   * ticker; the default, so simulations draw the same random numbers as before). False: no
   * round and no timer while the node and its delegate have nothing to send (an idle node wakes
   * for its probes only: the agent's setting, issue 12); the ticker keeps its phase.
   */
  gossipIdleTicks: boolean;
  /**
   * memberlist scales the push-pull interval by the members known when the wait starts (true:
   * the default, so simulations are unchanged). When it ends, re-scale by the members known then
   * and wait out the rest: a node that scheduled while its cluster was still forming does not
   * push-pull at the small cluster's rate (the agent's setting, issue 12: idle traffic flat in N).
   */
  pushPullScaleAtStart: boolean;
}

export type ProfileName = 'lan' | 'wan' | 'local';

const lan: Config = {
  probeIntervalMs: 1000,
  probeTimeoutMs: 500,
  indirectChecks: 3,
  retransmitMult: 4,
  suspicionMult: 4,
  suspicionMaxTimeoutMult: 6,
  pushPullIntervalMs: 30_000,
  gossipIntervalMs: 200,
  gossipNodes: 3,
  gossipToTheDeadTimeMs: 30_000,
  awarenessMaxMultiplier: 8,
  streamTimeoutMs: 10_000,
  disableStreamPings: false,
  deadNodeReclaimTimeMs: 0,
  packetBytesMax: 1400,
  lifeguard: true,
  leavePropagateMs: 1000,
  gossipIdleTicks: true,
  pushPullScaleAtStart: true,
};

/** memberlist's DefaultLANConfig / DefaultWANConfig / DefaultLocalConfig. */
export const PRESETS: Readonly<Record<ProfileName, Readonly<Config>>> = {
  lan,
  wan: {
    ...lan,
    streamTimeoutMs: 30_000,
    suspicionMult: 6,
    pushPullIntervalMs: 60_000,
    probeIntervalMs: 5000,
    probeTimeoutMs: 3000,
    gossipIntervalMs: 500,
    gossipNodes: 4,
    gossipToTheDeadTimeMs: 60_000,
  },
  local: {
    ...lan,
    streamTimeoutMs: 1000,
    indirectChecks: 1,
    retransmitMult: 2,
    suspicionMult: 3,
    pushPullIntervalMs: 15_000,
    probeTimeoutMs: 200,
    gossipIntervalMs: 100,
    gossipToTheDeadTimeMs: 15_000,
  },
};

export function defaultConfig(profile: ProfileName = 'lan', overrides: Partial<Config> = {}): Config {
  return validateConfig({ ...PRESETS[profile], ...overrides });
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Throws a ConfigError naming the first field that is out of range. */
export function validateConfig(c: Config): Config {
  const positive: (keyof Config)[] = [
    'probeIntervalMs', 'probeTimeoutMs', 'gossipIntervalMs', 'streamTimeoutMs',
    'retransmitMult', 'suspicionMult', 'suspicionMaxTimeoutMult', 'awarenessMaxMultiplier',
  ];
  for (const k of positive) {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new ConfigError(`${k} must be a positive number, got ${String(v)}`);
  }
  const nonNegative: (keyof Config)[] = ['indirectChecks', 'gossipNodes', 'pushPullIntervalMs', 'gossipToTheDeadTimeMs', 'deadNodeReclaimTimeMs', 'leavePropagateMs'];
  for (const k of nonNegative) {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ConfigError(`${k} must be a non-negative number, got ${String(v)}`);
  }
  if (c.probeTimeoutMs > c.probeIntervalMs) throw new ConfigError('probeTimeoutMs must not exceed probeIntervalMs');
  if (c.packetBytesMax < 128) throw new ConfigError('packetBytesMax must be at least 128');
  return c;
}

/** Retransmit limit of a broadcast: `retransmitMult × ceil(log10(n + 1))`. */
export function retransmitLimit(retransmitMult: number, n: number): number {
  return retransmitMult * Math.ceil(Math.log10(n + 1));
}

/** memberlist's pushPullScale: the interval grows with log2 of the cluster size above 32 nodes. */
export function pushPullScale(intervalMs: number, n: number): Millis {
  const threshold = 32;
  if (n <= threshold) return millis(intervalMs);
  const mult = Math.ceil(Math.log2(n) - Math.log2(threshold)) + 1;
  return millis(intervalMs * mult);
}
