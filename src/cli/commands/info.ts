import type { Command } from 'commander';
import type { Io } from '../io.js';
import type { ClientFlags } from '../client.js';
import { clientFrom, clientOptions, runClient } from '../client.js';
import type { InfoJson } from '../../agent/operator-routes.js';

/** `gossip info [--json]`: what the agent is doing (what `serf info` shows). */
export function registerInfo(program: Command, io: Io): void {
  clientOptions(program.command('info').description('show the agent: protocol, members, clocks, queue depths, tags, event handlers'))
    .option('--json', 'print GET /v1/info as JSON')
    .action((o: ClientFlags & { json?: boolean }) => runClient(io, async () => {
      const i = await clientFrom(o).call<InfoJson>('GET', '/v1/info');
      if (o.json === true) {
        io.out(JSON.stringify(i));
        return;
      }
      const section = (title: string, rows: Record<string, string | number>): void => {
        io.out(`${title}:`);
        for (const [k, v] of Object.entries(rows)) io.out(`\t${k} = ${v}`);
      };
      section('agent', { name: i.agent.name, version: i.agent.version, addr: i.agent.addr, incarnation: i.agent.incarnation });
      if (i.protocol !== null) section('memberlist', { 'protocol_min': i.protocol.min, 'protocol_max': i.protocol.max, 'protocol_cur': i.protocol.cur });
      section('serf', {
        members: i.members.total, alive: i.members.alive, failed: i.members.failed, left: i.members.left, leaving: i.members.leaving,
        member_time: i.clocks.member, event_time: i.clocks.event, query_time: i.clocks.query,
        intent_queue_membership: i.queues.membership, serf_queue: i.queues.serf,
        ...(i.delegate !== null ? { delegate_cur: i.delegate.cur } : {}),
      });
      section('tags', i.tags);
      section('event handlers', { runs: i.handlers.runs, failed: i.handlers.failed, timed_out: i.handlers.timedOut, dropped: i.handlers.dropped });
    }));
}
