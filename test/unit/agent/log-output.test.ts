import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentLog } from '../../../src/agent/agent-log.js';
import { createLog } from '../../../src/agent/agent-log.js';
import { agentLogger, formatTextLine, logDestination } from '../../../src/agent/log-output.js';
import { RotatingFile } from '../../../src/agent/rotating-file.js';
import { main } from '../../../src/cli/main.js';
import { agentConfig } from '../../../src/cli/commands/agent.js';
import { capture } from '../cli/capture.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'gossip-log-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Serf's line: date, time, [LEVEL], `agent:`, the message, then key=value. */
const SERF_LINE = /^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2} \[(TRACE|DEBUG|INFO|WARN|ERR|FATAL)\] agent: /;

describe('text log lines', () => {
  it('reads like Serf: local date and time, [LEVEL], agent:, the message, then the fields as key=value', () => {
    const time = new Date(2026, 11, 6, 4, 20, 0).getTime();
    expect(formatTextLine(JSON.stringify({ level: 30, time, pid: 1, hostname: 'h', node: 'a', msg: 'member joined', member: 'b', addr: '10.0.0.2:7946' })))
      .toBe('2026/12/06 04:20:00 [INFO] agent: member joined member=b addr=10.0.0.2:7946\n');
    expect(formatTextLine(JSON.stringify({ level: 50, time, msg: 'cannot save', err: { type: 'Error', message: 'disk full', stack: '…' }, tried: ['x:1'], note: 'two words' })))
      .toBe('2026/12/06 04:20:00 [ERR] agent: cannot save err="disk full" tried=["x:1"] note="two words"\n');
    expect(formatTextLine('not json')).toBe('not json\n');
  });

  it('a pino logger writing through the text destination gives one Serf line per call', () => {
    const lines: string[] = [];
    const log = pino({ level: 'debug', base: { node: 'n1' } }, logDestination({ format: 'text', out: { write: (s: string) => lines.push(s) } }));
    log.warn({ member: 'b' }, 'member failed');
    log.debug('quiet');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(SERF_LINE);
    expect(lines[0]).toMatch(/\[WARN\] agent: member failed member=b\n$/);
    expect(lines[1]).toMatch(/\[DEBUG\] agent: quiet\n$/);
  });
});

