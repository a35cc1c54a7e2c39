import type { Command } from 'commander';
import type { Io } from '../io.js';
import type { ClientFlags } from '../client.js';
import { clientFrom, clientOptions, runClient } from '../client.js';
import { UsageError } from '../parse.js';

const path = (key: string): string => `/v1/kv/${encodeURIComponent(key)}`;

function parseContext(s: string | undefined): unknown {
  if (s === undefined) return undefined;
  try {
    return JSON.parse(s) as unknown;
  } catch {
    throw new UsageError(`--context: expected the JSON context printed by 'gossip kv get --json', got '${s}'`);
  }
}

/** `gossip kv get|put|del|list`: the replicated key-value state through the agent. */
export function registerKv(program: Command, io: Io): void {
  const kv = program.command('kv').description('read and write the key-value state');
  clientOptions(kv.command('get <key>').description('print a key\'s value (siblings one per line); exit 1 if absent'))
    .option('--json', 'print the whole read: type, values and causal context')
    .action((key: string, o: ClientFlags & { json?: boolean }) => runClient(io, async () => {
      const r = await clientFrom(o).call<{ values?: unknown[]; value?: unknown; elements?: unknown[]; fields?: unknown }>('GET', path(key));
      if (o.json === true) return io.out(JSON.stringify(r));
      const shown = r.values ?? (r.value !== undefined ? [r.value] : r.elements ?? [r.fields]);
      for (const v of shown) io.out(typeof v === 'string' ? v : JSON.stringify(v));
    }));
  clientOptions(kv.command('put <key> <value>').description('write a value (JSON if it parses as JSON, else a string); returns once durable'))
    .option('--context <json>', 'causal context from a previous read: supersede exactly what it saw')
    .option('--string', 'store the value as a string even if it parses as JSON')
    .action((key: string, value: string, o: ClientFlags & { context?: string; string?: boolean }) => runClient(io, async () => {
      let v: unknown = value;
      if (o.string !== true) {
        try {
          v = JSON.parse(value) as unknown;
        } catch {
          v = value;
        }
      }
      const context = parseContext(o.context);
      const r = await clientFrom(o).call<{ context: unknown }>('PUT', path(key), { value: v, ...(context !== undefined ? { context } : {}) });
      io.out(JSON.stringify(r.context));
    }));
  clientOptions(kv.command('del <key>').description('delete a key (a tombstone that replicates)'))
    .option('--context <json>', 'causal context from a previous read')
    .action((key: string, o: ClientFlags & { context?: string }) => runClient(io, async () => {
      const context = parseContext(o.context);
      await clientFrom(o).call('DELETE', path(key), context !== undefined ? { context } : undefined);
    }));
  clientOptions(kv.command('list [prefix]').description('list the keys under a prefix'))
    .option('--json', 'print a JSON array')
    .action((prefix: string | undefined, o: ClientFlags & { json?: boolean }) => runClient(io, async () => {
      const r = await clientFrom(o).call<{ keys: string[] }>('GET', `/v1/kv?prefix=${encodeURIComponent(prefix ?? '')}`);
      if (o.json === true) return io.out(JSON.stringify(r.keys));
      for (const k of r.keys) io.out(k);
    }));
}
