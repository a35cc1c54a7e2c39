import { readFileSync } from 'node:fs';

/**
 * `gossip --help` without loading commander or any command definition (issue 12: a client
 * command within 0.15 s of CPU, where commander alone costs about 0.04 s over Node's floor).
 * `npm run build` renders the top-level help with every definition loaded (scripts/bundle-cli.ts)
 * and writes it beside the built entry; run from the sources, where that file does not exist,
 * commander renders it as for any other help. test/integration/cli-bundle.test.ts checks that the
 * file says what commander says.
 */
export const STATIC_HELP_FILE = 'help.txt';

/** The lines that ask for the top-level listing and nothing else. */
const ASKS_FOR_HELP = new Set(['--help', '-h', 'help']);

/** The rendered listing when `argv` asks for it and the build wrote it; otherwise undefined. */
export function staticHelp(argv: readonly string[]): string | undefined {
  if (argv.length !== 1 || !ASKS_FOR_HELP.has(argv[0] as string)) return undefined;
  try {
    return readFileSync(new URL(`./${STATIC_HELP_FILE}`, import.meta.url), 'utf8');
  } catch {
    return undefined;
  }
}
