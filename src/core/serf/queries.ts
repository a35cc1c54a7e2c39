import type { Address, Millis } from '../ids.js';
import { address, millis } from '../ids.js';
import type { SerfBroadcasts } from './broadcasts.js';
import type { SerfContext } from './context.js';
import { InternalQueries } from './internal-queries.js';
import type { SerfKeyring } from './keyring.js';
import { LamportClock } from './lamport-clock.js';
import { LamportRing } from './lamport-ring.js';
import type { MemberState, SerfMembers } from './members.js';
import type { QueryFilter, SerfKeyResponseMsg, SerfQueryMsg, SerfQueryResponseMsg } from './messages.js';
import { INTERNAL_QUERY_PREFIX, QUERY_FLAG_ACK, QUERY_FLAG_NO_BROADCAST } from './messages.js';
import { countOldDrop } from './stats.js';

/** Parameters of `SerfNode.query` (Serf's QueryParam). */
export interface QueryOptions {
  /** Only these nodes process the query. */
  readonly filterNodes?: readonly string[];
  /** Only nodes whose tag matches the regular expression (unanchored) process the query. */
  readonly filterTags?: Readonly<Record<string, string>>;
  /** Ask every processing node for an ack. */
  readonly requestAck?: boolean;
  /** Responses are also relayed through this many random members (0–5 in practice). */
  readonly relayFactor?: number;
  /** Default: `gossipIntervalMs × queryTimeoutMult × ceil(log10(n + 1))`. */
  readonly timeoutMs?: number;
}

/** A query someone sent us, waiting for the application's answer. */
interface InboundQuery {
  readonly ltime: number;
  readonly id: number;
  readonly addr: Address;
  readonly relayFactor: number;
  readonly deadlineMs: number;
}

/** A query we sent, collecting acks and responses until its deadline. */
interface OutboundQuery {
  readonly queryId: number;
  readonly id: number;
  readonly deadlineMs: number;
  readonly acks: Set<string>;
  readonly responses: Set<string>;
}

const EMPTY = new Uint8Array(0);

/**
 * Serf's queries (reference §8.8; query.go): stamped with the query Lamport clock and
 * de-duplicated by the query buffer as events are; processed only where the node and tag
 * filters match (and still re-gossiped where they do not, unless no-broadcast); acked when
 * asked; answered by the application (`respond`) or, for `_serf_*` names, by the node itself
 * (`InternalQueries`); every response and ack goes to the asker's address and through
 * `relayFactor` random members as relay messages. A query we sent collects acks and
 * responses, once per node, until its deadline, then `query-done`.
 */
export class SerfQueries {
  readonly clock = new LamportClock();
  /** Queries stamped below this are not processed (Serf's queryMinTime). */
  private readonly floor: number = 0;
  private readonly ring: LamportRing<number>;
  private readonly inbound = new Map<number, InboundQuery>();
  private readonly outbound = new Map<number, OutboundQuery>();
  private nextQueryId = 0;
  private readonly internal: InternalQueries;

  constructor(
    private readonly ctx: SerfContext,
    private readonly broadcasts: SerfBroadcasts,
    private readonly members: SerfMembers,
    /** Our tags, for the tag filters. */
    private readonly localTags: () => Readonly<Record<string, string>>,
    keyring: SerfKeyring | null,
    /** The query clock a previous life saved: queries below it are not processed again. */
    savedClock: number | undefined,
  ) {
    if (savedClock !== undefined) {
      this.clock.witness(savedClock);
      if (savedClock > 0) this.floor = savedClock;
    }
    this.ring = new LamportRing(ctx.config.queryBufferSize);
    this.internal = new InternalQueries(ctx, keyring, {
      answer: (now, queryId, resp, mayRetry) => this.answerInternal(now, queryId, resp, mayRetry),
      forget: (queryId) => this.inbound.delete(queryId),
    });
  }

  /** The earliest deadline of a query we run, or `t` if that is earlier. */
  nextDeadline(t: number): number {
    for (const q of this.outbound.values()) if (q.deadlineMs < t) t = q.deadlineMs;
    return t;
  }

