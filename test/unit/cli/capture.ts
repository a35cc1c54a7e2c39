import type { Io } from '../../../src/cli/io.js';

/** An Io that records what the CLI prints, for assertions. */
export function capture(): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(l), err: (l) => stderr.push(l), progress: false };
}
