import { BinReader, BinWriter } from './bin.js';
import type { DataStats } from './data.js';
import { DATA_MESSAGE_BYTES_MAX, DataMessageType, dataFailure } from './data.js';
import { WireError, type DecodeResult, type WireErrorReason } from './result.js';
import type { WireEntry } from './state-entry.js';
import { entryLength, readEntry, writeEntry } from './state-entry.js';
import type { EntryCodec, WireReconcileMessage } from './state-reconcile.js';
import type { ReconcileMessageBytes } from './state-reconcile.js';
import { readReconcile, reconcileMessageBytes, writeReconcile } from './state-reconcile.js';

/**
 * The replicated state's messages on the wire (the core StateNode's `StateMessage`, structurally:
 * a core message is assignable to `WireStateMessage` and a decoded one back, as src/wire/message.ts
 * does for memberlist). Compact: no field names, varints, raw 32-bit hash words, names interned
 * per message (`BinWriter.name`), entries encoded once and cached (src/wire/state-entry.ts).
 *
 * Every body starts with the sender's name (interned: the first name of the message). Layouts:
 *   state-rumor      src, kind byte (0 request, 1 reply), id, then
 *                    request: flags (1 feedback, 2 digest, 4 hops), update count, updates,
 *                             digest (count, per origin: name, upTo, count, versions above),
 *                             hops (one byte per update);
 *                    reply:   update count, updates, known and floors (count, per ref: name, version)
 *                    update:  origin (string, not interned: an update's bytes do not depend on
 *                             its neighbours, so a rumor is its frame plus its updates), version,
 *                             flags (1 critical, 2 key differs from the entry's), born (num),
 *                             key when it differs, the entry
 *   state-reconcile  src, session, flags (1 from the initiator, 2 digest), the reconciliation
 *                    message (src/wire/state-reconcile.ts), the digest (root, summary, stability)
 *   state-digests    src, root notes, summary notes, stability note
 *   state-acks       src, member, count, per ack: counter, time
 *   state-tree       src, root (the writer), count, entries
 *   root note        member, atMs (num), seq, root hi and lo (4 bytes each)
 *   summary note     member, atMs, seq, summary (count, per origin: name, counter)
 *   stability note   0, or 1 then gen, generation length (ms), minimum (a summary), member names, latestMs
 * `num` is a varint of 2n for a non-negative integer n, else 0x01 and a float64.
 */
export interface WireUpdate {
  readonly origin: string;
  readonly version: number;
  readonly key: string;
  readonly payload: WireEntry;
  readonly critical: boolean;
  readonly bornMs: number;
}
export interface WireOriginDigest {
  readonly upTo: number;
  readonly above: readonly number[];
}
export interface WireUpdateRef {
  readonly origin: string;
  readonly version: number;
}
export interface WireGossipRequest {
  readonly type: 'gossip';
  readonly id: number;
  readonly updates: readonly WireUpdate[];
  readonly digest: ReadonlyMap<string, WireOriginDigest> | null;
  readonly feedback: boolean;
  readonly hops: readonly number[] | null;
}
export interface WireGossipReply {
  readonly type: 'gossip-reply';
  readonly id: number;
  readonly updates: readonly WireUpdate[];
  readonly known: readonly WireUpdateRef[];
  readonly floors: readonly WireUpdateRef[];
}
export type WireGossip = WireGossipRequest | WireGossipReply;

export interface WireRootNote {
  readonly member: string;
  readonly atMs: number;
  readonly seq: number;
  readonly rootHi: number;
  readonly rootLo: number;
}
export interface WireSummaryNote {
  readonly member: string;
  readonly atMs: number;
  readonly seq: number;
  readonly summary: ReadonlyMap<string, number>;
}
export interface WireStabilityNote {
  readonly gen: number;
  readonly genMs: number;
  readonly min: ReadonlyMap<string, number>;
  readonly members: readonly string[];
  readonly latestMs: number;
}
export interface WireMemberDigest {
  readonly root: WireRootNote;
  readonly summary: WireSummaryNote;
  readonly stability: WireStabilityNote | null;
}
export interface WireSampleAck {
  readonly counter: number;
  readonly atMs: number;
}

