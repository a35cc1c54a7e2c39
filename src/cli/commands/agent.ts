import type { Command } from 'commander';
import { CommanderError } from 'commander';
import type { Agent } from '../../agent/agent.js';
import type { AgentConfig, PartialConfig } from '../../agent/config.js';
import { parseTags } from '../../agent/config-values.js';
import { parseDuration, parseIntIn } from '../parse.js';
import type { Io } from '../io.js';

export interface AgentFlags {
  name?: string; bind?: string; advertise?: string; join?: string[]; encrypt?: string; keyringFile?: string; dataDir?: string;
  http?: string; token?: string; tokenFile?: string; httpHost?: string[]; valueBytesMax?: string; bandwidth?: string; profile?: string; tag?: string[]; config?: string; configDir?: string; logLevel?: string;
  recover?: boolean; eventHandler?: string[]; retryJoin?: string[]; retryInterval?: string; retryMax?: string;
  logFormat?: string; logFile?: string; logRotateBytes?: string; logRotateMaxFiles?: string;
}

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

/** Flags as a config source: only those given (commander leaves the others undefined). */
export function configFromFlags(f: AgentFlags): PartialConfig {
  const out: PartialConfig = {};
  const set = (k: keyof PartialConfig, v: unknown): void => {
    if (v !== undefined) out[k] = v;
  };
  set('name', f.name); set('bind', f.bind); set('advertise', f.advertise); set('join', f.join); set('encrypt', f.encrypt);
  set('keyringFile', f.keyringFile); set('dataDir', f.dataDir); set('http', f.http); set('token', f.token); set('tokenFile', f.tokenFile);
  set('httpHosts', f.httpHost); set('profile', f.profile);
  if (f.valueBytesMax !== undefined) out.valueBytesMax = Number(f.valueBytesMax);
  if (f.bandwidth !== undefined) out.bandwidth = Number(f.bandwidth);
  set('logLevel', f.logLevel); set('recover', f.recover); set('eventHandlers', f.eventHandler); set('retryJoin', f.retryJoin);
  if (f.retryInterval !== undefined) out.retryIntervalMs = parseDuration(f.retryInterval, '--retry-interval');
  set('logFormat', f.logFormat); set('logFile', f.logFile);
  if (f.logRotateBytes !== undefined) out.logRotateBytes = parseIntIn(f.logRotateBytes, '--log-rotate-bytes', 0, Number.MAX_SAFE_INTEGER);
  if (f.logRotateMaxFiles !== undefined) out.logRotateMaxFiles = parseIntIn(f.logRotateMaxFiles, '--log-rotate-max-files', 0, 1_000_000);
  if (f.retryMax !== undefined) out.retryMax = parseIntIn(f.retryMax, '--retry-max', 0, 1_000_000);
  if (f.tag !== undefined) out.tags = parseTags(f.tag, '--tag');
  return out;
}

/**
 * The agent's configuration from every source: defaults < the `--config` file < the
 * `--config-dir` files (name order) < `GOSSIP_*` < flags. Throws a `ConfigError`.
 */
export async function agentConfig(f: AgentFlags, env: Readonly<Record<string, string | undefined>>): Promise<AgentConfig> {
  // Loaded when the agent starts, not to run another command (see registerAgent).
  const { configFromDir, configFromEnv, configFromFile, resolveConfig } = await import('../../agent/config.js');
  const file = f.config ?? env.GOSSIP_CONFIG;
  const dir = f.configDir ?? env.GOSSIP_CONFIG_DIR;
  const files = { ...(file !== undefined ? configFromFile(file) : {}), ...(dir !== undefined ? configFromDir(dir) : {}) };
  return resolveConfig({ file: files, env: configFromEnv(env), flags: configFromFlags(f) });
}

/**
 * `gossip agent`: runs a node with its store and HTTP API until SIGINT/SIGTERM (then leaves
 * the cluster gracefully) or `gossip leave`. Settings: defaults < `--config` file < `--config-dir` files <
 * `GOSSIP_*` environment < flags.
 */
