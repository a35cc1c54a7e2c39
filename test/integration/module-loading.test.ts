import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { Agent } from '../../src/agent/agent.js';
import { resolveConfig } from '../../src/agent/config.js';
import { freePorts } from '../../src/clusterbench/ports.js';
import { WRITE_TYPES } from '../../src/sim/state.js';
import { MemoryStore } from '../../src/store/index.js';
import type { Trace } from './module-trace.js';
import { loaded, MAIN, traceCli, traced, traceEval } from './module-trace.js';
import { waitFor } from './wait.js';
import { freeAddr } from './free-addr.js';

/**
 * What each entry point loads (issue 12: a client command loads only its own code; issue 14:
 * the plotting libraries only under --plot, never in the agent or the library). Each process
 * runs from the sources through tsx with a module-load trace.
 */

/** Packages that no command but their own may load. */
const HEAVY = ['vega', 'vega-lite', 'better-sqlite3', 'pino', 'prom-client', 'zod', 'cli-progress', '@opentelemetry/api', '@msgpack/msgpack'];
/** Source directories the client commands and the help never load. */
const IMPLEMENTATION_DIRS = ['src/agent/', 'src/sim/', 'src/runtime/', 'src/core/', 'src/store/', 'src/wire/', 'src/transport/', 'src/dashboard/', 'src/clusterbench/'];
const under = (sources: Iterable<string>, dirs: readonly string[]): string[] => [...sources].filter((s) => dirs.some((d) => s.startsWith(d))).sort();
/** What every client command loads: the entry point, its output and parsing helpers, the HTTP client (which reads --token-file). */
const CLIENT = ['src/cli/main.ts', 'src/cli/static-help.ts', 'src/cli/program.ts', 'src/cli/io.ts', 'src/cli/parse.ts', 'src/cli/client.ts', 'src/agent/config-values.ts'];

const TOKEN = 't'.repeat(20);
let agent: Agent;
let http: string;

beforeAll(async () => {
  const config = resolveConfig({ flags: { name: 'trace1', bind: await freeAddr(), http: await freeAddr(), token: TOKEN, profile: 'local' } });
  agent = await Agent.start({ config, log: pino({ level: 'silent' }), store: new MemoryStore() });
  http = agent.httpAddress;
  await agent.kv.put('traced-key', 'traced value');
});
afterAll(async () => {
  await agent.stop('test done', false);
});

