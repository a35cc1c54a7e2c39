import type { BinReader } from './bin.js';
import { BinWriter } from './bin.js';
import { WireError } from './result.js';

/**
 * A replica entry on the wire: structurally the core's `Entry` (src/core/replica/entry.ts), so a
 * core entry is assignable to `WireEntry` and a decoded one to `Entry` (wire imports nothing of
 * ours). The decoder checks shapes; the receiver checks the entry's invariants (`isValidEntry`).
 *
 * Layout, own name scope (an entry is encoded once and cached, then copied into every message
 * that carries it):
 *   type byte (0 register, 1 lww, 2 counter, 3 set, 4 map), key, context, then the store:
 *   context  = count, per dot: origin (interned name), counter (varint)
 *   sibling  = dot, HLC l and c (varints), flags (1 deleted, 2 bytes value), value unless deleted:
 *              bytes as they are, anything else as its JSON text (so `valueBytes` is the value's length)
 *   count    = dot, p, n (varints);  element = string, count of dots, dots
 *   field    = name, type byte (0 counter, 1 set, 2 register), its counts, elements or siblings
 */
export type WireJson = null | boolean | number | string | readonly WireJson[] | { readonly [k: string]: WireJson };
export type WireValue = Uint8Array | WireJson;

export interface WireDot {
  readonly origin: string;
  readonly counter: number;
}
export interface WireSibling {
  readonly dot: WireDot;
  readonly l: number;
  readonly c: number;
  readonly deleted: boolean;
  readonly value: WireValue;
  readonly valueBytes: number;
}
export interface WireCounterDot {
  readonly dot: WireDot;
  readonly p: number;
  readonly n: number;
}
export interface WireSetElement {
  readonly element: string;
  readonly dots: readonly WireDot[];
}
export type WireMapField =
  | { readonly name: string; readonly type: 'counter'; readonly counts: readonly WireCounterDot[] }
  | { readonly name: string; readonly type: 'set'; readonly elements: readonly WireSetElement[] }
  | { readonly name: string; readonly type: 'register'; readonly siblings: readonly WireSibling[] };

export type WireEntry =
  | { readonly type: 'register'; readonly key: string; readonly context: readonly WireDot[]; readonly siblings: readonly WireSibling[] }
  | { readonly type: 'lww'; readonly key: string; readonly context: readonly WireDot[]; readonly siblings: readonly WireSibling[] }
  | { readonly type: 'counter'; readonly key: string; readonly context: readonly WireDot[]; readonly counts: readonly WireCounterDot[] }
  | { readonly type: 'set'; readonly key: string; readonly context: readonly WireDot[]; readonly elements: readonly WireSetElement[] }
  | { readonly type: 'map'; readonly key: string; readonly context: readonly WireDot[]; readonly fields: readonly WireMapField[] };

const ENTRY_TAG = { register: 0, lww: 1, counter: 2, set: 3, map: 4 } as const;
const ENTRY_OF_TAG = ['register', 'lww', 'counter', 'set', 'map'] as const;
const FIELD_TAG = { counter: 0, set: 1, register: 2 } as const;
const SIB_DELETED = 1;
const SIB_BYTES = 2;

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

// ------------------------------------------------------------------ encoding

function writeDot(w: BinWriter, d: WireDot): void {
  w.name(d.origin).varint(d.counter);
}

function writeDots(w: BinWriter, ds: readonly WireDot[]): void {
  w.varint(ds.length);
  for (const d of ds) writeDot(w, d);
}

function writeSiblings(w: BinWriter, ss: readonly WireSibling[]): void {
  w.varint(ss.length);
  for (const s of ss) {
    writeDot(w, s.dot);
    w.varint(s.l).varint(s.c);
    if (s.deleted) {
      w.byte(SIB_DELETED);
    } else if (s.value instanceof Uint8Array) {
      w.byte(SIB_BYTES).blob(s.value);
    } else {
      const text = JSON.stringify(s.value) as string | undefined;
      if (text === undefined) throw new TypeError(`entry value of ${s.dot.origin}:${s.dot.counter} is not JSON`);
      w.byte(0).blob(textEncoder.encode(text));
    }
  }
}

function writeCounts(w: BinWriter, cs: readonly WireCounterDot[]): void {
  w.varint(cs.length);
  for (const c of cs) {
    writeDot(w, c.dot);
    w.varint(c.p).varint(c.n);
  }
}

function writeElements(w: BinWriter, es: readonly WireSetElement[]): void {
  w.varint(es.length);
  for (const e of es) {
    w.str(e.element);
    writeDots(w, e.dots);
  }
}