  /** Sends a query (Serf's `Query`); returns its `queryId`. This node processes it too, as Serf's does. */
  send(now: Millis, name: string, payload: Uint8Array, opts: QueryOptions): number {
    const t = now as number;
    const codec = this.ctx.codec;
    const filters: Uint8Array[] = [];
    if (opts.filterNodes !== undefined) filters.push(codec.encodeFilter({ type: 'node', names: opts.filterNodes }));
    if (opts.filterTags !== undefined) {
      for (const [tag, expr] of Object.entries(opts.filterTags)) filters.push(codec.encodeFilter({ type: 'tag', tag, expr }));
    }
    const timeoutMs = opts.timeoutMs ?? this.defaultTimeoutMs();
    const msg: SerfQueryMsg = {
      type: 'query', ltime: this.clock.time(), id: this.ctx.rng.int(2 ** 31), addr: this.ctx.addr, sourceNode: this.ctx.name,
      filters, flags: opts.requestAck === true ? QUERY_FLAG_ACK : 0, relayFactor: opts.relayFactor ?? 0, timeoutMs,
      name, payload: payload.length > 0 ? payload : null,
    };
    const raw = codec.encode(msg);
    const limit = this.ctx.config.querySizeLimit;
    if (raw.length > limit) throw new Error(`query exceeds the limit of ${limit} bytes (${raw.length})`);
    const queryId = ++this.nextQueryId;
    // Go keys running queries by Lamport time; a newer query at the same time replaces it.
    this.outbound.set(msg.ltime, { queryId, id: msg.id, deadlineMs: t + timeoutMs, acks: new Set(), responses: new Set() });
    this.handle(now, msg);
    this.broadcasts.enqueue(this.broadcasts.queries, raw, null);
    return queryId;
  }

  /** Answers a `query` event. Throws if already answered, past its deadline, or too large. */
  respond(now: Millis, queryId: number, payload: Uint8Array): void {
    const t = now as number;
    const q = this.inbound.get(queryId);
    if (q === undefined) throw new Error(`respond: no query ${queryId} waiting for an answer (already answered or expired)`);
    if (t > q.deadlineMs) {
      this.inbound.delete(queryId);
      throw new Error(`respond: query ${queryId} is past its deadline`);
    }
    const resp: SerfQueryResponseMsg = {
      type: 'query-response', ltime: q.ltime, id: q.id, from: this.ctx.name, flags: 0, payload: payload.length > 0 ? payload : null,
    };
    const raw = this.ctx.codec.encode(resp);
    const limit = this.ctx.config.queryResponseSizeLimit;
    if (raw.length > limit) throw new Error(`respond: response exceeds the limit of ${limit} bytes (${raw.length})`);
    this.inbound.delete(queryId);
    this.sendResponse(now, q.addr, q.relayFactor, resp, raw);
  }

  /** A query from a peer (or our own); true when it should be re-gossiped. */
  handle(now: Millis, q: SerfQueryMsg): boolean {
    this.clock.witness(q.ltime);
    if (q.ltime < this.floor) return countOldDrop(this.ctx.stats, 'query', 'below-floor');
    const cur = this.clock.time();
    const window = this.ctx.config.queryBufferSize;
    if (cur > window && q.ltime < cur - window) return countOldDrop(this.ctx.stats, 'query', 'outside-window');
    if (!this.ring.add(q.ltime, q.id, (a, b) => a === b)) {
      this.ctx.stats.duplicateMessages++;
      return false;
    }
    this.ctx.stats.queriesIn++;
    const rebroadcast = (q.flags & QUERY_FLAG_NO_BROADCAST) === 0;
    // Filtered out: still re-broadcast, since it is the first time we see it.
    if (!this.shouldProcess(q.filters)) return rebroadcast;
    if ((q.flags & QUERY_FLAG_ACK) !== 0) {
      const ack: SerfQueryResponseMsg = { type: 'query-response', ltime: q.ltime, id: q.id, from: this.ctx.name, flags: QUERY_FLAG_ACK, payload: null };
      this.sendResponse(now, address(q.addr), q.relayFactor, ack, this.ctx.codec.encode(ack));
    }
    const queryId = ++this.nextQueryId;
    const deadlineMs = (now as number) + q.timeoutMs;
    this.purgeInbound(now);
    this.inbound.set(queryId, { ltime: q.ltime, id: q.id, addr: address(q.addr), relayFactor: q.relayFactor, deadlineMs });
    if (q.name.startsWith(INTERNAL_QUERY_PREFIX)) this.internal.handle(now, queryId, q);
    else {
      this.ctx.events.push({
        type: 'query', queryId, ltime: q.ltime, name: q.name, payload: q.payload ?? EMPTY, sourceNode: q.sourceNode, deadlineMs: millis(deadlineMs),
      });
    }
    return rebroadcast;
  }

