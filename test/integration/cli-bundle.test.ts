import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePorts } from '../../src/clusterbench/ports.js';
import { main } from '../../src/cli/main.js';
import { ROOT, traced } from './module-trace.js';
import { waitFor } from './wait.js';

/**
 * The built `gossip` command is a bundle (scripts/bundle-cli.mjs, issue 12: start-up cost): the
 * agent loads a few files instead of about 220. These tests run the built CLI (`npm run build`,
 * which `npm install`/`npm ci` run through `prepare`), and check that the bundle works where it
 * differs from the sources: its modules come from dist/cli, the packages inlined are not loaded
 * from node_modules, and the modules that find files beside themselves (version, dashboard)
 * still find them.
 */
const BUILT = join(ROOT, 'dist/cli/main.js');
const TOKEN = 'b'.repeat(24);

function run(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BUILT, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    p.once('error', reject);
    p.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the built, bundled CLI', () => {
  let dataDir = '';
  let http = '';
  let agent: ReturnType<typeof traced> | null = null;

  beforeAll(async () => {
    if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run \`npm run build\` first`);
    dataDir = mkdtempSync(join(tmpdir(), 'cli-bundle-'));
    const [gossip, api] = await freePorts(2);
    http = `127.0.0.1:${api}`;
    agent = traced([BUILT, 'agent', '--name', 'bundled', '--bind', `127.0.0.1:${gossip}`, '--http', http, '--token', TOKEN, '--data-dir', dataDir, '--profile', 'local']);
    await waitFor('the bundled agent answers', 60_000, async () => (await fetch(`http://${http}/v1/health`, { headers: { authorization: `Bearer ${TOKEN}` } }).catch(() => null))?.ok === true);
  });
  afterAll(async () => {
    if (agent !== null) {
      agent.child.kill('SIGINT');
      await agent.done;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('an agent runs from a few bundle files: zod, commander and msgpack are inside, not loaded from node_modules', () => {
    const modules = agent?.now().modules ?? [];
    const ours = modules.filter((m) => m.startsWith(join(ROOT, 'dist')));
    const fromPackages = new Set(modules.filter((m) => m.includes('/node_modules/') && !/\/node_modules\/(tsx|esbuild|get-tsconfig|resolve-pkg-maps)\//.test(m)).map((m) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(m)?.[1]));
    for (const inlined of ['zod', 'commander', '@msgpack/msgpack']) expect(fromPackages.has(inlined), inlined).toBe(false);
    expect(ours.some((m) => m.includes('/dist/core/')), 'the core is inside the bundle').toBe(false);
    // The entry, the agent command's chunks (esbuild splits what commands share: core/views and
    // core/ring with `simulate views`, the Yjs gate …) and the few modules kept in place: about 30
    // files, where the unbundled dist loads about 220 (this test fails on a tsc-only dist).
    expect(ours.length).toBeLessThan(50);
  });

  it('an agent with no event handlers does not load node:child_process (loaded at the first handler run: start-up CPU)', () => {
    const modules = agent?.now().modules ?? [];
    expect(modules.some((m) => m.includes('/dist/cli/')), 'the trace saw the bundle').toBe(true);
    expect(modules.filter((m) => m === 'node:child_process' || m === 'child_process')).toEqual([]);
  });

  it("the agent's config is checked with zod's functional build: no file it loads holds zod's classic API or its message catalogue (issue 12: ~10 MB, 0.1 s of CPU)", () => {
    const ours = (agent?.now().modules ?? []).filter((m) => m.startsWith(join(ROOT, 'dist')) && m.endsWith('.js'));
    expect(ours.length).toBeGreaterThan(0);
    // esbuild names each inlined package file in a comment: `// …/node_modules/zod/v4/mini/schemas.js`.
    const zodFiles = new Set(ours.flatMap((m) => [...readFileSync(m, 'utf8').matchAll(/node_modules\/zod\/(v4\/[a-z-]+)\//g)].map((x) => x[1])));
    expect(zodFiles.has('v4/mini'), 'the config schema is inside').toBe(true);
    expect([...zodFiles].filter((d) => d === 'v4/classic' || d === 'v4/locales')).toEqual([]);
  });

  it('the dashboard page, kept beside its assets, is served by the bundled agent', async () => {
    const r = await fetch(`http://${http}/`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(r.status).toBe(200);
    const html = await r.text();
    expect(html).toContain('<title>');
    expect(html).toContain('uPlot');
  });

  it('--help prints the listing the build rendered, word for word what commander renders, without loading a chunk', async () => {
    const t = await traced([BUILT, '--help']).done;
    expect(t.code).toBe(0);
    const lines: string[] = [];
    expect(await main(['--help'], { out: (l) => lines.push(l), err: (l) => lines.push(l), progress: false })).toBe(0);
    expect(t.stdout).toBe(`${lines.join('\n')}\n`);
    // The entry and esbuild's runtime helpers; commander and the command definitions live in chunks never loaded.
    const ours = t.trace.modules.filter((m) => m.startsWith(join(ROOT, 'dist')));
    expect(ours).toContain(BUILT);
    expect(ours.filter((m) => readFileSync(m, 'utf8').includes('class CommanderError'))).toEqual([]);
    expect(ours.filter((m) => /_program-/.test(m))).toEqual([]);
  });

  it('client commands work from the bundle: version, kv put and get', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const v = await run(['version']);
    expect(v.code).toBe(0);
    expect(v.stdout).toContain(pkg.version);
    const put = await run(['kv', 'put', 'bundled/k', 'v1', '--http', http, '--token', TOKEN]);
    expect(put.code, put.stderr).toBe(0);
    const get = await run(['kv', 'get', 'bundled/k', '--http', http, '--token', TOKEN]);
    expect(get.code, get.stderr).toBe(0);
    expect(get.stdout.trim()).toBe('v1');
  });
});