export type WireStateMessage =
  | { readonly type: 'state-rumor'; readonly gossip: WireGossip }
  | {
      readonly type: 'state-reconcile';
      readonly session: number;
      readonly fromInitiator: boolean;
      readonly rc: WireReconcileMessage<WireEntry>;
      readonly digest: WireMemberDigest | null;
    }
  | { readonly type: 'state-digests'; readonly roots: readonly WireRootNote[]; readonly summaries: readonly WireSummaryNote[]; readonly stability: WireStabilityNote | null }
  | { readonly type: 'state-acks'; readonly member: string; readonly acks: readonly WireSampleAck[] }
  | { readonly type: 'state-tree'; readonly root: string; readonly entries: readonly WireEntry[] };

/** A message's bytes on the wire (type byte included), split by what they carried. */
export interface StateMessageBytes {
  readonly rumor: number;
  readonly antiEntropy: number;
  readonly digest: number;
  readonly total: number;
}

const ENTRIES: EntryCodec<WireEntry> = { write: writeEntry, read: readEntry };

const RUMOR_REQUEST = 0;
const RUMOR_REPLY = 1;
const G_FEEDBACK = 1;
const G_DIGEST = 2;
const G_HOPS = 4;
const U_CRITICAL = 1;
const U_KEY = 2;

// ------------------------------------------------------------------ encoding

function writeUpdate(w: BinWriter, u: WireUpdate): void {
  w.str(u.origin).varint(u.version);
  const keyDiffers = u.key !== u.payload.key;
  w.byte((u.critical ? U_CRITICAL : 0) | (keyDiffers ? U_KEY : 0)).num(u.bornMs);
  if (keyDiffers) w.str(u.key);
  writeEntry(w, u.payload);
}

function writeRefs(w: BinWriter, refs: readonly WireUpdateRef[]): void {
  w.varint(refs.length);
  for (const r of refs) w.name(r.origin).varint(r.version);
}

/** `withUpdates` false: the frame only (what a rumor costs besides its updates). */
function writeGossip(w: BinWriter, g: WireGossip, withUpdates: boolean): void {
  const updates = (): void => {
    w.varint(g.updates.length);
    if (withUpdates) for (const u of g.updates) writeUpdate(w, u);
  };
  if (g.type === 'gossip') {
    w.byte(RUMOR_REQUEST).varint(g.id);
    w.byte((g.feedback ? G_FEEDBACK : 0) | (g.digest !== null ? G_DIGEST : 0) | (g.hops !== null ? G_HOPS : 0));
    updates();
    if (g.digest !== null) {
      w.varint(g.digest.size);
      for (const [origin, d] of g.digest) {
        w.name(origin).varint(d.upTo).varint(d.above.length);
        for (const v of d.above) w.varint(v);
      }
    }
    if (g.hops !== null) {
      if (g.hops.length !== g.updates.length) throw new RangeError(`rumor: ${g.hops.length} hop counts for ${g.updates.length} updates`);
      for (const h of g.hops) {
        if (!Number.isInteger(h) || h < 0 || h > 255) throw new RangeError(`rumor: hop count ${h} is not a byte`);
        w.byte(h);
      }
    }
  } else {
    w.byte(RUMOR_REPLY).varint(g.id);
    updates();
    writeRefs(w, g.known);
    writeRefs(w, g.floors);
  }
}

function writeSummary(w: BinWriter, s: ReadonlyMap<string, number>): void {
  w.varint(s.size);
  for (const [origin, n] of s) w.name(origin).varint(n);
}

function writeRoot(w: BinWriter, r: WireRootNote): void {
  w.name(r.member).num(r.atMs).varint(r.seq).u32(r.rootHi).u32(r.rootLo);
}

function writeSummaryNote(w: BinWriter, n: WireSummaryNote): void {
  w.name(n.member).num(n.atMs).varint(n.seq);
  writeSummary(w, n.summary);
}

function writeStability(w: BinWriter, n: WireStabilityNote | null): void {
  if (n === null) {
    w.byte(0);
    return;
  }
  w.byte(1).varint(n.gen).varint(n.genMs);
  writeSummary(w, n.min);
  w.varint(n.members.length);
  for (const m of n.members) w.name(m);
  w.num(n.latestMs);
}

