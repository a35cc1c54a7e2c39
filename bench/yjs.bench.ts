/**
 * The README's "Yjs across the cluster" figure (issue 17): real agent processes (built CLI),
 * y-websocket clients (the real provider, `ws` as its WebSocket) spread over them, every client
 * editing one of a few shared documents at random intervals. Reports:
 * - whether every client's document ends identical (`encodeStateAsUpdate` after a quiet period);
 * - edit → every client of its document: p50 / p99 / max (one clock: all clients run here);
 * - wire bytes per node per edit against the Yjs update's size: the replication's messages (from
 *   each agent's `GET /v1/yjs`, plus 28 bytes of IPv4 + UDP headers per message), and all gossip
 *   packets out (`gossip_packet_bytes_total`) minus the idle rate measured before the edits.
 *
 *   npx tsx bench/yjs.bench.ts [--agents 5] [--clients 200] [--docs 10] [--seconds 60] [--edit-ms 2000] [--no-build]
 *
 * Not part of the test suite; run it on a quiet machine (every figure is wall-clock on shared cores).
 * Raw figures go to bench/results/yjs-<time>.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { AgentProcess } from '../src/cli/demo-cluster.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const flag = (name: string, dflt: number): number => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const AGENTS = flag('agents', 5);
const CLIENTS = flag('clients', 200);
const DOCS = flag('docs', 10);
const SECONDS = flag('seconds', 60);
const EDIT_MS = flag('edit-ms', 2000);
const IDLE_MS = 5000;

/** mulberry32: the bench's edit timing and positions, reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = rng(17);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const pct = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : (s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number);
};

if (!argv.includes('--no-build')) {
  const b = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
}

interface YjsStats {
  replicator: { localUpdates: number; localUpdateBytes: number; sent: Record<string, { messages: number; bytes: number }> };
}
async function yjsStats(a: AgentProcess): Promise<YjsStats> {
  return await a.api.call<YjsStats>('GET', '/v1/yjs');
}
async function packetBytesOut(a: AgentProcess): Promise<number> {
  const text = await (await fetch(`http://${a.http}/metrics`)).text();
  const m = /^gossip_packet_bytes_total\{direction="out"\} (\d+(?:\.\d+)?(?:e\+\d+)?)$/m.exec(text);
  return m === null ? 0 : Number(m[1]);
}
const sentTotals = (s: YjsStats): { messages: number; bytes: number } => Object.values(s.replicator.sent).reduce((t, c) => ({ messages: t.messages + c.messages, bytes: t.bytes + c.bytes }), { messages: 0, bytes: 0 });

const dir = mkdtempSync(join(tmpdir(), 'gossip-yjs-bench-'));
const live = new Set<AgentProcess>();
const cli = [process.execPath, join(root, 'dist', 'cli', 'main.js')];
const agents: AgentProcess[] = [];
try {
  const first = await AgentProcess.start(cli, 'y1', join(dir, 'y1'), ['--bind', '127.0.0.1:0', '--http', '127.0.0.1:0'], live);
  agents.push(first);
  for (let i = 2; i <= AGENTS; i++) agents.push(await AgentProcess.start(cli, `y${i}`, join(dir, `y${i}`), ['--bind', '127.0.0.1:0', '--http', '127.0.0.1:0', '--join', first.gossip], live));
  for (;;) {
    const counts = await Promise.all(agents.map(async (a) => (await a.api.call<{ status: string }[]>('GET', '/v1/members')).filter((m) => m.status === 'alive').length));
    if (counts.every((n) => n === AGENTS)) break;
    await sleep(200);
  }
  console.error(`${AGENTS} agents up; connecting ${CLIENTS} clients on ${DOCS} documents`);

  // Clients: k on agent k % AGENTS, document k % DOCS (so every document has clients on every agent when DOCS and AGENTS are coprime or CLIENTS is large).
  const created = new Map<string, number>();
  const seen = new Map<string, { n: number; last: number }>();
  const perDoc = new Map<number, number>();
  const latencies: number[] = [];
  const clients = Array.from({ length: CLIENTS }, (_, k) => {
    const docIx = k % DOCS;
    perDoc.set(docIx, (perDoc.get(docIx) ?? 0) + 1);
    const doc = new Y.Doc();
    const provider = new WebsocketProvider(`ws://${agents[k % AGENTS]!.http}/v1/yjs`, `bench-${docIx}`, doc, { WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket, disableBc: true });
    doc.getArray<string>('log').observe((e) => {
      const now = performance.now();
      for (const d of e.changes.delta) {
        if (!Array.isArray(d.insert)) continue;
        for (const id of d.insert as string[]) {
          const s = seen.get(id) ?? { n: 0, last: 0 };
          s.n++;
          s.last = now;
          seen.set(id, s);
          if (s.n === perDoc.get(docIx)) latencies.push(now - (created.get(id) ?? now));
        }
      }
    });
    return { k, docIx, doc, provider, seq: 0 };
  });
  for (;;) {
    if (clients.every((c) => c.provider.synced)) break;
    await sleep(100);
  }
  console.error(`clients synced; ${IDLE_MS / 1000} s idle baseline`);
  const idle0 = await Promise.all(agents.map(packetBytesOut));
  await sleep(IDLE_MS);
  const idle1 = await Promise.all(agents.map(packetBytesOut));
  const idleRate = idle0.map((b, i) => ((idle1[i] as number) - b) / IDLE_MS);
  const s0 = await Promise.all(agents.map(yjsStats));
  const p0 = await Promise.all(agents.map(packetBytesOut));
  const t0 = performance.now();

  console.error(`editing for ${SECONDS} s (each client every ~${EDIT_MS} ms)`);
  let edits = 0;
  const timers = clients.map((c) => {
    const tick = (): void => {
      if (performance.now() - t0 > SECONDS * 1000) return;
      const id = `${c.k}:${c.seq++}`;
      created.set(id, performance.now());
      const text = c.doc.getText('t');
      c.doc.transact(() => {
        text.insert(Math.floor(random() * (text.length + 1)), `${c.k} `);
        c.doc.getArray<string>('log').push([id]);
      });
      edits++;
      timer.t = setTimeout(tick, EDIT_MS * (0.5 + random()));
    };
    const timer = { t: setTimeout(tick, EDIT_MS * random()) };
    return timer;
  });
  await sleep(SECONDS * 1000);
  for (const t of timers) clearTimeout(t.t);
  const runMs = performance.now() - t0;

  // Quiet: every edit at every client of its document, or 60 s.
  const quietStart = performance.now();
  while (latencies.length < edits && performance.now() - quietStart < 60_000) await sleep(200);
  const s1 = await Promise.all(agents.map(yjsStats));
  const p1 = await Promise.all(agents.map(packetBytesOut));
  const elapsedMs = performance.now() - t0;

  let identical = 0;
  for (let d = 0; d < DOCS; d++) {
    const docs = clients.filter((c) => c.docIx === d).map((c) => c.doc);
    const ref = Buffer.from(Y.encodeStateAsUpdate(docs[0]!));
    const sv = Buffer.from(Y.encodeStateVector(docs[0]!));
    if (docs.every((x) => Buffer.from(Y.encodeStateVector(x)).equals(sv) && Buffer.from(Y.encodeStateAsUpdate(x)).length === ref.length && x.getText('t').toJSON() === docs[0]!.getText('t').toJSON())) identical++;
  }
  const updates = s1.reduce((n, s, i) => n + s.replicator.localUpdates - s0[i]!.replicator.localUpdates, 0);
  const updateBytes = s1.reduce((n, s, i) => n + s.replicator.localUpdateBytes - s0[i]!.replicator.localUpdateBytes, 0);
  const meanUpdate = updateBytes / Math.max(1, updates);
  const yjsWire = s1.reduce((n, s, i) => {
    const a = sentTotals(s);
    const b = sentTotals(s0[i]!);
    return n + (a.bytes - b.bytes) + 28 * (a.messages - b.messages);
  }, 0);
  const packetsNet = p1.reduce((n, b, i) => n + (b - p0[i]!) - idleRate[i]! * elapsedMs, 0);
  const perNodePerEdit = (bytes: number): number => bytes / AGENTS / Math.max(1, updates);
  const rows = [
    ['agents / clients / documents', `${AGENTS} / ${CLIENTS} / ${DOCS}`],
    ['edits (run)', `${edits} in ${(runMs / 1000).toFixed(0)} s (${(edits / (runMs / 1000)).toFixed(0)}/s); agents applied ${updates}`],
    ['documents identical at every client', `${identical} / ${DOCS}`],
    ['edits seen by every client of their document', `${latencies.length} / ${edits}`],
    ['edit → every client, p50 / p99 / max', `${pct(latencies, 50).toFixed(0)} / ${pct(latencies, 99).toFixed(0)} / ${Math.max(...latencies).toFixed(0)} ms`],
    ['Yjs update, mean', `${meanUpdate.toFixed(0)} bytes`],
    ['replication wire bytes per node per edit', `${perNodePerEdit(yjsWire).toFixed(0)} bytes (${(perNodePerEdit(yjsWire) / meanUpdate).toFixed(2)}× the update)`],
    ['all gossip packets per node per edit, minus idle', `${perNodePerEdit(packetsNet).toFixed(0)} bytes (${(perNodePerEdit(packetsNet) / meanUpdate).toFixed(2)}× the update)`],
  ];
  const w = Math.max(...rows.map((r) => (r[0] as string).length));
  console.log(`\n| ${'measure'.padEnd(w)} | value |\n|${'-'.repeat(w + 2)}|-------|`);
  for (const [k, v] of rows) console.log(`| ${(k as string).padEnd(w)} | ${v as string} |`);
  const out = join(root, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  const file = join(out, `yjs-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ AGENTS, CLIENTS, DOCS, SECONDS, EDIT_MS, edits, updates, updateBytes, identical, latencies: { p50: pct(latencies, 50), p99: pct(latencies, 99), n: latencies.length }, yjsWire, packetsNet, idleRate, stats: s1 }, null, 2));
  console.error(`raw figures: ${file}`);
  for (const c of clients) {
    c.provider.destroy();
    c.doc.destroy();
  }
} finally {
  await Promise.all([...live].map((a) => a.stop()));
  rmSync(dir, { recursive: true, force: true });
}