describe('the CLI loads only the command it runs', () => {
  it('--help lists every command and loads their definitions only: commander, no agent, simulator, store or plotting', async () => {
    const r = await traceCli(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['simulate', 'agent', 'members', 'kv', 'event', 'monitor', 'leave', 'force-leave', 'keygen', 'keys', 'demo', 'bench']) expect(r.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
    const { packages, sources } = loaded(r.trace);
    expect([...packages]).toEqual(['commander']);
    // The agent command's --tag and the clients' --token-file are read with helpers from the agent's config (no zod).
    expect(under(sources, IMPLEMENTATION_DIRS)).toEqual(['src/agent/config-values.ts']);
    expect([...sources].filter((s) => s.startsWith('src/cli/commands/simulate-'))).toEqual([]);
  });

  it('members loads the members command and the HTTP client, nothing else', async () => {
    const r = await traceCli(['members', '--http', http, '--token', TOKEN]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^trace1\s+127\.0\.0\.1:\d+\s+alive/);
    const { packages, sources } = loaded(r.trace);
    expect([...packages]).toEqual(['commander']);
    expect([...sources].sort()).toEqual([...CLIENT, 'src/cli/commands/members.ts'].sort());
  });

  it('kv get loads the kv command and the HTTP client, nothing else', async () => {
    const r = await traceCli(['kv', 'get', 'traced-key', '--http', http, '--token', TOKEN]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('traced value\n');
    const { packages, sources } = loaded(r.trace);
    expect([...packages]).toEqual(['commander']);
    expect([...sources].sort()).toEqual([...CLIENT, 'src/cli/commands/kv.ts'].sort());
  });

  it('simulate --help lists the simulations without loading the simulator; their help still shows every option', async () => {
    const r = await traceCli(['simulate', '--help']);
    expect(r.code).toBe(0);
    for (const c of ['membership', 'dissemination', 'rumor', 'reconcile', 'state', 'stream']) expect(r.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
    const { packages, sources } = loaded(r.trace);
    expect(under(sources, ['src/sim/', 'src/runtime/', 'src/agent/'])).toEqual([]);
    expect(HEAVY.filter((p) => packages.has(p))).toEqual([]);
    const state = await traceCli(['simulate', 'state', '--help']);
    expect(state.stdout).toContain(`write types, comma-separated: ${WRITE_TYPES.join(', ')}`);
  });

  it('--plot without vega and vega-lite installed says what to install, before running anything (exit 2)', async () => {
    const r = await traceCli(['simulate', 'dissemination', '--nodes', '100', '--trials', '1', '--seed', '1', '--plot', '/nonexistent/plot.svg'], { deny: ['vega', 'vega-lite'] });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: --plot needs the optional packages vega and vega-lite \(npm install vega vega-lite\)/m);
    expect(r.stdout).toBe('');
    // The simulation itself never needs them.
    const plain = await traceCli(['simulate', 'dissemination', '--nodes', '100', '--trials', '1', '--seed', '1'], { deny: ['vega', 'vega-lite'] });
    expect(plain.code).toBe(0);
    expect([...loaded(plain.trace).packages].filter((p) => p.startsWith('vega'))).toEqual([]);
  });
});

describe('the agent and the library load what they use', () => {
  it('gossip agent loads no simulator, plotting, logging library or other command, reads the dashboard only on the first GET /, and loads Yjs only with the first /v1/yjs connection', async () => {
    const [gossipPort, httpPort] = await freePorts(2);
    const t = traced([MAIN, 'agent', '--name', 'traced', '--bind', `127.0.0.1:${gossipPort}`, '--http', `127.0.0.1:${httpPort}`, '--log-level', 'warn']);
    try {
      await waitFor('the traced agent\'s HTTP API', 60_000, async () => {
        try {
          return (await fetch(`http://127.0.0.1:${httpPort}/v1/members`)).ok;
        } catch {
          return false;
        }
      });
      const atStart = t.now();
      const check = (trace: Trace): void => {
        const { packages, sources } = loaded(trace);
        expect(under(sources, ['src/sim/', 'src/clusterbench/'])).toEqual([]);
        expect([...sources].filter((s) => s.startsWith('src/cli/') && !['src/cli/main.ts', 'src/cli/static-help.ts', 'src/cli/program.ts', 'src/cli/io.ts', 'src/cli/parse.ts', 'src/cli/commands/agent.ts', 'src/cli/eager-load.ts'].includes(s))).toEqual([]);
        expect(['vega', 'vega-lite', 'cli-progress', 'uplot'].filter((p) => packages.has(p))).toEqual([]);
        // Its log lines come from its own small logger (src/agent/agent-log.ts), not pino's 30 modules.
        expect(packages.has('pino')).toBe(false);
      };
      check(atStart);
      const YJS = ['yjs', 'y-protocols', 'lib0', 'ws'];
      const yjsLoaded = (trace: Trace): string[] => {
        const { packages, sources } = loaded(trace);
        return [...YJS.filter((p) => packages.has(p)), ...[...sources].filter((f) => f.startsWith('src/yjs/') || f === 'src/agent/yjs-endpoint.ts')];
      };
      expect(yjsLoaded(atStart)).toEqual([]);
      expect(atStart.reads.filter((f) => f.includes('uplot'))).toEqual([]);
      // prom-client is loaded by the first scrape, not at start.
      expect([...loaded(atStart).sources].filter((f) => f.startsWith('src/agent/metrics') || f === 'src/agent/prom.ts')).toEqual([]);
      const scrape = await fetch(`http://127.0.0.1:${httpPort}/metrics`);
      expect(scrape.status).toBe(200);
      expect(await scrape.text()).toContain('gossip_members');
      const page = await fetch(`http://127.0.0.1:${httpPort}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('uPlot');
      expect(t.now().reads.filter((f) => f.includes('uplot')).length).toBeGreaterThan(0);
      expect(yjsLoaded(t.now())).toEqual([]);
      const ws = new WebSocket(`ws://127.0.0.1:${httpPort}/v1/yjs/traced-doc`);
      const first = await new Promise<Buffer>((resolve, reject) => {
        ws.once('message', (d: Buffer) => resolve(d));
        ws.once('error', reject);
      });
      expect(first[0]).toBe(0); // the server's sync step 1
      ws.close();
      expect(yjsLoaded(t.now())).toEqual(expect.arrayContaining([...YJS, 'src/yjs/replicator.ts', 'src/yjs/ws-endpoint.ts', 'src/agent/yjs-endpoint.ts']));
      t.child.kill('SIGTERM');
      const end = await t.done;
      expect(end.code).toBe(0);
      check(end.trace); // with the CommonJS modules too
      // prom-client module by module: not its index, so no summary, Pushgateway or cluster aggregation.
      const prom = end.trace.modules.filter((m) => /[/\\]node_modules[/\\]prom-client[/\\]/.test(m)).map((m) => m.replace(/.*[/\\]prom-client[/\\]/, ''));
      expect(prom).toContain('lib/counter.js');
      expect(prom.filter((m) => ['index.js', 'lib/summary.js', 'lib/pushgateway.js', 'lib/cluster.js'].includes(m))).toEqual([]);
    } finally {
      t.child.kill('SIGKILL');
    }
  });

  it("import('gossip-coordinator') loads no simulator, agent, CLI, logger, metrics, validation, store driver or plotting", async () => {
    const r = await traceEval("const m = await import('./src/index.ts'); if (typeof m.createNode !== 'function') process.exit(3);");
    expect(r.code).toBe(0);
    const { packages, sources } = loaded(r.trace);
    expect(under(sources, ['src/sim/', 'src/agent/', 'src/cli/', 'src/dashboard/', 'src/clusterbench/'])).toEqual([]);
    expect([...packages]).toEqual(['@msgpack/msgpack']);
  });
});
