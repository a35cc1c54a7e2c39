/**
 * What the wire codec costs in a process that has not run it yet (issue 12, the join among
 * running agents): a join storm is over after about 100 packets per agent, and V8 runs a
 * function in its interpreter and baseline tiers until it has been called often enough to be
 * optimized. Each operation on one typical gossip packet (a compound of 10 alive messages, as
 * a join storm fills them; 800 bytes) is timed call by call in a fresh process, from the first
 * call on, and the mean per stretch of calls is printed in microseconds. The process compiles
 * the codec when it loads it (`--no-lazy`), as `gossip agent` does its runtime
 * (src/cli/eager-load.ts), so what remains is running code V8 has not optimized yet. Runs the built code
 * (`npm run build` first); the median over `--runs` fresh processes per operation. Asserts
 * nothing.
 *
 *   npm run build && npx tsx bench/codec-warmup.bench.ts [--runs 5]
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { median } from '../src/clusterbench/figures.js';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const RUNS = arg('runs', 5);
const WIRE = fileURLToPath(new URL('../dist/wire/', import.meta.url));
const OPS = ['decodeMessage', 'encodeMessage', 'decompress', 'compress'] as const;
/** Stretches of calls, [from, to): the first call, the next few, ..., the warm tail. */
const STRETCHES: readonly (readonly [number, number])[] = [[0, 1], [1, 10], [10, 40], [40, 100], [100, 200], [200, 400], [1000, 2000]];

/** The child: imports the codec, times `op` call by call, prints the mean per stretch as JSON. */
const child = (op: string): string => `
const msg = await import(${JSON.stringify(`${WIRE}message.js`)});
const lzw = await import(${JSON.stringify(`${WIRE}lzw.js`)});
const meta = new TextEncoder().encode('\\x81\\xa4role\\xa5agent');
const parts = Array.from({ length: 10 }, (_, i) => ({ type: 'alive', incarnation: 3, node: 'node-' + (i + 10), addr: '127.0.0.1:' + (20010 + i), meta, vsn: [1, 5, 5, 2, 5, 4] }));
const m = { type: 'compound', parts };
const raw = msg.encodeMessage(m);
const lz = lzw.compress(raw);
const f = { decodeMessage: () => msg.decodeMessage(raw), encodeMessage: () => msg.encodeMessage(m), decompress: () => lzw.decompress(lz, 1 << 20), compress: () => lzw.compress(raw) }[${JSON.stringify(op)}];
const ts = [];
for (let i = 0; i < 2000; i++) { const t = process.hrtime.bigint(); f(); ts.push(Number(process.hrtime.bigint() - t) / 1000); }
const stretches = ${JSON.stringify(STRETCHES)};
console.log(JSON.stringify({ bytes: raw.length, means: stretches.map(([a, z]) => ts.slice(a, z).reduce((x, y) => x + y, 0) / (z - a)) }));
`;

console.log(`µs per call, median of ${RUNS} fresh processes; calls counted from the process's first`);
console.log(['operation'.padEnd(14), ...STRETCHES.map(([a, z]) => (z - a === 1 ? `#${a + 1}` : `#${a + 1}–${z}`).padStart(11))].join(''));
for (const op of OPS) {
  const runs: number[][] = [];
  let bytes = 0;
  for (let r = 0; r < RUNS; r++) {
    const out = execFileSync(process.execPath, ['--no-lazy', '--input-type=module', '-e', child(op)], { encoding: 'utf8' });
    const j = JSON.parse(out) as { bytes: number; means: number[] };
    bytes = j.bytes;
    runs.push(j.means);
  }
  const row = STRETCHES.map((_, k) => median(runs.map((m) => m[k] ?? NaN)));
  console.log([op.padEnd(14), ...row.map((x) => x.toFixed(1).padStart(11))].join(''), `  (${bytes}-byte packet)`);
}
