import type { Command } from 'commander';
import type { Io } from '../io.js';
import type { ClientFlags } from '../client.js';
import { clientFrom, clientOptions, runClient } from '../client.js';
import type { RttJson } from '../../agent/coordinate-routes.js';

/**
 * `gossip rtt NODE [NODE2] [--json]`: the round trip between two nodes estimated from their
 * network coordinates (NODE2 defaults to the agent's own node), printed as `serf rtt` prints it.
 * Exits 1 when a node has no known coordinate.
 */
export function registerRtt(program: Command, io: Io): void {
  clientOptions(program.command('rtt').description('estimate the round trip between two nodes from their network coordinates (as serf rtt)'))
    .argument('<node>', 'a member')
    .argument('[node2]', 'another member (default: the agent\'s own node)')
    .option('--json', 'print {"a", "b", "rttMs"}')
    .action((a: string, b: string | undefined, o: ClientFlags & { json?: boolean }) => runClient(io, async () => {
      const q = new URLSearchParams({ a, ...(b !== undefined ? { b } : {}) });
      const r = await clientFrom(o).call<RttJson>('GET', `/v1/rtt?${q.toString()}`);
      if (o.json === true) io.out(JSON.stringify(r));
      else io.out(`Estimated ${r.a} <-> ${r.b} rtt: ${r.rttMs.toFixed(3)} ms`);
    }));
}