/** Writes a message body: the sender's name, then the message. */
function writeBody(w: BinWriter, src: string, m: WireStateMessage): void {
  w.name(src);
  switch (m.type) {
    case 'state-rumor':
      writeGossip(w, m.gossip, true);
      return;
    case 'state-reconcile':
      w.varint(m.session).byte((m.fromInitiator ? 1 : 0) | (m.digest !== null ? 2 : 0));
      writeReconcile(w, m.rc, ENTRIES);
      if (m.digest !== null) writeDigest(w, m.digest);
      return;
    case 'state-digests':
      w.varint(m.roots.length);
      for (const r of m.roots) writeRoot(w, r);
      w.varint(m.summaries.length);
      for (const n of m.summaries) writeSummaryNote(w, n);
      writeStability(w, m.stability);
      return;
    case 'state-acks':
      w.name(m.member).varint(m.acks.length);
      for (const a of m.acks) w.varint(a.counter).num(a.atMs);
      return;
    case 'state-tree':
      w.name(m.root).varint(m.entries.length);
      for (const e of m.entries) writeEntry(w, e);
      return;
  }
}

function writeDigest(w: BinWriter, d: WireMemberDigest): void {
  writeRoot(w, d.root);
  writeSummaryNote(w, d.summary);
  writeStability(w, d.stability);
}

/** Encodes a message from `src`: its type byte and body. Throws on a value it cannot carry (a programming error). */
export function encodeStateMessage(src: string, m: WireStateMessage): { dataType: number; payload: Uint8Array } {
  const w = BinWriter.writing();
  writeBody(w, src, m);
  if (w.length > DATA_MESSAGE_BYTES_MAX) throw new RangeError(`${m.type} of ${w.length} bytes, over ${DATA_MESSAGE_BYTES_MAX}`);
  return { dataType: DataMessageType[m.type], payload: w.finish() };
}

/** The whole frame (type byte first), as it travels. */
export function encodeStateFrame(src: string, m: WireStateMessage): Uint8Array {
  const { dataType, payload } = encodeStateMessage(src, m);
  const out = new Uint8Array(1 + payload.length);
  out[0] = dataType;
  out.set(payload, 1);
  return out;
}

// ------------------------------------------------------------------ sizes (the encoder, counting)

const counter = BinWriter.counting();

/** Bytes of a message from `src` on the wire (type byte included), split by what they carried: exactly `encodeStateFrame(src, m).length`. */
export function stateMessageBytes(src: string, m: WireStateMessage): StateMessageBytes {
  const w = counter.reset();
  switch (m.type) {
    case 'state-rumor':
    case 'state-tree': {
      writeBody(w, src, m);
      const total = 1 + w.length;
      return { rumor: total, antiEntropy: 0, digest: 0, total };
    }
    case 'state-reconcile': {
      w.name(src).varint(m.session).byte(0);
      writeReconcile(w, m.rc, ENTRIES);
      const rc = 1 + w.length;
      if (m.digest !== null) writeDigest(w, m.digest);
      const total = 1 + w.length;
      return { rumor: 0, antiEntropy: rc, digest: total - rc, total };
    }
    case 'state-digests':
    case 'state-acks': {
      writeBody(w, src, m);
      const total = 1 + w.length;
      return { rumor: 0, antiEntropy: 0, digest: total, total };
    }
  }
}

/** Bytes one update adds to a state-rumor: a rumor is `stateRumorFrameBytes` plus this for each update. */
export function stateRumorUpdateBytes(u: WireUpdate): number {
  const w = counter.reset();
  w.str(u.origin).varint(u.version).byte(0).num(u.bornMs);
  if (u.key !== u.payload.key) w.str(u.key);
  return w.length + entryLength(u.payload);
}

/** Bytes of a state-rumor from `src` besides its updates (type byte included). */
export function stateRumorFrameBytes(src: string, g: WireGossip): number {
  const w = counter.reset();
  w.name(src);
  writeGossip(w, g, false);
  return 1 + w.length;
}

/** A reconciliation message's bytes inside a state-reconcile, by part (replica entries). */
export function stateReconcileBytes(m: WireReconcileMessage<WireEntry>): ReconcileMessageBytes {
  return reconcileMessageBytes(m, ENTRIES);
}

/**
 * The sizes a StateNode named `src` injects (the core's `StateSizes`): every byte count of the
 * data layer is the length of this encoding.
 */
