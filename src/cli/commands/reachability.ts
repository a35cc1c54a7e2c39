import type { Command } from 'commander';
import type { Io } from '../io.js';
import type { ClientFlags } from '../client.js';
import { clientFrom, clientOptions, runClient } from '../client.js';
import { parseDuration } from '../parse.js';
import { CommanderError } from 'commander';

/** `gossip reachability`: every alive member must ack a `_serf_ping` query (what `serf reachability` does); exits 1 if one did not. */
export function registerReachability(program: Command, io: Io): void {
  clientOptions(program.command('reachability').description('check that every alive member answers a ping query'))
    .option('--timeout <duration>', 'how long to wait for acks (default: the gossip query timeout)')
    .option('--json', 'print {"members", "alive", "acks", "missing"}')
    .action((o: ClientFlags & { timeout?: string; json?: boolean }) => runClient(io, async () => {
      const q = o.timeout !== undefined ? `?timeoutMs=${parseDuration(o.timeout, '--timeout')}` : '';
      const r = await clientFrom(o).call<{ members: number; alive: number; acks: string[]; missing: string[] }>('GET', `/v1/reachability${q}`);
      if (o.json === true) io.out(JSON.stringify(r));
      else {
        for (const a of r.acks) io.out(`Ack from '${a}'`);
        io.out(`Total members: ${r.members}, live members: ${r.alive}, received ${r.acks.length} acks`);
        for (const m of r.missing) io.out(`Missing ack from '${m}'`);
        io.out(r.missing.length === 0 ? 'Successfully contacted all live nodes' : `${r.missing.length} live nodes did not ack`);
      }
      if (r.missing.length > 0) throw new CommanderError(1, 'gossip.unreachable', 'members did not ack');
    }));
}
