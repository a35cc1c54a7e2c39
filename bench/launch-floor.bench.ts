/**
 * The floor under a join measured from launch (issue 12, item 4): N bare Node processes launched
 * at one instant, each binding a UDP socket on 127.0.0.1 and saying so, none of our code. The
 * time until the last one is bound is what any Node.js agent pays before its first packet, on
 * this machine, whatever its protocol does; `gossip bench cluster` reports the join from launch
 * against serf's, whose processes start in milliseconds. Ports 21000 + i (below 32768). Prints
 * the median over the runs; asserts nothing.
 *
 *   npx tsx bench/launch-floor.bench.ts [--nodes 10,30,64] [--runs 3]
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? dflt) : dflt;
};
const SIZES = arg('nodes', '10,30,64').split(',').map(Number);
const RUNS = Number(arg('runs', '3'));
const BASE_PORT = 21_000;

/** Seconds from launching `n` processes until every one has bound its socket. */
async function launch(n: number): Promise<number> {
  const t0 = performance.now();
  let ready = 0;
  const procs: ChildProcess[] = [];
  await new Promise<void>((done, fail) => {
    for (let i = 0; i < n; i++) {
      const code = `const s=require('node:dgram').createSocket('udp4');s.bind(${BASE_PORT + i},'127.0.0.1',()=>{process.stdout.write('r');setTimeout(()=>process.exit(0),1000)})`;
      const p = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
      p.once('exit', (c) => {
        if (c !== 0) fail(new Error(`process ${i} exited ${String(c)} before binding 127.0.0.1:${BASE_PORT + i}`));
      });
      p.stdout.once('data', () => {
        if (++ready === n) done();
      });
      procs.push(p);
    }
  });
  const s = (performance.now() - t0) / 1000;
  await Promise.all(procs.map((p) => new Promise<void>((r) => (p.exitCode !== null ? r() : p.once('exit', () => r())))));
  return s;
}

for (const n of SIZES) {
  const xs: number[] = [];
  for (let r = 0; r < RUNS; r++) xs.push(await launch(n));
  xs.sort((a, b) => a - b);
  const med = xs[Math.floor(xs.length / 2)] ?? NaN;
  console.log(`N = ${n}: every bare Node process bound its UDP socket after ${med.toFixed(2)} s (median of ${RUNS}; ${xs.map((x) => x.toFixed(2)).join(', ')})`);
}
