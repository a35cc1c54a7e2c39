import type { Command } from 'commander';
import type { Io } from '../io.js';
import { parseIntIn, resolveSeed } from '../parse.js';

interface ViewsOpts { nodes: string; loss: string; settle: string; scenario: string; joiners?: string; split: string; phaseMax: string; seed?: string; json?: boolean }

export function registerSimulateViews(simulate: Command, io: Io): void {
  simulate
    .command('views')
    .description('agreed membership views and the partition side (issue 16): join/crash/leave to a stable view, and 70/30, 50/50 splits then heal')
    .option('--nodes <n>', 'cluster size', '1000')
    .option('--loss <p>', 'packet loss probability', '0.02')
    .option('--settle <ms>', 'settle time of a stable view', '2000')
    .option('--scenario <s>', 'changes | partitions | both | join-wave (what view notes cost while nodes join and after)', 'both')
    .option('--joiners <n>', 'join-wave: nodes that join (default: a tenth of --nodes)')
    .option('--split <s>', 'partitions: 70 (70/30), 50 (50/50) or both, one after the other', 'both')
    .option('--phase-max <ms>', 'give up waiting for a phase (a first stable view, everyone stable after a change or a heal) after this long', '180000')
    .option('--seed <s>', 'seed (decimal or 0x hex); random and printed if omitted')
    .option('--json', 'print one JSON object per scenario on stdout')
    .action(async (o: ViewsOpts) => {
      const { runPartitions, runViewChanges } = await import('../../sim/views.js');
      const nodes = parseIntIn(o.nodes, '--nodes', 5, 100_000);
      const loss = Number(o.loss);
      if (!(loss >= 0 && loss < 1)) throw new Error(`--loss ${o.loss}: a probability in [0, 1)`);
      const settleMs = parseIntIn(o.settle, '--settle', 0, 600_000);
      const seed = resolveSeed(o.seed);
      const phaseMaxMs = parseIntIn(o.phaseMax, '--phase-max', 1000, 3_600_000);
      const sc = { nodes, loss, settleMs, seed, phaseMaxMs };
      const SPLITS: Readonly<Record<string, readonly number[]>> = { 70: [0.7], 50: [0.5], both: [0.7, 0.5] };
      const splits = SPLITS[o.split];
      if (splits === undefined) throw new Error(`--split ${o.split}: one of 70, 50, both`);
      const ms = (x: number | null): string => (x === null ? '-' : `${(x / 1000).toFixed(2)} s`);
      if (!['changes', 'partitions', 'both', 'join-wave'].includes(o.scenario)) throw new Error(`--scenario ${o.scenario}: one of changes, partitions, both, join-wave`);
      if (o.scenario === 'join-wave') {
        const { runJoinWave } = await import('../../sim/views-join-wave.js');
        const joiners = o.joiners === undefined ? Math.max(1, Math.round(nodes / 10)) : parseIntIn(o.joiners, '--joiners', 1, nodes - 3);
        const r = runJoinWave({ ...sc, joiners });
        if (o.json) io.out(JSON.stringify(r));
        else {
          const b = (x: number): string => x.toFixed(1);
          io.out(`join wave: ${joiners} of ${nodes} nodes join within 2 s, loss ${loss}, settle ${settleMs} ms, seed ${seed}; one stable view everywhere ${ms(r.stableMs)} after the wave started; notes on the settled cluster before it: ${r.notesBefore}`);
          for (const [label, w] of [['during', r.during], ['after', r.after]] as const) {
            io.out(`  ${label.padEnd(6)} (${ms(w.ms)}): view notes ${b(w.notesPerNodeS)}/s per node, ${b(w.piggybackedBytesPerNodeS)} B/s piggybacked + ${b(w.directBytesPerNodeS)} B/s on their own (${b(w.directNotesPerNodeS)}/s); all packets ${b(w.packetBytesPerNodeS)} B/s, streams ${b(w.streamBytesPerNodeS)} B/s per node`);
          }
          io.out(`  checker: ${r.checker.checks} stable reports checked, ${r.checker.violations} contradicted${r.checker.firstViolation !== null ? ` (first: ${r.checker.firstViolation})` : ''}`);
        }
        return;
      }
      if (o.scenario === 'changes' || o.scenario === 'both') {
        const r = runViewChanges(sc);
        if (o.json) io.out(JSON.stringify(r));
        else {
          io.out(`views: ${nodes} nodes, loss ${loss}, settle ${settleMs} ms, seed ${seed}; first stable view at ${ms(r.initialStableMs)}`);
          for (const c of r.changes) {
            io.out(`  ${c.change.padEnd(5)} spread p50 ${ms(c.spread.p50Ms)} p99 ${ms(c.spread.p99Ms)} max ${ms(c.spread.maxMs)} | stable p50 ${ms(c.stable.p50Ms)} p99 ${ms(c.stable.p99Ms)} max ${ms(c.stable.maxMs)} | last stable − spread ${ms(c.afterSpreadMs)} | missing ${c.missing}, distinct stable views ${c.distinctStable}`);
          }
          io.out(`  checker: ${r.checker.checks} stable reports checked, ${r.checker.violations} contradicted${r.checker.firstViolation !== null ? ` (first: ${r.checker.firstViolation})` : ''}; notes ${r.notes} (${r.noteBytes} bytes) over ${ms(r.simulatedMs)}`);
        }
      }
      if (o.scenario === 'partitions' || o.scenario === 'both') {
        const r = runPartitions({ ...sc, splits });
        if (o.json) io.out(JSON.stringify(r));
        else {
          io.out(`partitions: ${nodes} nodes, loss ${loss}, settle ${settleMs} ms, seed ${seed}`);
          for (const s of r.splits) {
            io.out(`  ${s.split}: majority-side losses ${s.majorityLosses}; quorum-lost p50 ${ms(s.lost.p50Ms)} p99 ${ms(s.lost.p99Ms)} max ${ms(s.lost.maxMs)} (bound ${ms(s.boundMs)}, missing ${s.lost.missing}); claims without a majority at the bound ${s.minorityClaims}; regained after heal p50 ${ms(s.regained.p50Ms)} p99 ${ms(s.regained.p99Ms)} max ${ms(s.regained.maxMs)} (missing ${s.regained.missing}); one stable view ${ms(s.stableAfterHealMs)} after the heal`);
          }
          io.out(`  checker: ${r.checker.checks} stable reports checked, ${r.checker.violations} contradicted${r.checker.firstViolation !== null ? ` (first: ${r.checker.firstViolation})` : ''}`);
        }
      }
    });
}
