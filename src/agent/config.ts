import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
// zod's functional build (zod/mini), imported by name: esbuild keeps only what the schema uses,
// about 45 KB instead of the whole of zod (770 KB, ~10 MB of an agent's memory and 0.1 s of its
// start-up CPU; issue 12). It has no message catalogue: every check below says its own.
import type { output } from 'zod/mini';
import { _default, array, boolean, enum as oneOf, int, maximum, maxLength, minLength, minimum, number, optional, prefault, record, strictObject, string, superRefine } from 'zod/mini';
import { ipFamily, parseHostPort } from '../transport/address.js';
import { parseHandlerSpec } from './event-handlers.js';
import { parseJoinAddress } from './join-address.js';
import { ConfigError, parseTags, readTokenFile } from './config-values.js';

export { ConfigError, parseTags, readTokenFile } from './config-values.js';

/**
 * The agent's configuration, from three sources merged in this precedence (later wins):
 * built-in defaults < the JSON config file (`--config` / `GOSSIP_CONFIG`) < environment
 * variables (`GOSSIP_*`) < command-line flags. Lists (`join`) and maps (`tags`) are replaced
 * as a whole by a higher source, not merged. The result is validated with zod (its functional build); every problem
 * is reported at once, each with the source it came from.
 */

/** The HTTP API's default address: loopback, so no token is needed. */
export const DEFAULT_HTTP = '127.0.0.1:7380';
export const DEFAULT_BIND = '0.0.0.0:7946';

/** A string of at least one character; `what` names it in the message. */
const nonEmpty = (message: string) => string({ error: message }).check(minLength(1, { error: message, abort: true }));
/** A whole number in [lo, hi]. */
const wholeIn = (lo: number, hi: number, what = 'expected a whole number') =>
  int({ error: what }).check(minimum(lo, `at least ${lo}`), maximum(hi, `at most ${hi}`));
/** A list of strings, each checked by `item`. */
const strings = (item = string({ error: 'expected a string' })) => array(item, { error: 'expected a list of strings' });

const hostPort = (what: string) =>
  nonEmpty(`${what}: expected host:port`).check(superRefine((s, ctx) => {
    try {
      const hp = parseHostPort(s);
      if (hp.port < 0 || hp.port > 65535) ctx.addIssue({ code: 'custom', message: `${what}: port out of range in '${s}'` });
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: `${what}: ${e instanceof Error ? e.message : String(e)}` });
    }
  }));

/** A join address: `host:port`, `[v6]:port`, a DNS name (port optional, 7946) or `dns+srv://NAME`. */
const joinAddress = (what: string) =>
  nonEmpty(`${what}: empty address`).check(superRefine((s, ctx) => {
    try {
      parseJoinAddress(s);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: `${what}: ${e instanceof Error ? e.message : String(e)}` });
    }
  }));

const base64Key = string({ error: 'encrypt: expected a base64 key' }).check(superRefine((s, ctx) => {
  const ok = /^[A-Za-z0-9+/]+={0,2}$/.test(s) && s.length % 4 === 0;
  const n = ok ? Buffer.from(s, 'base64').length : -1;
  if (n !== 16 && n !== 24 && n !== 32) ctx.addIssue({ code: 'custom', message: 'encrypt: expected a base64 key of 16, 24 or 32 bytes (gossip keygen makes one)' });
}));

const NAME_REQUIRED = 'name: required (--name, GOSSIP_NAME or "name" in the config file)';

