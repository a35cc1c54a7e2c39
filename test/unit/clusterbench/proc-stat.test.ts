import { describe, expect, it } from 'vitest';
import { parseRssBytes, parseStat, readCpu, readRss } from '../../../src/clusterbench/proc-stat.js';

describe('/proc parsing', () => {
  it('reads utime and stime after a command name holding spaces and parentheses', () => {
    const r = parseStat('77 (we (ird) name) R 1 77 77 0 -1 0 0 0 0 0 1234 56 0 0 20 0 1 0 1 1 1', 5);
    expect(r).toEqual({ utimeTicks: 1234, stimeTicks: 56, atMs: 5 });
  });
  it('rejects text that is not a stat line', () => {
    expect(() => parseStat('garbage', 0)).toThrow(/\)/);
  });
  it('reads VmRSS in kB as bytes; none (a zombie) is null', () => {
    expect(parseRssBytes('Name:\tnode\nVmHWM:\t  120000 kB\nVmRSS:\t  117452 kB\nRssAnon:\t 80000 kB\n')).toBe(117452 * 1024);
    expect(parseRssBytes('Name:\tnode\nState:\tZ (zombie)\n')).toBeNull();
  });
  it('reads this process; a PID that does not exist is null', () => {
    expect(readCpu(process.pid)?.utimeTicks).toBeGreaterThanOrEqual(0);
    expect(readRss(process.pid)).toBeGreaterThan(0);
    expect(readCpu(2 ** 22 + 1)).toBeNull();
  });
});
