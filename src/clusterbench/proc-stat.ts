import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { CpuReading } from './figures.js';

/**
 * What the kernel says a process costs: CPU ticks from /proc/PID/stat, resident memory from
 * /proc/PID/status, and how much of it is the process's own from /proc/PID/smaps_rollup. Read
 * from outside the process, the same way for every agent.
 */

/** User and system ticks from the text of /proc/PID/stat (fields 14 and 15; the name in parentheses may hold spaces). */
export function parseStat(text: string, atMs: number): CpuReading {
  const close = text.lastIndexOf(')');
  if (close < 0) throw new Error('/proc stat: no ")" after the command name');
  // After ") ": field 3 (state) is index 0, so field k is index k - 3.
  const f = text.slice(close + 2).trim().split(/\s+/);
  const utime = Number(f[14 - 3]);
  const stime = Number(f[15 - 3]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error('/proc stat: utime/stime are not numbers');
  return { utimeTicks: utime, stimeTicks: stime, atMs };
}

/** Resident set size in bytes from the text of /proc/PID/status (VmRSS, reported in kB); null for a zombie. */
export function parseRssBytes(text: string): number | null {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(text);
  return m === null ? null : Number(m[1]) * 1024;
}

/**
 * A process's share of memory from the text of /proc/PID/smaps_rollup (kB lines), or null when
 * a field is missing. RSS counts every page mapped, so the pages of the executable and its
 * libraries that N processes share are counted N times; `pssBytes` divides each shared page by
 * the processes mapping it (summed over all agents it is what they take together), and
 * `privateBytes` (Private_Clean + Private_Dirty) is what the process holds alone: what
 * stopping it would give back.
 */
export function parseSmapsRollup(text: string): { pssBytes: number; privateBytes: number } | null {
  const kb = (field: string): number | null => {
    const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, 'm').exec(text);
    return m === null ? null : Number(m[1]) * 1024;
  };
  const pss = kb('Pss'), clean = kb('Private_Clean'), dirty = kb('Private_Dirty');
  return pss === null || clean === null || dirty === null ? null : { pssBytes: pss, privateBytes: clean + dirty };
}

/** The current CPU reading of a process, or null when it is gone. */
export function readCpu(pid: number): CpuReading | null {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'), Date.now());
  } catch {
    return null;
  }
}

/** The current RSS of a process in bytes, or null when it is gone. */
export function readRss(pid: number): number | null {
  try {
    return parseRssBytes(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return null;
  }
}

/** The current PSS and private memory of a process (see `parseSmapsRollup`), or null when it is gone or the kernel has no smaps_rollup (before 4.14). */
export function readShare(pid: number): { pssBytes: number; privateBytes: number } | null {
  try {
    return parseSmapsRollup(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
  } catch {
    return null;
  }
}

let ticks: number | null = null;

/** The kernel's clock ticks per second (`getconf CLK_TCK`; 100 on every Linux we know of). */
export function ticksPerSecond(): number {
  if (ticks === null) {
    try {
      const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
      ticks = Number.isInteger(n) && n > 0 ? n : 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/** True when this machine has /proc (the bench needs it). */
export function procAvailable(): boolean {
  try {
    readFileSync('/proc/self/stat', 'utf8');
    return true;
  } catch {
    return false;
  }
}
