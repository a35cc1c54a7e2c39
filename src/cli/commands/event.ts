import type { Command } from 'commander';
import type { Io } from '../io.js';
import type { ClientFlags } from '../client.js';
import { clientFrom, clientOptions, runClient } from '../client.js';

/** `gossip event NAME [PAYLOAD]`: a Serf user event to the whole cluster. */
export function registerEvent(program: Command, io: Io): void {
  clientOptions(program.command('event <name> [payload]').description('send a user event to every member'))
    .option('--no-coalesce', 'deliver every event of this name, not only the latest in the coalescing window')
    .action((name: string, payload: string | undefined, o: ClientFlags & { coalesce: boolean }) => runClient(io, async () => {
      await clientFrom(o).call('POST', '/v1/event', { name, payload: payload ?? '', coalesce: o.coalesce });
      io.out(`Event '${name}' dispatched! Coalescing enabled: ${o.coalesce}`);
    }));
}
