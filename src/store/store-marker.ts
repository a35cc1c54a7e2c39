import { createHash } from 'node:crypto';
import { closeSync, fdatasyncSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** What the marker remembers: how many commits the store made, and the highest incarnation it saved. */
export interface MarkerState {
  readonly seq: number;
  readonly incarnation: number;
}

const MAGIC = 0x47534d31; // 'GSM1'
const SLOT_BYTES = 32;
const FILE_BYTES = 2 * SLOT_BYTES;

/**
 * `state.meta` beside `state.db`: the store's last committed sequence and incarnation, kept
 * outside SQLite so that damage to the database or its WAL cannot hide it. Two fixed slots
 * written in place by turns (the newer sequence wins; a torn write spoils one slot only, and
 * the other still holds the previous commit), each `magic, seq, incarnation, checksum`. It is
 * written after each commit, so the database is never behind it unless commits were lost.
 *
 * A commit's marker write is not synced on its own (no second fsync per write): it follows the
 * database's fsync, so whenever it reaches the disk the database already holds that commit,
 * and a marker that a power loss leaves behind only weakens the next check, never fails it
 * wrongly. Under `synchronous = NORMAL` (the WAL not synced at commit) a power loss can leave the
 * marker ahead: the check then reports the commits that were acknowledged and lost, as it should.
 */
export class StoreMarker {
  private fd: number;
  private state: MarkerState;

  private constructor(readonly path: string, fd: number, state: MarkerState) {
    this.fd = fd;
    this.state = state;
  }

  /** Reads the marker at `path` without creating it: null if absent, throws if unreadable. */
  static read(path: string): MarkerState | null {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    try {
      const buf = Buffer.alloc(FILE_BYTES);
      const n = readSync(fd, buf, 0, FILE_BYTES, 0);
      let best: MarkerState | null = null;
      for (let i = 0; i * SLOT_BYTES + SLOT_BYTES <= n; i++) {
        const s = decodeSlot(buf.subarray(i * SLOT_BYTES, (i + 1) * SLOT_BYTES));
        if (s !== null && (best === null || s.seq > best.seq)) best = s;
      }
      if (best === null) throw new Error('no valid record (damaged)');
      return best;
    } finally {
      closeSync(fd);
    }
  }

  /** Opens (creating, mode 0600) the marker for writing, starting from `state`, written at once. */
  static create(path: string, state: MarkerState, sync: boolean): StoreMarker {
    const fd = openSync(path, 'a+', 0o600);
    closeSync(fd);
    const m = new StoreMarker(path, openSync(path, 'r+'), state);
    m.writeSlot(state.seq % 2, state, sync);
    m.writeSlot((state.seq + 1) % 2, state, sync);
    if (sync) syncDir(dirname(path));
    return m;
  }

  get current(): MarkerState {
    return this.state;
  }

  /** Records a commit (and the incarnation, which never goes down); not synced (see above). */
  write(seq: number, incarnation: number): void {
    const next = { seq, incarnation: Math.max(incarnation, this.state.incarnation) };
    this.writeSlot(seq % 2, next, false);
    this.state = next;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  private writeSlot(slot: number, s: MarkerState, sync: boolean): void {
    writeSync(this.fd, encodeSlot(s), 0, SLOT_BYTES, slot * SLOT_BYTES);
    if (sync) fdatasyncSync(this.fd);
  }
}

function checksum(b: Uint8Array): Buffer {
  return createHash('sha256').update(b).digest().subarray(0, 8);
}

function encodeSlot(s: MarkerState): Buffer {
  const b = Buffer.alloc(SLOT_BYTES);
  b.writeUInt32BE(MAGIC, 0);
  b.writeBigUInt64BE(BigInt(s.seq), 4);
  b.writeBigUInt64BE(BigInt(s.incarnation), 12);
  checksum(b.subarray(0, 20)).copy(b, 20);
  return b;
}

function decodeSlot(b: Buffer): MarkerState | null {
  if (b.readUInt32BE(0) !== MAGIC || !checksum(b.subarray(0, 20)).equals(b.subarray(20, 28))) return null;
  const seq = Number(b.readBigUInt64BE(4));
  const incarnation = Number(b.readBigUInt64BE(12));
  return Number.isSafeInteger(seq) && Number.isSafeInteger(incarnation) ? { seq, incarnation } : null;
}

/** Makes a new directory entry durable (a created file survives a power loss). */
function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some file systems cannot fsync a directory; the file itself is synced.
  }
}
