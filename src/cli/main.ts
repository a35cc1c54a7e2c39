#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Io } from './io.js';
import { processIo } from './io.js';
import { staticHelp } from './static-help.js';

/**
 * The `gossip` entry point. `gossip --help` prints the listing the build rendered (static-help.ts)
 * without loading commander or any command; everything else loads the program (program.ts),
 * which loads the one command the line names.
 */

/** Runs the CLI; returns the exit code instead of exiting, so tests can call it. */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  const help = staticHelp(argv);
  if (help !== undefined) {
    io.out(help.trimEnd());
    return 0;
  }
  return (await import('./program.js')).run(argv, io);
}

function invokedDirectly(): boolean {
  const arg = process.argv[1];
  if (arg === undefined) return false;
  try {
    return realpathSync(arg) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
