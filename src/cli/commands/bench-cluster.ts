import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import type { BenchOptions } from '../../clusterbench/scenario.js';
import type { Io } from '../io.js';
import { parseDuration, parseIntIn, resolveSeed, UsageError } from '../parse.js';
import { fail, jsonOption, parseChoice, printResult, seedOption, withSignals } from './sim-options.js';

const PROFILES = ['lan', 'local', 'wan'] as const;

interface BenchClusterFlags {
  nodes: string; runs?: string; events?: string; eventInterval?: string; deliveryTimeout?: string; steady?: string; late?: boolean;
  lateAfter?: string; profile?: string; encrypt?: string | boolean; against?: string; config?: string; agentArg?: string[]; json?: boolean;
  out?: string; seed?: string; churn?: boolean; writes?: string; poll?: string; joinTimeout?: string; failTimeout?: string; failure?: boolean; runningJoin?: boolean;
}

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

/** `--poll`: at least 10 ms (every agent is asked every step; a finer one would load the agents it measures). */
function pollStep(s: string): number {
  const ms = parseDuration(s, '--poll');
  if (ms < 10) throw new UsageError(`--poll: at least 10ms, got '${s}'`);
  return ms;
}

/** `10,30,64` → [10, 30, 64]. */
export function parseNodeList(s: string): number[] {
  const parts = s.split(',').map((x) => x.trim()).filter((x) => x.length > 0);
  if (parts.length === 0) throw new UsageError(`--nodes: expected sizes like 10 or 10,30,64, got '${s}'`);
  return parts.map((p) => parseIntIn(p, '--nodes', 2, 500));
}

/**
 * `gossip bench cluster`: N real `gossip agent` processes (and N `serf agent` beside them with
 * `--against serf`) on 127.0.0.1, measured from outside. The heavy code is loaded only when
 * the command runs.
 */
export function registerBenchCluster(bench: Command, io: Io): void {
  bench
    .command('cluster')
    .description('run N real agents on 127.0.0.1 (and N serf agents with --against serf) and print what each costs, side by side')
    .requiredOption('--nodes <n[,n2,...]>', 'cluster sizes, each measured in turn')
    .option('--runs <r>', 'runs per size and side (serf and ours interleaved)', '1')
    .option('--events <e>', 'user events, each from a random node', '20')
    .option('--event-interval <d>', 'gap between two events', '100ms')
    .option('--delivery-timeout <d>', 'wait at most this long after the last event for deliveries', '15s')
    .option('--steady <d>', 'the steady window after the join', '20s')
    .option('--late', 'measure a second window starting at least 70 s after launch (after the first full push-pull)')
    .option('--late-after <d>', 'start of the late window after the joiners are launched', '70s')
    .option('--profile <p>', 'timing profile for both sides: lan, local or wan', 'lan')
    .option('--encrypt [key]', 'encrypt gossip on both sides with this base64 key (default: a fresh 32-byte key)')
    .option('--against <impl>', 'measure the same against: serf')
    .option('--config <file>', 'a JSON config file for our agents (gossip agent --config)')
    .option('--agent-arg <arg>', 'an argument for every gossip agent; repeatable (e.g. --agent-arg --log-level --agent-arg warn)', collect)
    .option('--churn', 'while a second batch of events streams, one agent joins and one is killed -9 and restarted')
    .option('--writes <rate>', 'ours only: PUT writes per second spread over the nodes, for a window as long as --steady')
    .option('--no-running-join', 'skip the join among running agents (all N launched without a join and answering, then the N−1 asked to join node 0 at once: the protocol\'s join without process start-up)')
    .option('--poll <d>', 'ask every agent for its members this often while timing the joins and the failure: their step (a join shorter than it reads as one step)', '200ms')
    .option('--join-timeout <d>', 'give up waiting for the join after this long', '180s')
    .option('--fail-timeout <d>', 'give up waiting for every survivor to report the killed node after this long', '60s')
    .option('--no-failure', 'skip the kill -9 at the end')
    .addOption(seedOption('seed of the random choices (senders, victims); printed', '--seed <n>'))
    .addOption(jsonOption('print the report as one JSON object'))
    .option('--out <dir>', 'keep raw samples, agent logs and captures in this directory')
    .action(async (f: BenchClusterFlags) => {
      const profile = parseChoice(f.profile ?? 'lan', '--profile', PROFILES);
      if (f.against !== undefined && f.against !== 'serf') throw new UsageError(`--against: only serf is supported, got '${f.against}'`);
      let encryptKey: string | null = null;
      if (f.encrypt === true) encryptKey = randomBytes(32).toString('base64');
      else if (typeof f.encrypt === 'string') {
        const n = Buffer.from(f.encrypt, 'base64').length;
        if (![16, 24, 32].includes(n)) throw new UsageError('--encrypt: expected a base64 key of 16, 24 or 32 bytes');
        encryptKey = f.encrypt;
      }
      const seed = resolveSeed(f.seed);
      const options: BenchOptions = {
        nodes: parseNodeList(f.nodes),
        runs: parseIntIn(f.runs ?? '1', '--runs', 1, 100),
        events: parseIntIn(f.events ?? '20', '--events', 0, 100_000),
        eventIntervalMs: parseDuration(f.eventInterval ?? '100ms', '--event-interval'),
        deliveryTimeoutMs: parseDuration(f.deliveryTimeout ?? '15s', '--delivery-timeout'),
        steadyMs: Math.max(1, parseDuration(f.steady ?? '20s', '--steady')),
        late: f.late === true,
        lateAfterMs: parseDuration(f.lateAfter ?? '70s', '--late-after'),
        profile,
        encryptKey,
        against: f.against === 'serf' ? 'serf' : null,
        config: f.config ?? null,
        agentArgs: f.agentArg ?? [],
        seed,
        churn: f.churn === true,
        writes: f.writes === undefined ? null : parseIntIn(f.writes, '--writes', 1, 100_000),
        runningJoin: f.runningJoin !== false,
        pollMs: pollStep(f.poll ?? '200ms'),
        joinTimeoutMs: parseDuration(f.joinTimeout ?? '180s', '--join-timeout'),
        failTimeoutMs: parseDuration(f.failTimeout ?? '60s', '--fail-timeout'),
        failure: f.failure !== false,
        out: f.out ?? null,
      };
      const { runClusterBench, BenchSetupError } = await import('../../clusterbench/bench.js');
      const { renderReport } = await import('../../clusterbench/report.js');
      io.err(`bench cluster: seed ${seed}`);
      let stop: (() => Promise<void>) | null = null;
      const onSignal = (): void => {
        io.err('interrupted: stopping every agent the bench started');
        void (stop?.() ?? Promise.resolve()).finally(() => process.exit(130));
      };
      await withSignals(onSignal, async () => {
        try {
          const report = await runClusterBench(options, { progress: (l) => io.err(l), onLauncher: (s) => (stop = s) });
          printResult(io, f.json, report, (r) => renderReport(r, options.events));
          if (report.sizes.some((s) => s.runs.some((r) => r.error !== null))) fail(io, 'error: some runs stopped early (see the notes)', 'gossip.bench', 'some runs stopped early');
        } catch (e) {
          if (e instanceof BenchSetupError) throw new UsageError(e.message);
          throw e;
        }
      }, true);
    });
}
