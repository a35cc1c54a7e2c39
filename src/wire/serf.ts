/**
 * Serf v0.9.4's messages in bytes (reference §8): one type byte, then the struct as Go's
 * msgpack writes it (field names sorted, raw strings for `[]byte`, nil for absent slices);
 * tags in node meta as `ff` + map[string]string; query filters as a type byte + msgpack.
 *
 * The message types are in `serf-message.ts` (the core's Serf layer imports them as types);
 * `serfCodec` is the `SerfCodec` the core's SerfNode takes. Decoders never throw: every
 * failure is a `{ ok: false }` result.
 */
import { formatAddress, parseAddress } from './address.js';
import { Reader, structFields } from './msgpack-reader.js';
import { Writer } from './msgpack-writer.js';
import { toFailure, WireError, type DecodeResult } from './result.js';
import type { QueryFilter, SerfBufferedEvent, SerfCodec, SerfEventSlot, SerfMessage } from './serf-message.js';

/** Serf's message type bytes (reference §8.2). */
export const SERF_TYPE = {
  leave: 0, join: 1, 'push-pull': 2, 'user-event': 3, query: 4, 'query-response': 5, 'conflict-response': 6,
  'key-request': 7, 'key-response': 8, relay: 9,
} as const satisfies Record<SerfMessage['type'], number>;

/** Query filter type bytes. */
const FILTER_NODE = 0;
const FILTER_TAG = 1;
/** Tags in meta start with this magic (serf protocol ≥ 3). */
const TAG_MAGIC = 0xff;
/** Lamport times are uint64; we keep them as numbers. */
const LTIME_MAX = Number.MAX_SAFE_INTEGER;
const NS_PER_MS = 1_000_000;

const textDecoder = new TextDecoder();

// ---------------------------------------------------------------------------------------
// Encoding

function encodeBody(w: Writer, m: SerfMessage): void {
  switch (m.type) {
    case 'leave':
      w.value({ LTime: m.ltime, Node: m.node, Prune: m.prune });
      return;
    case 'join':
      w.value({ LTime: m.ltime, Node: m.node });
      return;
    case 'push-pull': {
      const status = new Map<string, number>(m.statusLTimes);
      const events = m.events.map((s) => (s === null ? null : {
        Events: s.events.map((e) => ({ Name: e.name, Payload: e.payload })),
        LTime: s.ltime,
      }));
      // Go's LeftMembers is `make([]string, 0, n)`: an empty array, never nil.
      w.value({
        EventLTime: m.eventLTime, Events: events, LTime: m.ltime, LeftMembers: [...m.leftMembers], QueryLTime: m.queryLTime, StatusLTimes: status,
      });
      if (m.trailer !== null) w.bytes(m.trailer);
      return;
    }
    case 'user-event':
      w.value({ CC: m.cc, LTime: m.ltime, Name: m.name, Payload: m.payload });
      return;
    case 'query': {
      const { ip, port } = parseAddress(m.addr);
      w.value({
        Addr: ip, Filters: m.filters.length === 0 ? null : [...m.filters], Flags: m.flags, ID: m.id, LTime: m.ltime, Name: m.name,
        Payload: m.payload, Port: port, RelayFactor: m.relayFactor, SourceNode: m.sourceNode, Timeout: Math.round(m.timeoutMs * NS_PER_MS),
      });
      return;
    }
    case 'query-response':
      w.value({ Flags: m.flags, From: m.from, ID: m.id, LTime: m.ltime, Payload: m.payload });
      return;
    case 'conflict-response':
      w.bytes(m.raw);
      return;
    case 'key-request':
      w.value({ Key: m.key });
      return;
    case 'key-response':
      w.value({ Keys: m.keys === null ? null : [...m.keys], Message: m.message, PrimaryKey: m.primaryKey, Result: m.result });
      return;
    case 'relay': {
      const { ip, port } = parseAddress(m.destAddr);
      w.value({ DestAddr: { IP: ip, Port: port, Zone: '' }, DestName: m.destName });
      w.bytes(m.message);
      return;
    }
  }
}

/** A whole Serf message: type byte + msgpack (+ the raw tail of a relay or a push-pull trailer). Throws on values Go could not hold. */
export function encodeSerfMessage(m: SerfMessage): Uint8Array {
  const w = new Writer(64);
  w.byte(SERF_TYPE[m.type]);
  encodeBody(w, m);
  return w.finish().slice();
}