export function registerAgent(program: Command, io: Io, env: Readonly<Record<string, string | undefined>> = process.env): void {
  program
    .command('agent')
    .description('run a cluster member: gossip on --bind, durable state in --data-dir, HTTP API on --http')
    .option('--name <name>', 'this node\'s unique name (GOSSIP_NAME)')
    .option('--bind <host:port>', 'UDP+TCP gossip address (GOSSIP_BIND, default 0.0.0.0:7946)')
    .option('--advertise <host:port>', 'the address peers reach us at (GOSSIP_ADVERTISE)')
    .option('--join <addr>', 'a member to join through: host:port, a DNS name (port optional, 7946) or dns+srv://NAME; repeatable (GOSSIP_JOIN, comma-separated)', collect)
    .option('--retry-join <addr>', 'like --join, and while no join address answers, retried every --retry-interval, names resolved anew (GOSSIP_RETRY_JOIN, comma-separated)', collect)
    .option('--retry-interval <duration>', 'time between join attempts while nobody answered, e.g. 30s (default 5s)')
    .option('--retry-max <n>', 'join attempts after the first before giving up; 0: until one works (default 0)')
    .option('--encrypt <base64>', 'encrypt gossip with this key (GOSSIP_ENCRYPT; gossip keygen)')
    .option('--keyring-file <file>', 'Serf keyring file, a JSON array of base64 keys (GOSSIP_KEYRING_FILE)')
    .option('--data-dir <dir>', 'durable state (SQLite) and keyring (GOSSIP_DATA_DIR); none: in memory')
    .option('--http <host:port>', 'HTTP API address (GOSSIP_HTTP, default 127.0.0.1:7380)')
    .option('--token-file <file>', 'file holding the bearer token for the HTTP API, required off loopback (GOSSIP_HTTP_TOKEN_FILE)')
    .option('--token <token>', 'the bearer token itself (GOSSIP_HTTP_TOKEN); visible in ps: prefer --token-file')
    .option('--http-host <name>', 'a DNS name the HTTP API is reached by (Host check); repeatable (GOSSIP_HTTP_HOSTS, comma-separated)', collect)
    .option('--value-bytes-max <n>', 'largest value a write accepts, bytes (GOSSIP_VALUE_BYTES_MAX, default 65536)')
    .option('--bandwidth <bytes/s>', 'cap on the bytes this node sends per second, membership first, the data layer waits for room (GOSSIP_BANDWIDTH; default none)')
    .option('--profile <p>', 'timing profile: lan, wan or local (GOSSIP_PROFILE)')
    .option('--tag <k=v>', 'a Serf tag; repeatable (GOSSIP_TAGS, comma-separated)', collect)
    .option('--config <file>', 'JSON config file (GOSSIP_CONFIG): the same settings, camelCase')
    .option('--config-dir <dir>', 'every *.json in this directory, merged in name order, later wins; after --config (GOSSIP_CONFIG_DIR)')
    .option('--log-level <level>', 'trace, debug, info, warn, error (GOSSIP_LOG_LEVEL)')
    .option('--log-format <format>', 'text (Serf\'s lines) or json; default text on a terminal, else json (GOSSIP_LOG_FORMAT)')
    .option('--log-file <path>', 'also append the log to this file (GOSSIP_LOG_FILE)')
    .option('--log-rotate-bytes <n>', 'rotate the log file before it passes n bytes (renamed <name>-<epoch ms>.<ext>); default 0: never')
    .option('--log-rotate-max-files <n>', 'rotated log files kept, the oldest deleted; default 0: all')
    .option('--event-handler <[filter=]script>', 'run a script on events (Serf filters: member-join, user:NAME, query:NAME, …; a query\'s stdout is the answer); repeatable', collect)
    .option('--recover', 'start although the store in --data-dir is damaged: keep what is left, relearn from peers (GOSSIP_RECOVER)')
    .action(async (f: AgentFlags) => {
      // The agent's code is loaded here, when the command runs: `gossip --help` and the client
      // commands never load it (issue 12; test/integration/module-loading.test.ts). The protocol
      // (the runtime and the core under it) first, compiled as it loads, not in the first join
      // (`loadEagerly`); the rest of the library (the simulator's models, the reconciler) stays lazy.
      await (await import('../eager-load.js')).loadEagerly(() => import('../../runtime/cluster-node.js'));
      const [{ agentLogger }, { Agent, StoreError }, { ConfigError }, { loadDashboard }, { KeyringFileError }] = await Promise.all([
        import('../../agent/log-output.js'), import('../../agent/agent.js'), import('../../agent/config.js'), import('../../agent/dashboard.js'), import('../../index.js'),
      ]);
      let config;
      try {
        config = await agentConfig(f, env);
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        io.err(`error: ${e.message}`);
        throw new CommanderError(2, 'gossip.config', e.message);
      }
      let logger;
      try {
        logger = agentLogger(config);
      } catch (e) {
        const msg = `log file ${config.logFile ?? ''}: ${e instanceof Error ? e.message : String(e)}`;
        io.err(`error: ${msg}`);
        throw new CommanderError(2, 'gossip.config', msg);
      }
      const log = logger.log;
      let agent: Agent;
      try {
        agent = await Agent.start({ config, log, dashboard: await loadDashboard((line) => log.warn(line)) });
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        log.fatal(`cannot start: ${msg}`);
        io.err(`error: cannot start the agent: ${msg}`);
        log.flush();
        logger.close();
        // A data directory that cannot be used as it is, or a keyring file that cannot (the agent
        // never starts in plaintext then, as serf), is like a bad configuration: exit 2.
        const code = e instanceof StoreError || e instanceof KeyringFileError ? 2 : 1;
        throw new CommanderError(code, e instanceof StoreError ? 'gossip.data' : e instanceof KeyringFileError ? 'gossip.keyring' : 'gossip.agent', msg);
      }
      const onSignal = (sig: string) => () => {
        void agent.stop(`${sig}`);
      };
      const offInt = onSignal('SIGINT');
      const offTerm = onSignal('SIGTERM');
      process.once('SIGINT', offInt);
      process.once('SIGTERM', offTerm);
      await agent.done;
      process.off('SIGINT', offInt);
      process.off('SIGTERM', offTerm);
      log.flush();
      logger.close();
    });
}
