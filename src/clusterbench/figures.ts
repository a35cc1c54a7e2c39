/**
 * The cluster bench's figures as pure functions: the same definition for our agents and for
 * Serf's, so that a number in one column means what it means in the other.
 */

/** A figure across runs (or agents): its median and range. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

/**
 * The `p`-th percentile (0–100) of `values`, nearest rank: the smallest value with at least
 * p % of the values at or below it (p = 0: the minimum). NaN for no values.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile: p must be in [0, 100], got ${p}`);
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[rank - 1] as number;
}

/** The median (the mean of the two middle values for an even count). NaN for no values. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Least-squares slope of `ys` over `xs`, per unit of x (0 when every x is the same). */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += ((xs[i] as number) - mx) * ((ys[i] as number) - my);
    den += ((xs[i] as number) - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** Median and range of the finite values; null when there is none. */
export function spread(values: readonly (number | null | undefined)[]): Spread | null {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  if (v.length === 0) return null;
  return { median: median(v), min: Math.min(...v), max: Math.max(...v), n: v.length };
}

/** ours / serf; null when either is missing or serf's is 0 (a ratio to nothing says nothing). */
export function ratio(ours: number | null | undefined, serf: number | null | undefined): number | null {
  if (typeof ours !== 'number' || typeof serf !== 'number' || !Number.isFinite(ours) || !Number.isFinite(serf)) return null;
  if (serf === 0) return ours === 0 ? 1 : null;
  return ours / serf;
}

/** A process's CPU time as /proc/PID/stat reports it: user and system clock ticks, and when it was read. */
export interface CpuReading {
  readonly utimeTicks: number;
  readonly stimeTicks: number;
  /** Wall clock of the reading, ms. */
  readonly atMs: number;
}

/** CPU seconds in one reading (the process's own threads, not its waited-for children). */
export function cpuSeconds(r: CpuReading, ticksPerSecond: number): number {
  return (r.utimeTicks + r.stimeTicks) / ticksPerSecond;
}

/** Percent of one core the process used between two readings (100 = one core busy all the time). */
export function cpuPercent(a: CpuReading, b: CpuReading, ticksPerSecond: number): number {
  const wallS = (b.atMs - a.atMs) / 1000;
  if (!(wallS > 0)) throw new RangeError('cpuPercent: the second reading must come after the first');
  return ((cpuSeconds(b, ticksPerSecond) - cpuSeconds(a, ticksPerSecond)) / wallS) * 100;
}

/** When one message (a user event, a write) was sent, and when each node first had it. */
export interface Delivery {
  readonly sentAtMs: number;
  /** Node name → ms of each delivery at that node (a second entry is a duplicate). */
  readonly arrivals: ReadonlyMap<string, readonly number[]>;
}

export interface DeliveryFigures {
  /** Seconds from the send until 50, 90 and 100 % of the expected nodes had it; null if never. */
  readonly p50S: number | null;
  readonly p90S: number | null;
  readonly p100S: number | null;
  readonly reached: number;
  readonly expected: number;
  /** Deliveries beyond the first at a node, summed over the nodes. */
  readonly duplicates: number;
}

/**
 * Times until a fraction of the `expected` nodes delivered a message: the k-th earliest first
 * delivery, k = ceil(fraction × expected). Deliveries at nodes not expected are ignored, except
 * that their duplicates count.
 */
export function deliveryFigures(d: Delivery, expected: readonly string[]): DeliveryFigures {
  const firsts: number[] = [];
  let duplicates = 0;
  for (const times of d.arrivals.values()) duplicates += Math.max(0, times.length - 1);
  for (const node of expected) {
    const t = d.arrivals.get(node);
    if (t !== undefined && t.length > 0) firsts.push(Math.min(...t));
  }
  firsts.sort((a, b) => a - b);
  const at = (fraction: number): number | null => {
    const k = Math.max(1, Math.ceil(fraction * expected.length));
    const t = firsts[k - 1];
    return t === undefined ? null : Math.max(0, t - d.sentAtMs) / 1000;
  };
  return { p50S: at(0.5), p90S: at(0.9), p100S: at(1), reached: firsts.length, expected: expected.length, duplicates };
}

/** Wire traffic counted in a window: IP bytes (headers included, link layer not) and packets, UDP and TCP apart. */
export interface WireCount {
  readonly udpBytes: number;
  readonly tcpBytes: number;
  readonly udpPackets: number;
  readonly tcpPackets: number;
}

export interface WireRates {
  readonly udpBytesPerNodePerS: number;
  readonly tcpBytesPerNodePerS: number;
  readonly bytesPerNodePerS: number;
  readonly packetsPerNodePerS: number;
  /** Share of the bytes that went over TCP, 0–1. */
  readonly tcpShare: number;
}

/** Per node and per second: every packet is counted once (sent by one node), so the cluster's total over N nodes over the window. */
export function wireRates(c: WireCount, nodes: number, windowS: number): WireRates {
  if (!(nodes > 0 && windowS > 0)) throw new RangeError('wireRates: nodes and windowS must be positive');
  const per = (x: number): number => x / nodes / windowS;
  const total = c.udpBytes + c.tcpBytes;
  return {
    udpBytesPerNodePerS: per(c.udpBytes),
    tcpBytesPerNodePerS: per(c.tcpBytes),
    bytesPerNodePerS: per(total),
    packetsPerNodePerS: per(c.udpPackets + c.tcpPackets),
    tcpShare: total === 0 ? 0 : c.tcpBytes / total,
  };
}

/**
 * Wire bytes per node per write above idle: what the window's rate exceeds the idle one by, over
 * the window's real length (it lasts until the last PUT answered, longer than the write period
 * when the agents are slow to answer), divided by the writes sent. Null without both rates or writes.
 */
export function bytesPerNodePerWrite(windowPerS: number | undefined, idlePerS: number | undefined, windowS: number, writes: number): number | null {
  if (windowPerS === undefined || idlePerS === undefined || !(writes > 0)) return null;
  return ((windowPerS - idlePerS) * windowS) / writes;
}
