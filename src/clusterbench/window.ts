import type { BenchNode } from './bench-node.js';
import { sleep } from './bench-node.js';
import type { CapturedPacket } from './capture.js';
import { Capture, countWire } from './capture.js';
import type { CpuReading, WireCount, WireRates } from './figures.js';
import { cpuPercent, median, wireRates } from './figures.js';
import type { Launcher } from './launcher.js';
import { readCpu, readRss, readShare, ticksPerSecond } from './proc-stat.js';

/** What the agents cost in one window of time. */
export interface WindowFigures {
  /** Start of the window, seconds after the joiners were launched. */
  readonly startS: number;
  readonly durationS: number;
  readonly rssMedianBytes: number;
  readonly rssMaxBytes: number;
  /** Median PSS and private memory per agent (`parseSmapsRollup`); NaN where the kernel does not say. */
  readonly pssMedianBytes: number;
  readonly privateMedianBytes: number;
  /** % of one core, per agent (median and largest) and for all agents together. */
  readonly cpuPctMedian: number;
  readonly cpuPctMax: number;
  readonly cpuPctTotal: number;
  /** From the capture on lo; null when there was none (no tcpdump). */
  readonly wire: WireRates | null;
  readonly wireCount: WireCount | null;
}

/** Raw samples of a window, kept with `--out`. */
export interface WindowSamples {
  readonly fromMs: number;
  readonly toMs: number;
  readonly cpu: readonly { readonly name: string; readonly from: CpuReading | null; readonly to: CpuReading | null }[];
  readonly rssBytes: readonly { readonly name: string; readonly bytes: number | null }[];
  readonly share: readonly { readonly name: string; readonly pssBytes: number | null; readonly privateBytes: number | null }[];
}

export interface WindowContext {
  readonly launcher: Launcher;
  readonly tcpdump: string | null;
  /** Where the capture file goes. */
  readonly pcapFile: string;
  /** The joiners' launch, ms (the window's start is reported relative to it). */
  readonly launchMs: number;
}

/**
 * Measures `nodes` for `durationMs` starting now: CPU from /proc/PID/stat at both ends, RSS,
 * PSS and private memory at the end, and the packets on lo to or from their gossip ports (every packet once, whoever
 * sent it) between the two ends. `during` runs inside the window (a write load), if given.
 */
export async function measureWindow(nodes: readonly BenchNode[], durationMs: number, ctx: WindowContext, during?: () => Promise<void>): Promise<{ figures: WindowFigures; samples: WindowSamples }> {
  const capture = ctx.tcpdump === null ? null : await Capture.start(ctx.tcpdump, ctx.pcapFile, nodes.map((n) => n.gossipPort), (p) => ctx.launcher.track(p));
  let packets: CapturedPacket[] | null = null;
  try {
    const from = nodes.map((n) => (n.pid === null ? null : readCpu(n.pid)));
    const fromMs = Date.now();
    await Promise.all([sleep(durationMs), during?.()]);
    const to = nodes.map((n) => (n.pid === null ? null : readCpu(n.pid)));
    const toMs = Date.now();
    const rss = nodes.map((n) => (n.pid === null ? null : readRss(n.pid)));
    const share = nodes.map((n) => (n.pid === null ? null : readShare(n.pid)));
    if (capture !== null) packets = await capture.stop();
    const tps = ticksPerSecond();
    const cpu: number[] = [];
    nodes.forEach((_, i) => {
      const a = from[i], b = to[i];
      if (a != null && b != null) cpu.push(cpuPercent(a, b, tps));
    });
    const rssOk = rss.filter((x): x is number => x !== null);
    const shareOk = share.filter((x) => x !== null);
    const wireCount = packets === null ? null : countWire(packets, fromMs, toMs);
    const durationS = (toMs - fromMs) / 1000;
    return {
      figures: {
        startS: (fromMs - ctx.launchMs) / 1000,
        durationS,
        rssMedianBytes: median(rssOk),
        rssMaxBytes: rssOk.length === 0 ? NaN : Math.max(...rssOk),
        pssMedianBytes: median(shareOk.map((x) => x.pssBytes)),
        privateMedianBytes: median(shareOk.map((x) => x.privateBytes)),
        cpuPctMedian: median(cpu),
        cpuPctMax: cpu.length === 0 ? NaN : Math.max(...cpu),
        cpuPctTotal: cpu.reduce((a, b) => a + b, 0),
        wire: wireCount === null ? null : wireRates(wireCount, nodes.length, durationS),
        wireCount,
      },
      samples: {
        fromMs, toMs,
        cpu: nodes.map((n, i) => ({ name: n.name, from: from[i] ?? null, to: to[i] ?? null })),
        rssBytes: nodes.map((n, i) => ({ name: n.name, bytes: rss[i] ?? null })),
        share: nodes.map((n, i) => ({ name: n.name, pssBytes: share[i]?.pssBytes ?? null, privateBytes: share[i]?.privateBytes ?? null })),
      },
    };
  } finally {
    if (capture !== null && packets === null) await capture.stop().catch(() => []);
  }
}