export const agentConfigSchema = strictObject({
  name: string({ error: NAME_REQUIRED }).check(minLength(1, NAME_REQUIRED), maxLength(128, 'name: at most 128 characters')),
  bind: _default(hostPort('bind'), DEFAULT_BIND),
  advertise: optional(hostPort('advertise')),
  /** Joined through at start (each is contacted); names are resolved (A/AAAA, `dns+srv://` SRV) on every attempt. */
  join: _default(strings(joinAddress('join')), []),
  /**
   * Serf's `-retry-join`: joined through like `join`, and when none answers the join is retried
   * every `retryIntervalMs` (at most `retryMax` times), names resolved anew each time.
   */
  retryJoin: _default(strings(joinAddress('retryJoin')), []),
  encrypt: optional(base64Key),
  keyringFile: optional(nonEmpty('keyringFile: empty path')),
  dataDir: optional(nonEmpty('dataDir: empty path')),
  http: _default(hostPort('http'), DEFAULT_HTTP),
  /** Bearer token for the HTTP API; required when `http` is not a loopback address. Prefer `tokenFile` (a flag shows in `ps`). */
  token: optional(string({ error: 'token: expected a string' }).check(minLength(16, 'token: at least 16 characters'))),
  /** A file holding the token (its first line; trailing whitespace ignored): read at start into `token`. */
  tokenFile: optional(nonEmpty('tokenFile: empty path')),
  /** DNS names the HTTP API may be reached by (the `Host` check against DNS rebinding), beyond localhost, 127.0.0.1, [::1] and the `http` address. */
  httpHosts: _default(strings(nonEmpty('httpHosts: empty name')), []),
  /** `/v1/stream` connections open at once; more get a 503. */
  httpStreamsMax: _default(wholeIn(1, 100_000), 64),
  profile: _default(oneOf(['lan', 'wan', 'local'], { error: "profile: expected 'lan', 'wan' or 'local'" }), 'lan'),
  tags: _default(record(string(), string({ error: 'tags: expected string values' }), { error: 'tags: expected an object of strings' }).check(superRefine((t, ctx) => {
    if ('' in t) ctx.addIssue({ code: 'custom', message: 'tags: empty tag name' });
  })), {}),
  logLevel: _default(oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], { error: 'logLevel: expected trace, debug, info, warn, error, fatal or silent' }), 'info'),
  /** `text` (Serf's lines: `2026/12/06 04:20:00 [INFO] agent: …`) or `json` (one JSON object a line); default: text on a terminal, else json. */
  logFormat: optional(oneOf(['text', 'json'], { error: "logFormat: expected 'text' or 'json'" })),
  /** Log lines are also appended to this file (Consul's -log-file), rotated by `logRotateBytes`. */
  logFile: optional(nonEmpty('logFile: empty path')),
  /** The log file is rotated before a line would take it past this many bytes (renamed `<name>-<epoch ms>.<ext>`); 0: never. */
  logRotateBytes: _default(wholeIn(0, Number.MAX_SAFE_INTEGER), 0),
  /** Rotated log files kept (the oldest are deleted); 0: all. */
  logRotateMaxFiles: _default(wholeIn(0, 1_000_000), 0),
  /**
   * A name whose old address was declared dead may come back at a new address after this long
   * (memberlist's DeadNodeReclaimTime; 0 = never, memberlist's default, which locks out a node
   * restarted on a new port). Default 1 s: a dead record is not a live conflict.
   */
  deadNodeReclaimMs: _default(wholeIn(0, 86_400_000), 1000),
  /** When the join at start reached nobody (`join`, `retryJoin`, else the snapshot's members), it is retried this often (Serf's -retry-interval). */
  retryIntervalMs: _default(wholeIn(100, 3_600_000), 5000),
  /** Retries of a join that reached nobody; 0: until one works (Serf's -retry-max). */
  retryMax: _default(wholeIn(0, 1_000_000), 0),
  /**
   * How concurrent writes resolve, per key prefix (the longest matching prefix wins; the same on
   * every node): `lww` (default), `siblings` (concurrent values kept, a PUT with the context of a
   * read supersedes what it saw), `gcounter`, `pncounter`, `orset`, `ormap`.
   */
  resolvers: _default(record(string(), oneOf(['lww', 'siblings', 'gcounter', 'pncounter', 'orset', 'ormap'], { error: 'expected lww, siblings, gcounter, pncounter, orset or ormap' }), { error: 'resolvers: expected an object of key prefix to resolver' }), {}),
  /** SQLite's synchronous level for the store: FULL (default: a write is acknowledged after an fsync of the WAL) or NORMAL (survives a crash of the process, not of the machine). See src/store/sqlite-store.ts. */
  sqliteSynchronous: _default(oneOf(['FULL', 'NORMAL'], { error: "sqliteSynchronous: expected 'FULL' or 'NORMAL'" }), 'FULL'),
  /**
   * Start although the store is damaged (commits lost from its WAL, state.db deleted or
   * replaced, a corrupt state.db, which is moved aside): keep what is left, relearn this node's
   * dot counter from its peers before taking writes, and refill from them by anti-entropy.
   * Without it the agent refuses to start on a damaged store (exit 2). For one start only:
   * leave it off once the agent runs again.
   */
  recover: _default(boolean({ error: 'recover: expected true or false' }), false),
  /**
   * `nearest` (and `gossip rtt`'s neighbours) settled by direct round trips: in a cluster large
   * enough that SWIM probes each member less often than every 2 minutes, one extra ping every 5 s
   * to the nearest candidates (README, "Topology"). false: by coordinates alone, no extra ping.
   */
  nearestRefinement: _default(boolean({ error: 'nearestRefinement: expected true or false' }), true),
  /**
   * Serf's `-event-handler`: `[FILTER=]SCRIPT`, FILTER a comma-separated list of `member-join`,
   * `member-leave`, `member-failed`, `member-update`, `member-reap`, `user`, `user:NAME`,
   * `query`, `query:NAME` or `*` (none: every event). Run one at a time with `sh -c`.
   */
  eventHandlers: _default(strings(string({ error: 'eventHandlers: expected a string' }).check(superRefine((s, ctx) => {
    try {
      parseHandlerSpec(s);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: `eventHandlers: ${e instanceof Error ? e.message : String(e)}` });
    }
  }))), []),
  /** An event handler run is killed after this long (ms); a query's answer must come before the query's deadline anyway. */
  eventHandlerTimeoutMs: _default(wholeIn(100, 3_600_000), 30_000),
  /** Largest value (JSON-encoded) a PUT accepts, in bytes. */
  valueBytesMax: _default(wholeIn(1, 16 * 1024 * 1024), 64 * 1024),
  /**
   * Caps the bytes this node sends per second on the wire (membership first, then the data
   * layer's rumors, digests, acknowledgements and anti-entropy, which wait for room): no 1 s
   * window carries more while membership alone stays below it. Default: no cap.
   */
  bandwidth: optional(number({ error: 'bandwidth: expected bytes per second' }).check(superRefine((n, ctx) => {
    if (!Number.isSafeInteger(n)) ctx.addIssue({ code: 'custom', message: 'bandwidth: expected whole bytes per second' });
    else if (n < 3000) ctx.addIssue({ code: 'custom', message: 'bandwidth: at least 3000 bytes per second (a packet must fit a quarter of it)' });
    else if (n > 10_000_000_000) ctx.addIssue({ code: 'custom', message: 'bandwidth: at most 10000000000' });
  }))),
  /**
   * Yjs documents over `ws://HOST/v1/yjs/{doc}` (y-websocket protocol), replicated across the
   * cluster. `read` and `write` are document-name prefixes ('' allows every name; write implies
   * read; a document neither allows is refused with 403). The token, when set, is needed as for
   * every route (`Authorization: Bearer`, or `?token=` since a browser's WebSocket sends no header).
   */
  yjs: prefault(strictObject({
    read: _default(strings(), ['']),
    write: _default(strings(), ['']),
    /** A document no client holds is unloaded after this long without activity (ms). */
    idleMs: _default(wholeIn(100, 86_400_000), 30_000),
    /** Period of the state-vector anti-entropy round (ms). */
    antiEntropyMs: _default(wholeIn(50, 3_600_000), 2000),
    /** Websocket connections open at once; more get a 503. */
    connectionsMax: _default(wholeIn(1, 1_000_000), 4096),
  }, { error: 'yjs: expected an object' }), {}),
}, { error: 'expected an object of settings' }).check(superRefine((c, ctx) => {
  if (c.encrypt !== undefined && c.keyringFile !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['encrypt'], message: 'encrypt: pass either encrypt or keyringFile, not both' });
  }
  if (c.token !== undefined && c.tokenFile !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['token'], message: 'token: pass either token or tokenFile, not both' });
  }
  if (!isLoopbackHostPort(c.http) && c.token === undefined && c.tokenFile === undefined) {
    ctx.addIssue({ code: 'custom', path: ['token'], message: `http ${c.http} is not a loopback address: a token is required (--token-file, GOSSIP_HTTP_TOKEN_FILE or GOSSIP_HTTP_TOKEN)` });
  }
}));