export function stateSizes(src: string): {
  readonly message: (m: WireStateMessage) => StateMessageBytes;
  readonly rumorUpdate: (u: WireUpdate) => number;
  readonly rumorFrame: (g: WireGossip) => number;
  readonly reconcile: (m: WireReconcileMessage<WireEntry>) => ReconcileMessageBytes;
} {
  return {
    message: (m) => stateMessageBytes(src, m),
    rumorUpdate: stateRumorUpdateBytes,
    rumorFrame: (g) => stateRumorFrameBytes(src, g),
    reconcile: stateReconcileBytes,
  };
}

// ------------------------------------------------------------------ decoding

function readUpdate(r: BinReader): WireUpdate {
  const origin = r.str('update origin');
  const version = r.varint('update version');
  const flags = r.byte('update flags');
  if (flags > (U_CRITICAL | U_KEY)) throw new WireError('malformed', `update flags ${flags}`);
  const bornMs = r.num('update born');
  const key = (flags & U_KEY) !== 0 ? r.str('update key') : null;
  const payload = readEntry(r);
  if (key !== null && key === payload.key) throw new WireError('malformed', 'update key flagged as different but equal');
  return { origin, version, key: key ?? payload.key, payload, critical: (flags & U_CRITICAL) !== 0, bornMs };
}

function readUpdates(r: BinReader): WireUpdate[] {
  const n = r.count('updates', 6);
  const out: WireUpdate[] = [];
  for (let i = 0; i < n; i++) out.push(readUpdate(r));
  return out;
}

function readRefs(r: BinReader, what: string): WireUpdateRef[] {
  const n = r.count(what, 2);
  const out: WireUpdateRef[] = [];
  for (let i = 0; i < n; i++) {
    const origin = r.name(what);
    out.push({ origin, version: r.varint(what) });
  }
  return out;
}

function readGossip(r: BinReader): WireGossip {
  const kind = r.byte('rumor kind');
  const id = r.varint('rumor id');
  if (kind === RUMOR_REPLY) {
    const updates = readUpdates(r);
    const known = readRefs(r, 'known');
    return { type: 'gossip-reply', id, updates, known, floors: readRefs(r, 'floors') };
  }
  if (kind !== RUMOR_REQUEST) throw new WireError('malformed', `rumor kind ${kind}`);
  const flags = r.byte('rumor flags');
  if (flags > (G_FEEDBACK | G_DIGEST | G_HOPS)) throw new WireError('malformed', `rumor flags ${flags}`);
  const updates = readUpdates(r);
  let digest: Map<string, WireOriginDigest> | null = null;
  if ((flags & G_DIGEST) !== 0) {
    digest = new Map();
    const n = r.count('digest', 3);
    for (let i = 0; i < n; i++) {
      const origin = r.name('digest origin');
      const upTo = r.varint('digest upTo');
      const k = r.count('digest above');
      const above: number[] = [];
      for (let j = 0; j < k; j++) above.push(r.varint('digest above'));
      if (digest.has(origin)) throw new WireError('malformed', `digest names ${origin} twice`);
      digest.set(origin, { upTo, above });
    }
  }
  let hops: number[] | null = null;
  if ((flags & G_HOPS) !== 0) {
    hops = [];
    for (let i = 0; i < updates.length; i++) hops.push(r.byte('hops'));
  }
  return { type: 'gossip', id, updates, digest, feedback: (flags & G_FEEDBACK) !== 0, hops };
}

function readSummary(r: BinReader, what: string): Map<string, number> {
  const n = r.count(what, 2);
  const out = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const origin = r.name(what);
    if (out.has(origin)) throw new WireError('malformed', `${what} names ${origin} twice`);
    out.set(origin, r.varint(what));
  }
  return out;
}

function readRoot(r: BinReader): WireRootNote {
  const member = r.name('root member');
  const atMs = r.num('root time');
  const seq = r.varint('root seq');
  const rootHi = r.u32('root');
  return { member, atMs, seq, rootHi, rootLo: r.u32('root') };
}

function readSummaryNote(r: BinReader): WireSummaryNote {
  const member = r.name('summary member');
  const atMs = r.num('summary time');
  const seq = r.varint('summary seq');
  return { member, atMs, seq, summary: readSummary(r, 'summary') };
}

