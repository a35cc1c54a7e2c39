import type { IncomingMessage } from 'node:http';
import type { CausalContext, JsonValue } from '../core/replica/index.js';
import { isVersionVector } from '../core/replica/index.js';
import { HttpError, readJson } from './http-body.js';
import type { KvMutation, KvService } from './kv-service.js';
import { KV_MUTATIONS, RESOLVER_TYPES } from './kv-service.js';
import { quorumParams } from './quorum-params.js';

/** Keys are at most this many UTF-8 bytes, without control characters. */
export const KEY_BYTES_MAX = 512;
/** What a body may carry beyond its value (the JSON envelope, a context), bytes. */
export const ENVELOPE_BYTES = 4096;

/** How the API registers a handler (see `HttpApi.route`). */
export type Route = (method: string, pattern: RegExp, handler: (req: IncomingMessage, query: URLSearchParams, params: readonly string[]) => unknown) => void;

/**
 * The key-value routes: `GET /v1/kv?prefix=`, `GET|PUT|DELETE /v1/kv/{key}` and
 * `POST /v1/kv/{key}` (an operation on a counter, set or map key). The key is the rest of the
 * raw path, percent-decoded once (`a%2Fb` and `a/b` are the same key; dot segments are not
 * resolved: `z/../zz` is the key `z/../zz`).
 */
export class KvRoutes {
  constructor(private readonly kv: KvService, private readonly valueBytesMax: number) {}

  register(route: Route): void {
    route('GET', /^\/v1\/kv$/, (_q, query) => this.list(query));
    route('GET', /^\/v1\/kv\/(.+)$/, (_q, query, p) => this.get(query, p));
    route('PUT', /^\/v1\/kv\/(.+)$/, (req, query, p) => this.put(req, query, p));
    route('POST', /^\/v1\/kv\/(.+)$/, (req, _u, p) => this.mutate(req, p));
    route('DELETE', /^\/v1\/kv\/(.+)$/, (req, query, p) => this.delete(req, query, p));
  }

  private list(query: URLSearchParams): { prefix: string; keys: string[] } {
    const prefix = query.get('prefix') ?? '';
    return { prefix, keys: this.kv.list(prefix) };
  }

  /** `?r=N|majority|all[&timeout=ms]`: a quorum read (the merge of r replicas' replies, with who replied). */
  private async get(query: URLSearchParams, p: readonly string[]): Promise<unknown> {
    const key = checkKey(p[0] ?? '');
    const r1 = quorumParams(query, 'r');
    if (r1 !== undefined) {
      const q = await this.kv.quorumGet(key, r1);
      if (q.read === null) throw new HttpError(404, `no such key: ${key} (read from ${q.quorum.answered.join(', ')})`);
      return { ...q.read, quorum: q.quorum };
    }
    const r = this.kv.get(key);
    if (r === null) throw new HttpError(404, `no such key: ${key}`);
    return r;
  }

  /** `?w=N|majority|all[&timeout=ms]`: answers once w replicas hold the write durably (503 with how many did, else). */
  private async put(req: IncomingMessage, query: URLSearchParams, p: readonly string[]): Promise<unknown> {
    const key = checkKey(p[0] ?? '');
    const w = quorumParams(query, 'w');
    const b = await this.readObject(req, this.valueBytesMax + ENVELOPE_BYTES, ['value', 'context', 'type'], '{"value": …, "context"?: …, "type"?: …}');
    if (!('value' in b)) throw new HttpError(400, 'body: "value" is required');
    this.checkValueSize(b.value, 'value');
    this.checkType(key, b.type);
    const context = checkContext(b.context);
    if (w !== undefined) return { key, ...(await this.kv.quorumPut(key, b.value as JsonValue, w, context)) };
    const ctx = await this.kv.put(key, b.value as JsonValue, ...(context === undefined ? [] : [context]));
    return { key, context: ctx };
  }

  /** `{"op": "increment"|"decrement", "by"?: n}`, `{"op": "add"|"remove", "element": s}`, each with an optional `field` (maps), `{"op": "set", "field", "value"}`, `{"op": "removeField", "field"}`. Answers the key as `GET` reads it after. */
  private async mutate(req: IncomingMessage, p: readonly string[]): Promise<unknown> {
    const key = checkKey(p[0] ?? '');
    const b = await this.readObject(req, this.valueBytesMax + ENVELOPE_BYTES, ['op', 'by', 'element', 'field', 'value'], '{"op": …, "by"?|"element"?|"field"?|"value"?: …}');
    const m = this.mutation(b);
    await this.kv.mutate(key, m);
    return { op: m.op, ...(this.kv.get(key) ?? { key, type: null }) };
  }