export type AgentConfig = output<typeof agentConfigSchema>;
/** What each source may hold: any subset, unvalidated. */
export type PartialConfig = { -readonly [K in keyof AgentConfig]?: unknown };

export function isLoopbackHostPort(s: string): boolean {
  try {
    const { host } = parseHostPort(s);
    if (ipFamily(host) === 4) return host.startsWith('127.');
    return host === '::1';
  } catch {
    return false;
  }
}

const ENV: Readonly<Record<string, keyof AgentConfig>> = {
  GOSSIP_NAME: 'name', GOSSIP_BIND: 'bind', GOSSIP_ADVERTISE: 'advertise', GOSSIP_JOIN: 'join', GOSSIP_ENCRYPT: 'encrypt',
  GOSSIP_KEYRING_FILE: 'keyringFile', GOSSIP_DATA_DIR: 'dataDir', GOSSIP_HTTP: 'http', GOSSIP_HTTP_TOKEN: 'token', GOSSIP_HTTP_TOKEN_FILE: 'tokenFile', GOSSIP_HTTP_HOSTS: 'httpHosts',
  GOSSIP_PROFILE: 'profile', GOSSIP_TAGS: 'tags', GOSSIP_SQLITE_SYNCHRONOUS: 'sqliteSynchronous', GOSSIP_LOG_LEVEL: 'logLevel', GOSSIP_VALUE_BYTES_MAX: 'valueBytesMax', GOSSIP_BANDWIDTH: 'bandwidth',
  GOSSIP_RECOVER: 'recover', GOSSIP_NEAREST_REFINEMENT: 'nearestRefinement', GOSSIP_RETRY_JOIN: 'retryJoin', GOSSIP_LOG_FORMAT: 'logFormat', GOSSIP_LOG_FILE: 'logFile',
};

