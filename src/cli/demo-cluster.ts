import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentClient, ApiError } from './client.js';
import type { MemberJson } from '../agent/http-api.js';
import type { Io } from './io.js';

/**
 * `gossip demo`: a local cluster to watch. Starts N `gossip agent` processes on 127.0.0.1
 * (each with its own data directory in one temp dir), prints the dashboard URL, then writes
 * keys and sends events through the HTTP API, kills one node and restarts it, and prints how
 * long the cluster took to agree each time. Ctrl-C (SIGINT/SIGTERM) or the end of `--duration`
 * stops every process it started and removes the temp dir.
 */

export interface DemoOptions {
  readonly nodes: number;
  /** How long to run, ms; 0 = until Ctrl-C. */
  readonly durationMs: number;
  /** node1's HTTP API (the dashboard); port 0 = any free port. */
  readonly http: string;
  /** How long each step may take before the demo reports it as not converged, ms. */
  readonly stepDeadlineMs: number;
  /** Seconds between writes once the scripted steps are done. */
  readonly writeIntervalMs: number;
  /** The command that runs this CLI (default: this CLI's own entry point). */
  readonly cli?: readonly string[];
}

const AGENT_START_DEADLINE_MS = 60_000;
/** How long an agent may take to leave and exit after SIGTERM before it is killed. */
const AGENT_STOP_GRACE_MS = 5_000;
const POLL_MS = 50;
const TAIL_LINES = 20;

class Aborted extends Error {
  override name = 'Aborted';
}

/** The command that runs this CLI: the built `main.js` beside us, else `main.ts` through tsx. */
export function defaultCli(): string[] {
  const js = fileURLToPath(new URL('./main.js', import.meta.url));
  if (existsSync(js)) return [process.execPath, js];
  return [process.execPath, '--import', import.meta.resolve('tsx'), fileURLToPath(new URL('./main.ts', import.meta.url))];
}

function seconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Aborted());
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(new Aborted());
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Polls `cond` every POLL_MS; resolves with the ms it took, or null when `deadlineMs` passed. */
async function until(cond: () => Promise<boolean>, deadlineMs: number, signal: AbortSignal): Promise<number | null> {
  const start = performance.now();
  for (;;) {
    if (await cond()) return performance.now() - start;
    if (performance.now() - start > deadlineMs) return null;
    await sleep(POLL_MS, signal);
  }
}

/** One `gossip agent` child process (the demo's; the browser test starts real agents with it too). */
export class AgentProcess {
  gossip = '';
  http = '';
  api: AgentClient = new AgentClient({ http: '127.0.0.1:1' });
  /** User events this agent's stream reported, by name → when (performance.now()). */
  readonly eventsSeen = new Map<string, number>();
  private readonly tail: string[] = [];
  private readonly streamAbort = new AbortController();
  readonly exited: Promise<number | null>;

  private constructor(
    readonly name: string,
    readonly dataDir: string,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts `gossip agent` and resolves once it logged "agent started" (its gossip and HTTP addresses). */
  static async start(cli: readonly string[], name: string, dataDir: string, flags: readonly string[], live: Set<AgentProcess>): Promise<AgentProcess> {
    const [cmd, ...pre] = cli;
    if (cmd === undefined) throw new Error('demo: empty CLI command');
    // Its own process group: a terminal's Ctrl-C reaches the demo, which stops the agents in order.
    const child = spawn(cmd, [...pre, 'agent', '--name', name, '--data-dir', dataDir, '--profile', 'local', ...flags], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      env: { ...process.env, GOSSIP_LOG_LEVEL: 'info' },
    });
    const agent = new AgentProcess(name, dataDir, child);
    live.add(agent);
    void agent.exited.then(() => live.delete(agent));
    const started = new Promise<void>((resolve, reject) => {
      const onLine = (line: string): void => {
        agent.remember(line);
        let rec: unknown;
        try {
          rec = JSON.parse(line);
        } catch {
          return;
        }
        const r = rec as { msg?: unknown; gossip?: unknown; http?: unknown };
        if (r.msg === 'agent started' && typeof r.gossip === 'string' && typeof r.http === 'string') {
          agent.gossip = r.gossip;
          agent.http = r.http;
          agent.api = new AgentClient({ http: r.http });
          resolve();
        }
      };
      lines(child.stdout, onLine);
      lines(child.stderr, (l) => agent.remember(l));
      child.once('error', reject);
      void agent.exited.then((code) => reject(new Error(`${name} exited (code ${code ?? 'signal'}) before it started:\n    ${agent.tail.join('\n    ')}`)));
      setTimeout(() => reject(new Error(`${name} did not start within ${AGENT_START_DEADLINE_MS / 1000} s:\n    ${agent.tail.join('\n    ')}`)), AGENT_START_DEADLINE_MS).unref();
    });
    await started;
    agent.watchStream();
    return agent;
  }

