import type { Command } from 'commander';
import { CommanderError } from 'commander';
import { pino } from 'pino';
import { Agent, StoreError } from '../../agent/agent.js';
import type { PartialConfig } from '../../agent/config.js';
import { ConfigError, configFromEnv, configFromFile, parseTags, resolveConfig } from '../../agent/config.js';
import { loadDashboard } from '../../agent/dashboard.js';
import { KeyringFileError } from '../../index.js';
import type { Io } from '../io.js';

interface AgentFlags {
  name?: string; bind?: string; advertise?: string; join?: string[]; encrypt?: string; keyringFile?: string; dataDir?: string;
  http?: string; token?: string; tokenFile?: string; httpHost?: string[]; valueBytesMax?: string; profile?: string; tag?: string[]; config?: string; logLevel?: string;
  recover?: boolean;
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
  set('logLevel', f.logLevel); set('recover', f.recover);
  if (f.tag !== undefined) out.tags = parseTags(f.tag, '--tag');
  return out;
}

/**
 * `gossip agent`: runs a node with its store and HTTP API until SIGINT/SIGTERM (then leaves
 * the cluster gracefully) or `gossip leave`. Settings: defaults < `--config` file <
 * `GOSSIP_*` environment < flags.
 */
export function registerAgent(program: Command, io: Io, env: Readonly<Record<string, string | undefined>> = process.env): void {
  program
    .command('agent')
    .description('run a cluster member: gossip on --bind, durable state in --data-dir, HTTP API on --http')
    .option('--name <name>', 'this node\'s unique name (GOSSIP_NAME)')
    .option('--bind <host:port>', 'UDP+TCP gossip address (GOSSIP_BIND, default 0.0.0.0:7946)')
    .option('--advertise <host:port>', 'the address peers reach us at (GOSSIP_ADVERTISE)')
    .option('--join <host:port>', 'a member to join through; repeatable (GOSSIP_JOIN, comma-separated)', collect)
    .option('--encrypt <base64>', 'encrypt gossip with this key (GOSSIP_ENCRYPT; gossip keygen)')
    .option('--keyring-file <file>', 'Serf keyring file, a JSON array of base64 keys (GOSSIP_KEYRING_FILE)')
    .option('--data-dir <dir>', 'durable state (SQLite) and keyring (GOSSIP_DATA_DIR); none: in memory')
    .option('--http <host:port>', 'HTTP API address (GOSSIP_HTTP, default 127.0.0.1:7380)')
    .option('--token-file <file>', 'file holding the bearer token for the HTTP API, required off loopback (GOSSIP_HTTP_TOKEN_FILE)')
    .option('--token <token>', 'the bearer token itself (GOSSIP_HTTP_TOKEN); visible in ps: prefer --token-file')
    .option('--http-host <name>', 'a DNS name the HTTP API is reached by (Host check); repeatable (GOSSIP_HTTP_HOSTS, comma-separated)', collect)
    .option('--value-bytes-max <n>', 'largest value a write accepts, bytes (GOSSIP_VALUE_BYTES_MAX, default 65536)')
    .option('--profile <p>', 'timing profile: lan, wan or local (GOSSIP_PROFILE)')
    .option('--tag <k=v>', 'a Serf tag; repeatable (GOSSIP_TAGS, comma-separated)', collect)
    .option('--config <file>', 'JSON config file (GOSSIP_CONFIG): the same settings, camelCase')
    .option('--log-level <level>', 'trace, debug, info, warn, error (GOSSIP_LOG_LEVEL)')
    .option('--recover', 'start although the store in --data-dir is damaged: keep what is left, relearn from peers (GOSSIP_RECOVER)')
    .action(async (f: AgentFlags) => {
      let config;
      try {
        const file = f.config ?? env.GOSSIP_CONFIG;
        config = resolveConfig({ ...(file !== undefined ? { file: configFromFile(file) } : {}), env: configFromEnv(env), flags: configFromFlags(f) });
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        io.err(`error: ${e.message}`);
        throw new CommanderError(2, 'gossip.config', e.message);
      }
      const log = pino({ level: config.logLevel, base: { node: config.name } });
      let agent: Agent;
      try {
        agent = await Agent.start({ config, log, dashboard: await loadDashboard((line) => log.warn(line)) });
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        log.fatal(`cannot start: ${msg}`);
        io.err(`error: cannot start the agent: ${msg}`);
        log.flush();
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
    });
}
