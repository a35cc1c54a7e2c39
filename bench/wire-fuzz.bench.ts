/**
 * Long decoder fuzz run: mutated real serf captures and random bytes through decodePacket and
 * StreamDecoder (the suite runs 10^5 cases of the same generator in test/unit/wire/fuzz.test.ts).
 *
 *   npx tsx bench/wire-fuzz.bench.ts [cases=1000000] [seed=1]
 *
 * Prints the codec's throughput on real serf packets first, then cases/s, the outcome counts
 * per path and reason, and any exception that escaped (there must be none; the exit code is 1
 * if one did).
 */
import { loadSeeds, makeCase, runCase, seededRng } from '../test/fixtures/wire-fuzz.js';
import { loadCaptures } from '../test/fixtures/serf-captures.js';
import { decodePacket, encodePacket, Keyring, WireStats, type PacketOptions, type WireMessage } from '../src/wire/index.js';

/** Operations per second of `f` over about half a second. */
function rate(f: () => void): number {
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 500) {
    for (let i = 0; i < 100; i++) f();
    n += 100;
  }
  return n / ((performance.now() - t0) / 1000);
}

{
  const gossip = loadCaptures().find((c) => c.transport === 'udp' && c.key === null && c.note.includes('compound[alive, alive, user(1)]'));
  if (gossip === undefined) throw new Error('no gossip capture');
  const decoded = decodePacket(gossip.bytes, gossip.options);
  if (!decoded.ok) throw new Error(decoded.detail);
  const m: WireMessage = decoded.value;
  const keyring = new Keyring([new Uint8Array(32).fill(9)]);
  const variants: [string, PacketOptions][] = [
    ['plain', { keyring: null }],
    ['crc', { keyring: null, crc: true }],
    ['crc+lzw (serf default)', { keyring: null, crc: true, compress: true }],
    ['crc+lzw+aes-256-gcm', { keyring, crc: true, compress: true }],
  ];
  console.log(`codec on serf's ${gossip.bytes.length}-byte gossip compound (alive, alive, join intent):`);
  for (const [name, o] of variants) {
    const bytes = encodePacket(m, o);
    console.log(`  ${name.padEnd(24)} ${String(bytes.length).padStart(4)} B  encode ${Math.round(rate(() => encodePacket(m, o)))}/s  decode ${Math.round(rate(() => decodePacket(bytes, o)))}/s`);
  }
}

const cases = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? 1);
const seeds = loadSeeds();
const rng = seededRng(seed);
const stats = new WireStats();
const seen = new Map<string, number>();
const escaped: string[] = [];
let genMs = 0;
let runMs = 0;
const t0 = performance.now();
for (let i = 0; i < cases; i++) {
  const a = performance.now();
  const c = makeCase(rng, seeds, stats);
  const b = performance.now();
  try {
    const r = runCase(c);
    seen.set(`${c.kind}:${r}`, (seen.get(`${c.kind}:${r}`) ?? 0) + 1);
  } catch (e) {
    escaped.push(`case ${i} (${c.kind}, ${Buffer.from(c.bytes).toString('hex').slice(0, 400)}): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  }
  genMs += b - a;
  runMs += performance.now() - b;
  if (i > 0 && i % 100_000 === 0) process.stderr.write(`${i} cases…\n`);
}
const wallS = (performance.now() - t0) / 1000;
console.log(`cases ${cases}, seed ${seed}, wall ${wallS.toFixed(1)} s: ${Math.round(cases / wallS)} cases/s overall, decoding alone ${Math.round(cases / (runMs / 1000))} cases/s (generation ${(genMs / 1000).toFixed(1)} s)`);
console.log('outcome                          count');
for (const [k, v] of [...seen].sort((x, y) => x[0].localeCompare(y[0]))) console.log(`${k.padEnd(32)} ${String(v).padStart(8)}`);
const s = stats.snapshot();
console.log(`stats: packets ${s.packetsDecoded} ok / ${s.packetsRejected} rejected, streams ${s.streamsDecoded} ok / ${s.streamsRejected} rejected, compound parts dropped ${s.compoundPartsDropped}, plaintext accepted ${s.plaintextAccepted}`);
console.log(`escaped exceptions: ${escaped.length}`);
for (const e of escaped.slice(0, 10)) console.log(e);
process.exitCode = escaped.length === 0 ? 0 : 1;
