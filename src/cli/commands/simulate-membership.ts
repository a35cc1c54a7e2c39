import type { Command } from 'commander';
import type { MembershipResult } from '../../sim/membership.js';
import type { PairClass } from '../../sim/coordinate-accuracy.js';
import { parseDuration, parseFraction, parseIntIn, resolveSeed, UsageError } from '../parse.js';
import type { Io } from '../io.js';
import { parseTopologyOption } from '../topology-option.js';
import { jsonOption, lazyBar, nodesOption, parseChoice, printResult, runSeeded, seedOption, wallClock } from './sim-options.js';

const PROFILES = ['lan', 'wan', 'local'] as const;
const STALL_MODES = ['receive', 'full'] as const;

interface Opts {
  nodes: string;
  seed?: string;
  duration: string;
  loss: string;
  crash: string;
  stall: string;
  stallMin: string;
  stallMax: string;
  stallMode: string;
  joinWindow: string;
  profile: string;
  lifeguard: boolean;
  json?: boolean;
  progress: boolean;
  topology?: string;
  coordinates?: boolean;
  localRtt?: string;
  refine: boolean;
}

export function registerSimulateMembership(simulate: Command, io: Io): void {
  simulate
    .command('membership')
    .description('SWIM + Lifeguard membership on virtual time: join, crashes, loss, stalls')
    .addOption(nodesOption('1000'))
    .addOption(seedOption())
    .option('--duration <d>', 'simulated time, e.g. 600s or 10m', '600s')
    .option('--loss <p>', 'packet loss probability', '0')
    .option('--crash <k>', 'nodes that crash (between 25% and 50% of the run)', '0')
    .option('--stall <k>', 'nodes whose processing stalls repeatedly', '0')
    .option('--stall-min <d>', 'shortest stall', '14s')
    .option('--stall-max <d>', 'longest stall', '30s')
    .option('--stall-mode <m>', 'receive (packets wait, timers fire) or full (everything waits)', 'receive')
    .option('--join-window <d>', 'nodes start and join at random times within this window', '5s')
    .option('--profile <p>', 'lan, wan or local (memberlist presets)', 'lan')
    .option('--no-lifeguard', 'plain SWIM: no health awareness, fixed suspicion timeout, no buddy system')
    .option('--topology <file|preset>', 'place nodes in regions and zones with true round trips per pair: lan, geo, or a JSON file')
    .option('--coordinates', 'network coordinates in every ack (Serf\'s Vivaldi); with --topology, report their accuracy')
    .option('--local-rtt <ms>', 'with --coordinates: round trips up to this feed each node\'s local coordinate space (0: Serf\'s space only; default 5)')
    .option('--no-refine', 'with --coordinates: nearest(k) by estimate alone, no extra pings to measure the nearest candidates (the library\'s nearestRefinement: false)')
    .addOption(jsonOption())
    .option('--no-progress', 'no progress bar on stderr')
    .action(async (o: Opts) => {
      // The simulator is loaded when the command runs, not when the CLI starts (issue 12).
      const { membershipScenario, runMembership } = await import('../../sim/membership.js');
      const profile = parseChoice(o.profile, '--profile', PROFILES);
      const stallMode = parseChoice(o.stallMode, '--stall-mode', STALL_MODES);
      const nodes = parseIntIn(o.nodes, '--nodes', 1, 1_000_000);
      const seed = resolveSeed(o.seed);
      const durationMs = parseDuration(o.duration, '--duration');
      const crash = parseIntIn(o.crash, '--crash', 0, nodes);
      const stall = parseIntIn(o.stall, '--stall', 0, nodes);
      if (crash + stall > nodes) throw new UsageError('--crash plus --stall must not exceed --nodes');
      const stallMinMs = parseDuration(o.stallMin, '--stall-min');
      const stallMaxMs = parseDuration(o.stallMax, '--stall-max');
      if (stallMaxMs < stallMinMs) throw new UsageError('--stall-max must be at least --stall-min');
      const sc = membershipScenario({
        nodes, seed, durationMs, crash, stall, stallMinMs, stallMaxMs,
        stallMode,
        loss: parseFraction(o.loss, '--loss'),
        joinWindowMs: parseDuration(o.joinWindow, '--join-window'),
        profile,
        lifeguard: o.lifeguard,
        topology: o.topology !== undefined ? await parseTopologyOption(o.topology) : null,
        coordinates: o.coordinates === true,
        ...(o.localRtt !== undefined ? { localRttMs: parseLocalRtt(o.localRtt) } : {}),
        refine: o.refine,
      });
      if (!o.json) io.out(`simulating ${nodes} nodes for ${durationMs / 1000}s, profile ${profile}${o.lifeguard ? '' : ' (no lifeguard)'}, seed ${seed}`);
      const bar = o.progress && io.progress ? lazyBar((await import('cli-progress')).default) : null;
      const result = runSeeded(io, seed, () => runMembership(sc, { wallClock, ...(bar ? { onProgress: bar.update } : {}) }));
      bar?.stop();
      printResult(io, o.json, result, (r) => [summary(r)]);
    });
}

