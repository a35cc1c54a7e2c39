import { describe, expect, it } from 'vitest';
import { parseRssBytes, parseSmapsRollup, parseStat, readCpu, readRss, readShare } from '../../../src/clusterbench/proc-stat.js';

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
  it('reads PSS and private memory (clean + dirty) from smaps_rollup, not the shared pages; a missing field is null', () => {
    const text = [
      '00400000-7ffe164b6000 ---p 00000000 00:00 0                              [rollup]',
      'Rss:               66828 kB', 'Pss:               22268 kB', 'Pss_Dirty:         20480 kB',
      'Shared_Clean:      45276 kB', 'Shared_Dirty:          0 kB', 'Private_Clean:      1072 kB', 'Private_Dirty:     20480 kB', '',
    ].join('\n');
    expect(parseSmapsRollup(text)).toEqual({ pssBytes: 22268 * 1024, privateBytes: (1072 + 20480) * 1024 });
    expect(parseSmapsRollup(text.replace(/^Private_Clean.*$/m, ''))).toBeNull();
  });
  it('reads this process; a PID that does not exist is null', () => {
    expect(readCpu(process.pid)?.utimeTicks).toBeGreaterThanOrEqual(0);
    expect(readRss(process.pid)).toBeGreaterThan(0);
    const share = readShare(process.pid);
    if (share !== null) expect(share.privateBytes).toBeGreaterThan(0);
    expect(readCpu(2 ** 22 + 1)).toBeNull();
    expect(readShare(2 ** 22 + 1)).toBeNull();
  });
});