describe('log file rotation', () => {
  it('rotates before a line would pass the byte limit; no file passes it; every line kept in order', () => {
    const d = tmp();
    const f = new RotatingFile(join(d, 'agent.log'), { rotateBytes: 100, maxFiles: 0 });
    const lines = Array.from({ length: 20 }, (_, i) => `line ${String(i).padStart(2, '0')} ${'x'.repeat(20)}\n`); // 29 bytes each: 3 a file
    for (const l of lines) f.write(l);
    f.close();
    const rotated = readdirSync(d).filter((n) => n !== 'agent.log');
    expect(rotated).toHaveLength(6); // 20 lines, 3 a file: 6 full files and the current one
    for (const n of readdirSync(d)) expect(statSync(join(d, n)).size).toBeLessThanOrEqual(100);
    for (const n of rotated) expect(n).toMatch(/^agent-\d+\.log$/);
    const all = [...new RotatingFile(join(d, 'agent.log'), { rotateBytes: 100, maxFiles: 0 }).rotatedFiles(), join(d, 'agent.log')].map((p) => readFileSync(p, 'utf8')).join('');
    expect(all).toBe(lines.join(''));
  });

  it('keeps --log-rotate-max-files rotated files, the newest', () => {
    const d = tmp();
    const f = new RotatingFile(join(d, 'agent.log'), { rotateBytes: 60, maxFiles: 2 });
    for (let i = 0; i < 10; i++) f.write(`line ${i} ${'y'.repeat(20)}\n`); // 28 bytes: 2 a file
    const kept = f.rotatedFiles();
    expect(kept).toHaveLength(2);
    expect(kept.map((p) => readFileSync(p, 'utf8')).join('')).toBe(`line 4 ${'y'.repeat(20)}\nline 5 ${'y'.repeat(20)}\nline 6 ${'y'.repeat(20)}\nline 7 ${'y'.repeat(20)}\n`);
    expect(readFileSync(join(d, 'agent.log'), 'utf8')).toBe(`line 8 ${'y'.repeat(20)}\nline 9 ${'y'.repeat(20)}\n`);
    f.close();
  });

  it('a restarted agent appends to its file and counts what it already holds', () => {
    const d = tmp();
    const p = join(d, 'agent.log');
    writeFileSync(p, 'z'.repeat(90));
    const f = new RotatingFile(p, { rotateBytes: 100, maxFiles: 0 });
    f.write('0123456789abc\n');
    f.close();
    expect(readFileSync(p, 'utf8')).toBe('0123456789abc\n');
    expect(readdirSync(d)).toHaveLength(2);
  });

  it('--log-file, --log-format text, --log-rotate-bytes, --log-rotate-max-files reach the logger; lines go to stdout and the file', async () => {
    const d = tmp();
    const c = await agentConfig({ name: 'n1', logFile: join(d, 'a.log'), logFormat: 'text', logRotateBytes: '200', logRotateMaxFiles: '1' }, {});
    expect(c).toMatchObject({ logFormat: 'text', logRotateBytes: 200, logRotateMaxFiles: 1 });
    const out: string[] = [];
    const { log, close } = agentLogger(c, { write: (s: string) => out.push(s) });
    for (let i = 0; i < 10; i++) log.info({ i }, 'agent started');
    close();
    expect(out).toHaveLength(10);
    expect(out[0]).toMatch(SERF_LINE);
    expect(readdirSync(d).sort()).toHaveLength(2); // a.log and one rotated file
    expect(readFileSync(join(d, 'a.log'), 'utf8')).toBe(out.slice(-(readFileSync(join(d, 'a.log'), 'utf8').split('\n').length - 1)).join(''));
    // Not a terminal and no --log-format: JSON, as before.
    const json: string[] = [];
    agentLogger({ ...c, logFormat: undefined }, { write: (s: string) => json.push(s), isTTY: false }).log.info('x');
    expect(JSON.parse(json[0] ?? '')).toMatchObject({ msg: 'x', node: 'n1' });
    const tty: string[] = [];
    agentLogger({ ...c, logFile: undefined, logFormat: undefined }, { write: (s: string) => tty.push(s), isTTY: true }).log.info('y');
    expect(tty[0]).toMatch(SERF_LINE);
  });

  it('a log file that cannot be opened, or a bad --log-format, exits 2 before the agent starts', async () => {
    const io = capture();
    expect(await main(['agent', '--name', 'x', '--http', '127.0.0.1:1', '--log-file', join(tmp(), 'no', 'such', 'dir', 'a.log')], io)).toBe(2);
    expect(io.stderr.join('\n')).toMatch(/error: log file .*a\.log: ENOENT/);
    expect(await main(['agent', '--name', 'x', '--log-format', 'xml'], capture())).toBe(2);
    expect(await main(['agent', '--name', 'x', '--log-rotate-bytes', '-5'], capture())).toBe(2);
  });
});

describe('text log lines of several lines', () => {
  it('a field of several lines (a handler\'s output, its stderr) follows the line as an indented block', () => {
    const time = new Date(2026, 11, 6, 4, 20, 0).getTime();
    expect(formatTextLine(JSON.stringify({ level: 20, time, msg: 'event handler output', event: 'user', output: 'line one\nline two', ms: 3 })))
      .toBe('2026/12/06 04:20:00 [DEBUG] agent: event handler output event=user ms=3\n    output: line one\n    output: line two\n');
  });
});

describe("the agent's own logger", () => {
  it("writes pino's JSON line for the same call (level, time, bindings, fields, msg; errors as pino's serializer), and nothing below its level", () => {
    const ours: string[] = [];
    const theirs: string[] = [];
    const log = createLog({ level: 'debug', bindings: { node: 'n1' }, dest: { write: (l: string) => ours.push(l) } });
    const ref = pino({ level: 'debug', base: { node: 'n1' } }, { write: (l: string) => theirs.push(l) });
    const err = Object.assign(new TypeError('disk full'), { code: 'ENOSPC' });
    for (const l of [log, ref] as AgentLog[]) {
      l.info({ member: 'b', addr: '10.0.0.2:7946' }, 'member joined');
      l.warn('a plain message');
      l.error({ err, tried: ['x:1', 'y:2'] }, 'cannot save');
      l.debug({ n: 1, nested: { a: [1, null] } }, 'debug line');
      l.trace('below the level');
    }
    expect(ours).toHaveLength(4);
    const strip = (line: string): unknown => {
      const o = JSON.parse(line) as Record<string, unknown>;
      expect(typeof o.time).toBe('number');
      delete o.time;
      return o;
    };
    expect(ours.map(strip)).toEqual(theirs.map(strip));
    expect(ours.every((l) => l.endsWith('}\n') && !l.slice(0, -1).includes('\n'))).toBe(true);
    const silent: string[] = [];
    createLog({ level: 'silent', dest: { write: (l: string) => silent.push(l) } }).fatal('x');
    expect(silent).toEqual([]);
  });
});