function writeEntryBody(w: BinWriter, e: WireEntry): void {
  w.byte(ENTRY_TAG[e.type]).str(e.key);
  writeDots(w, e.context);
  switch (e.type) {
    case 'register':
    case 'lww':
      writeSiblings(w, e.siblings);
      break;
    case 'counter':
      writeCounts(w, e.counts);
      break;
    case 'set':
      writeElements(w, e.elements);
      break;
    case 'map':
      w.varint(e.fields.length);
      for (const f of e.fields) {
        w.str(f.name).byte(FIELD_TAG[f.type]);
        if (f.type === 'counter') writeCounts(w, f.counts);
        else if (f.type === 'set') writeElements(w, f.elements);
        else writeSiblings(w, f.siblings);
      }
      break;
  }
}

/** Entries are immutable values: each is encoded once. */
const encoded = new WeakMap<WireEntry, Uint8Array>();
const scratch = BinWriter.writing(1024);

/** An entry's encoding (cached per entry object). Throws on a value that is not bytes or JSON. */
export function encodeEntry(e: WireEntry): Uint8Array {
  let b = encoded.get(e);
  if (b === undefined) {
    scratch.reset();
    writeEntryBody(scratch, e);
    b = scratch.finish();
    encoded.set(e, b);
  }
  return b;
}

/** Bytes an entry takes on the wire. */
export function entryLength(e: WireEntry): number {
  return encodeEntry(e).length;
}

/** Writes an entry (its own name scope: the cached bytes are the same in every message). */
export function writeEntry(w: BinWriter, e: WireEntry): void {
  w.raw(encodeEntry(e));
}

// ------------------------------------------------------------------ decoding

const nat = (r: BinReader, what: string): number => r.varint(what);

function readDot(r: BinReader): WireDot {
  const origin = r.name('dot origin');
  return { origin, counter: nat(r, 'dot counter') };
}

function readDots(r: BinReader, what: string): WireDot[] {
  return r.list(what, 2, () => readDot(r));
}

function readSiblings(r: BinReader): WireSibling[] {
  return r.list('siblings', 5, (): WireSibling => {
    const dot = readDot(r);
    const l = nat(r, 'sibling l');
    const c = nat(r, 'sibling c');
    const flags = r.byte('sibling flags');
    if (flags === SIB_DELETED) return { dot, l, c, deleted: true, value: null, valueBytes: 0 };
    if (flags === SIB_BYTES) {
      const value = r.blob('sibling value');
      return { dot, l, c, deleted: false, value, valueBytes: value.length };
    }
    if (flags === 0) {
      const bytes = r.blob('sibling value');
      return { dot, l, c, deleted: false, value: parseJson(bytes), valueBytes: bytes.length };
    }
    throw new WireError('malformed', `sibling flags ${flags}`);
  });
}

/** JSON text as `JSON.stringify` writes it (anything else would not encode back to the same bytes). */
function parseJson(bytes: Uint8Array): WireJson {
  let text: string;
  let v: WireJson;
  try {
    text = textDecoder.decode(bytes);
    v = JSON.parse(text) as WireJson;
  } catch {
    throw new WireError('malformed', 'sibling value is not JSON text');
  }
  if (JSON.stringify(v) !== text) throw new WireError('malformed', 'sibling value is not canonical JSON text');
  return v;
}

function readCounts(r: BinReader): WireCounterDot[] {
  return r.list('counts', 4, () => {
    const dot = readDot(r);
    const p = nat(r, 'count p');
    return { dot, p, n: nat(r, 'count n') };
  });
}

function readElements(r: BinReader): WireSetElement[] {
  return r.list('elements', 2, () => {
    const element = r.str('element');
    return { element, dots: readDots(r, 'element dots') };
  });
}

function readField(r: BinReader): WireMapField {
  const name = r.str('field name');
  const t = r.byte('field type');
  switch (t) {
    case FIELD_TAG.counter:
      return { name, type: 'counter', counts: readCounts(r) };
    case FIELD_TAG.set:
      return { name, type: 'set', elements: readElements(r) };
    case FIELD_TAG.register:
      return { name, type: 'register', siblings: readSiblings(r) };
    default:
      throw new WireError('malformed', `field type ${t}`);
  }
}

/** Reads one entry (its own name scope). Throws `WireError` on bad input. */
export function readEntry(r: BinReader): WireEntry {
  return r.scoped(() => {
    const type = ENTRY_OF_TAG[r.byte('entry type')];
    if (type === undefined) throw new WireError('malformed', 'unknown entry type');
    const key = r.str('entry key');
    const context = readDots(r, 'entry context');
    switch (type) {
      case 'register':
      case 'lww':
        return { type, key, context, siblings: readSiblings(r) };
      case 'counter':
        return { type, key, context, counts: readCounts(r) };
      case 'set':
        return { type, key, context, elements: readElements(r) };
      case 'map': {
        const n = r.count('fields', 3);
        const fields: WireMapField[] = [];
        for (let i = 0; i < n; i++) fields.push(readField(r));
        return { type, key, context, fields };
      }
    }
  });
}
