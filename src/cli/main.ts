#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { registerAgent } from './commands/agent.js';
import { registerBenchCluster } from './commands/bench-cluster.js';
import { registerDemo } from './commands/demo.js';
import { registerEvent } from './commands/event.js';
import { registerKeygen } from './commands/keygen.js';
import { registerKeys } from './commands/keys.js';
import { registerKv } from './commands/kv.js';
import { registerLeave } from './commands/leave.js';
import { registerMembers } from './commands/members.js';
import { registerMonitor } from './commands/monitor.js';
import { registerSimulateDissemination } from './commands/simulate-dissemination.js';
import { registerSimulateMembership } from './commands/simulate-membership.js';
import { registerSimulateReconcile } from './commands/simulate-reconcile.js';
import { registerSimulateState } from './commands/simulate-state.js';
import { registerSimulateStream } from './commands/simulate-stream.js';
import type { Io } from './io.js';
import { processIo } from './io.js';
import { UsageError } from './parse.js';

export function buildProgram(io: Io): Command {
  const program = new Command('gossip')
    .description('gossip-coordinator: SWIM + Lifeguard membership, epidemic dissemination, replicated state')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });
  const simulate = program.command('simulate').description('run the production protocol core on virtual time').exitOverride();
  registerSimulateMembership(simulate, io);
  registerSimulateDissemination(simulate, io);
  registerSimulateReconcile(simulate, io);
  registerSimulateState(simulate, io);
  registerSimulateStream(simulate, io);
  registerAgent(program, io);
  registerMembers(program, io);
  registerKv(program, io);
  registerEvent(program, io);
  registerMonitor(program, io);
  registerLeave(program, io);
  registerKeygen(program, io);
  registerKeys(program, io);
  registerDemo(program, io);
  const bench = program.command('bench').description('measure real processes: bench cluster runs N agents (and N serf agents) side by side').exitOverride();
  registerBenchCluster(bench, io);
  return program;
}

/** Runs the CLI; returns the exit code instead of exiting, so tests can call it. */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  try {
    await buildProgram(io).parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    if (e instanceof UsageError) {
      io.err(`error: ${e.message}`);
      return 2;
    }
    throw e;
  }
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
