import type { Command } from 'commander';
import type { Io } from '../io.js';
import type { ClientFlags } from '../client.js';
import { ApiError, clientFrom, clientOptions, runClient } from '../client.js';

interface KeyOpResult {
  op: string; numNodes: number; numResp: number; numErr: number; messages: Record<string, string>; keys: Record<string, number>; primaryKeys: Record<string, number>;
}

/** `gossip keys list|install|use|remove`: cluster-wide key rotation through Serf's key queries. */
export function registerKeys(program: Command, io: Io): void {
  const keys = program.command('keys').description('manage the cluster\'s encryption keys (as serf keys)');
  const report = (r: KeyOpResult, json: boolean | undefined): void => {
    if (json === true) return io.out(JSON.stringify(r));
    for (const [node, msg] of Object.entries(r.messages)) io.err(`  ${node}: ${msg}`);
    if (r.op === 'list') {
      io.out(`Keys gathered, listing cluster keys (${r.numResp}/${r.numNodes} members answered):`);
      for (const [k, n] of Object.entries(r.keys)) io.out(`  ${k} [${n}/${r.numNodes}]${k in r.primaryKeys ? ' (primary)' : ''}`);
    } else {
      io.out(`${r.op}: ${r.numResp - r.numErr}/${r.numNodes} members succeeded`);
    }
  };
  clientOptions(keys.command('list').description('the keys each member has'))
    .option('--json', 'print JSON')
    .action((o: ClientFlags & { json?: boolean }) => runClient(io, async () => {
      const r = await clientFrom(o).call<KeyOpResult>('GET', '/v1/keys');
      report(r, o.json);
      failIfIncomplete(r);
    }));
  for (const op of ['install', 'use', 'remove'] as const) {
    clientOptions(keys.command(`${op} <key>`).description(op === 'install' ? 'install a key on every member' : op === 'use' ? 'make an installed key primary on every member' : 'remove a key from every member'))
      .option('--json', 'print JSON')
      .action((key: string, o: ClientFlags & { json?: boolean }) => runClient(io, async () => {
        const r = await clientFrom(o).call<KeyOpResult>('POST', `/v1/keys/${op}`, { key });
        report(r, o.json);
        failIfIncomplete(r);
      }));
  }
}

/** As Serf's key manager: any member that failed or did not answer makes the command fail (exit 1). */
function failIfIncomplete(r: KeyOpResult): void {
  if (r.numErr > 0 || r.numResp < r.numNodes) throw new ApiError(0, `${r.op} failed on ${r.numNodes - (r.numResp - r.numErr)} of ${r.numNodes} members`);
}
