/**
 * The agent's logger: what the agent calls (`log.info({ member }, 'member joined')`), and a small
 * implementation that writes pino's JSON lines (`{"level":30,"time":…,"node":"n1","member":"b",
 * "msg":"member joined"}`) to a destination. pino's own logger fits the interface (tests and
 * embedders may pass one); the agent does not load pino, which costs a process about 8 MB and
 * 0.07 s of CPU at start for some 30 modules (issue 12), where the agent needs one line a call.
 */

/** One level's method: `(fields, message)` or `(message)`. */
export interface LogFn {
  (fields: object, msg?: string): void;
  (msg: string): void;
}

/** What the agent logs through (pino's `Logger` is one). */
export interface AgentLog {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  /** Writes what is buffered (this logger writes each line at once: nothing). */
  flush(): void;
}

/** pino's level numbers, which the JSON lines carry. */
export const LOG_LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;
export type LogLevelName = keyof typeof LOG_LEVELS | 'silent';

/** An error as pino's standard serializer writes it: type, message, stack, its own fields. */
function serializeError(e: Error): Record<string, unknown> {
  const out: Record<string, unknown> = { type: e.constructor.name, message: e.message, stack: e.stack };
  for (const [k, v] of Object.entries(e)) if (!(k in out)) out[k] = v;
  if (e.cause !== undefined) out.cause = e.cause instanceof Error ? serializeError(e.cause) : e.cause;
  return out;
}

function encode(fields: Record<string, unknown>): string {
  try {
    return JSON.stringify(fields, (_k, v: unknown) => (v instanceof Error ? serializeError(v) : typeof v === 'bigint' ? v.toString() : v));
  } catch (e) {
    // A cycle: the line still says what happened, without the fields.
    return JSON.stringify({ level: fields.level, time: fields.time, msg: fields.msg, logError: e instanceof Error ? e.message : String(e) });
  }
}

/**
 * A logger writing one JSON line per call at `level` or above to `dest`, each line carrying
 * `bindings` (the agent's: `{ node: name }`) after `level` and `time`, then the call's fields
 * and `msg`, as pino does.
 */
export function createLog(o: { readonly level: LogLevelName; readonly bindings?: Readonly<Record<string, unknown>>; readonly dest: { write(line: string): unknown } }): AgentLog {
  const min = o.level === 'silent' ? Infinity : LOG_LEVELS[o.level];
  const bindings = o.bindings ?? {};
  const off: LogFn = () => undefined;
  const at = (level: number): LogFn => {
    if (level < min) return off;
    return (a: object | string, msg?: string): void => {
      const fields = typeof a === 'string' ? {} : a instanceof Error ? { err: a } : a;
      const text = typeof a === 'string' ? a : msg ?? (a instanceof Error ? a.message : undefined);
      o.dest.write(`${encode({ level, time: Date.now(), ...bindings, ...fields, ...(text !== undefined ? { msg: text } : {}) })}\n`);
    };
  };
  return {
    trace: at(LOG_LEVELS.trace), debug: at(LOG_LEVELS.debug), info: at(LOG_LEVELS.info),
    warn: at(LOG_LEVELS.warn), error: at(LOG_LEVELS.error), fatal: at(LOG_LEVELS.fatal),
    flush: () => undefined,
  };
}
