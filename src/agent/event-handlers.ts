import type { spawn as Spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import type { AgentLog } from './agent-log.js';
import type { ClusterNode, Member, QueryEvent } from '../index.js';
import { parseHostPort } from '../transport/address.js';

/** Serf's event types a handler filter names (`*` matches all). */
const EVENT_TYPES = ['member-join', 'member-leave', 'member-failed', 'member-update', 'member-reap', 'user', 'query', '*'] as const;
type EventType = (typeof EVENT_TYPES)[number];

/** One `[FILTER=]SCRIPT` (Serf's `-event-handler`): filters `type` or `user:NAME` / `query:NAME`, comma-separated. */
export interface HandlerSpec {
  readonly filters: readonly { readonly type: EventType; readonly name: string | null }[];
  readonly script: string;
}

/** Parses `[FILTER=]SCRIPT` as Serf does: everything before the first `=` is the filter. Throws a message on a bad filter. */
export function parseHandlerSpec(spec: string): HandlerSpec {
  const i = spec.indexOf('=');
  const filterText = i < 0 ? '*' : spec.slice(0, i);
  const script = i < 0 ? spec : spec.slice(i + 1);
  if (script.trim() === '') throw new Error(`event handler '${spec}': no script`);
  const filters = filterText.split(',').map((f) => {
    const c = f.indexOf(':');
    const type = (c < 0 ? f : f.slice(0, c)).trim();
    const name = c < 0 ? null : f.slice(c + 1);
    if (!(EVENT_TYPES as readonly string[]).includes(type)) throw new Error(`event handler '${spec}': unknown event type '${type}' (expected ${EVENT_TYPES.join(', ')}, user:NAME or query:NAME)`);
    if (name !== null && type !== 'user' && type !== 'query') throw new Error(`event handler '${spec}': only user and query filters take a name`);
    return { type: type as EventType, name: name === '' ? null : name };
  });
  return { filters, script };
}

function matches(h: HandlerSpec, type: EventType, name: string | null): boolean {
  return h.filters.some((f) => f.type === '*' || (f.type === type && (f.name === null || f.name === name)));
}

/** What the handlers did (`GET /v1/info` reports it). */
export interface HandlerStats {
  /** Script runs finished (any outcome). */
  runs: number;
  /** Runs that exited non-zero, could not start, or whose answer could not be sent. */
  failed: number;
  /** Runs killed at `timeoutMs` (also counted in `failed`). */
  timedOut: number;
  /** Events not handled because `queueMax` runs were already waiting. */
  dropped: number;
}

export interface EventHandlersOptions {
  /** A run is killed after this long. Default 30 s. */
  readonly timeoutMs?: number;
  /** Runs waiting at once; more are dropped (counted). Default 1024. */
  readonly queueMax?: number;
  /** Largest stdout kept (a query's answer is cut further to the response size limit). Default 64 KiB. */
  readonly outputBytesMax?: number;
}

interface Job {
  readonly spec: HandlerSpec;
  readonly env: Readonly<Record<string, string>>;
  readonly stdin: Uint8Array;
  readonly query: QueryEvent | null;
}

const clean = (s: string): string => s.replace(/[\t\n]/g, ' ');

/** A member's line on a member event's stdin, as Serf writes it: name, address, role, tags (`k=v,…`). */
export function memberLine(m: Member): string {
  let host: string = m.addr;
  try {
    host = parseHostPort(m.addr).host;
  } catch {
    // keep the address as it is
  }
  const tags = Object.entries(m.tags).map(([k, v]) => `${k}=${v}`).join(',');
  return `${clean(m.name)}\t${host}\t${clean(m.tags.role ?? '')}\t${clean(tags)}\n`;
}

/**
 * Serf's `-event-handler` scripts: each event that matches a handler's filter runs its script
 * (`/bin/sh -c`) with Serf's environment (`SERF_EVENT`, `SERF_SELF_NAME`, `SERF_SELF_ROLE`,
 * `SERF_TAG_*`, `SERF_USER_EVENT`/`SERF_USER_LTIME`, `SERF_QUERY_NAME`/`SERF_QUERY_LTIME`) and
 * the payload (or the members, one line each) on stdin. For a query, the script's stdout, cut to
 * the response size limit, is this node's answer. Runs go one at a time, each killed after
 * `timeoutMs`; a failure is logged and counted, never fatal.
 */
export class EventHandlers {
  readonly stats: HandlerStats = { runs: 0, failed: 0, timedOut: 0, dropped: 0 };
  private readonly queue: Job[] = [];
  private running: { kill(): void } | null = null;
  private readonly offs: (() => void)[] = [];
  private closed = false;
  private readonly timeoutMs: number;
  private readonly queueMax: number;
  private readonly outputBytesMax: number;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly node: ClusterNode, private readonly specs: readonly HandlerSpec[], private readonly log: AgentLog, o: EventHandlersOptions = {}) {
    this.timeoutMs = o.timeoutMs ?? 30_000;
    this.queueMax = o.queueMax ?? 1024;
    this.outputBytesMax = o.outputBytesMax ?? 64 * 1024;
    if (specs.length === 0) return;
    const member = (type: EventType) => (e: { member: Member }): void => this.dispatch(type, null, {}, new TextEncoder().encode(memberLine(e.member)), null);
    this.offs.push(
      node.on('member-joined', member('member-join')), node.on('member-left', member('member-leave')),
      node.on('member-failed', member('member-failed')), node.on('member-updated', member('member-update')),
      node.on('member-reaped', member('member-reap')),
      node.on('user-event', (e) => this.dispatch('user', e.name, { SERF_USER_EVENT: e.name, SERF_USER_LTIME: String(e.ltime) }, e.payload, null)),
      node.on('query', (q) => {
        // Serf's own queries (`_serf_*`) are answered by the node, never by a script.
        if (!q.name.startsWith('_serf_')) this.dispatch('query', q.name, { SERF_QUERY_NAME: q.name, SERF_QUERY_LTIME: String(q.ltime) }, q.payload, q);
      }),
    );
  }

  /** Resolves when no run is going and none is waiting (tests). */
  idle(): Promise<void> {
    if (this.running === null && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops taking events and kills the run in progress. */
  close(): void {
    this.closed = true;
    for (const off of this.offs) off();
    this.queue.length = 0;
    this.running?.kill();
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const f of w) f();
  }

  private dispatch(type: EventType, name: string | null, extra: Record<string, string>, stdin: Uint8Array, query: QueryEvent | null): void {
    if (this.closed) return;
    for (const spec of this.specs) {
      if (!matches(spec, type, name)) continue;
      if (this.queue.length >= this.queueMax) {
        this.stats.dropped++;
        this.log.warn({ event: type, name, script: spec.script }, 'event handler queue full: event dropped');
        continue;
      }
      const tags = this.node.tags;
      const env: Record<string, string> = { SERF_EVENT: type, SERF_SELF_NAME: this.node.name, SERF_SELF_ROLE: tags.role ?? '', ...extra };
      for (const [k, v] of Object.entries(tags)) env[`SERF_TAG_${k.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}`] = v;
      this.queue.push({ spec, env, stdin, query });
    }
    this.next();
  }

  private next(): void {
    if (this.running !== null) return;
    const job = this.queue.shift();
    if (job === undefined) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const f of w) f();
      return;
    }
    this.run(job);
  }

  private run(job: Job): void {
    const started = Date.now();
    const child = childProcessSpawn()('/bin/sh', ['-c', job.spec.script], { env: { ...process.env, ...job.env }, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let timedOut = false;
    const kill = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    this.running = { kill };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, this.timeoutMs);
    const out: Buffer[] = [];
    let outBytes = 0;
    let errTail = '';
    child.stdout.on('data', (d: Buffer) => {
      if (outBytes < this.outputBytesMax) out.push(d.subarray(0, this.outputBytesMax - outBytes));
      outBytes += d.length;
    });
    child.stderr.on('data', (d: Buffer) => (errTail = (errTail + d.toString('utf8')).slice(-1024)));
    // A script that does not read its stdin closes the pipe: not an error of ours.
    child.stdin.on('error', () => undefined);
    child.stdin.end(job.stdin);
    let finished = false;
    const finish = (code: number | null, spawnError: Error | null): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      this.stats.runs++;
      const ctx = { event: job.env.SERF_EVENT, script: job.spec.script, ms: Date.now() - started };
      if (spawnError !== null || timedOut || code !== 0) {
        this.stats.failed++;
        if (timedOut) this.stats.timedOut++;
        const why = spawnError !== null ? `could not start: ${spawnError.message}` : timedOut ? `killed after ${this.timeoutMs} ms` : `exited with ${code ?? 'a signal'}`;
        this.log.warn({ ...ctx, stderr: errTail.trim() }, `event handler ${why}`);
      } else if (job.query !== null) {
        this.answer(job.query, Buffer.concat(out), ctx);
      } else if (outBytes > 0) {
        // As serf's agent: an event script's output is logged at debug (a query's is its answer).
        this.log.debug({ ...ctx, output: Buffer.concat(out).toString('utf8').trimEnd() }, 'event handler output');
      }
      this.running = null;
      this.next();
    };
    child.on('error', (e) => finish(null, e));
    child.on('close', (code) => finish(code, null));
  }

  /** Sends a query's answer, cut to (about) the longest prefix the response size limit takes. */
  private answer(q: QueryEvent, output: Uint8Array, ctx: Record<string, unknown>): void {
    const send = (n: number): string | null => {
      try {
        this.node.respond(q, output.subarray(0, n));
        return null;
      } catch (e) {
        return e instanceof Error ? e.message : String(e);
      }
    };
    // The limit counts the encoded response (names, ids, the payload's header): step down from it.
    let n = Math.min(output.length, this.node.queryResponseSizeLimit);
    let err = send(n);
    while (err !== null && /exceeds the limit/.test(err) && n > 0) {
      n = Math.max(0, n - 8);
      err = send(n);
    }
    if (err === null && n < output.length) this.log.warn({ ...ctx, bytes: output.length, sent: n }, 'query answer cut to the response size limit');
    if (err !== null) {
      this.stats.failed++;
      this.log.warn({ ...ctx, error: err }, 'event handler: query answer not sent');
    }
  }
}

let spawnFn: typeof Spawn | null = null;
/** node:child_process, loaded at the first handler run: most agents configure no handlers, and it costs start-up CPU. */
function childProcessSpawn(): typeof Spawn {
  spawnFn ??= (createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process')).spawn;
  return spawnFn;
}
