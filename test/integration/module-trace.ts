import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Runs a Node process (the sources through tsx) and records every module it loads: ESM through
 * a load hook, CommonJS from `require.cache` at exit, and the files read with `readFileSync`.
 * Packages in `deny` fail to resolve, as if they were not installed. Module sets are behaviour
 * (what a command pulls in), so tests assert them; they never assert speed.
 */

/** Off-thread loader hooks: record each loaded URL; refuse the denied packages. */
const HOOKS = `
import { appendFileSync } from 'node:fs';
let out = ''; let deny = [];
export function initialize(d) { out = d.out; deny = d.deny; }
export async function resolve(spec, ctx, next) {
  if (deny.includes(spec)) {
    const e = new Error("Cannot find package '" + spec + "' (hidden by the test)");
    e.code = 'ERR_MODULE_NOT_FOUND';
    throw e;
  }
  return next(spec, ctx);
}
export async function load(url, ctx, next) { appendFileSync(out, 'esm ' + url + '\\n'); return next(url, ctx); }
`;

/** Preloaded with --import: registers the hooks, follows readFileSync, dumps require.cache at exit. */
const PRELOAD = `
import { register, createRequire, syncBuiltinESMExports } from 'node:module';
import fs from 'node:fs';
const out = process.env.MODULE_TRACE_OUT;
const deny = (process.env.MODULE_TRACE_DENY ?? '').split(',').filter((s) => s !== '');
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOKS)}), { data: { out, deny } });
const read = fs.readFileSync;
fs.readFileSync = function (p, ...rest) {
  if (typeof p === 'string' || p instanceof URL) fs.appendFileSync(out, 'read ' + String(p) + '\\n');
  return read.call(this, p, ...rest);
};
syncBuiltinESMExports();
const require = createRequire(process.cwd() + '/');
process.on('exit', () => fs.appendFileSync(out, Object.keys(require.cache).map((f) => 'cjs ' + f + '\\n').join('')));
`;

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const MAIN = join(ROOT, 'src/cli/main.ts');

export interface Trace {
  /** Every module loaded: file paths (ESM and CommonJS) and `node:` builtins. */
  readonly modules: readonly string[];
  /** Files read with readFileSync. */
  readonly reads: readonly string[];
}

export interface Traced {
  readonly child: ChildProcess;
  /** Resolves once the process has exited, with its trace, exit code and output. */
  readonly done: Promise<{ trace: Trace; code: number | null; stdout: string; stderr: string }>;
  /** The trace so far (ESM loads and reads; CommonJS only once the process exited). */
  now(): Trace;
}

function parse(file: string): Trace {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    // nothing recorded yet
  }
  const modules = new Set<string>();
  const reads: string[] = [];
  for (const line of text.split('\n')) {
    const sp = line.indexOf(' ');
    const kind = line.slice(0, sp);
    const what = line.slice(sp + 1);
    if (kind === 'read') reads.push(what);
    else if (kind === 'cjs') modules.add(what);
    else if (kind === 'esm') modules.add(what.startsWith('file://') ? fileURLToPath(what) : what);
  }
  return { modules: [...modules], reads };
}

/** Starts `node --import tsx <preload> ...args` in the repository root (or `cwd`) with the trace on. */
export function traced(args: readonly string[], o: { deny?: readonly string[]; env?: Record<string, string>; cwd?: string } = {}): Traced {
  const dir = mkdtempSync(join(tmpdir(), 'module-trace-'));
  const out = join(dir, 'trace.txt');
  const opts: SpawnOptions = {
    cwd: o.cwd ?? ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...o.env, MODULE_TRACE_OUT: out, MODULE_TRACE_DENY: (o.deny ?? []).join(',') },
  };
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', `data:text/javascript,${encodeURIComponent(PRELOAD)}`, ...args], opts);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<{ trace: Trace; code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      const trace = parse(out);
      rmSync(dir, { recursive: true, force: true });
      resolve({ trace, code, stdout, stderr });
    });
  });
  return { child, done, now: () => parse(out) };
}

/** Runs the CLI from the sources to its end. */
export async function traceCli(argv: readonly string[], o: { deny?: readonly string[] } = {}): Promise<{ trace: Trace; code: number | null; stdout: string; stderr: string }> {
  return await traced([MAIN, ...argv], o).done;
}

/** Runs an ES module snippet (`--input-type=module -e`) from the repository root. */
export async function traceEval(code: string): Promise<{ trace: Trace; code: number | null; stdout: string; stderr: string }> {
  return await traced(['--input-type=module', '-e', code]).done;
}

/** What a module path is, for assertions: `pkg:NAME` for a package, else the path under src/ (or a builtin as is). */
export function describeModule(m: string): string {
  const pkg = /[/\\]node_modules[/\\]((?:@[^/\\]+[/\\])?[^/\\]+)/.exec(m);
  if (pkg !== null) return `pkg:${(pkg[1] ?? '').replace(/\\/g, '/')}`;
  const src = m.split(/[/\\]src[/\\]/);
  return src.length > 1 ? `src/${(src[src.length - 1] ?? '').replace(/\\/g, '/')}` : m;
}

/** The packages and our source files a trace holds (tsx and the test's own hooks left out). */
export function loaded(t: Trace): { packages: Set<string>; sources: Set<string> } {
  const packages = new Set<string>();
  const sources = new Set<string>();
  for (const m of t.modules) {
    const d = describeModule(m);
    if (d.startsWith('pkg:')) {
      if (d !== 'pkg:tsx' && d !== 'pkg:esbuild' && d !== 'pkg:get-tsconfig' && d !== 'pkg:resolve-pkg-maps') packages.add(d.slice(4));
    } else if (d.startsWith('src/')) {
      sources.add(d);
    }
  }
  return { packages, sources };
}
