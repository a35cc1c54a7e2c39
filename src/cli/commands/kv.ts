import type { Command } from 'commander';
import type { Io } from '../io.js';
import type { ClientFlags } from '../client.js';
import { clientFrom, clientOptions, runClient } from '../client.js';
import { parseIntIn, UsageError } from '../parse.js';

/** The key's path. `.` and `..` are refused here: every URL client resolves them (even as %2e) before sending. */
const path = (key: string): string => {
  if (key === '.' || key === '..') throw new UsageError(`key '${key}' cannot be addressed in a URL (clients resolve it as a path step)`);
  return `/v1/kv/${encodeURIComponent(key)}`;
};

function parseBy(s: string | undefined): number {
  return s === undefined ? 1 : parseIntIn(s, 'by', 1, Number.MAX_SAFE_INTEGER);
}

/** A value argument: JSON if it parses as JSON (and `--string` is not given), else the string. */
function parseValue(value: string, asString: boolean | undefined): unknown {
  if (asString === true) return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

/**
 * `?w=`/`?r=` and `?timeout=` for a quorum write or read; '' without `size`. The agent checks the
 * size (a 400 naming what it takes): a client command loads no library code (issue 12).
 */
function quorumQuery(name: 'w' | 'r', size: string | undefined, timeout: string | undefined): string {
  if (size === undefined) {
    if (timeout !== undefined) throw new UsageError(`--timeout: applies with --${name} only`);
    return '';
  }
  const t = timeout === undefined ? '' : `&timeout=${parseIntIn(timeout, 'timeout', 1, 600_000)}`;
  return `?${name}=${encodeURIComponent(size)}${t}`;
}

interface QuorumJson { answered: string[]; need: number; replicas: number }

interface OpRead { type: string | null; value?: unknown; elements?: unknown[]; fields?: unknown }

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
    .option('--r <n>', 'a quorum read: merge the replies of n replicas (a number, majority or all), this agent included')
    .option('--timeout <ms>', 'with --r: fail (exit 1, naming how many replied of how many needed) after this long (default 5000)')
    .action((key: string, o: ClientFlags & { json?: boolean; r?: string; timeout?: string }) => runClient(io, async () => {
      const q = quorumQuery('r', o.r, o.timeout);
      const r = await clientFrom(o).call<{ values?: unknown[]; value?: unknown; elements?: unknown[]; fields?: unknown }>('GET', path(key) + q);
      if (o.json === true) return io.out(JSON.stringify(r));
      const shown = r.values ?? (r.value !== undefined ? [r.value] : r.elements ?? [r.fields]);
      for (const v of shown) io.out(typeof v === 'string' ? v : JSON.stringify(v));
    }));
  clientOptions(kv.command('put <key> <value>').description('write a value (JSON if it parses as JSON, else a string); returns once durable'))
    .option('--context <json>', 'causal context from a previous read: supersede exactly what it saw')
    .option('--string', 'store the value as a string even if it parses as JSON')
    .option('--w <n>', 'a quorum write: return once n replicas (a number, majority or all) hold it durably, this agent included')
    .option('--timeout <ms>', 'with --w: fail (exit 1, naming how many acknowledged of how many needed) after this long (default 5000); the write is not rolled back')
    .action((key: string, value: string, o: ClientFlags & { context?: string; string?: boolean; w?: string; timeout?: string }) => runClient(io, async () => {
      const v = parseValue(value, o.string);
      const context = parseContext(o.context);
      const q = quorumQuery('w', o.w, o.timeout);
      const r = await clientFrom(o).call<{ context: unknown; quorum?: QuorumJson }>('PUT', path(key) + q, { value: v, ...(context !== undefined ? { context } : {}) });
      io.out(JSON.stringify(r.context));
      if (r.quorum !== undefined) io.err(`durable on ${r.quorum.answered.length} of ${r.quorum.replicas} replicas (${r.quorum.need} needed): ${r.quorum.answered.join(', ')}`);
    }));
  clientOptions(kv.command('del <key>').description('delete a key (a tombstone that replicates); a key that is absent is left alone, and the command says so'))
    .option('--context <json>', 'causal context from a previous read')
    .option('--w <n>', 'a quorum delete: return once n replicas hold the tombstone durably')
    .option('--timeout <ms>', 'with --w: fail after this long (default 5000); not rolled back')
    .action((key: string, o: ClientFlags & { context?: string; w?: string; timeout?: string }) => runClient(io, async () => {
      const context = parseContext(o.context);
      const q = quorumQuery('w', o.w, o.timeout);
      const r = await clientFrom(o).call<{ deleted: boolean }>('DELETE', path(key) + q, context !== undefined ? { context } : undefined);
      if (!r.deleted) io.err(`no such key: ${key} (nothing deleted)`);
    }));
  // Counters, sets and maps (keys under a gcounter, pncounter, orset or ormap prefix).
  const op = async (o: ClientFlags, key: string, body: Record<string, unknown>): Promise<void> => {
    const r = await clientFrom(o).call<OpRead>('POST', path(key), body);
    if (r.type === 'counter') io.out(String(r.value));
  };
  const field = (o: { field?: string }): Record<string, string> => (o.field !== undefined ? { field: o.field } : {});
  clientOptions(kv.command('incr <key> [by]').description('add to a counter key (default 1), or to a map key\'s counter field; prints a counter\'s new value'))
    .option('--field <name>', 'the counter field of a map key')
    .action((key: string, by: string | undefined, o: ClientFlags & { field?: string }) => runClient(io, () => op(o, key, { op: 'increment', by: parseBy(by), ...field(o) })));
  clientOptions(kv.command('decr <key> [by]').description('subtract from a pncounter key (default 1), or from a map key\'s counter field'))
    .option('--field <name>', 'the counter field of a map key')
    .action((key: string, by: string | undefined, o: ClientFlags & { field?: string }) => runClient(io, () => op(o, key, { op: 'decrement', by: parseBy(by), ...field(o) })));
  clientOptions(kv.command('add <key> <element>').description('add an element to a set key (or a map key\'s set field)'))
    .option('--field <name>', 'the set field of a map key')
    .action((key: string, element: string, o: ClientFlags & { field?: string }) => runClient(io, () => op(o, key, { op: 'add', element, ...field(o) })));
  clientOptions(kv.command('rm <key> <element>').description('remove an element from a set key (or a map key\'s set field): the adds this agent has seen'))
    .option('--field <name>', 'the set field of a map key')
    .action((key: string, element: string, o: ClientFlags & { field?: string }) => runClient(io, () => op(o, key, { op: 'remove', element, ...field(o) })));
  clientOptions(kv.command('field-set <key> <field> <value>').description('set a map key\'s register field (JSON if it parses, else a string)'))
    .option('--string', 'store the value as a string even if it parses as JSON')
    .action((key: string, name: string, value: string, o: ClientFlags & { string?: boolean }) => runClient(io, () => op(o, key, { op: 'set', field: name, value: parseValue(value, o.string) })));
  clientOptions(kv.command('field-rm <key> <field>').description('remove a field of a map key'))
    .action((key: string, name: string, o: ClientFlags) => runClient(io, () => op(o, key, { op: 'removeField', field: name })));
  clientOptions(kv.command('list [prefix]').description('list the keys under a prefix'))
    .option('--json', 'print a JSON array')
    .action((prefix: string | undefined, o: ClientFlags & { json?: boolean }) => runClient(io, async () => {
      const r = await clientFrom(o).call<{ keys: string[] }>('GET', `/v1/kv?prefix=${encodeURIComponent(prefix ?? '')}`);
      if (o.json === true) return io.out(JSON.stringify(r.keys));
      for (const k of r.keys) io.out(k);
    }));
}
