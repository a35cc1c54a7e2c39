import { expectedWalkHashes, merkleCostHashes } from '../core/antientropy/cost.js';
import { reconcileLocally } from '../core/antientropy/exchange.js';
import { MERKLE_LEAVES_MAX, MerkleTree } from '../core/antientropy/merkle.js';
import type { ReconcileBytes, ReconcileMessage } from '../core/antientropy/messages.js';
import type { ReconcileHost } from '../core/antientropy/session.js';
import type { Rng } from '../core/rng.js';
import { seededRng } from '../core/rng.js';
import { BinWriter, varintLength } from '../wire/bin.js';
import type { EntryCodec } from '../wire/state-reconcile.js';
import { keyHashEntries, reconcileMessageBytes } from '../wire/state-reconcile.js';

/**
 * Merkle anti-entropy between two replicas that differ in `diff` of `keys` keys, run locally
 * (`gossip simulate reconcile`): bytes and round trips against theory.md §7.
 */
export interface ReconcileScenarioOptions {
  readonly keys: number;
  readonly diff: number;
  readonly fanout: number;
  readonly depth: number;
  readonly valueBytes: number;
  readonly seed: number;
}

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

/** Most leaves a simulated tree may have (fanout^depth): a MerkleTree's limit. */
export const RECONCILE_LEAVES_MAX = MERKLE_LEAVES_MAX;

/** Tree depth that gives about one key per leaf. */
export function reconcileDepthFor(keys: number, fanout: number): number {
  return MerkleTree.depthFor(keys, fanout);
}

export function reconcileScenario(o: ReconcileScenarioOptions, wallClock: () => number) {
  const { keys, diff, fanout, depth, valueBytes, seed } = o;
  const rng = seededRng(seed);
  const t0 = wallClock();
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
  const buildMs = wallClock() - t0;

  const t1 = wallClock();
  const r = reconcileLocally(a, b, (e) => a.merge(e), (e) => b.merge(e));
  const wallMs = wallClock() - t1;

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
  return result;
}
