import type { BinReader } from './bin.js';
import { BinWriter } from './bin.js';
import { WireError } from './result.js';

/**
 * A Merkle reconciliation message on the wire (the core's `ReconcileMessage<E>`,
 * src/core/antientropy/messages.ts, structurally), generic in the entry: the state layer carries
 * replica entries (src/wire/state-entry.ts), `gossip simulate reconcile` its stand-in entries.
 *
 * Layout: a kind byte, then
 *   rc-open     fan-out, depth (varints), root hi and lo (4 bytes each), level-1 hashes (words)
 *   rc-hashes   level, differ bitmap (length + bytes), hashes (words)
 *   rc-keys     differ bitmap, counts (count + varints), keys (count + strings), hashes (words)
 *   rc-entries  count, entries, want (0: none; else its length + 1, then the bytes), missing
 *   rc-done     reason byte (0 equal, 1 no-difference)
 *   rc-abort    reason (string)
 * where words are a count and 4 bytes each, little-endian.
 */
/** Opens a session: the initiator's tree shape, root and the B hashes of level 1 (`[hi, lo]` per node). */
export interface WireRcOpen {
  readonly type: 'rc-open';
  readonly fanout: number;
  readonly depth: number;
  readonly rootHi: number;
  readonly rootLo: number;
  readonly hashes: Uint32Array;
}
/**
 * One level of the walk. `differ` flags which of the nodes whose hashes the receiver sent last
 * differ here; `hashes` are the sender's hashes of the children of the flagged nodes, in order,
 * on `level`.
 */
export interface WireRcHashes {
  readonly type: 'rc-hashes';
  readonly level: number;
  readonly differ: Uint8Array;
  readonly hashes: Uint32Array;
}
/**
 * The end of the walk: `differ` flags the differing leaves among those the receiver sent; for each
 * flagged leaf, `counts[i]` of the sender's keys follow in `keys`, with their `[hi, lo]` entry hashes.
 */
export interface WireRcKeys {
  readonly type: 'rc-keys';
  readonly differ: Uint8Array;
  readonly counts: Uint32Array;
  readonly keys: readonly string[];
  readonly hashes: Uint32Array;
}
/**
 * Entries for the keys that differ. From the side that decided the difference it also carries
 * `want`: a bitmap over the keys the receiver listed, naming the entries to send back (null: none);
 * `missing`: differing keys whose entry the sender could no longer produce (0 when complete).
 */
export interface WireRcEntries<E> {
  readonly type: 'rc-entries';
  readonly entries: readonly E[];
  readonly want: Uint8Array | null;
  readonly missing: number;
}
/** The trees agree: `equal` roots, or no differing node found below a differing one. */
export interface WireRcDone {
  readonly type: 'rc-done';
  readonly reason: 'equal' | 'no-difference';
}
/** The sender gives up: shapes differ or a message did not fit the session (a clear reason). */
export interface WireRcAbort {
  readonly type: 'rc-abort';
  readonly reason: string;
}
export type WireReconcileMessage<E> = WireRcOpen | WireRcHashes | WireRcKeys | WireRcEntries<E> | WireRcDone | WireRcAbort;

/** How entries of type E are written and read (`read` throws `WireError` on bad input). */
export interface EntryCodec<E> {
  write(w: BinWriter, e: E): void;
  read(r: BinReader): E;
}

/** A reconciliation message's bytes by what they carried (the same split as the core's `ReconcileBytes`). */
export interface ReconcileMessageBytes {
  /** Tree hashes: roots and node hashes, 8 bytes each (their counts are header). */
  readonly hashBytes: number;
  /** Keys, their counts and entry hashes at the differing leaves. */
  readonly keyListBytes: number;
  readonly entryBytes: number;
  /** Kinds, lengths, levels, bitmaps and reasons. */
  readonly headerBytes: number;
  readonly total: number;
}

const KINDS = ['rc-open', 'rc-hashes', 'rc-keys', 'rc-entries', 'rc-done', 'rc-abort'] as const;
const KIND_TAG = { 'rc-open': 0, 'rc-hashes': 1, 'rc-keys': 2, 'rc-entries': 3, 'rc-done': 4, 'rc-abort': 5 } as const;

/** Parts (hash, key-list, entry bytes) measured while writing, for `reconcileMessageBytes`. */
interface Tally {
  hash: number;
  keys: number;
  entries: number;
}

