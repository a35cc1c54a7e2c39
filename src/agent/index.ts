/**
 * `gossip-coordinator/agent`: the agent embedded in a program (`createAgent`), with the same
 * settings as `gossip agent`.
 */
export { createAgent } from './create-agent.js';
export type { AgentSettings, CreateAgentOptions } from './create-agent.js';
export { Agent } from './agent.js';
export type { AgentOptions } from './agent.js';
export type { AgentConfig } from './config.js';
export { ConfigError } from './config-values.js';
export { dnsResolver, systemResolver } from './join-address.js';
export type { JoinResolver } from './join-address.js';
