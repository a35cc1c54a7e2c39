import type { Command } from 'commander';
import type { Io } from '../io.js';
import type { ClientFlags } from '../client.js';
import { clientFrom, clientOptions, runClient } from '../client.js';
import type { MemberJson } from '../../agent/http-api.js';

/** `gossip members [--json]`: the members the agent knows, as `serf members` lists them. */
export function registerMembers(program: Command, io: Io): void {
  clientOptions(program.command('members').description('list the cluster members the agent knows'))
    .option('--json', 'print a JSON array of {name, addr, port, status, tags, incarnation}')
    .action((o: ClientFlags & { json?: boolean }) => runClient(io, async () => {
      const members = await clientFrom(o).call<MemberJson[]>('GET', '/v1/members');
      if (o.json === true) {
        // The documented shape only (the API adds rttMs for the dashboard).
        io.out(JSON.stringify(members.map((m) => ({ name: m.name, addr: m.addr, port: m.port, status: m.status, tags: m.tags, incarnation: m.incarnation }))));
        return;
      }
      const rows = members.map((m) => [m.name, `${m.addr.includes(':') ? `[${m.addr}]` : m.addr}:${m.port}`, m.status, Object.entries(m.tags).map(([k, v]) => `${k}=${v}`).join(',')]);
      const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
      for (const r of rows) io.out(r.map((c, i) => (i < 3 ? c.padEnd(widths[i] ?? 0) : c)).join('  ').trimEnd());
    }));
}
