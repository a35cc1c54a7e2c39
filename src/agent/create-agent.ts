import type { AgentLog } from './agent-log.js';
import type { input } from 'zod/mini';
import type { AgentStore } from '../store/state-store.js';
import { Agent } from './agent.js';
import type { agentConfigSchema } from './config.js';
import { resolveConfig } from './config.js';
import { loadDashboard } from './dashboard.js';
import type { JoinResolver } from './join-address.js';
import { agentLogger } from './log-output.js';

/**
 * An agent's settings: the keys of the JSON config file (the CLI's flags, camelCase), e.g.
 * `{ name: 'n1', bind: '0.0.0.0:7946', dataDir: '/var/lib/gossip', join: ['dns+srv://_gossip._udp.svc'] }`.
 * Defaults as the CLI's.
 */
export type AgentSettings = input<typeof agentConfigSchema>;

export interface CreateAgentOptions {
  /** The agent's logger; default: the one `logFormat`/`logFile`/`logLevel` describe, to stdout (and the file). */
  readonly log?: AgentLog;
  /** Serve the dashboard at `GET /` (default true, as `gossip agent`). */
  readonly dashboard?: boolean;
  /** A store to use instead of the one `dataDir` implies. */
  readonly store?: AgentStore;
  /** The DNS queries join addresses make (default: the system's). */
  readonly resolver?: JoinResolver;
}

/**
 * Starts an agent in this process, as `gossip agent` does with the same settings: its store,
 * node, HTTP API and dashboard, joined through `join`/`retryJoin`. Throws a `ConfigError` listing
 * every bad setting (nothing started then). Stop it with `agent.stop(reason)` (leaves the
 * cluster) or `agent.stop(reason, false)`.
 */
export async function createAgent(settings: AgentSettings, o: CreateAgentOptions = {}): Promise<Agent> {
  const config = resolveConfig({ file: settings });
  const logger = o.log !== undefined ? { log: o.log, close: () => undefined } : agentLogger(config);
  try {
    const dashboard = o.dashboard === false ? null : await loadDashboard((line) => logger.log.warn(line));
    const agent = await Agent.start({ config, log: logger.log, dashboard, ...(o.store !== undefined ? { store: o.store } : {}), ...(o.resolver !== undefined ? { resolver: o.resolver } : {}) });
    void agent.done.then(() => logger.close());
    return agent;
  } catch (e) {
    logger.close();
    throw e;
  }
}