/** The configuration the `GOSSIP_*` variables give (`GOSSIP_JOIN`, `GOSSIP_RETRY_JOIN` and `GOSSIP_TAGS` comma-separated). */
export function configFromEnv(env: Readonly<Record<string, string | undefined>>): PartialConfig {
  const out: PartialConfig = {};
  for (const [name, key] of Object.entries(ENV)) {
    const v = env[name];
    if (v === undefined || v === '') continue;
    const list = v.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    if (key === 'join' || key === 'retryJoin' || key === 'httpHosts') out[key] = list;
    else if (key === 'tags') out.tags = parseTags(list, name);
    else if (key === 'valueBytesMax') out.valueBytesMax = Number(v);
    else if (key === 'bandwidth') out.bandwidth = Number(v);
    else if (key === 'recover' || key === 'nearestRefinement') out[key] = v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v;
    else out[key] = v;
  }
  return out;
}

/**
 * Every `*.json` in `dir`, in name order, merged (a later file's setting replaces an earlier
 * one's, lists and maps as a whole): Serf's `-config-dir`. A missing directory or a bad file is a
 * `ConfigError` naming it; a directory without JSON files gives nothing.
 */
export function configFromDir(dir: string): PartialConfig {
  let names: string[];
  try {
    names = readdirSync(dir, { withFileTypes: true }).filter((e) => e.name.endsWith('.json') && !e.isDirectory()).map((e) => e.name).sort();
  } catch (e) {
    throw new ConfigError([`config dir ${dir}: ${e instanceof Error ? e.message : String(e)}`]);
  }
  const out: PartialConfig = {};
  for (const name of names) Object.assign(out, configFromFile(join(dir, name)));
  return out;
}

/** Reads the JSON config file; a missing file or bad JSON is a `ConfigError` naming the file. */
export function configFromFile(path: string): PartialConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError([`config file ${path}: ${e instanceof Error ? e.message : String(e)}`]);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new ConfigError([`config file ${path}: not valid JSON (${e instanceof Error ? e.message : String(e)})`]);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError([`config file ${path}: expected a JSON object`]);
  return v;
}

export interface ConfigSources {
  readonly file?: PartialConfig;
  readonly env?: PartialConfig;
  readonly flags?: PartialConfig;
}

/** Merges defaults < file < env < flags and validates; throws a `ConfigError` listing every problem. */
export function resolveConfig(s: ConfigSources): AgentConfig {
  const merged: PartialConfig = {};
  for (const src of [s.file, s.env, s.flags]) {
    if (src === undefined) continue;
    for (const [k, v] of Object.entries(src)) if (v !== undefined) (merged as Record<string, unknown>)[k] = v;
  }
  const r = agentConfigSchema.safeParse(merged);
  if (!r.success) {
    throw new ConfigError(r.error.issues.map((i) => {
      if (i.code === 'unrecognized_keys') return `unknown setting${i.keys.length > 1 ? 's' : ''}: ${i.keys.map((k) => [...i.path, k].join('.')).join(', ')}`;
      const where = i.path.join('.');
      return i.message.startsWith(`${String(i.path[0])}:`) || where === '' ? i.message : `${where}: ${i.message}`;
    }));
  }
  return r.data.tokenFile === undefined ? r.data : { ...r.data, token: readTokenFile(r.data.tokenFile) };
}