  async members(): Promise<MemberJson[]> {
    return await this.api.call<MemberJson[]>('GET', '/v1/members');
  }

  kill(): void {
    this.streamAbort.abort();
    if (this.running) this.child.kill('SIGKILL');
  }

  /**
   * SIGTERM (the agent leaves the cluster), then SIGKILL if it has not exited within the grace
   * period or as soon as `hurry` aborts (a second Ctrl-C).
   */
  async stop(hurry?: AbortSignal): Promise<void> {
    this.streamAbort.abort();
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const kill = (): void => {
      if (this.running) this.child.kill('SIGKILL');
    };
    const timer = setTimeout(kill, AGENT_STOP_GRACE_MS);
    if (hurry?.aborted === true) kill();
    hurry?.addEventListener('abort', kill, { once: true });
    await this.exited;
    clearTimeout(timer);
    hurry?.removeEventListener('abort', kill);
  }

  private remember(line: string): void {
    this.tail.push(line);
    if (this.tail.length > TAIL_LINES) this.tail.shift();
  }

  /** Follows `/v1/stream` and records when each user event arrived. */
  private watchStream(): void {
    void (async () => {
      try {
        const res = await fetch(`${this.api.base}/v1/stream`, { signal: this.streamAbort.signal });
        if (res.body === null) return;
        let buf = '';
        const decoder = new TextDecoder();
        for await (const chunk of res.body) {
          buf += decoder.decode(chunk, { stream: true });
          let end: number;
          while ((end = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, end);
            buf = buf.slice(end + 2);
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (event !== 'user-event' || data === undefined) continue;
            const name = (JSON.parse(data) as { name?: unknown }).name;
            if (typeof name === 'string' && !this.eventsSeen.has(name)) this.eventsSeen.set(name, performance.now());
          }
        }
      } catch {
        // the stream ends when the agent stops or is killed
      }
    })();
  }
}

function lines(stream: NodeJS.ReadableStream | null, onLine: (l: string) => void): void {
  if (stream === null) return;
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buf += chunk;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
}

/**
 * Runs the demo until `durationMs` passes or `signal` aborts; every process and the temp dir are
 * gone when it resolves. `hurry` aborting while it stops kills the agents at once (SIGKILL).
 */
