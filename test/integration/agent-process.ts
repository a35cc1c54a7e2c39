/**
 * Real agent processes for integration tests: `gossip agent` through tsx on loopback ports below
 * 32768, their log lines, `/metrics` parsed, RSS from /proc, and PUT streams that record what
 * was acknowledged and what was refused.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { MemberJson } from '../../src/agent/http-api.js';
import { freePort } from '../../src/clusterbench/ports.js';
import { waitFor } from './wait.js';

export interface AgentProcess {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly http: string;
  readonly gossip: string;
  readonly incarnation: number;
  /** Every line it wrote to stdout (its JSON log), and their bytes. */
  readonly log: string[];
  readonly logBytes: { n: number };
}

const children = new Set<ChildProcess>();

/** SIGKILLs every agent still running (afterAll). */
export function killAll(): void {
  for (const c of children) c.kill('SIGKILL');
}

function spawnAgent(name: string, args: readonly string[]): { proc: ChildProcess; log: string[]; logBytes: { n: number }; err: () => string } {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'agent', '--name', name, ...args], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(proc);
  proc.on('exit', () => children.delete(proc));
  const log: string[] = [];
  const logBytes = { n: 0 };
  let buf = '';
  proc.stdout?.on('data', (d: Buffer) => {
    logBytes.n += d.length;
    buf += d.toString();
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    log.push(...lines);
  });
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  return { proc, log, logBytes, err: () => err };
}

/**
 * Starts an agent on `127.0.0.1:<bindPort>` (a fresh port below 32768 unless given; a node that
 * restarts keeps its port) and its HTTP API on another; resolves once it logged "agent started".
 */
export async function startAgent(name: string, args: readonly string[], o: { bindPort?: number; startMs?: number } = {}): Promise<AgentProcess> {
  const bind = o.bindPort ?? await freePort();
  const s = spawnAgent(name, ['--bind', `127.0.0.1:${bind}`, '--http', `127.0.0.1:${await freePort()}`, ...args]);
  let started: { http: string; gossip: string; incarnation: number } | undefined;
  await waitFor(`${name} to start`, o.startMs ?? 60_000, () => {
    if (s.proc.exitCode !== null) throw new Error(`${name} exited ${s.proc.exitCode}: ${s.err()}`);
    const line = s.log.find((l) => l.includes('"agent started"'));
    if (line !== undefined) started = JSON.parse(line) as typeof started;
    return started !== undefined;
  }, s.err);
  return { name, proc: s.proc, log: s.log, logBytes: s.logBytes, ...started! };
}

/** Runs an agent that is expected to refuse to start: its exit code and stderr (killed, and a failure, if it still runs after `deadlineMs`). */
export async function refusedStart(name: string, args: readonly string[], bindPort: number, deadlineMs = 60_000): Promise<{ code: number | null; err: string }> {
  const s = spawnAgent(name, ['--bind', `127.0.0.1:${bindPort}`, '--http', `127.0.0.1:${await freePort()}`, ...args]);
  const exited = new Promise<number | null>((r) => s.proc.once('exit', (c) => r(c)));
  const timer = setTimeout(() => s.proc.kill('SIGKILL'), deadlineMs);
  const code = await exited;
  clearTimeout(timer);
  if (s.log.some((l) => l.includes('"agent started"'))) throw new Error(`${name} started, but it was expected to refuse: ${s.log.join('\n')}`);
  return { code, err: s.err() };
}

export async function kill(a: AgentProcess): Promise<void> {
  if (a.proc.exitCode !== null || a.proc.signalCode !== null) return;
  const exited = new Promise((r) => a.proc.once('exit', r));
  a.proc.kill('SIGKILL');
  await exited;
}

export const portOf = (addr: string): number => Number(addr.slice(addr.lastIndexOf(':') + 1));

/** Resident set size of a process, bytes (Linux /proc). */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? 0 : Number(m[1]) * 1024;
}

