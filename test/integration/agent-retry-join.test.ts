import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import type { AgentConfig } from '../../src/agent/config.js';
import { resolveConfig } from '../../src/agent/config.js';
import { dnsResolver, parseJoinAddress, resolveJoinAddress } from '../../src/agent/join-address.js';
import { main } from '../../src/cli/main.js';
import { MemoryStore } from '../../src/store/index.js';
import { capture } from '../unit/cli/capture.js';
import { startDnsServer } from './dns-server.js';
import { waitFor } from './wait.js';

const TOKEN = 't'.repeat(20);
let dns: Awaited<ReturnType<typeof startDnsServer>>;
/** The agent every other one joins; its gossip port is what the zone's records point at. */
let seed: Agent;
let seedPort: number;
const started: Agent[] = [];

async function start(flags: Record<string, unknown>, withResolver = true): Promise<Agent> {
  const config: AgentConfig = resolveConfig({ flags: { bind: '127.0.0.1:0', http: '127.0.0.1:0', token: TOKEN, profile: 'local', ...flags } });
  const a = await Agent.start({ config, log: pino({ level: 'silent' }), store: new MemoryStore(), ...(withResolver ? { resolver: dnsResolver(dns.resolver) } : {}) });
  started.push(a);
  return a;
}

const queriesFor = (q: string): number => dns.queries.filter((x) => x === q).length;

beforeAll(async () => {
  dns = await startDnsServer();
  seed = await start({ name: 'rj-seed' });
  seedPort = Number(seed.node.addr.slice(seed.node.addr.lastIndexOf(':') + 1));
});
afterAll(async () => {
  for (const a of started.reverse()) await a.stop('test done', false);
  await dns?.close();
});

describe('join addresses', () => {
  it('parses IP literals (port 7946 by default), names and dns+srv://; refuses the rest with the input named', () => {
    expect(parseJoinAddress('10.0.0.1')).toEqual({ kind: 'ip', addr: '10.0.0.1:7946' });
    expect(parseJoinAddress('[::1]:8000')).toEqual({ kind: 'ip', addr: '[::1]:8000' });
    expect(parseJoinAddress('::1')).toEqual({ kind: 'ip', addr: '[::1]:7946' });
    expect(parseJoinAddress('node-1.example.com:7000')).toEqual({ kind: 'name', host: 'node-1.example.com', port: 7000 });
    expect(parseJoinAddress('localhost')).toEqual({ kind: 'name', host: 'localhost', port: 7946 });
    expect(parseJoinAddress('dns+srv://_serf._tcp.svc.cluster.local')).toEqual({ kind: 'srv', name: '_serf._tcp.svc.cluster.local' });
    expect(() => parseJoinAddress('bad name:7946')).toThrow(/"bad name:7946": expected host:port/);
    expect(() => parseJoinAddress('host:99999')).toThrow(/bad port/);
    expect(() => parseJoinAddress('dns+srv://')).toThrow(/dns\+srv:\/\/NAME/);
    expect(() => resolveConfig({ flags: { name: 'x', retryJoin: ['a b'] } })).toThrow(/retryJoin: "a b"/);
  });

  it('resolves A and AAAA records, and SRV records (by priority, each target resolved) through the loopback DNS server', async () => {
    const r = dnsResolver(dns.resolver);
    dns.zone.a.set('two.addr.test', ['127.0.0.21', '127.0.0.22']);
    dns.zone.aaaa.set('two.addr.test', ['::1']);
    expect((await resolveJoinAddress('two.addr.test:7000', r)).sort()).toEqual(['127.0.0.21:7000', '127.0.0.22:7000', '[::1]:7000']);
    dns.zone.a.set('n1.srv.test', ['127.0.0.31']);
    dns.zone.a.set('n2.srv.test', ['127.0.0.32']);
    dns.zone.srv.set('_gossip._udp.srv.test', [{ target: 'n2.srv.test', port: 8002, priority: 20 }, { target: 'n1.srv.test', port: 8001, priority: 10 }]);
    expect(await resolveJoinAddress('dns+srv://_gossip._udp.srv.test', r)).toEqual(['127.0.0.31:8001', '127.0.0.32:8002']);
    await expect(resolveJoinAddress('missing.test:1', r)).rejects.toThrow(/cannot resolve missing\.test \(ENOTFOUND\)/);
    await expect(resolveJoinAddress('dns+srv://_none._udp.test', r)).rejects.toThrow(/no SRV records for _none\._udp\.test/);
  });
});