export async function runDemo(o: DemoOptions, io: Io, signal: AbortSignal, hurry?: AbortSignal): Promise<void> {
  const cli = o.cli ?? defaultCli();
  const dir = mkdtempSync(join(tmpdir(), 'gossip-demo-'));
  const live = new Set<AgentProcess>();
  // Last resort if the demo itself dies without cleaning up: kill what is left, remove the dir.
  const onExit = (): void => {
    for (const a of live) a.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  const startedAt = performance.now();
  const agents: AgentProcess[] = [];
  try {
    io.out(`gossip demo: ${o.nodes} agents on 127.0.0.1, data in ${dir}`);
    await script(o, io, signal, cli, dir, live, agents, startedAt);
  } catch (e) {
    if (!(e instanceof Aborted)) throw e;
    io.out('interrupted');
  } finally {
    const n = live.size;
    io.out(`stopping ${n} agent${n === 1 ? '' : 's'}…`);
    await Promise.all([...live].map((a) => a.stop(hurry)));
    rmSync(dir, { recursive: true, force: true });
    process.off('exit', onExit);
    io.out(`stopped; removed ${dir}`);
  }
}

async function script(o: DemoOptions, io: Io, signal: AbortSignal, cli: readonly string[], dir: string, live: Set<AgentProcess>, agents: AgentProcess[], startedAt: number): Promise<void> {
  const start = async (i: number, seeds: readonly string[], http: string): Promise<AgentProcess> => {
    const name = `node${i}`;
    const dataDir = join(dir, name);
    mkdirSync(dataDir, { recursive: true });
    const flags = ['--bind', '127.0.0.1:0', '--http', http, ...seeds.flatMap((s) => ['--join', s])];
    return await Promise.race([AgentProcess.start(cli, name, dataDir, flags, live), abortPromise(signal)]);
  };

  // 1. Start the cluster: node1 first (the dashboard), the others join it.
  let t = performance.now();
  const first = await start(1, [], o.http);
  agents.push(first);
  io.out(`dashboard: http://${first.http}/`);
  const rest = await Promise.all(Array.from({ length: o.nodes - 1 }, (_, k) => start(k + 2, [first.gossip], '127.0.0.1:0')));
  agents.push(...rest);
  io.out(`started ${o.nodes} agents in ${seconds(performance.now() - t)} (pids ${agents.map((a) => a.pid).join(' ')})`);
  const formed = await until(() => everyoneSees(agents, agents.map((a) => a.name), 'alive'), o.stepDeadlineMs, signal);
  io.out(formed === null
    ? `cluster did not agree on ${o.nodes} alive members within ${seconds(o.stepDeadlineMs)}`
    : `cluster formed: every node lists all ${o.nodes} alive, ${seconds(performance.now() - t)} after the first agent was launched`);

  const conv = await first.api.call<{ source?: string }>('GET', '/v1/convergence').catch(() => ({ source: undefined }));
  const replicated = conv.source !== 'local';
  if (!replicated) io.out('note: this agent build serves each node\'s own key-value state (source "local"): writes are durable but not replicated, so key convergence is not measured');

  let writes = 0;
  const writeAndMeasure = async (at: AgentProcess): Promise<void> => {
    writes++;
    const key = `demo/key-${writes}`;
    const value = { n: writes, by: at.name };
    t = performance.now();
    await at.api.call('PUT', `/v1/kv/${key}`, { value });
    const acked = performance.now() - t;
    if (!replicated) {
      io.out(`wrote ${key} at ${at.name}: durable after ${seconds(acked)}`);
      return;
    }
    const everywhere = await until(() => everyoneHas(agents, key, value), o.stepDeadlineMs, signal);
    io.out(everywhere === null
      ? `wrote ${key} at ${at.name} (durable after ${seconds(acked)}): not on every node within ${seconds(o.stepDeadlineMs)}`
      : `wrote ${key} at ${at.name} (durable after ${seconds(acked)}): on every node after ${seconds(acked + everywhere)}`);
  };
  let events = 0;
  const sendAndMeasure = async (at: AgentProcess): Promise<void> => {
    events++;
    const name = `demo-event-${events}`;
    const sent = performance.now();
    await at.api.call('POST', '/v1/event', { name, payload: `hello from ${at.name}` });
    const all = await until(async () => Promise.resolve(agents.every((a) => a.eventsSeen.has(name))), o.stepDeadlineMs, signal);
    const last = Math.max(...agents.map((a) => a.eventsSeen.get(name) ?? Infinity));
    io.out(all === null
      ? `event ${name} from ${at.name}: seen by ${agents.filter((a) => a.eventsSeen.has(name)).length} of ${agents.length} nodes within ${seconds(o.stepDeadlineMs)}`
      : `event ${name} from ${at.name}: seen by every node after ${seconds(last - sent)}`);
  };

  // 2. Keys and events through the HTTP API.
  for (let i = 0; i < Math.min(3, agents.length); i++) await writeAndMeasure(agents[(i + 1) % agents.length] ?? first);
  await sendAndMeasure(agents[agents.length - 1] ?? first);

  // 3. Kill one node (SIGKILL: a crash), then restart it with the same name and data directory on a new port.
  const victimIndex = agents.length - 1;
  const victim = agents[victimIndex];
  if (victim !== undefined && victim !== first) {
    await writeAndMeasure(victim);
    const ownKey = `demo/key-${writes}`;
    victim.kill();
    await victim.exited;
    const others = agents.filter((a) => a !== victim);
    t = performance.now();
    const failed = await until(() => everyoneSees(others, [victim.name], 'failed'), o.stepDeadlineMs, signal);
    io.out(failed === null
      ? `${victim.name} killed (SIGKILL): not marked failed everywhere within ${seconds(o.stepDeadlineMs)}`
      : `${victim.name} killed (SIGKILL): failed on every other node after ${seconds(failed)}`);
    t = performance.now();
    const back = await start(victimIndex + 1, [first.gossip], '127.0.0.1:0');
    agents[victimIndex] = back;
    const alive = await until(() => everyoneSees(agents, agents.map((a) => a.name), 'alive', back), o.stepDeadlineMs, signal);
    io.out(alive === null
      ? `${back.name} restarted on ${back.gossip}: not alive everywhere within ${seconds(o.stepDeadlineMs)}`
      : `${back.name} restarted on ${back.gossip} (same name and data): alive on every node after ${seconds(performance.now() - t)}`);
    const kept = await back.api.call<unknown>('GET', `/v1/kv/${ownKey}`).then(() => true, (e: unknown) => {
      if (e instanceof ApiError && e.status === 404) return false;
      throw e;
    });
    io.out(`${back.name} ${kept ? 'kept' : 'LOST'} ${ownKey}, acknowledged before the crash`);
  }

  // 4. Keep writing and sending until the duration is over (or Ctrl-C).
  for (let round = 0; o.durationMs === 0 || performance.now() - startedAt < o.durationMs; round++) {
    await sleep(o.writeIntervalMs, signal);
    if (o.durationMs !== 0 && performance.now() - startedAt >= o.durationMs) break;
    const at = agents[round % agents.length] ?? first;
    await writeAndMeasure(at);
    if (round % 2 === 1) await sendAndMeasure(at);
  }
  io.out(`demo done after ${seconds(performance.now() - startedAt)}`);
}

function abortPromise(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(new Aborted());
    signal.addEventListener('abort', () => reject(new Aborted()), { once: true });
  });
}

/** Every agent lists each of `names` with `status` (and, when given, `at` under its current address). */
async function everyoneSees(agents: readonly AgentProcess[], names: readonly string[], status: string, at?: AgentProcess): Promise<boolean> {
  try {
    const lists = await Promise.all(agents.map((a) => a.members()));
    return lists.every((list) => names.every((n) => list.some((m) => m.name === n && m.status === status && (at === undefined || m.name !== at.name || `${m.addr}:${m.port}` === at.gossip))));
  } catch {
    return false;
  }
}

/** Every agent reads `key` as `value` (one value, no siblings). */
async function everyoneHas(agents: readonly AgentProcess[], key: string, value: unknown): Promise<boolean> {
  const want = JSON.stringify(value);
  try {
    const reads = await Promise.all(agents.map((a) => a.api.call<{ values?: unknown[] }>('GET', `/v1/kv/${key}`)));
    return reads.every((r) => r.values?.length === 1 && JSON.stringify(r.values[0]) === want);
  } catch {
    return false;
  }
}
