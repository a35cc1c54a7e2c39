/** Where the CLI writes; tests pass their own. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
  /** Whether a progress bar may be drawn (stderr is a terminal). */
  progress: boolean;
}

export const processIo: Io = {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
  progress: process.stderr.isTTY === true,
};
