/**
 * Bundles the CLI (issue 12, start-up cost): after `tsc` has written dist/, the `gossip` entry
 * (dist/cli/main.js) and every command it loads lazily become a few files in dist/cli, with our
 * modules, zod, commander and @msgpack/msgpack inlined. Node then resolves, reads and links a
 * handful of files instead of about 220, which is most of what an agent spends before it
 * listens. Each command is still its own chunk, loaded only when that command runs.
 *
 * Kept as separate modules (external): native and worker-using packages, the optional and
 * heavy ones loaded only where used, and our modules that find files relative to themselves
 * (the package version, the dashboard's assets, the bench's CLI path).
 *
 *   npx tsx scripts/bundle-cli.ts        (npm run build runs it after tsc)
 */
import type { Plugin } from 'esbuild';
import { build } from 'esbuild';
import { readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildProgram } from '../src/cli/program.js';
import { STATIC_HELP_FILE } from '../src/cli/static-help.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const out = join(dist, 'cli');

/** Packages left to Node's loader: native code, workers, optional or loaded only by one command. */
const PACKAGES = ['better-sqlite3', 'pino', 'prom-client', 'vega', 'vega-lite', 'playwright-core', 'cli-progress', 'typescript', 'tsx', 'uplot', 'yjs', 'y-protocols', 'lib0', 'ws'];
/** Our modules that read files next to themselves: they stay where tsc put them. */
const SELF_LOCATING = ['version.js', 'dashboard/index.js', 'clusterbench/our-node.js'].map((p) => join(dist, p));

const keepInPlace: Plugin = {
  name: 'keep-in-place',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      const target = resolve(args.resolveDir, args.path);
      if (!SELF_LOCATING.includes(target)) return undefined;
      let rel = relative(out, target);
      if (!rel.startsWith('.')) rel = `./${rel}`;
      return { path: rel, external: true };
    });
  },
};

const result = await build({
  entryPoints: [join(out, 'main.js')],
  outdir: out,
  allowOverwrite: true,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: '_[name]-[hash]',
  entryNames: '[name]',
  external: PACKAGES,
  plugins: [keepInPlace],
  metafile: true,
  legalComments: 'none',
  // commander is CommonJS and requires Node's modules: give each ES chunk a `require`.
  banner: { js: "import { createRequire as __gossipRequire } from 'node:module'; const require = __gossipRequire(import.meta.url);" },
  logLevel: 'warning',
});

// What tsc wrote under dist/cli is now inside the bundle: remove it, so one copy exists.
const outputs = new Set(Object.keys(result.metafile.outputs).map((p) => resolve(root, p)));
const sweep = (dir: string): void => {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      sweep(p);
      if (readdirSync(p).length === 0) rmSync(p, { recursive: true });
    } else if (!outputs.has(p)) rmSync(p);
  }
};
sweep(out);

// `gossip --help`, rendered now with every definition loaded, so that the built CLI prints it
// without loading commander (src/cli/static-help.ts). 80 columns: what commander uses off a terminal.
const program = await buildProgram({ out: () => undefined, err: () => undefined, progress: false }, []);
program.configureOutput({ getOutHelpWidth: () => 80 });
writeFileSync(join(out, STATIC_HELP_FILE), program.helpInformation());
console.log(`bundled the CLI: ${outputs.size + 1} files in ${relative(root, out)}`);
