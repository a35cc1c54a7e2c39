import type { Command } from 'commander';
import type { Io } from '../io.js';
import type { ClientFlags } from '../client.js';
import { clientFrom, clientOptions, runClient } from '../client.js';
import { parseTagFilters, UsageError } from '../parse.js';
import type { MemberJson } from '../../agent/http-api.js';

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

interface MembersFlags extends ClientFlags {
  json?: boolean; status?: string; name?: string; tag?: string[]; detailed?: boolean;
}

/** A whole-string match of a user's regular expression (as `serf members` filters). */
function anchored(re: string, what: string): RegExp {
  try {
    return new RegExp(`^(?:${re})$`);
  } catch {
    throw new UsageError(`${what}: '${re}' is not a regular expression`);
  }
}

/** Members that pass `--status`, `--name` and every `--tag` (each a regular expression matching the whole value). */
export function filterMembers(members: readonly MemberJson[], o: MembersFlags): MemberJson[] {
  const status = o.status === undefined ? null : anchored(o.status, '--status');
  const name = o.name === undefined ? null : anchored(o.name, '--name');
  const tags = Object.entries(parseTagFilters(o.tag ?? [])).map(([k, re]) => [k, anchored(re, '--tag')] as const);
  return members.filter((m) =>
    (status === null || status.test(m.status)) && (name === null || name.test(m.name)) &&
    tags.every(([k, re]) => m.tags[k] !== undefined && re.test(m.tags[k])));
}

/** `gossip members [--json] [--status re] [--name re] [--tag k=re] [--detailed]`: the members the agent knows, as `serf members` lists them. */
export function registerMembers(program: Command, io: Io): void {
  clientOptions(program.command('members').description('list the cluster members the agent knows'))
    .option('--json', 'print a JSON array of {name, addr, port, status, tags, incarnation}')
    .option('--status <regex>', 'only members whose status (alive, leaving, left, failed) matches')
    .option('--name <regex>', 'only members whose name matches')
    .option('--tag <name=regex>', 'only members with this tag matching; repeatable', collect)
    .option('--detailed', 'also print each member\'s incarnation and last probe round trip')
    .action((o: MembersFlags) => runClient(io, async () => {
      const all = await clientFrom(o).call<MemberJson[]>('GET', '/v1/members');
      const members = filterMembers(all, o);
      if (o.json === true) {
        // The documented shape only (the API adds rttMs for the dashboard).
        io.out(JSON.stringify(members.map((m) => ({ name: m.name, addr: m.addr, port: m.port, status: m.status, tags: m.tags, incarnation: m.incarnation }))));
        return;
      }
      const rows = members.map((m) => {
        const row = [m.name, `${m.addr.includes(':') ? `[${m.addr}]` : m.addr}:${m.port}`, m.status];
        if (o.detailed === true) row.push(`incarnation=${m.incarnation ?? '-'}`, `rtt=${m.status === 'alive' && m.rttMs !== undefined ? `${m.rttMs}ms` : '-'}`);
        row.push(Object.entries(m.tags).map(([k, v]) => `${k}=${v}`).join(','));
        return row;
      });
      const cols = (rows[0]?.length ?? 1) - 1;
      const widths = Array.from({ length: cols }, (_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
      for (const r of rows) io.out(r.map((c, i) => (i < cols ? c.padEnd(widths[i] ?? 0) : c)).join('  ').trimEnd());
    }));
}
