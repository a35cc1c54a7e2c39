import type { Command } from 'commander';
import type { Io } from '../io.js';
import type { ClientFlags } from '../client.js';
import { clientFrom, clientOptions, runClient } from '../client.js';
import { parseDuration, parseIntIn, parseTagFilters } from '../parse.js';
import type { QueryJson } from '../../agent/operator-routes.js';

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

interface QueryFlags extends ClientFlags {
  node?: string[]; tag?: string[]; timeout?: string; relayFactor?: string; ack: boolean; json?: boolean;
}

/** `gossip query NAME [PAYLOAD]`: asks the cluster (what `serf query` does) and prints the acks and answers at the deadline. */
export function registerQuery(program: Command, io: Io): void {
  clientOptions(program.command('query <name> [payload]').description('send a query to the cluster and print who acknowledged and answered'))
    .option('--node <name>', 'only this node processes the query; repeatable', collect)
    .option('--tag <name=regex>', 'only nodes whose tag matches the regular expression process it; repeatable', collect)
    .option('--timeout <duration>', 'how long to collect answers, e.g. 5s (default: the cluster size scaled gossip timeout)')
    .option('--relay-factor <n>', 'each answer is also relayed through this many other members (0-5)')
    .option('--no-ack', 'do not ask the processing nodes for an acknowledgement')
    .option('--json', 'print {"name", "acks", "responses": {node: answer}}')
    .action((name: string, payload: string | undefined, o: QueryFlags) => runClient(io, async () => {
      const body = {
        name, payload: payload ?? '', requestAck: o.ack,
        ...(o.node !== undefined ? { nodes: o.node } : {}),
        ...(o.tag !== undefined ? { tags: parseTagFilters(o.tag) } : {}),
        ...(o.timeout !== undefined ? { timeoutMs: parseDuration(o.timeout, '--timeout') } : {}),
        ...(o.relayFactor !== undefined ? { relayFactor: parseIntIn(o.relayFactor, '--relay-factor', 0, 5) } : {}),
      };
      if (o.json !== true) io.out(`Query '${name}' dispatched`);
      const r = await clientFrom(o).call<QueryJson>('POST', '/v1/query', body);
      if (o.json === true) {
        io.out(JSON.stringify(r));
        return;
      }
      for (const a of r.acks) io.out(`Ack from '${a}'`);
      for (const [from, answer] of Object.entries(r.responses)) io.out(`Response from '${from}': ${answer}`);
      if (o.ack) io.out(`Total Acks: ${r.acks.length}`);
      io.out(`Total Responses: ${Object.keys(r.responses).length}`);
    }));
}
