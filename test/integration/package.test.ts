/**
 * The npm package (issue 14): `npm pack` holds the built code, README, LICENSE and package.json
 * and nothing else of the repository; installed into a fresh project, a strict `nodenext`
 * TypeScript program using `createNode`, `createAgent` and the stores type-checks, and running it
 * loads neither the plotting libraries nor the CLI or simulator.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePorts } from '../../src/clusterbench/ports.js';
import { ROOT, traced } from './module-trace.js';

interface PackJson { files: { path: string }[]; filename: string }
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, { types: string; default: string }>; bin: Record<string, string> };
let work: string;
let files: string[];

const npm = (args: string[], cwd = ROOT): string => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

beforeAll(() => {
  // The package is what `npm run build` made in this worktree (built here if it is missing).
  if (!existsSync(join(ROOT, 'dist/agent/index.js'))) npm(['run', 'build']);
  work = mkdtempSync(join(tmpdir(), 'gossip-pack-'));
  files = (JSON.parse(npm(['pack', '--dry-run', '--json', '--ignore-scripts'])) as PackJson[])[0]?.files.map((f) => f.path) ?? [];
});
afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('holds dist, README, LICENSE and package.json: no sources, tests, benches or source maps; every export and the bin are in it', () => {
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'dist/agent/index.d.ts', 'dist/store/index.d.ts']));
    expect(files.filter((f) => !f.startsWith('dist/') && !['LICENSE', 'README.md', 'package.json'].includes(f))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.map') || (f.endsWith('.ts') && !f.endsWith('.d.ts')))).toEqual([]);
    for (const e of Object.values(pkg.exports)) {
      expect(files).toContain(e.default.replace(/^\.\//, ''));
      expect(files).toContain(e.types.replace(/^\.\//, ''));
    }
    for (const b of Object.values(pkg.bin)) expect(files).toContain(b.replace(/^\.\//, ''));
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} gossip-coordinator authors\n/);
  });

  it('installed into a fresh project: a strict nodenext program with createNode, createAgent and the stores type-checks, runs, and loads no plotting, CLI or simulator', async () => {
    const tarball = (JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', work])) as PackJson[])[0]?.filename ?? '';
    const proj = join(work, 'app');
    const installed = join(proj, 'node_modules', 'gossip-coordinator');
    mkdirSync(installed, { recursive: true });
    execFileSync('tar', ['-xzf', join(work, tarball), '-C', installed, '--strip-components=1']);
    // The dependencies as npm would install them (ours, linked; no network).
    for (const dep of readdirSync(join(ROOT, 'node_modules'))) {
      if (dep !== '.bin' && dep !== 'gossip-coordinator' && !dep.startsWith('.')) symlinkSync(join(ROOT, 'node_modules', dep), join(proj, 'node_modules', dep));
    }
    const [gossip, http, other] = await freePorts(3);
    writeFileSync(join(proj, 'package.json'), JSON.stringify({ name: 'app', type: 'module', private: true }));
    writeFileSync(join(proj, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', types: ['node'], outDir: 'out', exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true } , files: ['app.ts'] }));
    writeFileSync(join(proj, 'app.ts'), `
import { createNode } from 'gossip-coordinator';
import type { ClusterNode } from 'gossip-coordinator';
import { createAgent } from 'gossip-coordinator/agent';
import type { Agent, AgentSettings } from 'gossip-coordinator/agent';
import { MemoryStore, SqliteStore } from 'gossip-coordinator/store';
import type { AgentStore } from 'gossip-coordinator/store';

const store: AgentStore = new MemoryStore();
const settings: AgentSettings = { name: 'embedded', bind: '127.0.0.1:${gossip}', http: '127.0.0.1:${http}', logLevel: 'silent', profile: 'local', tags: { role: 'app' } };
const agent: Agent = await createAgent(settings, { store });
const node: ClusterNode = await createNode({ name: 'library', bind: '127.0.0.1:${other}', profile: 'local' });
await node.join([agent.node.addr]);
while (agent.node.members().length < 2) await new Promise((r) => setTimeout(r, 20));
console.log(JSON.stringify({ members: agent.node.members().map((m) => m.name).sort(), sqlite: typeof SqliteStore.open }));
await node.shutdown();
await agent.stop('done', false);
`);
    try {
      execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', proj], { cwd: proj, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      throw new Error(`the program does not type-check:\n${String((e as { stdout?: unknown }).stdout)}`, { cause: e });
    }
    const r = await traced([join(proj, 'out/app.js')], { cwd: proj }).done;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual({ members: ['embedded', 'library'], sqlite: 'function' });
    const ours = r.trace.modules.filter((m) => m.includes('/node_modules/gossip-coordinator/'));
    expect(ours.some((m) => m.endsWith('/dist/agent/index.js'))).toBe(true);
    expect(ours.filter((m) => /\/dist\/(cli|sim|clusterbench)\//.test(m))).toEqual([]);
    expect(r.trace.modules.filter((m) => /\/node_modules\/vega(-[a-z-]+)?\//.test(m))).toEqual([]);
  });
});