function readStability(r: BinReader): WireStabilityNote | null {
  if (!r.bool('stability present')) return null;
  const gen = r.varint('stability gen');
  const genMs = r.varint('stability generation length');
  const min = readSummary(r, 'stability minimum');
  const n = r.count('stability members');
  const members: string[] = [];
  for (let i = 0; i < n; i++) members.push(r.name('stability member'));
  return { gen, genMs, min, members, latestMs: r.num('stability time') };
}

function readDigest(r: BinReader): WireMemberDigest {
  const root = readRoot(r);
  const summary = readSummaryNote(r);
  return { root, summary, stability: readStability(r) };
}

function readBody(r: BinReader, type: keyof typeof DataMessageType): WireStateMessage {
  switch (type) {
    case 'state-rumor':
      return { type, gossip: readGossip(r) };
    case 'state-reconcile': {
      const session = r.varint('session', 0xffffffff);
      const flags = r.byte('reconcile flags');
      if (flags > 3) throw new WireError('malformed', `reconcile flags ${flags}`);
      const rc = readReconcile(r, ENTRIES);
      return { type, session, fromInitiator: (flags & 1) !== 0, rc, digest: (flags & 2) !== 0 ? readDigest(r) : null };
    }
    case 'state-digests': {
      const nr = r.count('roots', 13);
      const roots: WireRootNote[] = [];
      for (let i = 0; i < nr; i++) roots.push(readRoot(r));
      const ns = r.count('summaries', 4);
      const summaries: WireSummaryNote[] = [];
      for (let i = 0; i < ns; i++) summaries.push(readSummaryNote(r));
      return { type, roots, summaries, stability: readStability(r) };
    }
    case 'state-acks': {
      const member = r.name('acks member');
      const n = r.count('acks', 2);
      const acks: WireSampleAck[] = [];
      for (let i = 0; i < n; i++) {
        const c = r.varint('ack counter');
        if (c < 1) throw new WireError('malformed', 'ack counter 0');
        acks.push({ counter: c, atMs: r.num('ack time') });
      }
      return { type, member, acks };
    }
    case 'state-tree': {
      const root = r.name('tree root');
      return { type, root, entries: r.list('tree entries', 1, () => readEntry(r)) };
    }
  }
}

const KIND_OF_BYTE = new Map<number, keyof typeof DataMessageType>(Object.entries(DataMessageType).map(([k, b]) => [b, k as keyof typeof DataMessageType]));

/**
 * Decodes a message from its type byte and body: its sender and the message, every field
 * checked (shapes and ranges; the receiver checks entries' invariants and the protocol the
 * rest). Never throws: an unknown type byte, a body over `DATA_MESSAGE_BYTES_MAX`, a truncated
 * or malformed body, or bytes after its end give an error result, counted in `stats` by reason.
 */
export function decodeStateMessage(dataType: number, payload: Uint8Array, stats?: DataStats): DecodeResult<{ src: string; message: WireStateMessage }> {
  const type = KIND_OF_BYTE.get(dataType);
  const fail = (reason: WireErrorReason, detail: string): DecodeResult<{ src: string; message: WireStateMessage }> => dataFailure(stats, reason, detail);
  if (type === undefined) return fail('unknown-type', `data message type 0x${dataType.toString(16)}`);
  if (payload.length > DATA_MESSAGE_BYTES_MAX) return fail('too-large', `${type} body of ${payload.length} bytes, over ${DATA_MESSAGE_BYTES_MAX}`);
  if (payload.length === 0) return fail('truncated', `${type} without a body`);
  const r = new BinReader(payload);
  try {
    const src = r.name('sender');
    const message = readBody(r, type);
    r.end(type);
    if (stats !== undefined) stats.decoded++;
    return { ok: true, value: { src, message } };
  } catch (e) {
    if (e instanceof WireError) return fail(e.reason, `${type}: ${e.message}`);
    return fail('malformed', `${type}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Decodes a whole frame (type byte first). Never throws. */
export function decodeStateFrame(frame: Uint8Array, stats?: DataStats): DecodeResult<{ src: string; message: WireStateMessage }> {
  if (frame.length === 0) return dataFailure(stats, 'truncated', 'empty data frame');
  return decodeStateMessage(frame[0] as number, frame.subarray(1), stats);
}