/** `ff` + msgpack map[string]string, in the given key order (Go's own order is random). */
export function encodeSerfTags(tags: Readonly<Record<string, string>>): Uint8Array {
  const w = new Writer(64);
  w.byte(TAG_MAGIC);
  w.value(new Map(Object.entries(tags)));
  return w.finish().slice();
}

export function encodeSerfFilter(f: QueryFilter): Uint8Array {
  const w = new Writer(32);
  if (f.type === 'node') {
    w.byte(FILTER_NODE);
    w.value([...f.names]);
  } else {
    w.byte(FILTER_TAG);
    w.value({ Expr: f.expr, Tag: f.tag });
  }
  return w.finish().slice();
}

// ---------------------------------------------------------------------------------------
// Decoding

const LEAVE = structFields('LTime', 'Node', 'Prune');
const JOIN = structFields('LTime', 'Node');
const PUSH_PULL = structFields('LTime', 'StatusLTimes', 'LeftMembers', 'EventLTime', 'Events', 'QueryLTime');
const USER_EVENTS = structFields('LTime', 'Events');
const USER_EVENT_ITEM = structFields('Name', 'Payload');
const USER_EVENT = structFields('LTime', 'Name', 'Payload', 'CC');
const QUERY = structFields('LTime', 'ID', 'Addr', 'Port', 'SourceNode', 'Filters', 'Flags', 'RelayFactor', 'Timeout', 'Name', 'Payload');
const QUERY_RESPONSE = structFields('LTime', 'ID', 'From', 'Flags', 'Payload');
const KEY_REQUEST = structFields('Key');
const KEY_RESPONSE = structFields('Result', 'Message', 'Keys', 'PrimaryKey');
const RELAY_HEADER = structFields('DestAddr', 'DestName');
const UDP_ADDR = structFields('IP', 'Port', 'Zone');
const FILTER_TAG_FIELDS = structFields('Tag', 'Expr');

/** A copy: decoded bytes must not alias a receive buffer the transport reuses. */
function copyOrNull(b: Uint8Array | null): Uint8Array | null {
  return b === null || b.length === 0 ? null : b.slice();
}

function stringArray(r: Reader, what: string): string[] {
  const n = r.arrayField(what);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(r.string(what));
  return out;
}

function bytesArray(r: Reader, what: string): Uint8Array[] {
  const n = r.arrayField(what);
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) out.push((r.bytes(what) ?? new Uint8Array(0)).slice());
  return out;
}

function ltime(r: Reader, what: string): number {
  return r.uint(LTIME_MAX, what);
}