/** `/metrics` as `name{labels}` → value (and each name alone → the sum over its labels). */
export async function metrics(a: AgentProcess): Promise<Map<string, number>> {
  const text = await (await fetch(`http://${a.http}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const sp = line.lastIndexOf(' ');
    const [series, value] = [line.slice(0, sp), Number(line.slice(sp + 1))];
    out.set(series, value);
    const name = series.includes('{') ? series.slice(0, series.indexOf('{')) : series;
    if (name !== series) out.set(name, (out.get(name) ?? 0) + value);
  }
  return out;
}

export async function members(a: AgentProcess): Promise<MemberJson[]> {
  return (await (await fetch(`http://${a.http}/v1/members`)).json()) as MemberJson[];
}

export async function statusOf(a: AgentProcess, name: string): Promise<string | undefined> {
  return (await members(a)).find((m) => m.name === name)?.status;
}

export async function put(a: AgentProcess, key: string, value: unknown): Promise<number> {
  const r = await fetch(`http://${a.http}/v1/kv/${key}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ value }) });
  await r.text();
  return r.status;
}

/** The key's values, or null when it reads as absent. */
export async function values(a: AgentProcess, key: string): Promise<unknown[] | null> {
  const r = await fetch(`http://${a.http}/v1/kv/${key}`);
  if (r.status !== 200) {
    await r.text();
    return null;
  }
  return ((await r.json()) as { values?: unknown[] }).values ?? null;
}

export async function keys(a: AgentProcess, prefix: string): Promise<Set<string>> {
  return new Set(((await (await fetch(`http://${a.http}/v1/kv?prefix=${prefix}`)).json()) as { keys: string[] }).keys);
}

/** PUTs until acknowledged: 503 (not writable yet) is retried; anything else fails. */
export async function putAcked(a: AgentProcess, key: string, value: unknown, deadlineMs = 60_000): Promise<void> {
  await waitFor(`${key} acknowledged by ${a.name}`, deadlineMs, async () => {
    const s = await put(a, key, value);
    if (s !== 200 && s !== 503) throw new Error(`PUT ${key} on ${a.name}: ${s}`);
    return s === 200;
  });
}

export interface PutOutcome {
  /** Acknowledged (200): key → value. */
  readonly acked: Map<string, string>;
  /** Refused with an answer (not 200): must never appear. */
  readonly refused: Set<string>;
  /** No answer (the agent died with the request in flight): either way. */
  readonly unanswered: Set<string>;
}

/**
 * PUTs `keyOf(i)` for i in [from, to), `inflight` at a time; `after` runs after each answer
 * (to kill the agent or fill its disk at some point) and may stop the stream by returning false.
 */
export async function putStream(a: AgentProcess, o: { keyOf: (i: number) => string; from?: number; to: number; inflight: number; out?: PutOutcome; after?: (out: PutOutcome) => boolean | void }): Promise<PutOutcome> {
  const out: PutOutcome = o.out ?? { acked: new Map(), refused: new Set(), unanswered: new Set() };
  let next = o.from ?? 0;
  let stopped = false;
  const worker = async (): Promise<void> => {
    while (next < o.to && !stopped) {
      const i = next++;
      const key = o.keyOf(i);
      const value = `v${i}`;
      try {
        const s = await put(a, key, value);
        if (s === 200) out.acked.set(key, value);
        else out.refused.add(key);
      } catch {
        out.unanswered.add(key);
      }
      if (o.after?.(out) === false) stopped = true;
    }
  };
  await Promise.all(Array.from({ length: o.inflight }, worker));
  return out;
}

/** Keys of `want` that `a` does not hold with the acknowledged value. */
export async function missing(a: AgentProcess, want: ReadonlyMap<string, string>): Promise<string[]> {
  const out: string[] = [];
  for (const [k, v] of want) if (JSON.stringify(await values(a, k)) !== JSON.stringify([v])) out.push(k);
  return out;
}
