import type { Command } from 'commander';
import type { Io } from '../io.js';
import type { ClientFlags } from '../client.js';
import { clientFrom, clientOptions, runClient } from '../client.js';

/** `gossip join ADDR…`: the agent joins more nodes (what `serf join` does); exits 1 when it reached none. */
export function registerJoin(program: Command, io: Io): void {
  clientOptions(program.command('join <addr...>').description('make the agent join the cluster through these addresses: host:port, a DNS name (port optional, 7946) or dns+srv://NAME'))
    .action((addrs: string[], o: ClientFlags) => runClient(io, async () => {
      const r = await clientFrom(o).call<{ contacted: number }>('POST', '/v1/join', { addrs });
      io.out(`Successfully joined cluster by contacting ${r.contacted} nodes.`);
    }));
}