  /** A delete of a key that reads as absent here (and names no context) is a no-op: no tombstone, `"deleted": false`. */
  private async delete(req: IncomingMessage, query: URLSearchParams, p: readonly string[]): Promise<unknown> {
    const key = checkKey(p[0] ?? '');
    const w = quorumParams(query, 'w');
    const body = await readJson(req, ENVELOPE_BYTES, 'a DELETE body: its context', true);
    let context: CausalContext | undefined;
    if (body !== undefined) {
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'body: expected a JSON object {"context"?: …}');
      context = checkContext((body as Record<string, unknown>).context);
    }
    if ((context === undefined || context.length === 0) && this.kv.get(key) === null) return { key, deleted: false, reason: 'no such key: nothing deleted' };
    if (w !== undefined) return { key, deleted: true, ...(await this.kv.quorumDelete(key, w, context)) };
    const ctx = await this.kv.delete(key, ...(context === undefined ? [] : [context]));
    return { key, deleted: true, context: ctx };
  }

  private mutation(b: Record<string, unknown>): KvMutation {
    const op = b.op;
    if (typeof op !== 'string' || !(KV_MUTATIONS as readonly string[]).includes(op)) {
      throw new HttpError(400, `op: expected one of ${KV_MUTATIONS.join(', ')}${op === undefined ? '' : `, got ${JSON.stringify(op)}`}`);
    }
    const allowed: Readonly<Record<string, readonly string[]>> = {
      increment: ['by', 'field'], decrement: ['by', 'field'], add: ['element', 'field'], remove: ['element', 'field'], set: ['field', 'value'], removeField: ['field'],
    };
    const extra = Object.keys(b).filter((k) => k !== 'op' && !(allowed[op] ?? []).includes(k));
    if (extra.length > 0) throw new HttpError(400, `body: ${extra.join(', ')} does not apply to op ${op}`);
    const field = b.field === undefined ? undefined : checkField(b.field);
    const withField = field === undefined ? {} : { field };
    switch (op) {
      case 'increment':
      case 'decrement': {
        const by = b.by ?? 1;
        if (typeof by !== 'number' || !Number.isSafeInteger(by) || by < 1) throw new HttpError(400, `by: expected a positive whole number, got ${JSON.stringify(by)}`);
        return { op, by, ...withField };
      }
      case 'add':
      case 'remove': {
        if (typeof b.element !== 'string') throw new HttpError(400, 'element: expected a string');
        this.checkValueSize(b.element, 'element');
        return { op, element: b.element, ...withField };
      }
      case 'set':
        if (field === undefined) throw new HttpError(400, 'field: required for op set (a map key\'s field)');
        if (!('value' in b)) throw new HttpError(400, 'value: required for op set');
        this.checkValueSize(b.value, 'value');
        return { op, field, value: b.value as JsonValue };
      default:
        if (field === undefined) throw new HttpError(400, 'field: required for op removeField');
        return { op: 'removeField', field };
    }
  }

  private async readObject(req: IncomingMessage, maxBytes: number, fields: readonly string[], shape: string): Promise<Record<string, unknown>> {
    const body = await readJson(req, maxBytes, `valueBytesMax ${this.valueBytesMax} + ${ENVELOPE_BYTES} of envelope`);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, `body: expected a JSON object ${shape}`);
    const b = body as Record<string, unknown>;
    const unknownFields = Object.keys(b).filter((k) => !fields.includes(k));
    if (unknownFields.length > 0) throw new HttpError(400, `body: unknown field${unknownFields.length > 1 ? 's' : ''} ${unknownFields.join(', ')}`);
    return b;
  }

  private checkValueSize(v: unknown, what: string): void {
    const bytes = Buffer.byteLength(JSON.stringify(v) ?? '');
    if (bytes > this.valueBytesMax) throw new HttpError(413, `${what} is ${bytes} bytes, over the limit of ${this.valueBytesMax} (valueBytesMax)`);
  }

  private checkType(key: string, type: unknown): void {
    if (type === undefined) return;
    if (typeof type !== 'string' || !(RESOLVER_TYPES as readonly string[]).includes(type)) {
      throw new HttpError(400, `unknown key type ${JSON.stringify(type)}: expected one of ${RESOLVER_TYPES.join(', ')}`);
    }
    const actual = this.kv.resolverOf(key);
    if (actual !== type) throw new HttpError(409, `key ${key} is of type ${actual}, not ${type}`);
  }
}

/** A key from the path: 1 to `KEY_BYTES_MAX` UTF-8 bytes, no control characters, not `.` or `..`. */
export function checkKey(key: string): string {
  if (key.length === 0) throw new HttpError(400, 'key: empty');
  if (Buffer.byteLength(key) > KEY_BYTES_MAX) throw new HttpError(400, `key: over ${KEY_BYTES_MAX} bytes`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(key)) throw new HttpError(400, 'key: control characters are not allowed');
  if (key === '.' || key === '..') throw new HttpError(400, `key: '${key}' is not allowed (URL clients resolve it as a path step, even encoded as %2e)`);
  return key;
}

function checkField(f: unknown): string {
  if (typeof f !== 'string' || f.length === 0) throw new HttpError(400, 'field: expected a non-empty string');
  if (Buffer.byteLength(f) > KEY_BYTES_MAX) throw new HttpError(400, `field: over ${KEY_BYTES_MAX} bytes`);
  return f;
}

function checkContext(c: unknown): CausalContext | undefined {
  if (c === undefined || c === null) return undefined;
  if (!isVersionVector(c)) throw new HttpError(400, 'context: expected a causal context as returned by GET (an array of {origin, counter})');
  return c;
}
