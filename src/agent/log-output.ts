import { writeSync } from 'node:fs';
import { isatty } from 'node:tty';
import type { AgentLog, LogLevelName } from './agent-log.js';
import { createLog } from './agent-log.js';
import { RotatingFile } from './rotating-file.js';

/** Serf's level names (`[ERR]`, not ERROR), by level number (pino's). */
const LEVELS: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERR', 60: 'FATAL' };
/** Fields every line has that the text format shows otherwise (or not at all: `node` is the agent itself). */
const HIDDEN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'node']);

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

function fieldValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (typeof v === 'object' && v !== null && 'message' in v && typeof v.message === 'string') return JSON.stringify(v.message);
  return JSON.stringify(v) ?? String(v);
}

/**
 * One JSON log line as a person reads it, Serf's way:
 * `2026/12/06 04:20:00 [INFO] agent: member joined member=b addr=10.0.0.2:7946`
 * (local time; the line's other fields as `key=value`). A field of several lines (an event
 * handler's output or stderr) follows the line as an indented block, one `key: …` line per line
 * of it. A line that is not JSON passes as it is.
 */
export function formatTextLine(json: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const t = new Date(typeof o.time === 'number' ? o.time : Date.now());
  const when = `${t.getFullYear()}/${pad(t.getMonth() + 1)}/${pad(t.getDate())} ${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}`;
  const level = LEVELS[typeof o.level === 'number' ? o.level : 30] ?? 'INFO';
  const shown = Object.entries(o).filter(([k]) => !HIDDEN.has(k));
  const multiline = (v: unknown): v is string => typeof v === 'string' && v.includes('\n');
  const fields = shown.filter(([, v]) => !multiline(v)).map(([k, v]) => ` ${k}=${fieldValue(v)}`).join('');
  const blocks = shown.filter((e): e is [string, string] => multiline(e[1])).flatMap(([k, v]) => v.split('\n').map((l) => `    ${k}: ${l}\n`)).join('');
  return `${when} [${level}] agent: ${typeof o.msg === 'string' ? o.msg : ''}${fields}\n${blocks}`;
}

export interface LogOutputOptions {
  /** `text` (Serf's lines) or `json` (pino's lines). */
  readonly format: 'text' | 'json';
  /** Also written to this file, rotated by size (see `RotatingFile`). */
  readonly file?: string | undefined;
  readonly rotateBytes?: number;
  readonly rotateMaxFiles?: number;
  /** Where lines go besides the file (default: stdout). */
  readonly out?: { write(s: string): unknown };
  /** Where a failing log file is reported (default: stderr). */
  readonly err?: (line: string) => void;
}

/**
 * The agent's log destination: every line in `format` to `out`, and to `file` when given.
 * A log file that stops taking writes (disk full, removed directory) is reported on stderr once
 * per distinct error and counted in `fileErrors`; the agent and its stdout lines go on.
 */
export function logDestination(o: LogOutputOptions): { write(line: string): void; close(): void; readonly fileErrors: number } {
  const out = o.out ?? stdoutLines;
  const reportErr = o.err ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const file = o.file !== undefined ? new RotatingFile(o.file, { rotateBytes: o.rotateBytes ?? 0, maxFiles: o.rotateMaxFiles ?? 0 }) : null;
  let lastError = '';
  let fileErrors = 0;
  return {
    get fileErrors() {
      return fileErrors;
    },
    write(line: string): void {
      const s = o.format === 'text' ? formatTextLine(line) : line;
      out.write(s);
      if (file === null) return;
      try {
        file.write(s);
        lastError = '';
      } catch (e) {
        fileErrors++;
        const msg = e instanceof Error ? e.message : String(e);
        if (msg !== lastError) reportErr(`log file ${o.file ?? ''}: cannot write (${msg}); lines go to stdout only until it works again`);
        lastError = msg;
      }
    },
    close(): void {
      file?.close();
    },
  };
}

/** Waits `ms` on this thread (a full stdout pipe: the line is written once the reader takes some). */
const pause = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Lines to standard output, written at once (a crash loses none), straight to fd 1: stdout is
 * never opened as a stream, which for a pipe would make the descriptor it shares with the parent
 * non-blocking. A full pipe is waited for up to about a second a line; a closed one drops lines.
 */
const stdoutLines = {
  write(s: string): void {
    let b = Buffer.from(s);
    for (let waited = 0; b.length > 0;) {
      try {
        b = b.subarray(writeSync(1, b));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN' || waited >= 1000) return;
        pause(10);
        waited += 10;
      }
    }
  },
};

/** The log settings of the agent's configuration. */
export interface LogSettings {
  readonly name: string;
  readonly logLevel: LogLevelName;
  readonly logFormat?: 'text' | 'json' | undefined;
  readonly logFile?: string | undefined;
  readonly logRotateBytes: number;
  readonly logRotateMaxFiles: number;
}

/**
 * The agent's logger from its settings: text on a terminal and JSON otherwise unless
 * `logFormat` says which, to stdout and `logFile`. `close` closes the file.
 */
export function agentLogger(c: LogSettings, out?: { write(s: string): unknown; isTTY?: boolean }): { log: AgentLog; close(): void } {
  const tty = out !== undefined ? out.isTTY === true : isatty(1);
  const dest = logDestination({ format: c.logFormat ?? (tty ? 'text' : 'json'), file: c.logFile, rotateBytes: c.logRotateBytes, rotateMaxFiles: c.logRotateMaxFiles, ...(out !== undefined ? { out } : {}) });
  return { log: createLog({ level: c.logLevel, bindings: { node: c.name }, dest }), close: () => dest.close() };
}