  /** An ack or response to a query we run: reported once per node, until the deadline. */
  handleResponse(resp: SerfQueryResponseMsg): void {
    const stats = this.ctx.stats;
    stats.queryResponsesIn++;
    const q = this.outbound.get(resp.ltime);
    if (q === undefined || q.id !== resp.id || this.ctx.now > q.deadlineMs) {
      stats.queryResponsesUnknown++;
      return;
    }
    if ((resp.flags & QUERY_FLAG_ACK) !== 0) {
      if (q.acks.has(resp.from)) {
        stats.duplicateMessages++;
        return;
      }
      q.acks.add(resp.from);
      this.ctx.events.push({ type: 'query-ack', queryId: q.queryId, from: resp.from });
    } else {
      if (q.responses.has(resp.from)) {
        stats.duplicateMessages++;
        return;
      }
      q.responses.add(resp.from);
      this.ctx.events.push({ type: 'query-response', queryId: q.queryId, from: resp.from, payload: resp.payload ?? EMPTY });
    }
  }

  /** Ends the queries we run whose deadline passed: `query-done` with the counts. */
  expire(t: number): void {
    for (const [key, q] of this.outbound) {
      if (q.deadlineMs <= t) {
        this.outbound.delete(key);
        this.ctx.events.push({ type: 'query-done', queryId: q.queryId, acks: q.acks.size, responses: q.responses.size });
      }
    }
  }

  /** Forgets queries for the application whose deadline passed (the reaper's pass). */
  expireInbound(t: number): void {
    for (const [id, q] of this.inbound) if (q.deadlineMs < t) this.inbound.delete(id);
  }

  private shouldProcess(filters: readonly Uint8Array[]): boolean {
    for (const raw of filters) {
      const r = this.ctx.codec.decodeFilter(raw);
      if (!r.ok) {
        this.ctx.stats.malformedMessages++;
        return false;
      }
      const f: QueryFilter = r.value;
      if (f.type === 'node') {
        if (!f.names.includes(this.ctx.name)) return false;
      } else if (!matchTag(f.expr, this.localTags()[f.tag] ?? '')) {
        return false;
      }
    }
    return true;
  }

  /** Sends a query response (or ack) to the asker, and relays it through `relayFactor` members. */
  private sendResponse(now: Millis, to: Address, relayFactor: number, resp: SerfQueryResponseMsg, raw: Uint8Array): void {
    const gossip = this.ctx.gossip;
    if (to === this.ctx.addr) this.handleResponse(resp);
    else gossip.sendUserMessage(now, to, raw);
    if (relayFactor <= 0) return;
    const all = [...this.members.rows()];
    if (all.length < relayFactor + 1) return;
    const candidates = all.filter((m) => m.status === 'alive' && (m.vsn[1] ?? 0) >= 5 && m.name !== this.ctx.name);
    const relay = this.ctx.codec.encode({ type: 'relay', destAddr: to, destName: '', message: raw });
    for (let k = 0; k < relayFactor && candidates.length > 0; k++) {
      const i = this.ctx.rng.int(candidates.length);
      const m = candidates[i] as MemberState;
      candidates[i] = candidates[candidates.length - 1] as MemberState;
      candidates.pop();
      gossip.sendUserMessage(now, m.addr, relay);
    }
  }

  /** Answers an internal query; with `mayRetry`, returns false instead of failing when the answer is too large. */
  private answerInternal(now: Millis, queryId: number, resp: SerfKeyResponseMsg, mayRetry: boolean): boolean {
    const payload = this.ctx.codec.encode(resp);
    const q = this.inbound.get(queryId);
    if (q === undefined) return true;
    const msg: SerfQueryResponseMsg = { type: 'query-response', ltime: q.ltime, id: q.id, from: this.ctx.name, flags: 0, payload };
    const raw = this.ctx.codec.encode(msg);
    const limit = this.ctx.config.queryResponseSizeLimit;
    if (raw.length > limit && mayRetry) return false;
    this.inbound.delete(queryId);
    if (raw.length > limit) return true;
    this.sendResponse(now, q.addr, q.relayFactor, msg, raw);
    return true;
  }

  private purgeInbound(t: number): void {
    if (this.inbound.size < 64) return;
    this.expireInbound(t);
  }

  private defaultTimeoutMs(): number {
    const gossip = this.ctx.gossip;
    return gossip.config.gossipIntervalMs * this.ctx.config.queryTimeoutMult * Math.ceil(Math.log10(gossip.liveCount + 1));
  }
}

/**
 * Serf matches tag filters with Go's `regexp.MatchString` (RE2, unanchored). JavaScript's
 * RegExp agrees on the common syntax; an expression it cannot compile matches nothing, as Go
 * does on a compile error. Tag values are at most 512 bytes, which bounds backtracking.
 */
function matchTag(expr: string, value: string): boolean {
  try {
    return new RegExp(expr).test(value);
  } catch {
    return false;
  }
}