export function writeReconcile<E>(w: BinWriter, m: WireReconcileMessage<E>, entries: EntryCodec<E>, t?: Tally): void {
  w.byte(KIND_TAG[m.type]);
  switch (m.type) {
    case 'rc-open':
      w.varint(m.fanout).varint(m.depth).u32(m.rootHi).u32(m.rootLo).words(m.hashes);
      if (t !== undefined) t.hash += 8 + 4 * m.hashes.length;
      return;
    case 'rc-hashes':
      w.varint(m.level).blob(m.differ).words(m.hashes);
      if (t !== undefined) t.hash += 4 * m.hashes.length;
      return;
    case 'rc-keys': {
      w.blob(m.differ);
      const at = w.length;
      w.varint(m.counts.length);
      for (const c of m.counts) w.varint(c);
      w.varint(m.keys.length);
      for (const k of m.keys) w.str(k);
      w.words(m.hashes);
      if (t !== undefined) t.keys += w.length - at;
      return;
    }
    case 'rc-entries': {
      w.varint(m.entries.length);
      const at = w.length;
      for (const e of m.entries) entries.write(w, e);
      if (t !== undefined) t.entries += w.length - at;
      if (m.want === null) w.varint(0);
      else w.varint(m.want.length + 1).raw(m.want);
      w.varint(m.missing);
      return;
    }
    case 'rc-done':
      w.byte(m.reason === 'equal' ? 0 : 1);
      return;
    case 'rc-abort':
      w.str(m.reason);
      return;
  }
}

export function readReconcile<E>(r: BinReader, entries: EntryCodec<E>): WireReconcileMessage<E> {
  const type = KINDS[r.byte('reconcile kind')];
  switch (type) {
    case 'rc-open': {
      const fanout = r.varint('fanout');
      const depth = r.varint('depth');
      const rootHi = r.u32('root');
      const rootLo = r.u32('root');
      return { type, fanout, depth, rootHi, rootLo, hashes: r.words('hashes') };
    }
    case 'rc-hashes': {
      const level = r.varint('level');
      const differ = r.blob('differ');
      return { type, level, differ, hashes: r.words('hashes') };
    }
    case 'rc-keys': {
      const differ = r.blob('differ');
      const nc = r.count('counts');
      const counts = new Uint32Array(nc);
      for (let i = 0; i < nc; i++) counts[i] = r.varint('count', 0xffffffff);
      const nk = r.count('keys');
      const keys: string[] = [];
      for (let i = 0; i < nk; i++) keys.push(r.str('key'));
      return { type, differ, counts, keys, hashes: r.words('key hashes') };
    }
    case 'rc-entries': {
      const n = r.count('entries');
      const list: E[] = [];
      for (let i = 0; i < n; i++) list.push(entries.read(r));
      const w = r.varint('want');
      const want = w === 0 ? null : r.raw(w - 1, 'want');
      return { type, entries: list, want, missing: r.varint('missing') };
    }
    case 'rc-done': {
      const b = r.byte('done reason');
      if (b > 1) throw new WireError('malformed', `done reason ${b}`);
      return { type, reason: b === 0 ? 'equal' : 'no-difference' };
    }
    case 'rc-abort':
      return { type, reason: r.str('abort reason') };
    case undefined:
    default:
      throw new WireError('malformed', 'unknown reconciliation message kind');
  }
}

/** A stand-in entry (the reconcile figure, tests): a key and its 64-bit hash. */
export interface KeyHashEntry {
  readonly key: string;
  readonly hi: number;
  readonly lo: number;
}

/** Stand-in entries on the wire: the key (length + UTF-8), the 8-byte hash, then `valueBytes` of value. */
export function keyHashEntries(valueBytes = 0): EntryCodec<KeyHashEntry> {
  const value = new Uint8Array(valueBytes);
  return {
    write: (w, e) => void w.str(e.key).u32(e.hi).u32(e.lo).raw(value),
    read: (r) => {
      const key = r.str('key');
      const hi = r.u32('hash');
      const lo = r.u32('hash');
      r.raw(valueBytes, 'value');
      return { key, hi, lo };
    },
  };
}

const counter = BinWriter.counting();

/** A reconciliation message's bytes as `writeReconcile` writes it (the encoder, counting), by part. */
export function reconcileMessageBytes<E>(m: WireReconcileMessage<E>, entries: EntryCodec<E>): ReconcileMessageBytes {
  const t: Tally = { hash: 0, keys: 0, entries: 0 };
  writeReconcile(counter.reset(), m, entries, t);
  const total = counter.length;
  return { hashBytes: t.hash, keyListBytes: t.keys, entryBytes: t.entries, headerBytes: total - t.hash - t.keys - t.entries, total };
}
