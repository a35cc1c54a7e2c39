import { performance } from 'node:perf_hooks';
import type { Command } from 'commander';
import { expectedWalkHashes, merkleCostHashes } from '../../core/antientropy/cost.js';
import { reconcileLocally } from '../../core/antientropy/exchange.js';
import { MerkleTree } from '../../core/antientropy/merkle.js';
import type { ReconcileBytes, ReconcileMessage } from '../../core/antientropy/messages.js';
import type { ReconcileHost } from '../../core/antientropy/session.js';
import type { Rng } from '../../core/rng.js';
import { seededRng } from '../../core/rng.js';
import { BinWriter, varintLength } from '../../wire/bin.js';
import type { EntryCodec } from '../../wire/state-reconcile.js';
import { keyHashEntries, reconcileMessageBytes } from '../../wire/state-reconcile.js';
import type { Io } from '../io.js';
import { parseIntIn, resolveSeed, UsageError } from '../parse.js';

interface ReconcileOpts { keys: string; diff: string; fanout: string; depth?: string; valueBytes: string; seed?: string; json?: boolean }

/** An entry of the simulated replicas: a key and its 64-bit state hash (plus `valueBytes` of value). */
interface SimEntry {
  readonly key: string;
  readonly hi: number;
  readonly lo: number;
}

/** A replica reduced to what anti-entropy sees: key → entry hash, in a Merkle tree. */
class HashReplica implements ReconcileHost<SimEntry> {
  readonly tree: MerkleTree;
  private readonly scratch = new Uint32Array(2);

  constructor(fanout: number, depth: number, private readonly codec: EntryCodec<SimEntry>) {
    this.tree = new MerkleTree({ fanout, depth });
  }

  entryFor(key: string): SimEntry | undefined {
    return this.tree.entryHashOf(key, this.scratch) ? { key, hi: this.scratch[0] as number, lo: this.scratch[1] as number } : undefined;
  }

  /** The message's real encoding (src/wire/state-reconcile.ts), with the stand-in entries. */
  messageBytes(m: ReconcileMessage<SimEntry>): ReconcileBytes {
    return reconcileMessageBytes(m, this.codec);
  }

  /** The larger hash wins, so both sides end equal whatever the order (a stand-in for a CRDT join). */
  merge(e: SimEntry): void {
    if (!this.tree.entryHashOf(e.key, this.scratch) || e.hi > (this.scratch[0] as number) || (e.hi === this.scratch[0] && e.lo > (this.scratch[1] as number))) {
      this.tree.set(e.key, e.hi, e.lo);
    }
  }
}

const u32 = (rng: Rng): number => Math.floor(rng.next() * 4294967296) >>> 0;
const keyName = (i: number): string => `key:${i}`;

