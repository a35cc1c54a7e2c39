import { Command, CommanderError } from 'commander';
import type { Io } from './io.js';
import { UsageError } from './parse.js';

type Register = (program: Command, io: Io) => void;
/** Loads a command's definition; `named`: the command line names this command. */
type Load = (named: boolean) => Promise<Register>;

/**
 * The top-level commands, in the order `gossip --help` lists them. Each entry loads the module
 * that defines the command (its options and help) only when needed: `gossip members` loads the
 * members command and nothing else, `gossip --help` loads every definition, and a definition
 * loads its implementation (the agent, the simulator, plotting) only when its action runs
 * (issue 12; test/integration/module-loading.test.ts).
 */
const COMMANDS: readonly (readonly [string, Load])[] = [
  ['simulate', loadSimulate],
  ['agent', async () => (await import('./commands/agent.js')).registerAgent],
  ['members', async () => (await import('./commands/members.js')).registerMembers],
  ['kv', async () => (await import('./commands/kv.js')).registerKv],
  ['event', async () => (await import('./commands/event.js')).registerEvent],
  ['query', async () => (await import('./commands/query.js')).registerQuery],
  ['join', async () => (await import('./commands/join.js')).registerJoin],
  ['force-leave', async () => (await import('./commands/force-leave.js')).registerForceLeave],
  ['tags', async () => (await import('./commands/tags.js')).registerTags],
  ['info', async () => (await import('./commands/info.js')).registerInfo],
  ['reachability', async () => (await import('./commands/reachability.js')).registerReachability],
  ['rtt', async () => (await import('./commands/rtt.js')).registerRtt],
  ['view', async () => (await import('./commands/view.js')).registerView],
  ['ring', async () => (await import('./commands/ring.js')).registerRing],
  ['version', async () => (await import('./commands/version.js')).registerVersion],
  ['monitor', async () => (await import('./commands/monitor.js')).registerMonitor],
  ['leave', async () => (await import('./commands/leave.js')).registerLeave],
  ['keygen', async () => (await import('./commands/keygen.js')).registerKeygen],
  ['keys', async () => (await import('./commands/keys.js')).registerKeys],
  ['demo', async () => (await import('./commands/demo.js')).registerDemo],
  ['bench', loadBench],
];

/** `simulate`, with its subcommands' definitions only under `gossip simulate` (the top-level help lists the group alone). */
async function loadSimulate(named: boolean): Promise<Register> {
  const subcommands = named
    ? await Promise.all([
      import('./commands/simulate-membership.js').then((m) => m.registerSimulateMembership),
      import('./commands/simulate-dissemination.js').then((m) => m.registerSimulateDissemination),
      import('./commands/simulate-reconcile.js').then((m) => m.registerSimulateReconcile),
      import('./commands/simulate-state.js').then((m) => m.registerSimulateState),
      import('./commands/simulate-stream.js').then((m) => m.registerSimulateStream),
      import('./commands/simulate-views.js').then((m) => m.registerSimulateViews),
    ])
    : [];
  return (program, io) => {
    const simulate = program.command('simulate').description('run the production protocol core on virtual time').exitOverride();
    for (const register of subcommands) register(simulate, io);
  };
}

/** `bench`, with its subcommand's definition only under `gossip bench`. */
async function loadBench(named: boolean): Promise<Register> {
  const subcommands = named ? [(await import('./commands/bench-cluster.js')).registerBenchCluster] : [];
  return (program, io) => {
    const bench = program.command('bench').description('measure real processes: bench cluster runs N agents (and N serf agents) side by side').exitOverride();
    for (const register of subcommands) register(bench, io);
  };
}

/**
 * The program with the commands `argv` needs: the one it names, or every top-level command
 * when it names none of them (`--help`, `help`, a typo: commander then lists them or suggests one).
 */
export async function buildProgram(io: Io, argv: readonly string[] = []): Promise<Command> {
  const program = new Command('gossip')
    .description('gossip-coordinator: SWIM + Lifeguard membership, epidemic dissemination, replicated state')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });
  // `gossip help kv` is `gossip kv --help`: it needs the kv definition only.
  const target = argv[0] === 'help' ? argv[1] : argv[0];
  const named = COMMANDS.find(([name]) => name === target);
  const registers = await Promise.all((named !== undefined ? [named] : COMMANDS).map(([, load]) => load(named !== undefined)));
  for (const register of registers) register(program, io);
  return program;
}

/** Runs the command line through commander; returns the exit code. */
export async function run(argv: readonly string[], io: Io): Promise<number> {
  try {
    await (await buildProgram(io, argv)).parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (e) {
    // Commander's own refusals (unknown option, missing argument, bad command) are usage errors: 2.
    if (e instanceof CommanderError) return e.exitCode !== 0 && e.code.startsWith('commander.') ? 2 : e.exitCode;
    if (e instanceof UsageError) {
      io.err(`error: ${e.message}`);
      return 2;
    }
    throw e;
  }
}