function decodeBody(type: number, r: Reader, buf: Uint8Array): SerfMessage {
  switch (type) {
    case SERF_TYPE.leave: {
      let lt = 0;
      let node = '';
      let prune = false;
      r.struct(LEAVE, (i) => {
        if (i === 0) lt = ltime(r, 'LTime');
        else if (i === 1) node = r.string('Node');
        else prune = r.bool('Prune');
      }, 'messageLeave');
      return { type: 'leave', ltime: lt, node, prune };
    }
    case SERF_TYPE.join: {
      let lt = 0;
      let node = '';
      r.struct(JOIN, (i) => {
        if (i === 0) lt = ltime(r, 'LTime');
        else node = r.string('Node');
      }, 'messageJoin');
      return { type: 'join', ltime: lt, node };
    }
    case SERF_TYPE['push-pull']: {
      let lt = 0;
      let eventLTime = 0;
      let queryLTime = 0;
      const statusLTimes = new Map<string, number>();
      let leftMembers: string[] = [];
      const events: (SerfEventSlot | null)[] = [];
      r.struct(PUSH_PULL, (i) => {
        switch (i) {
          case 0:
            lt = ltime(r, 'LTime');
            return;
          case 1: {
            const n = r.mapField('StatusLTimes');
            for (let k = 0; k < n; k++) {
              const name = r.string('StatusLTimes key');
              statusLTimes.set(name, ltime(r, 'StatusLTimes value'));
            }
            return;
          }
          case 2:
            leftMembers = stringArray(r, 'LeftMembers');
            return;
          case 3:
            eventLTime = ltime(r, 'EventLTime');
            return;
          case 4: {
            const n = r.arrayField('Events');
            for (let k = 0; k < n; k++) events.push(decodeEventSlot(r));
            return;
          }
          default:
            queryLTime = ltime(r, 'QueryLTime');
        }
      }, 'messagePushPull');
      const trailer = r.remaining > 0 ? buf.slice(r.pos) : null;
      r.pos = r.end;
      return { type: 'push-pull', ltime: lt, statusLTimes, leftMembers, eventLTime, events, queryLTime, trailer };
    }
    case SERF_TYPE['user-event']: {
      let lt = 0;
      let name = '';
      let payload: Uint8Array | null = null;
      let cc = false;
      r.struct(USER_EVENT, (i) => {
        if (i === 0) lt = ltime(r, 'LTime');
        else if (i === 1) name = r.string('Name');
        else if (i === 2) payload = copyOrNull(r.bytes('Payload'));
        else cc = r.bool('CC');
      }, 'messageUserEvent');
      return { type: 'user-event', ltime: lt, name, payload, cc };
    }
    case SERF_TYPE.query: {
      let lt = 0;
      let id = 0;
      let ip: Uint8Array | null = null;
      let port = 0;
      let sourceNode = '';
      let filters: Uint8Array[] = [];
      let flags = 0;
      let relayFactor = 0;
      let timeoutNs = 0;
      let name = '';
      let payload: Uint8Array | null = null;
      r.struct(QUERY, (i) => {
        switch (i) {
          case 0: lt = ltime(r, 'LTime'); return;
          case 1: id = r.uint(0xffffffff, 'ID'); return;
          case 2: ip = r.bytes('Addr'); return;
          case 3: port = r.uint(0xffff, 'Port'); return;
          case 4: sourceNode = r.string('SourceNode'); return;
          case 5: filters = bytesArray(r, 'Filters'); return;
          case 6: flags = r.uint(0xffffffff, 'Flags'); return;
          case 7: relayFactor = r.uint(0xff, 'RelayFactor'); return;
          case 8: timeoutNs = r.int(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 'Timeout'); return;
          case 9: name = r.string('Name'); return;
          default: payload = copyOrNull(r.bytes('Payload'));
        }
      }, 'messageQuery');
      const addrBytes: Uint8Array = ip ?? new Uint8Array(0);
      return {
        type: 'query', ltime: lt, id, addr: formatAddress(addrBytes, port), sourceNode, filters, flags, relayFactor,
        timeoutMs: Math.max(0, Math.floor(timeoutNs / NS_PER_MS)), name, payload,
      };
    }
    case SERF_TYPE['query-response']: {
      let lt = 0;
      let id = 0;
      let from = '';
      let flags = 0;
      let payload: Uint8Array | null = null;
      r.struct(QUERY_RESPONSE, (i) => {
        if (i === 0) lt = ltime(r, 'LTime');
        else if (i === 1) id = r.uint(0xffffffff, 'ID');
        else if (i === 2) from = r.string('From');
        else if (i === 3) flags = r.uint(0xffffffff, 'Flags');
        else payload = copyOrNull(r.bytes('Payload'));
      }, 'messageQueryResponse');
      return { type: 'query-response', ltime: lt, id, from, flags, payload };
    }
    case SERF_TYPE['conflict-response']: {
      const raw = buf.slice(r.pos);
      r.pos = r.end;
      return { type: 'conflict-response', raw };
    }
    case SERF_TYPE['key-request']: {
      let key: Uint8Array | null = null;
      r.struct(KEY_REQUEST, () => {
        key = copyOrNull(r.bytes('Key'));
      }, 'keyRequest');
      return { type: 'key-request', key };
    }
    case SERF_TYPE['key-response']: {
      let result = false;
      let message = '';
      let keys: string[] | null = null;
      let primaryKey = '';
      r.struct(KEY_RESPONSE, (i) => {
        if (i === 0) result = r.bool('Result');
        else if (i === 1) message = r.string('Message');
        else if (i === 2) keys = r.nil() ? null : stringArray(r, 'Keys');
        else primaryKey = r.string('PrimaryKey');
      }, 'nodeKeyResponse');
      return { type: 'key-response', result, message, keys, primaryKey };
    }
    case SERF_TYPE.relay: {
      let ip: Uint8Array = new Uint8Array(0);
      let port = 0;
      let destName = '';
      r.struct(RELAY_HEADER, (i) => {
        if (i === 0) {
          r.struct(UDP_ADDR, (j) => {
            if (j === 0) ip = (r.bytes('IP') ?? new Uint8Array(0)).slice();
            else if (j === 1) port = r.int(0, 0xffff, 'Port');
            else r.string('Zone');
          }, 'UDPAddr');
        } else {
          destName = r.string('DestName');
        }
      }, 'relayHeader');
      if (r.remaining === 0) throw new WireError('truncated', 'relay without a message');
      const message = buf.slice(r.pos);
      r.pos = r.end;
      return { type: 'relay', destAddr: formatAddress(ip, port), destName, message };
    }
    default:
      throw new WireError('unknown-type', `unknown serf message type ${type}`);
  }
}