export function registerSimulateReconcile(simulate: Command, io: Io): void {
  simulate
    .command('reconcile')
    .description('Merkle anti-entropy between two replicas that differ in --diff keys: bytes and round trips against theory.md §7')
    .option('--keys <n>', 'keys on each replica (the union when keys exist on one side only)', '1000000')
    .option('--diff <d>', 'keys that differ: a changed value, or present on one side only', '100')
    .option('--fanout <b>', 'Merkle fan-out B', '16')
    .option('--depth <l>', 'tree depth (default round(log_B keys): about one key per leaf)')
    .option('--value-bytes <n>', 'value bytes per entry on top of its key and 8-byte hash', '0')
    .option('--seed <s>', 'seed (decimal or 0x hex); random and printed if omitted')
    .option('--json', 'print one JSON object on stdout')
    .action((o: ReconcileOpts) => {
      const keys = parseIntIn(o.keys, '--keys', 1, 10_000_000);
      const diff = parseIntIn(o.diff, '--diff', 0, keys);
      const fanout = parseIntIn(o.fanout, '--fanout', 2, 256);
      const depth = o.depth === undefined ? MerkleTree.depthFor(keys, fanout) : parseIntIn(o.depth, '--depth', 1, 24);
      if (fanout ** depth > 1 << 24) throw new UsageError(`--fanout ${fanout} with --depth ${depth} gives ${fanout ** depth} leaves; at most ${1 << 24}`);
      const valueBytes = parseIntIn(o.valueBytes, '--value-bytes', 0, 1 << 20);
      const seed = resolveSeed(o.seed);
      const rng = seededRng(seed);

      const t0 = performance.now();
      const codec = keyHashEntries(valueBytes);
      const a = new HashReplica(fanout, depth, codec);
      const b = new HashReplica(fanout, depth, codec);
      const sizer = BinWriter.counting();
      // Choose the differing keys: a third changed on one side, a third only on A, a third only on B.
      const differing = new Map<number, number>(); // key index → kind (0 changed, 1 only A, 2 only B)
      while (differing.size < diff) {
        const i = rng.int(keys);
        if (!differing.has(i)) differing.set(i, rng.int(3));
      }
      // The full state as one list of entries: a count, then every entry of A.
      let fullStateBytes = varintLength(keys);
      for (let i = 0; i < keys; i++) {
        const key = keyName(i);
        const hi = u32(rng);
        const lo = u32(rng);
        const kind = differing.get(i);
        if (kind !== 2) {
          a.tree.set(key, hi, lo);
          codec.write(sizer.reset(), { key, hi, lo });
          fullStateBytes += sizer.length;
        }
        if (kind === 1) continue;
        if (kind === 0) b.tree.set(key, (hi + 1 + rng.int(0xfffffffe)) >>> 0, u32(rng));
        else b.tree.set(key, hi, lo);
      }
      const buildMs = performance.now() - t0;

      const t1 = performance.now();
      const r = reconcileLocally(a, b, (e) => a.merge(e), (e) => b.merge(e));
      const wallMs = performance.now() - t1;

      const expected = [...differing.keys()].map(keyName).sort();
      const exact = r.differingKeys.length === expected.length && r.differingKeys.every((k, i) => k === expected[i]);
      const s = r.stats;
      const bytes = s.bytesSent + s.bytesReceived;
      const reconcileBytes = bytes - s.entryBytes;
      const formulaHashes = merkleCostHashes(keys, diff, fanout);
      const formulaBytes = 8 * formulaHashes;
      const result = {
        keys, diff, fanout, depth, leaves: fanout ** depth, valueBytes, seed,
        bytes,
        roundTrips: s.roundTrips,
        messages: r.messages,
        foundDiff: r.differingKeys.length,
        exact,
        converged: a.tree.rootHi() === b.tree.rootHi() && a.tree.rootLo() === b.tree.rootLo(),
        breakdown: { hashBytes: s.hashBytes, keyListBytes: s.keyListBytes, entryBytes: s.entryBytes, headerBytes: s.headerBytes },
        hashes: s.hashes,
        entries: s.entriesSent + s.entriesReceived,
        /** Everything but the entries themselves, which any scheme must send. */
        reconcileBytes,
        formulaHashes: Math.round(formulaHashes),
        formulaBytes: Math.round(formulaBytes),
        ratio: formulaBytes === 0 ? null : reconcileBytes / formulaBytes,
        ratioWithEntries: formulaBytes === 0 ? null : bytes / formulaBytes,
        expectedHashes: Math.round(expectedWalkHashes(diff, fanout, depth)),
        fullStateBytes,
        fullStateRatio: fullStateBytes / bytes,
        error: r.error,
        buildMs: Math.round(buildMs),
        wallMs: Math.round(wallMs * 10) / 10,
      };
      if (o.json) {
        io.out(JSON.stringify(result));
        return;
      }
      const kb = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;
      io.out(`reconcile ${keys} keys differing in ${diff}, fan-out ${fanout}, depth ${depth} (${result.leaves} leaves), seed ${seed}`);
      if (r.error !== null) io.out(`  session failed: ${r.error}`);
      io.out(`  found ${result.foundDiff} differing keys (${exact ? 'exactly the differing ones' : 'NOT exactly the differing ones'}), replicas ${result.converged ? 'equal' : 'still different'} after the exchange`);
      io.out(`  ${bytes} bytes (${kb(bytes)}) in ${s.roundTrips} round trips (${r.messages} messages): hashes ${s.hashBytes} (${s.hashes}), key lists ${s.keyListBytes}, entries ${s.entryBytes} (${result.entries}), headers ${s.headerBytes}`);
      if (result.ratio !== null) {
        io.out(`  theory.md §7: B·d·log_B(N/d) = ${result.formulaHashes} hashes = ${result.formulaBytes} bytes; measured without entries ${reconcileBytes} (${result.ratio.toFixed(3)}×), with entries ${result.ratioWithEntries?.toFixed(3)}×; expected walk ${result.expectedHashes} hashes`);
      }
      io.out(`  full state: ${fullStateBytes} bytes (${kb(fullStateBytes)}), ${result.fullStateRatio.toFixed(0)}× the reconciliation; build ${result.buildMs} ms, reconcile ${result.wallMs} ms`);
    });
}
