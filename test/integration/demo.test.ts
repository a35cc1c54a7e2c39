import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { runDemo } from '../../src/cli/demo-cluster.js';
import { waitFor } from './wait.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const RUN_DEADLINE_MS = 90_000;

/** Processes whose command line mentions `text` (the demo's temp dir is in every agent's --data-dir). */
function processesMentioning(text: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmd.includes(text)) found.push(`${pid}: ${cmd}`);
    } catch {
      // exited while we looked
    }
  }
  return found;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface Run {
  readonly child: ChildProcess;
  out: string;
  readonly exit: Promise<number | null>;
}

function startDemo(args: readonly string[]): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'demo', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const run: Run = { child, out: '', exit: new Promise((resolve) => child.once('exit', (code) => resolve(code))) };
  child.stdout.setEncoding('utf8').on('data', (s: string) => (run.out += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (run.out += s));
  return run;
}

/** The temp dir and the agents' pids the demo printed. */
function printed(out: string): { dir: string; pids: number[] } {
  const dir = /data in (\S+)/.exec(out)?.[1] ?? '';
  const pids = (/\(pids ([\d ]+)\)/.exec(out)?.[1] ?? '').split(' ').filter((s) => s !== '').map(Number);
  return { dir, pids };
}

let current: Run | undefined;
afterEach(() => {
  if (current !== undefined && current.child.exitCode === null) current.child.kill('SIGKILL');
  current = undefined;
});

describe('gossip demo', () => {
  it('runs a 3-node cluster, reports each convergence, kills and restarts a node, and leaves nothing behind', async () => {
    const run = (current = startDemo(['--nodes', '3', '--duration', '10s', '--step-deadline', '20s']));
    const code = await Promise.race([run.exit, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), RUN_DEADLINE_MS))]);
    expect(code, run.out).toBe(0);
    const { dir, pids } = printed(run.out);
    expect(dir).toMatch(/gossip-demo-/);
    expect(pids).toHaveLength(3);
    expect(run.out).toMatch(/^dashboard: http:\/\/127\.0\.0\.1:\d+\/$/m);
    expect(run.out).toMatch(/^cluster formed: every node lists all 3 alive, [\d.]+ m?s after the first agent was launched$/m);
    expect(run.out).toMatch(/^wrote demo\/key-1 at node2 \(durable after [\d.]+ m?s\): on every node after [\d.]+ m?s$/m);
    expect(run.out).toMatch(/^event demo-event-1 from node3: seen by every node after [\d.]+ m?s$/m);
    expect(run.out).toMatch(/^node3 killed \(SIGKILL\): failed on every other node after [\d.]+ m?s$/m);
    expect(run.out).toMatch(/^node3 restarted on 127\.0\.0\.1:\d+ \(same name and data\): alive on every node after [\d.]+ m?s$/m);
    expect(run.out).toMatch(/^node3 kept demo\/key-4, acknowledged before the crash$/m);
    expect(run.out).toContain(`stopped; removed ${dir}`);
    expect(existsSync(dir)).toBe(false);
    expect(processesMentioning(dir)).toEqual([]);
    expect(pids.filter(alive)).toEqual([]);
  });

  it('says which agent failed to start and why, and still removes its temp dir', async () => {
    const out: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => out.push(l), progress: false };
    const notAnAgent = [process.execPath, '-e', "console.error('no agent here'); process.exit(3)", '--'];
    await expect(runDemo({ nodes: 2, durationMs: 1000, http: '127.0.0.1:0', stepDeadlineMs: 1000, writeIntervalMs: 500, cli: notAnAgent }, io, new AbortController().signal))
      .rejects.toThrow(/node1 exited \(code 3\) before it started:\s+no agent here/);
    const { dir } = printed(out.join('\n'));
    expect(dir).toMatch(/gossip-demo-/);
    expect(out).toContain(`stopped; removed ${dir}`);
    expect(existsSync(dir)).toBe(false);
  });

  it('stops every agent and removes its temp dir on SIGINT (Ctrl-C), also when a second Ctrl-C comes while they stop', async () => {
    const run = (current = startDemo(['--nodes', '3', '--duration', '0', '--step-deadline', '20s']));
    await waitFor('the demo to start its agents', RUN_DEADLINE_MS, () => /\(pids [\d ]+\)/.test(run.out), () => run.out);
    const { dir, pids } = printed(run.out);
    expect(processesMentioning(dir)).toHaveLength(3);
    run.child.kill('SIGINT');
    await waitFor('the demo to start stopping', RUN_DEADLINE_MS, () => run.out.includes('stopping 3 agents'), () => run.out);
    run.child.kill('SIGINT');
    const code = await Promise.race([run.exit, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), RUN_DEADLINE_MS))]);
    expect(code, run.out).toBe(0);
    expect(run.out).toContain('interrupted');
    expect(run.out).toContain(`stopped; removed ${dir}`);
    // Whether the second Ctrl-C found the agents still leaving (then they were killed) or already gone,
    // the demo exited normally after cleaning up (the checks below).
    expect(existsSync(dir)).toBe(false);
    expect(processesMentioning(dir)).toEqual([]);
    expect(pids.filter(alive)).toEqual([]);
  });
});