function decodeEventSlot(r: Reader): SerfEventSlot | null {
  if (r.nil()) return null;
  let lt = 0;
  const events: SerfBufferedEvent[] = [];
  r.struct(USER_EVENTS, (i) => {
    if (i === 0) {
      lt = ltime(r, 'userEvents.LTime');
      return;
    }
    const n = r.arrayField('userEvents.Events');
    for (let k = 0; k < n; k++) {
      let name = '';
      let payload: Uint8Array | null = null;
      r.struct(USER_EVENT_ITEM, (j) => {
        if (j === 0) name = r.string('userEvent.Name');
        else payload = copyOrNull(r.bytes('userEvent.Payload'));
      }, 'userEvent');
      events.push({ name, payload });
    }
  }, 'userEvents');
  return { ltime: lt, events };
}

/** A whole Serf message (type byte first). Trailing bytes after a struct are ignored, as Go's decoder ignores them. */
export function decodeSerfMessage(buf: Uint8Array): DecodeResult<SerfMessage> {
  if (buf.length === 0) return { ok: false, reason: 'truncated', detail: 'empty serf message' };
  try {
    const r = new Reader(buf, 1);
    return { ok: true, value: decodeBody(buf[0] as number, r, buf) };
  } catch (e) {
    return toFailure(e);
  }
}

/** Node meta → tags, as Serf's decodeTags: no `ff` magic means the whole meta is the `role` tag. */
export function decodeSerfTags(meta: Uint8Array | null): DecodeResult<Record<string, string>> {
  if (meta === null || meta.length === 0 || meta[0] !== TAG_MAGIC) {
    return { ok: true, value: { role: meta === null ? '' : textDecoder.decode(meta) } };
  }
  try {
    const r = new Reader(meta, 1);
    const tags: Record<string, string> = {};
    const n = r.mapField('tags');
    for (let i = 0; i < n; i++) {
      const k = r.string('tag name');
      tags[k] = r.string('tag value');
    }
    return { ok: true, value: tags };
  } catch (e) {
    return toFailure(e);
  }
}

export function decodeSerfFilter(buf: Uint8Array): DecodeResult<QueryFilter> {
  if (buf.length === 0) return { ok: false, reason: 'truncated', detail: 'empty query filter' };
  try {
    const r = new Reader(buf, 1);
    if (buf[0] === FILTER_NODE) return { ok: true, value: { type: 'node', names: stringArray(r, 'filterNode') } };
    if (buf[0] === FILTER_TAG) {
      let tag = '';
      let expr = '';
      r.struct(FILTER_TAG_FIELDS, (i) => {
        if (i === 0) tag = r.string('Tag');
        else expr = r.string('Expr');
      }, 'filterTag');
      return { ok: true, value: { type: 'tag', tag, expr } };
    }
    return { ok: false, reason: 'unknown-type', detail: `unknown query filter type ${String(buf[0])}` };
  } catch (e) {
    return toFailure(e);
  }
}

/** The Serf codec the core's `SerfNode` takes. */
export const serfCodec: SerfCodec = {
  encode: encodeSerfMessage,
  decode: decodeSerfMessage,
  encodeTags: encodeSerfTags,
  decodeTags: decodeSerfTags,
  encodeFilter: encodeSerfFilter,
  decodeFilter: decodeSerfFilter,
};
