import { Command, Help } from 'commander';
import type { Io } from './io.js';

/** A command whose module is imported only when it runs; help lists it by name and description. */
export interface LazyCommand {
  /** The command's name, as typed. */
  readonly name: string;
  /** Its arguments as help lists them, e.g. `[options] <name> [payload]`. */
  readonly usage: string;
  readonly description: string;
  /** Imports the module and returns its `register(program, io)`, which declares the command's arguments, options and action. */
  readonly load: () => Promise<(program: Command, io: Io) => void>;
}

/** The help line of each stand-in: its command's real arguments. */
const terms = new WeakMap<Command, string>();

/** A program like `gossip`'s top level: errors thrown (not exits), output to `io`. */
export function newProgram(io: Io): Command {
  return new Command('gossip')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .configureHelp({ subcommandTerm: (cmd) => terms.get(cmd) ?? new Help().subcommandTerm(cmd) });
}

/**
 * Declares `c` on `program` as a stand-in that takes any arguments; when it runs, the real
 * command is loaded, declared on a fresh program, and parses the same arguments (its own
 * `--help`, usage errors and action).
 */
export function registerLazy(program: Command, io: Io, c: LazyCommand): void {
  const stand = program
    .command(c.name)
    .description(c.description)
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[args...]')
    .action(async (_args: unknown, _o: unknown, self: Command) => {
      const register = await c.load();
      const sub = newProgram(io);
      register(sub, io);
      sub.commands.find((k) => k.name() === c.name)?.description(c.description).exitOverride();
      await sub.parseAsync([c.name, ...self.args], { from: 'user' });
    });
  terms.set(stand, `${c.name} ${c.usage}`.trimEnd());
}
