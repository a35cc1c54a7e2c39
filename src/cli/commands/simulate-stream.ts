import { performance } from 'node:perf_hooks';
import type { Command } from 'commander';
import type { RumorVariant } from '../../core/dissemination/config.js';
import { DEFAULT_ADAPTIVE } from '../../core/dissemination/config.js';
import type { GossipMode } from '../../core/dissemination/mean-field.js';
import type { MembershipSource } from '../../sim/dissemination.js';
import type { Io } from '../io.js';
import { parseTopologyOption } from '../topology-option.js';
import { parseDuration, parseFraction, parseIntIn, resolveSeed, UsageError } from '../parse.js';

interface StreamOpts {
  nodes: string; writers: string; rate: string; duration: string; drain: string; mode: string; fanout: string; adaptive?: boolean;
  rumor: string; k: string; budget?: string; burst?: string; criticalShare: string; payloadBytes: string; membership: string;
  loss: string; seed?: string; json?: boolean; topology?: string;
}

const MODES: readonly GossipMode[] = ['push', 'pull', 'push-pull'];
const RUMORS: readonly RumorVariant[] = ['feedback-counter', 'feedback-coin', 'blind-counter', 'blind-coin', 'none'];

/** `gossip simulate stream`: a steady stream of updates through the full engine. */
export function registerSimulateStream(simulate: Command, io: Io): void {
  simulate
    .command('stream')
    .description('a steady stream of updates through the full engine: time until everyone has each, payloads, bytes, budget')
    .option('--nodes <n>', 'number of nodes', '1000')
    .option('--writers <w>', 'nodes that publish', '20')
    .option('--rate <r>', 'updates per second, cluster-wide', '5')
    .option('--duration <d>', 'how long updates are published', '20s')
    .option('--drain <d>', 'simulated time after the last publish', '10s')
    .option('--mode <m>', 'push, pull or push-pull', 'push-pull')
    .option('--fanout <f>', 'fixed fanout (ignored with --adaptive)', '3')
    .option('--adaptive', `adaptive fanout (${DEFAULT_ADAPTIVE.minFanout}..${DEFAULT_ADAPTIVE.maxFanout}, stop pushing at a duplicate share of ${DEFAULT_ADAPTIVE.stopAtDuplicateShare}, ${DEFAULT_ADAPTIVE.pullContacts} digest exchanges a round)`)
    .option('--rumor <v>', 'loss of interest: feedback-counter, feedback-coin, blind-counter, blind-coin or none', 'feedback-counter')
    .option('--k <k>', 'rumor k', '3')
    .option('--budget <bytes/s>', 'per-node byte budget (token bucket), membership included')
    .option('--burst <bytes>', 'token bucket burst (default: one second of budget, at least one packet)')
    .option('--critical-share <p>', 'fraction of updates flagged critical', '0')
    .option('--payload-bytes <b>', 'payload size of each update', '64')
    .option('--membership <m>', 'partners from an oracle of live nodes, or from SWIM', 'oracle')
    .option('--loss <p>', 'packet loss probability', '0')
    .option('--topology <file|preset>', 'place nodes in regions and zones with true round trips per pair: lan, geo, or a JSON file')
    .option('--seed <s>', 'seed (decimal or 0x hex); random and printed if omitted')
    .option('--json', 'print one JSON object on stdout')
    .action(async (o: StreamOpts) => {
      // The simulator is loaded when the command runs, not when the CLI starts (issue 12).
      const { streamScenario } = await import('../../sim/dissemination.js');
      const nodes = parseIntIn(o.nodes, '--nodes', 2, 100_000);
      const writers = parseIntIn(o.writers, '--writers', 1, nodes);
      const rate = Number(o.rate);
      if (!(rate > 0 && rate <= 10_000)) throw new UsageError(`--rate: expected updates per second in (0, 10000], got '${o.rate}'`);
      const durationMs = parseDuration(o.duration, '--duration');
      const drainMs = parseDuration(o.drain, '--drain');
      const mode = o.mode as GossipMode;
      if (!MODES.includes(mode)) throw new UsageError(`--mode: expected push, pull or push-pull, got '${o.mode}'`);
      const fanout = parseIntIn(o.fanout, '--fanout', 1, 64);
      const rumor = o.rumor as RumorVariant;
      if (!RUMORS.includes(rumor)) throw new UsageError(`--rumor: expected one of ${RUMORS.join(', ')}, got '${o.rumor}'`);
      const k = parseIntIn(o.k, '--k', 1, 255);
      const payloadBytes = parseIntIn(o.payloadBytes, '--payload-bytes', 0, 1200);
      const budgetRate = o.budget === undefined ? null : parseIntIn(o.budget, '--budget', 1500, 1_000_000_000);
      if (o.burst !== undefined && budgetRate === null) throw new UsageError('--burst goes with --budget');
      const burst = o.burst === undefined ? (budgetRate === null ? 0 : Math.max(1400, budgetRate)) : parseIntIn(o.burst, '--burst', 1400, 1_000_000_000);
      const criticalShare = parseFraction(o.criticalShare, '--critical-share');
      const membership = o.membership as MembershipSource;
      if (membership !== 'oracle' && membership !== 'swim') throw new UsageError(`--membership: expected oracle or swim, got '${o.membership}'`);
      const loss = parseFraction(o.loss, '--loss');
      const seed = resolveSeed(o.seed);
      const r = streamScenario({
        nodes, seed, writers, updatesPerSec: rate, durationMs, drainMs, criticalShare, payloadBytes, membership, network: { loss }, ...(o.topology !== undefined ? { latency: await parseTopologyOption(o.topology) } : {}),
        dissemination: {
          mode, fanout, rumor, rumorK: k,
          adaptive: o.adaptive === true ? DEFAULT_ADAPTIVE : null,
          budget: budgetRate === null ? null : { rateBytesPerSec: budgetRate, burstBytes: burst },
        },
      }, () => performance.now());
      const result = {
        nodes, seed, writers, updatesPerSec: rate, durationMs, drainMs, mode, fanout: o.adaptive === true ? 'adaptive' : fanout, rumor, k,
        budget: budgetRate === null ? null : { rateBytesPerSec: budgetRate, burstBytes: burst }, membership, loss, ...r,
      };
      if (o.json) {
        io.out(JSON.stringify(result));
        return;
      }
      const ms = (x: number): string => (x === Infinity ? 'never' : `${Math.round(x)} ms`);
      io.out(`${mode}, ${o.adaptive === true ? 'adaptive fanout' : `fanout ${fanout}`}, ${nodes} nodes, ${r.updates} updates, seed ${seed} (${r.wallMs} ms)`);
      io.out(`  reached everyone: ${r.reachedEveryone} of ${r.updates}; time to everyone p50 ${ms(r.timeToEveryone.p50Ms)}, p99 ${ms(r.timeToEveryone.p99Ms)}, max ${ms(r.timeToEveryone.maxMs)}`);
      if (r.criticalTimeToEveryone !== null) io.out(`  critical updates: p50 ${ms(r.criticalTimeToEveryone.p50Ms)}, p99 ${ms(r.criticalTimeToEveryone.p99Ms)}, max ${ms(r.criticalTimeToEveryone.maxMs)}`);
      io.out(`  payloads per node per update ${r.payloadsPerNodePerUpdate.toFixed(2)}; ${Math.round(r.bytesPerNodePerSec)} bytes per node per second; ${r.deferred} sends deferred by the budget`);
      if (r.budgetExcessBytes !== null) io.out(`  budget: ${r.budgetExcessBytes <= 0 ? 'never exceeded' : `EXCEEDED by ${Math.round(r.budgetExcessBytes)} bytes`}`);
    });
}