const sec = (ms: number | null): string => (ms === null ? 'n/a' : `${(ms / 1000).toFixed(1)}s`);

export function summary(r: MembershipResult): string {
  const d = r.detection;
  return [
    `nodes ${r.nodes}, seed ${r.seed}, profile ${r.profile}${r.lifeguard ? ' + lifeguard' : ' (plain SWIM)'}, ${sec(r.simulatedMs)} simulated in ${sec(r.wallMs)} wall`,
    `  join converged (everyone sees everyone alive): ${r.joinConvergedMs === null ? 'never' : sec(r.joinConvergedMs)}`,
    `  crashes: ${r.crashes}, detected by every live node: p50 ${sec(d.p50Ms)}, p99 ${sec(d.p99Ms)}, max ${sec(d.maxMs)}${d.undetected ? `, UNDETECTED ${d.undetected}` : ''}`,
    `  false suspicions: ${r.falseSuspicions} (refutations ${r.refutations}); false positives: ${r.falsePositives} live nodes declared dead (${r.falsePositivesHealthy} without injected faults, ${r.falsePositiveDeclarations} declarations)`,
    `  traffic: ${r.messages.packets} packets, ${(r.messages.bytes / 1e6).toFixed(1)} MB, ${r.messages.bytesPerNodePerSecond} B/node/s`,
    `  final agreement: ${(r.finalAgreement * 100).toFixed(1)}% of live nodes see exactly the live members; trace ${r.traceHash}`,
    ...(r.coordinates !== undefined ? coordinateLines(r.coordinates) : []),
  ].join('\n');
}

const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;

function coordinateLines(c: NonNullable<MembershipResult['coordinates']>): string[] {
  return [
    `  coordinates vs true RTT (${c.final.pairs} pairs, ${c.violators} triangle-violating hosts): median error ${pct(c.final.medianRelErr)}, p90 ${pct(c.final.p90RelErr)}; moved ${pct(c.driftRelFromHalfway)} (median) since half-way; centroid ${c.final.centroidMs.toFixed(2)} ms from the origin`,
    `  by minute (median / p90): ${c.samples.filter((s, k) => s.atMs % 60_000 === 0 && s.atMs !== c.samples[k - 1]?.atMs).map((s) => `${Math.round(s.atMs / 60_000)}m ${pct(s.medianRelErr)}/${pct(s.p90RelErr)}`).join(', ')}`,
    `  by pair (median / p90): ${PAIR_CLASS_NAMES.filter(([k]) => c.final.byClass[k] !== undefined).map(([k, name]) => `${name} ${pct(c.final.byClass[k]?.medianRelErr ?? NaN)}/${pct(c.final.byClass[k]?.p90RelErr ?? NaN)} (${c.final.byClass[k]?.pairs ?? 0})`).join(', ')}`,
    `  nearest(5): ${c.nearest5.toFixed(2)} of the true 5 nearest on average, chosen 5 ${pct(c.nearest5Penalty)} farther than the true 5 (${c.nearestChecked} nodes checked); from each node's own cache: ${c.nearest5Own.toFixed(2)}`,
  ];
}

const PAIR_CLASS_NAMES: readonly (readonly [PairClass, string])[] = [['zone', 'same zone'], ['region', 'same region'], ['wan', 'wide area']];

function parseLocalRtt(v: string): number {
  const ms = Number(v);
  if (v.trim() === '' || !Number.isFinite(ms) || ms < 0 || ms > 10_000) throw new UsageError(`--local-rtt: expected milliseconds in [0, 10000], got ${JSON.stringify(v)}`);
  return ms;
}
