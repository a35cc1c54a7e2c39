import { performance } from 'node:perf_hooks';
import type { Command } from 'commander';
import type { Io } from '../io.js';
import { parseIntIn, resolveSeed, UsageError } from '../parse.js';

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
    .option('--seed <s>', 'seed (decimal or 0x hex); random and printed if omitted')
    .option('--json', 'print one JSON object on stdout')
    .action(async (o: ReconcileOpts) => {
      // The simulation is loaded when the command runs, not when the CLI starts (issue 12).
      const { reconcileDepthFor, reconcileScenario } = await import('../../sim/reconcile.js');
      const keys = parseIntIn(o.keys, '--keys', 1, 10_000_000);
      const diff = parseIntIn(o.diff, '--diff', 0, keys);
      const fanout = parseIntIn(o.fanout, '--fanout', 2, 256);
      const depth = o.depth === undefined ? reconcileDepthFor(keys, fanout) : parseIntIn(o.depth, '--depth', 1, 24);
      if (fanout ** depth > 1 << 24) throw new UsageError(`--fanout ${fanout} with --depth ${depth} gives ${fanout ** depth} leaves; at most ${1 << 24}`);
      const valueBytes = parseIntIn(o.valueBytes, '--value-bytes', 0, 1 << 20);
      const seed = resolveSeed(o.seed);

      const result = reconcileScenario({ keys, diff, fanout, depth, valueBytes, seed }, () => performance.now());
      if (o.json) {
        io.out(JSON.stringify(result));
        return;
      }
      const kb = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;
      io.out(`reconcile ${keys} keys differing in ${diff}, fan-out ${fanout}, depth ${depth} (${result.leaves} leaves), seed ${seed}`);
      const b = result.breakdown;
      if (result.error !== null) io.out(`  session failed: ${result.error}`);
      io.out(`  found ${result.foundDiff} differing keys (${result.exact ? 'exactly the differing ones' : 'NOT exactly the differing ones'}), replicas ${result.converged ? 'equal' : 'still different'} after the exchange`);
      io.out(`  ${result.bytes} bytes (${kb(result.bytes)}) in ${result.roundTrips} round trips (${result.messages} messages): hashes ${b.hashBytes} (${result.hashes}), key lists ${b.keyListBytes}, entries ${b.entryBytes} (${result.entries}), headers ${b.headerBytes}`);
      if (result.ratio !== null) {
        io.out(`  cost model B·d·log_B(N/d) = ${result.formulaHashes} hashes = ${result.formulaBytes} bytes; measured without entries ${result.reconcileBytes} (${result.ratio.toFixed(3)}×), with entries ${result.ratioWithEntries?.toFixed(3)}×; expected walk ${result.expectedHashes} hashes`);
      }
      io.out(`  full state: ${result.fullStateBytes} bytes (${kb(result.fullStateBytes)}), ${result.fullStateRatio.toFixed(0)}× the reconciliation; build ${result.buildMs} ms, reconcile ${result.wallMs} ms`);
    });
}
