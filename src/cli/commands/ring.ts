import type { Command } from 'commander';
import type { Io } from '../io.js';
import type { ClientFlags } from '../client.js';
import { clientFrom, clientOptions, runClient } from '../client.js';
import { parseIntIn, UsageError } from '../parse.js';
import type { RingLookupResponse } from '../../agent/view-routes.js';

/** `gossip ring lookup KEY [--n 3] [--tag k=v]`: the owners of a key on the agent's consistent-hash ring. */
export function registerRing(program: Command, io: Io): void {
  const ring = program.command('ring').description('the consistent-hash ring of the stable view');
  clientOptions(ring.command('lookup <key>').description('the members owning KEY: the owner first, then the next distinct ones (a preference list)'))
    .option('--n <n>', 'how many distinct members', '1')
    .option('--tag <k=v...>', 'only members with this tag (repeatable)')
    .option('--json', 'print the JSON answer')
    .action((key: string, o: ClientFlags & { n: string; tag?: string[]; json?: boolean }) => runClient(io, async () => {
      const n = parseIntIn(o.n, '--n', 1, 1000);
      const params = new URLSearchParams({ key, n: String(n) });
      for (const t of o.tag ?? []) {
        if (t.indexOf('=') <= 0) throw new UsageError(`--tag ${t}: expected k=v`);
        params.append('tag', t);
      }
      const r = await clientFrom(o).call<RingLookupResponse>('GET', `/v1/ring/lookup?${params.toString()}`);
      if (o.json === true) io.out(JSON.stringify(r));
      else {
        for (const owner of r.owners) io.out(owner);
        if (r.owners.length === 0) io.out('(empty ring)');
      }
    }));
}
