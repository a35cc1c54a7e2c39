import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { resolveConfig } from '../../src/agent/config.js';
import { suspectsInAgentLog } from '../../src/clusterbench/our-node.js';
import { freePort } from '../../src/clusterbench/ports.js';
import { MemoryStore } from '../../src/store/index.js';
import { waitFor } from './wait.js';

/**
 * The agent logs a suspicion it raised as memberlist does ("Suspect X has failed, no acks
 * received", only on the prober), and `gossip bench cluster` reads suspected members from that
 * line in our agents' logs as it reads them from serf's.
 */
async function startAgent(name: string, lines: string[], join: string[] = []): Promise<Agent> {
  const [bind, http] = [await freePort(), await freePort()];
  const config = resolveConfig({ flags: { name, bind: `127.0.0.1:${bind}`, http: `127.0.0.1:${http}`, profile: 'local', join } });
  const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
  return Agent.start({ config, log, store: new MemoryStore() });
}

describe('agent: a suspicion it raised is logged', () => {
  const agents: Agent[] = [];
  afterAll(async () => {
    for (const a of agents) await a.stop('test done', false);
  });

  it('logs "suspect has failed, no acks received" with the member on the prober only; the bench finds it', async () => {
    const aLines: string[] = [];
    const bLines: string[] = [];
    const cLines: string[] = [];
    const a = await startAgent('a', aLines);
    agents.push(a);
    const b = await startAgent('b', bLines, [a.node.addr]);
    const c = await startAgent('c', cLines, [a.node.addr]);
    agents.push(c);
    await waitFor('a, b and c see each other', 10_000, () => a.node.members().filter((m) => m.status === 'alive').length === 3 && c.node.members().filter((m) => m.status === 'alive').length === 3);
    // b stops without leaving: its probers get no ack and suspect it.
    await b.stop('test: gone without a leave', false);
    await waitFor('b declared failed', 20_000, () => a.node.members().find((m) => m.name === 'b')?.status === 'failed');
    const raisedBy = (lines: string[]): string[] => lines.filter((l) => l.includes('suspect has failed, no acks received'));
    const all = [...raisedBy(aLines), ...raisedBy(cLines)];
    expect(all.length).toBeGreaterThanOrEqual(1);
    for (const l of all) expect(JSON.parse(l)).toMatchObject({ level: 30, member: 'b', msg: 'suspect has failed, no acks received' });
    // Each line is the prober's own (a suspicion heard from a peer is not logged): an agent logs
    // at most once per suspicion it raised (a failed probe of a member already suspect raises none anew).
    expect(raisedBy(aLines).length).toBeLessThanOrEqual(a.node.stats.gossip.suspicionsRaised);
    expect(raisedBy(cLines).length).toBeLessThanOrEqual(c.node.stats.gossip.suspicionsRaised);
    expect([...suspectsInAgentLog([...aLines, ...cLines].join(''), 'a')]).toEqual(['b']);
  });
});
