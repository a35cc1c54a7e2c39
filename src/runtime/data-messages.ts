import type { DisseminationMessage, UpdateRef } from '../core/dissemination/messages.js';
import type { OriginDigest, Update } from '../core/dissemination/update-log.js';
import type { ReconcileMessage } from '../core/antientropy/index.js';
import type { DataMessage, DataValue } from '../wire/data.js';

/**
 * Shape checks for decoded data-layer messages: the codec gives typed values of any shape;
 * these turn them into the core's message types, or say what is wrong (the caller counts it).
 */

export type Checked<T> = { ok: true; value: T } | { ok: false; detail: string };

const isNat = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isU32 = (v: unknown): v is number => isNat(v) && v <= 0xffffffff;

/** The message's kind for error texts. */
function kind(m: Readonly<Record<string, DataValue | undefined>>): string {
  return typeof m.type === 'string' ? m.type : 'message';
}

function bad<T>(detail: string): Checked<T> {
  return { ok: false, detail };
}

function isUpdate(v: DataValue | undefined, payloadOk: (p: unknown) => boolean = isBytesPayload): v is Update<Uint8Array> & DataValue {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Map || ArrayBuffer.isView(v)) return false;
  const u = v as Record<string, DataValue | undefined>;
  return typeof u.origin === 'string' && isNat(u.version) && u.version >= 1 && typeof u.key === 'string' && payloadOk(u.payload)
    && typeof u.critical === 'boolean' && typeof u.bornMs === 'number' && Number.isFinite(u.bornMs);
}

function isRef(v: DataValue | undefined): v is UpdateRef & DataValue {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Map || ArrayBuffer.isView(v)) return false;
  const r = v as Record<string, DataValue | undefined>;
  return typeof r.origin === 'string' && isNat(r.version);
}

function isBytesPayload(p: unknown): boolean {
  return p instanceof Uint8Array;
}

function updates(v: DataValue | undefined, payloadOk?: (p: unknown) => boolean): Update<Uint8Array>[] | null {
  if (!Array.isArray(v)) return null;
  const out: Update<Uint8Array>[] = [];
  for (const u of v as readonly DataValue[]) {
    if (!isUpdate(u, payloadOk)) return null;
    out.push({ origin: u.origin, version: u.version, key: u.key, payload: u.payload, critical: u.critical, bornMs: u.bornMs });
  }
  return out;
}

function refs(v: DataValue | undefined): UpdateRef[] | null {
  if (!Array.isArray(v)) return null;
  const out: UpdateRef[] = [];
  for (const r of v as readonly DataValue[]) {
    if (!isRef(r)) return null;
    out.push({ origin: r.origin, version: r.version });
  }
  return out;
}

function digest(v: DataValue | undefined): Map<string, OriginDigest> | null {
  if (!(v instanceof Map)) return null;
  const out = new Map<string, OriginDigest>();
  for (const [k, d] of v) {
    if (typeof k !== 'string' || typeof d !== 'object' || d === null || Array.isArray(d) || d instanceof Map || ArrayBuffer.isView(d)) return null;
    const o = d as Record<string, DataValue | undefined>;
    if (!isNat(o.upTo) || !Array.isArray(o.above)) return null;
    const above = o.above as readonly DataValue[];
    if (!above.every(isNat)) return null;
    out.set(k, { upTo: o.upTo, above: above });
  }
  return out;
}

/** A dissemination request or reply, checked field by field. */
export function toDisseminationMessage(m: DataMessage | Readonly<Record<string, DataValue | undefined>>, payloadOk?: (p: unknown) => boolean): Checked<DisseminationMessage<Uint8Array>> {
  if (!isNat(m.id)) return bad(`${kind(m)}: id is not a non-negative integer`);
  const ups = updates(m.updates, payloadOk);
  if (ups === null) return bad(`${kind(m)}: updates is not a list of updates`);
  if (m.type === 'gossip') {
    const d = m.digest === null ? null : digest(m.digest);
    if (d === null && m.digest !== null) return bad('gossip: digest is not a map of origin digests');
    if (typeof m.feedback !== 'boolean') return bad('gossip: feedback is not a boolean');
    let hops: number[] | null = null;
    if (m.hops !== null) {
      if (!Array.isArray(m.hops) || !(m.hops as readonly DataValue[]).every(isNat)) return bad('gossip: hops is not a list of counts');
      hops = m.hops as number[];
    }
    return { ok: true, value: { type: 'gossip', id: m.id, updates: ups, digest: d, feedback: m.feedback, hops } };
  }
  if (m.type === 'gossip-reply') {
    const known = refs(m.known);
    const floors = refs(m.floors);
    if (known === null || floors === null) return bad('gossip-reply: known or floors is not a list of update refs');
    return { ok: true, value: { type: 'gossip-reply', id: m.id, updates: ups, known, floors } };
  }
  return bad(`${kind(m)} is not a dissemination message`);
}

const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;
const isU32s = (v: unknown): v is Uint32Array => v instanceof Uint32Array;

/** A Merkle reconciliation message and its session id, checked field by field (the session checks the rest). */
export function toReconcileMessage(m: DataMessage | Readonly<Record<string, DataValue | undefined>>, entryOk: (e: unknown) => boolean = isBytes): Checked<{ sid: number; msg: ReconcileMessage<Uint8Array> }> {
  const sid = m.sid;
  if (!isU32(sid)) return bad(`${kind(m)}: sid is not a uint32`);
  const ok = (msg: ReconcileMessage<Uint8Array>): Checked<{ sid: number; msg: ReconcileMessage<Uint8Array> }> => ({ ok: true, value: { sid, msg } });
  switch (kind(m)) {
    case 'rc-open':
      if (!isNat(m.fanout) || !isNat(m.depth) || !isU32(m.rootHi) || !isU32(m.rootLo) || !isU32s(m.hashes)) return bad('rc-open: bad fields');
      return ok({ type: 'rc-open', fanout: m.fanout, depth: m.depth, rootHi: m.rootHi, rootLo: m.rootLo, hashes: m.hashes });
    case 'rc-hashes':
      if (!isNat(m.level) || !isBytes(m.differ) || !isU32s(m.hashes)) return bad('rc-hashes: bad fields');
      return ok({ type: 'rc-hashes', level: m.level, differ: m.differ, hashes: m.hashes });
    case 'rc-keys': {
      if (!isBytes(m.differ) || !isU32s(m.counts) || !isU32s(m.hashes) || !Array.isArray(m.keys)) return bad('rc-keys: bad fields');
      const keys = m.keys as readonly DataValue[];
      if (!keys.every((k) => typeof k === 'string')) return bad('rc-keys: keys are not strings');
      return ok({ type: 'rc-keys', differ: m.differ, counts: m.counts, keys: keys, hashes: m.hashes });
    }
    case 'rc-entries': {
      if (!Array.isArray(m.entries) || !(m.entries as readonly DataValue[]).every(entryOk) || !(m.want === null || isBytes(m.want)) || !isNat(m.missing)) return bad('rc-entries: bad fields');
      return ok({ type: 'rc-entries', entries: m.entries as Uint8Array[], want: m.want, missing: m.missing });
    }
    case 'rc-done':
      if (m.reason !== 'equal' && m.reason !== 'no-difference') return bad('rc-done: bad reason');
      return ok({ type: 'rc-done', reason: m.reason });
    case 'rc-abort':
      if (typeof m.reason !== 'string') return bad('rc-abort: bad reason');
      return ok({ type: 'rc-abort', reason: m.reason });
    default:
      return bad(`${kind(m)} is not a reconciliation message`);
  }
}
