import type { Command } from 'commander';
import type { Io } from '../io.js';
import type { ClientFlags } from '../client.js';
import { clientFrom, clientOptions, runClient } from '../client.js';

/** `gossip leave`: the agent leaves the cluster gracefully and exits. */
export function registerLeave(program: Command, io: Io): void {
  clientOptions(program.command('leave').description('make the agent leave the cluster gracefully and exit'))
    .action((o: ClientFlags) => runClient(io, async () => {
      await clientFrom(o).call('POST', '/v1/leave');
      io.out('Graceful leave in progress');
    }));
}
