import type { Command } from 'commander';
import type { Io } from '../io.js';
import type { ClientFlags } from '../client.js';
import { clientFrom, clientOptions, runClient } from '../client.js';

/**
 * `gossip force-leave NODE [--prune]`: a failed member is moved to `left` on every member (what
 * `serf force-leave` does), or with `--prune` forgotten at once. Exits 1 when the agent refuses
 * (an unknown or alive member), 2 on usage errors.
 */
export function registerForceLeave(program: Command, io: Io): void {
  clientOptions(program.command('force-leave <node>').description('force a failed member to leave the cluster (left everywhere; --prune: forgotten)'))
    .option('--prune', 'remove the member from every member list at once, instead of keeping it left until the tombstone timeout')
    .action((node: string, o: ClientFlags & { prune?: boolean }) => runClient(io, async () => {
      const r = await clientFrom(o).call<{ node: string; status: string | null }>('POST', '/v1/force-leave', { node, prune: o.prune === true });
      io.out(r.status === null ? `Force-left and pruned node '${r.node}'` : `Force-left node '${r.node}' (now ${r.status})`);
    }));
}
