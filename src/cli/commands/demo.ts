import type { Command } from 'commander';
import type { Io } from '../io.js';
import { parseDuration, parseIntIn, UsageError } from '../parse.js';
import { fail, withSignals } from './sim-options.js';

export function registerDemo(program: Command, io: Io): void {
  program
    .command('demo')
    .description('run a local cluster of agents on 127.0.0.1 and show it converging (npm start)')
    .option('--nodes <n>', 'how many agents', '5')
    .option('--duration <d>', 'how long to run (e.g. 60s, 5m; 0 = until Ctrl-C)', '60s')
    .option('--http <host:port>', "node1's HTTP API and dashboard (port 0: any free port)", '127.0.0.1:0')
    .option('--step-deadline <d>', 'how long each step may take to converge before it is reported as not converged', '20s')
    .action(async (f: { nodes: string; duration: string; http: string; stepDeadline: string }) => {
      const nodes = parseIntIn(f.nodes, '--nodes', 2, 50);
      const durationMs = f.duration === '0' ? 0 : parseDuration(f.duration, '--duration');
      const stepDeadlineMs = parseDuration(f.stepDeadline, '--step-deadline');
      if (!/^(127\.\d+\.\d+\.\d+|localhost|\[::1\]):\d+$/.test(f.http)) throw new UsageError(`--http: expected a loopback host:port, got '${f.http}'`);
      // The first Ctrl-C stops the agents in order (each leaves the cluster); another one kills them.
      const abort = new AbortController();
      const hurry = new AbortController();
      const onSignal = (): void => {
        if (!abort.signal.aborted) return abort.abort();
        io.err('killing the agents (SIGKILL)');
        hurry.abort();
      };
      await withSignals(onSignal, async () => {
        try {
          // The demo's code is loaded when it runs, not when the CLI starts (issue 12).
          const { runDemo } = await import('../demo-cluster.js');
          await runDemo({ nodes, durationMs, http: f.http, stepDeadlineMs, writeIntervalMs: 3000 }, io, abort.signal, hurry.signal);
        } catch (e) {
          // Every agent is stopped and the temp dir removed by now; say what went wrong, briefly.
          const msg = e instanceof Error ? e.message : String(e);
          fail(io, `error: the demo stopped early: ${msg}`, 'gossip.demo', msg);
        }
      });
    });
}