describe('--retry-join', () => {
  it('retries a name with no record until it appears, re-resolving it on each attempt, then joins', async () => {
    const a = await start({ name: 'rj-late', retryJoin: [`late.seed.test:${seedPort}`], retryIntervalMs: 100 });
    expect(a.node.members().length).toBe(1);
    await waitFor('two failed resolutions', 5000, () => queriesFor('A late.seed.test') >= 2);
    dns.zone.a.set('late.seed.test', ['127.0.0.1']);
    await waitFor('rj-late to join the seed', 5000, () => a.node.members().some((m) => m.name === 'rj-seed' && m.status === 'alive'));
    const asked = queriesFor('A late.seed.test');
    await new Promise((r) => setTimeout(r, 400));
    expect(queriesFor('A late.seed.test')).toBe(asked); // joined: no more retries
  });

  it('joins through dns+srv:// (SRV → a name → its A record, with the SRV port)', async () => {
    dns.zone.a.set('seed.svc.test', ['127.0.0.1']);
    dns.zone.srv.set('_gossip._udp.svc.test', [{ target: 'seed.svc.test', port: seedPort }]);
    const a = await start({ name: 'rj-srv', retryJoin: ['dns+srv://_gossip._udp.svc.test'] });
    await waitFor('rj-srv to join the seed', 5000, () => a.node.members().some((m) => m.name === 'rj-seed'));
  });

  it('gives up after --retry-max retries', async () => {
    await start({ name: 'rj-never', retryJoin: ['never.test:7946'], retryIntervalMs: 100, retryMax: 2 });
    await waitFor('the first attempt and 2 retries', 5000, () => queriesFor('A never.test') >= 3);
    await new Promise((r) => setTimeout(r, 500));
    expect(queriesFor('A never.test')).toBe(3);
  });

  it('--join localhost:PORT works through the system resolver (/etc/hosts)', async () => {
    const a = await start({ name: 'rj-localhost', join: [`localhost:${seedPort}`] }, false);
    await waitFor('rj-localhost to join the seed', 5000, () => a.node.members().some((m) => m.name === 'rj-seed'));
  });

  it('gossip join NAME:PORT resolves the name in the agent (exit 0); a name without records exits 1', async () => {
    const a = await start({ name: 'rj-cli' });
    dns.zone.a.set('cli.seed.test', ['127.0.0.1']);
    const io = capture();
    expect(await main(['join', `cli.seed.test:${seedPort}`, '--http', a.httpAddress, '--token', TOKEN], io)).toBe(0);
    expect(io.stdout).toEqual(['Successfully joined cluster by contacting 1 nodes.']);
    const bad = capture();
    expect(await main(['join', 'nothing.test:1', '--http', a.httpAddress, '--token', TOKEN], bad)).toBe(1);
    expect(bad.stderr[0]).toMatch(/^error: 502: .*cannot resolve nothing\.test/);
  });

  it('the agent command takes --retry-join, --retry-interval and --retry-max; bad values exit 2', async () => {
    const { agentConfig } = await import('../../src/cli/commands/agent.js');
    const c = await agentConfig({ name: 'x', retryJoin: ['dns+srv://_g._udp.test', 'h.test'], retryInterval: '30s', retryMax: '3' }, {});
    expect(c).toMatchObject({ retryJoin: ['dns+srv://_g._udp.test', 'h.test'], retryIntervalMs: 30_000, retryMax: 3 });
    expect((await agentConfig({ name: 'x' }, { GOSSIP_RETRY_JOIN: 'a.test,b.test:1' })).retryJoin).toEqual(['a.test', 'b.test:1']);
    const io = capture();
    expect(await main(['agent', '--name', 'x', '--retry-interval', 'soon'], io)).toBe(2);
    expect(io.stderr.join('\n')).toMatch(/--retry-interval/);
    expect(await main(['agent', '--name', 'x', '--retry-max', '-1'], capture())).toBe(2);
    expect(await main(['agent', '--name', 'x', '--retry-join', 'bad name'], capture())).toBe(2);
  });
});
