/**
 * The messages of a Merkle reconciliation session, as typed values with the bytes each would take
 * on the wire (as `src/core/messages.ts` does for memberlist), so the simulator can carry them and
 * count bytes without encoding. Layout assumed for the count: a 1-byte type, LEB128 varints for
 * lengths and small integers, 8 bytes per 64-bit hash, bitmaps as ⌈n/8⌉ bytes, keys as a varint
 * length plus their UTF-8 bytes; an entry costs what the host's `entryBytes` says.
 */

/** Opens a session: the initiator's tree shape, root and the B hashes of level 1. */
export interface RcOpenMsg {
  readonly type: 'rc-open';
  readonly fanout: number;
  readonly depth: number;
  readonly rootHi: number;
  readonly rootLo: number;
  /** Level-1 hashes, `[hi, lo]` per node, B nodes. */
  readonly hashes: Uint32Array;
}

/**
 * One level of the walk. `differ` flags which of the nodes whose hashes the receiver sent last
 * differ here; `hashes` are the sender's hashes of the children of the flagged nodes, in order,
 * on `level`.
 */
export interface RcHashesMsg {
  readonly type: 'rc-hashes';
  readonly level: number;
  readonly differ: Uint8Array;
  readonly hashes: Uint32Array;
}

/**
 * The end of the walk: `differ` flags the differing leaves among those the receiver sent; for each
 * flagged leaf, `counts[i]` of the sender's keys follow in `keys`, with their entry hashes.
 */
export interface RcKeysMsg {
  readonly type: 'rc-keys';
  readonly differ: Uint8Array;
  readonly counts: Uint32Array;
  readonly keys: readonly string[];
  /** `[hi, lo]` entry hash per key. */
  readonly hashes: Uint32Array;
}

/**
 * Entries for the keys that differ. From the side that decided the difference it also carries
 * `want`: a bitmap over the keys the receiver listed, naming the entries to send back (null: none).
 */
export interface RcEntriesMsg<E> {
  readonly type: 'rc-entries';
  readonly entries: readonly E[];
  readonly want: Uint8Array | null;
  /** Differing keys whose entry the sender could no longer produce (0 when the exchange is complete). */
  readonly missing: number;
}

/** The trees agree: `equal` roots, or no differing node found below a differing one. */
export interface RcDoneMsg {
  readonly type: 'rc-done';
  readonly reason: 'equal' | 'no-difference';
}

/** The sender gives up: shapes differ or a message did not fit the session (a clear reason). */
export interface RcAbortMsg {
  readonly type: 'rc-abort';
  readonly reason: string;
}

export type ReconcileMessage<E> = RcOpenMsg | RcHashesMsg | RcKeysMsg | RcEntriesMsg<E> | RcDoneMsg | RcAbortMsg;

/** Bytes of an unsigned LEB128 varint. */
export function varintBytes(n: number): number {
  let b = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    b++;
  }
  return b;
}

/** UTF-8 length of a JS string, without allocating. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** What a message's bytes are made of (for reports: the hashes are what theory.md §7 counts). */
export interface ReconcileBytes {
  /** 8 per 64-bit tree hash (roots and node hashes). */
  readonly hashBytes: number;
  /** Keys and their entry hashes at the differing leaves. */
  readonly keyListBytes: number;
  readonly entryBytes: number;
  /** Types, lengths, levels, bitmaps and reasons. */
  readonly headerBytes: number;
  readonly total: number;
}

export function reconcileMessageParts<E>(m: ReconcileMessage<E>, entryBytes: (e: E) => number): ReconcileBytes {
  let hashBytes = 0;
  let keyListBytes = 0;
  let entries = 0;
  let headerBytes = 1;
  switch (m.type) {
    case 'rc-open': {
      const n = m.hashes.length / 2;
      hashBytes = 8 + 8 * n;
      headerBytes += varintBytes(m.fanout) + varintBytes(m.depth) + varintBytes(n);
      break;
    }
    case 'rc-hashes': {
      const n = m.hashes.length / 2;
      hashBytes = 8 * n;
      headerBytes += varintBytes(m.level) + varintBytes(m.differ.length) + m.differ.length + varintBytes(n);
      break;
    }
    case 'rc-keys': {
      headerBytes += varintBytes(m.differ.length) + m.differ.length;
      for (const c of m.counts) keyListBytes += varintBytes(c);
      for (const k of m.keys) {
        const len = utf8Length(k);
        keyListBytes += varintBytes(len) + len + 8;
      }
      break;
    }
    case 'rc-entries': {
      headerBytes += varintBytes(m.entries.length) + varintBytes(m.missing) + (m.want === null ? 1 : varintBytes(m.want.length) + m.want.length);
      for (const e of m.entries) entries += entryBytes(e);
      break;
    }
    case 'rc-done':
      headerBytes += 1;
      break;
    case 'rc-abort': {
      const len = utf8Length(m.reason);
      headerBytes += varintBytes(len) + len;
      break;
    }
  }
  return { hashBytes, keyListBytes, entryBytes: entries, headerBytes, total: hashBytes + keyListBytes + entries + headerBytes };
}

/** Encoded size of a reconciliation message. */
export function reconcileMessageBytes<E>(m: ReconcileMessage<E>, entryBytes: (e: E) => number): number {
  return reconcileMessageParts(m, entryBytes).total;
}
