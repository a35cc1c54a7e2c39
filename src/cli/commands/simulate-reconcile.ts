import type { Command } from 'commander';
import type { Io } from '../io.js';
import { parseIntIn, resolveSeed, UsageError } from '../parse.js';
import { jsonOption, printResult, runSeeded, seedOption, wallClock } from './sim-options.js';

interface ReconcileOpts { keys: string; diff: string; fanout: string; depth?: string; valueBytes: string; seed?: string; json?: boolean }

export function registerSimulateReconcile(simulate: Command, io: Io): void {
  simulate
    .command('reconcile')
    .description('Merkle anti-entropy between two replicas that differ in --diff keys: bytes and round trips against the cost model B·d·log_B(N/d)')
    .option('--keys <n>', 'keys on each replica (the union when keys exist on one side only)', '1000000')
    .option('--diff <d>', 'keys that differ: a changed value, or present on one side only', '100')
    .option('--fanout <b>', 'Merkle fan-out B', '16')
    .option('--depth <l>', 'tree depth (default round(log_B keys): about one key per leaf)')
    .option('--value-bytes <n>', 'value bytes per entry on top of its key and 8-byte hash', '0')
    .addOption(seedOption())
    .addOption(jsonOption())
    .action(async (o: ReconcileOpts) => {
      // The simulation is loaded when the command runs, not when the CLI starts (issue 12).
      const { RECONCILE_LEAVES_MAX, reconcileDepthFor, reconcileScenario } = await import('../../sim/reconcile.js');
      const keys = parseIntIn(o.keys, '--keys', 1, 10_000_000);
      const diff = parseIntIn(o.diff, '--diff', 0, keys);
      const fanout = parseIntIn(o.fanout, '--fanout', 2, 256);
      const depth = o.depth === undefined ? reconcileDepthFor(keys, fanout) : parseIntIn(o.depth, '--depth', 1, 24);
      if (fanout ** depth > RECONCILE_LEAVES_MAX) throw new UsageError(`--fanout ${fanout} with --depth ${depth} gives ${fanout ** depth} leaves; at most ${RECONCILE_LEAVES_MAX}`);
      const valueBytes = parseIntIn(o.valueBytes, '--value-bytes', 0, 1 << 20);
      const seed = resolveSeed(o.seed);
      const result = runSeeded(io, seed, () => reconcileScenario({ keys, diff, fanout, depth, valueBytes, seed }, wallClock));
      printResult(io, o.json, result, (r) => {
        const kb = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;
        const b = r.breakdown;
        return [
          `reconcile ${keys} keys differing in ${diff}, fan-out ${fanout}, depth ${depth} (${r.leaves} leaves), seed ${seed}`,
          ...(r.error !== null ? [`  session failed: ${r.error}`] : []),
          `  found ${r.foundDiff} differing keys (${r.exact ? 'exactly the differing ones' : 'NOT exactly the differing ones'}), replicas ${r.converged ? 'equal' : 'still different'} after the exchange`,
          `  ${r.bytes} bytes (${kb(r.bytes)}) in ${r.roundTrips} round trips (${r.messages} messages): hashes ${b.hashBytes} (${r.hashes}), key lists ${b.keyListBytes}, entries ${b.entryBytes} (${r.entries}), headers ${b.headerBytes}`,
          ...(r.ratio !== null
            ? [`  cost model B·d·log_B(N/d) = ${r.formulaHashes} hashes = ${r.formulaBytes} bytes; measured without entries ${r.reconcileBytes} (${r.ratio.toFixed(3)}×), with entries ${r.ratioWithEntries?.toFixed(3)}×; expected walk ${r.expectedHashes} hashes`]
            : []),
          `  full state: ${r.fullStateBytes} bytes (${kb(r.fullStateBytes)}), ${r.fullStateRatio.toFixed(0)}× the reconciliation; build ${r.buildMs} ms, reconcile ${r.wallMs} ms`,
        ];
      });
    });
}
