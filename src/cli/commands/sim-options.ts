/**
 * What the `simulate` commands, `demo` and `bench cluster` share: their common options
 * (`--seed`, `--json`, `--nodes`), the parsing of a choice among names, their output (one JSON
 * object or text lines, a progress bar on stderr), and their failures (the seed and the way to
 * reproduce it, a non-zero exit, Ctrl-C while processes run).
 */
import { performance } from 'node:perf_hooks';
import { CommanderError, Option } from 'commander';
import type cliProgress from 'cli-progress';
import type { Io } from '../io.js';
import { UsageError } from '../parse.js';

/** `--seed <s>`: parsed by `resolveSeed` (a fresh random seed, printed, when omitted). */
export function seedOption(help = 'seed (decimal or 0x hex); random and printed if omitted', flags = '--seed <s>'): Option {
  return new Option(flags, help);
}

/** `--json`: the result as one JSON object on stdout instead of text. */
export function jsonOption(help = 'print one JSON object on stdout'): Option {
  return new Option('--json', help);
}

/** `--nodes <n>` with its default. */
export function nodesOption(defaultNodes: string, help = 'number of nodes'): Option {
  return new Option('--nodes <n>', help).default(defaultNodes);
}

/** The simulator's wall clock (how long a run took, for the report; never the simulation's time). */
export const wallClock = (): number => performance.now();

/** One of `choices`, or a usage error naming them (`a, b or c`; `one of a, b, c, d` for longer lists). */
export function parseChoice<T extends string>(s: string, what: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(s)) return s as T;
  const names = choices.length > 3 ? `one of ${choices.join(', ')}` : `${choices.slice(0, -1).join(', ')} or ${choices[choices.length - 1] ?? ''}`;
  throw new UsageError(`${what}: expected ${names}, got '${s}'`);
}

/** The result as one JSON line (`--json`), else the text lines `render` returns. */
export function printResult<R>(io: Io, json: boolean | undefined, result: R, render: (r: R) => readonly string[]): void {
  if (json === true) io.out(JSON.stringify(result));
  else for (const line of render(result)) io.out(line);
}

/** Says why on stderr and exits with status 1 (`code` names the failure for tests). */
export function fail(io: Io, line: string, code: string, message: string): never {
  io.err(line);
  throw new CommanderError(1, code, message);
}

/**
 * Runs a simulation; if it throws (a bug, a broken invariant), the seed that reproduces it is
 * printed on stderr before the error goes on.
 */
export function runSeeded<R>(io: Io, seed: number, run: () => R): R {
  try {
    return run();
  } catch (e) {
    io.err(`simulation failed (seed ${seed}); reproduce with --seed ${seed}`);
    throw e;
  }
}

/**
 * Runs `body` with `onSignal` handling SIGINT and SIGTERM (`once`: a second signal gets Node's
 * default, an immediate exit), and removes the handler afterwards.
 */
export async function withSignals<R>(onSignal: () => void, body: () => Promise<R>, once = false): Promise<R> {
  for (const s of ['SIGINT', 'SIGTERM'] as const) {
    if (once) process.once(s, onSignal);
    else process.on(s, onSignal);
  }
  try {
    return await body();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** A progress bar on stderr that appears only once a run has taken more than a second. */
export function lazyBar(progress: typeof cliProgress): { update: (done: number, total: number) => void; stop: () => void } {
  const started = performance.now();
  let bar: cliProgress.SingleBar | null = null;
  return {
    update(done, total) {
      if (bar === null) {
        if (performance.now() - started < 1000) return;
        bar = new progress.SingleBar(
          { format: 'simulating [{bar}] {percentage}% | {value}/{total} simulated s | eta {eta_formatted}', stream: process.stderr, hideCursor: true },
          progress.Presets.shades_classic,
        );
        bar.start(Math.round(total / 1000), 0);
      }
      bar.update(Math.round(done / 1000));
    },
    stop() {
      bar?.stop();
    },
  };
}
