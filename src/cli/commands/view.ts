import type { Command } from 'commander';
import type { Io } from '../io.js';
import type { ClientFlags } from '../client.js';
import { clientFrom, clientOptions, runClient } from '../client.js';
import type { QuorumResponse, ViewResponse } from '../../agent/view-routes.js';

/** `gossip view`: the agent's membership view, whether it is stable, who disagrees, and the partition side. */
export function registerView(program: Command, io: Io): void {
  clientOptions(program.command('view').description('the agreed membership view: epoch, checksum, stable or not, members, who disagrees, quorum'))
    .option('--json', 'print {"view": GET /v1/view, "quorum": GET /v1/quorum}')
    .action((o: ClientFlags & { json?: boolean }) => runClient(io, async () => {
      const c = clientFrom(o);
      const [v, q] = await Promise.all([c.call<ViewResponse>('GET', '/v1/view'), c.call<QuorumResponse>('GET', '/v1/quorum')]);
      if (o.json === true) {
        io.out(JSON.stringify({ view: v, quorum: q }));
        return;
      }
      io.out(`view epoch ${v.current.epoch} checksum ${v.current.checksum} ${v.stable ? 'stable' : 'not stable'}; last stable: ${v.stableView === null ? 'none' : `epoch ${v.stableView.epoch} checksum ${v.stableView.checksum}`}`);
      io.out(`quorum: ${q.hasQuorum ? 'yes' : 'NO'} (reachable ${q.reachable} of ${q.total}, need more than ${q.needMoreThan})`);
      for (const m of v.current.members) io.out(`  ${m.name.padEnd(24)} ${m.state.padEnd(8)} incarnation ${m.incarnation}`);
      for (const d of v.disagreeing) io.out(`  disagrees: ${d.name} (last reported ${d.checksum ?? 'nothing'})`);
    }));
}
