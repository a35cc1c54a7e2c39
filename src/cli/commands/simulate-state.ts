import type { Command } from 'commander';
import type { StateScenarioOptions, StateScenarioResult, WriteType } from '../../sim/state.js';
import type { Io } from '../io.js';
import { parseDuration, parseFraction, parseIntIn, resolveSeed, UsageError } from '../parse.js';
import { fail, jsonOption, nodesOption, printResult, runSeeded, seedOption, wallClock } from './sim-options.js';

interface StateOpts {
  nodes: string;
  keys: string;
  writes: string;
  types: string;
  partition: string;
  loss: string;
  crash: string;
  duration?: string;
  drain: string;
  sampleEvery: string;
  idle: string;
  seed?: string;
  rumors: boolean;
  agentTuning?: boolean;
  json?: boolean;
}

function parseTypes(s: string, known: readonly WriteType[]): WriteType[] {
  const out: WriteType[] = [];
  for (const t of s.split(',').map((x) => x.trim())) {
    if (!(known as readonly string[]).includes(t)) throw new UsageError(`--types: expected a comma-separated list of ${known.join(', ')}; got '${t}'`);
    if (!out.includes(t as WriteType)) out.push(t as WriteType);
  }
  if (out.length === 0) throw new UsageError('--types: at least one type');
  return out;
}

export function registerSimulateState(simulate: Command, io: Io): void {
  simulate
    .command('state')
    .description('replicated state on every node: random writes of mixed types, a partition that heals, crashes and restarts, loss; checked against an oracle of the acknowledged writes (the full default scenario wants NODE_OPTIONS=--max-old-space-size=8000)')
    .addOption(nodesOption('200', 'nodes'))
    .option('--keys <k>', 'keys (spread over the types)', '10000')
    .option('--writes <w>', 'writes, each on a random live node and key', '50000')
    .option('--types <list>', 'write types, comma-separated: lww, counter, orset', 'lww,counter,orset')
    .option('--partition <d>', 'two random halves cut off for this long, ending when the writes end (0s: none)', '30s')
    .option('--loss <p>', 'packet loss probability', '0.05')
    .option('--crash <c>', 'nodes that crash before the partition and restart 5–15 s later with their durable state', '10')
    .option('--duration <d>', 'writes are spread over this window (default max(100s, partition + 20s))')
    .option('--drain <d>', 'longest run after the heal, waiting for convergence', '120s')
    .option('--no-rumors', 'no rumor mongering: anti-entropy alone spreads every write')
    .option('--sample-every <n>', "each node times its writes whose dot counter is a multiple of n until everyone has them (0: none)", '100')
    .option('--agent-tuning', "the agent's knobs: writes down a broadcast tree, anti-entropy after a second's grace, lighter digests (STATE_AGENT_TUNING)")
    .option('--idle <d>', 'after convergence, run on with no write for this long and report bytes per node per second (data layer and membership) and sessions started (0s: none)', '0s')
    .addOption(seedOption())
    .addOption(jsonOption())
    .action(async (o: StateOpts) => {
      // The simulator is loaded when the command runs, not when the CLI starts (issue 12).
      const { stateCommand, stateScenario, WRITE_TYPES } = await import('../../sim/state.js');
      const nodes = parseIntIn(o.nodes, '--nodes', 2, 100_000);
      const opts: StateScenarioOptions = {
        nodes,
        keys: parseIntIn(o.keys, '--keys', 1, 10_000_000),
        writes: parseIntIn(o.writes, '--writes', 0, 100_000_000),
        types: parseTypes(o.types, WRITE_TYPES),
        partitionMs: parseDuration(o.partition, '--partition'),
        loss: parseFraction(o.loss, '--loss'),
        crashes: parseIntIn(o.crash, '--crash', 0, nodes - 1),
        seed: resolveSeed(o.seed),
        ...(o.duration !== undefined ? { writeWindowMs: parseDuration(o.duration, '--duration') } : {}),
        drainMaxMs: parseDuration(o.drain, '--drain'),
        ...(o.rumors ? {} : { rumors: false }),
        sampleEvery: parseIntIn(o.sampleEvery, '--sample-every', 0, 1_000_000_000),
        idleMs: parseDuration(o.idle, '--idle'),
        ...(o.agentTuning === true ? { agentTuning: true } : {}),
      };
      if (opts.writeWindowMs !== undefined && opts.writeWindowMs < opts.partitionMs) {
        throw new UsageError(`--duration (${opts.writeWindowMs} ms) must be at least --partition (${opts.partitionMs} ms)`);
      }
      const r = runSeeded(io, opts.seed, () => stateScenario(opts, wallClock));
      const command = stateCommand(opts);
      const ok = r.converged && r.lostWrites === 0 && r.resurrected === 0;
      printResult(io, o.json, { ...r, ok, command }, summary);
      if (!ok) {
        fail(io, `FAILED (seed ${r.seed}): converged=${r.converged} lostWrites=${r.lostWrites} resurrected=${r.resurrected}; reproduce with: ${command}`, 'gossip.state.failed', 'simulation failed');
      }
    });
}

/** The text report of a state run. */
function summary(r: StateScenarioResult): string[] {
  const mb = (b: number): string => `${(b / 1048576).toFixed(1)} MiB`;
  const lines = [
    `state: ${r.nodes} nodes, ${r.keys} keys, ${r.writes} writes (${r.types.join(', ')}), seed ${r.seed}`,
    `  converged: ${r.converged ? 'yes' : 'NO'}, ${r.convergedAfterHealMs ?? '-'} ms after the heal; every node sees agreement 1 after ${r.agreementOneAfterHealMs ?? '-'} ms`,
    `  lost writes: ${r.lostWrites} (lww ${r.lostByType.lww}, counter ${r.lostByType.counter}, orset ${r.lostByType.orset}); resurrected: ${r.resurrected}; siblings max ${r.siblingsMax}`,
    `  bytes: rumors ${mb(r.rumorBytes)}, anti-entropy ${mb(r.antiEntropyBytes)}, digests ${mb(r.digestBytes)}; sessions ${r.sessions.started} (${r.sessions.timedOut} timed out); ${r.repaired} entries repaired; ${r.tombstonesCollected} tombstones collected`,
    `  sampled writes to everyone, as the writers report it: p50 ${r.timeToEveryone.p50Ms} ms, p99 ${r.timeToEveryone.p99Ms} ms (${r.timeToEveryone.samples} samples)`,
    `  the same, as the simulator sees every replica: p50 ${r.simTimeToEveryone.p50Ms} ms, p99 ${r.simTimeToEveryone.p99Ms} ms (${r.simTimeToEveryone.samples} writes); ${r.simulatedMs} ms simulated in ${r.wallMs} ms`,
  ];
  const w = r.idle;
  if (w !== null) {
    const d = w.bytesPerNodePerSecond.data;
    const m = w.bytesPerNodePerSecond.membership;
    lines.push(
      `  settled (every node idle) ${w.settle.settled ? '' : 'NOT '}after ${w.settle.ms} ms, ${w.settle.dataBytesPerNode} data bytes per node meanwhile`,
      `  idle ${w.windowMs / 1000} s (from ${w.startedAfterHealMs} ms after the heal), bytes per node per second: data ${d.total} (rumors ${d.rumor}, anti-entropy ${d.antiEntropy}, digests ${d.digest}); membership ${m.total} (packets ${m.packets}, push-pull ${m.streams}); ${w.sessionsStarted} sessions started; tombstones ${w.tombstones.atStart} → ${w.tombstones.atEnd}`,
    );
  }
  return lines;
}
