import type { Command } from 'commander';
import type { Io } from '../io.js';
import type { ClientFlags } from '../client.js';
import { clientFrom, clientOptions, runClient } from '../client.js';
import { UsageError } from '../parse.js';

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

/** `gossip tags --set k=v --delete k`: changes the agent's tags at runtime (what `serf tags` does). */
export function registerTags(program: Command, io: Io): void {
  clientOptions(program.command('tags').description('change the agent\'s tags (announced to the cluster)'))
    .option('--set <name=value>', 'set a tag; repeatable', collect)
    .option('--delete <name>', 'delete a tag; repeatable', collect)
    .action((o: ClientFlags & { set?: string[]; delete?: string[] }) => runClient(io, async () => {
      if (o.set === undefined && o.delete === undefined) throw new UsageError('tags: give at least one --set name=value or --delete name');
      const set: Record<string, string> = {};
      for (const p of o.set ?? []) {
        const i = p.indexOf('=');
        if (i <= 0) throw new UsageError(`--set: expected name=value, got '${p}'`);
        set[p.slice(0, i)] = p.slice(i + 1);
      }
      await clientFrom(o).call('POST', '/v1/tags', { set, delete: o.delete ?? [] });
      io.out('Successfully updated agent tags');
    }));
}
