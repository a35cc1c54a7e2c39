import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { SELF_REFUTED_MSG, SUSPECT_RAISED_MSG } from '../agent/suspicion-log.js';
import { AgentStream } from './agent-stream.js';
import type { StreamEvent } from './agent-stream.js';
import type { Arrival, BenchNode, MemberStatus } from './bench-node.js';
import { loopback, sleep, startWithFreshPorts } from './bench-node.js';
import type { Launcher } from './launcher.js';
import { isRunning } from './launcher.js';
import { freePort } from './ports.js';

/** How to start `gossip`: the node binary, its flags (tsx when running from source) and the CLI entry. */
export interface GossipCommand {
  readonly node: string;
  readonly args: readonly string[];
  /** True when the agents run from TypeScript source under tsx (slower start, more memory than dist). */
  readonly fromSource: boolean;
}

/**
 * Our CLI, found relative to this module: `dist/cli/main.js` beside a built `dist/clusterbench`,
 * or `src/cli/main.ts` under tsx when the bench itself runs from source (tests, `npx tsx`).
 */
export function gossipCommand(): GossipCommand {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    const tsx = pathToFileURL(createRequire(here).resolve('tsx')).href;
    return { node: process.execPath, args: ['--import', tsx, fileURLToPath(new URL('../cli/main.ts', here))], fromSource: true };
  }
  return { node: process.execPath, args: [fileURLToPath(new URL('../cli/main.js', here))], fromSource: false };
}

export interface OurNodeOptions {
  readonly name: string;
  readonly dir: string;
  readonly logFile: string;
  readonly profile: string;
  readonly encrypt: string | null;
  readonly config: string | null;
  readonly extraArgs: readonly string[];
  readonly readyTimeoutMs: number;
}

/** One `gossip agent` process, driven over its HTTP API. */
export class OurNode implements BenchNode {
  readonly side = 'ours' as const;
  gossipPort = 0;
  httpPort = 0;
  proc: ChildProcess | null = null;
  private args: string[] = [];
  private stream: AgentStream | null = null;
  private readonly events: Arrival[] = [];
  private readonly kvs: Arrival[] = [];

  constructor(private readonly launcher: Launcher, private readonly cmd: GossipCommand, private readonly o: OurNodeOptions) {}

  get name(): string {
    return this.o.name;
  }

  get pid(): number | null {
    return this.proc?.pid ?? null;
  }

  get httpAddr(): string {
    return loopback(this.httpPort);
  }

  async start(joinAddr: string | null): Promise<void> {
    await startWithFreshPorts(async () => {
      this.gossipPort = await freePort();
      this.httpPort = await freePort();
      const dataDir = join(this.o.dir, 'data');
      mkdirSync(dataDir, { recursive: true });
      this.args = [...this.cmd.args, 'agent', '--name', this.o.name, '--bind', loopback(this.gossipPort), '--http', this.httpAddr,
        '--data-dir', dataDir, '--profile', this.o.profile];
      if (this.o.encrypt !== null) this.args.push('--encrypt', this.o.encrypt);
      if (this.o.config !== null) this.args.push('--config', this.o.config);
      if (joinAddr !== null) this.args.push('--join', joinAddr);
      this.args.push(...this.o.extraArgs);
      await this.launch();
    });
  }

  private async launch(): Promise<void> {
    const p = this.launcher.spawn(this.cmd.node, this.args, this.o.logFile);
    this.proc = p;
    const until = Date.now() + this.o.readyTimeoutMs;
    for (;;) {
      if (!isRunning(p)) throw new Error(`agent ${this.o.name} exited (${p.exitCode ?? p.signalCode}): ${tail(this.o.logFile)}`);
      try {
        await this.members();
        return;
      } catch {
        if (Date.now() > until) throw new Error(`agent ${this.o.name} did not answer on ${this.httpAddr} within ${this.o.readyTimeoutMs} ms`);
        await sleep(100);
      }
    }
  }

  async kill(): Promise<void> {
    this.unwatch();
    if (this.proc !== null) await this.launcher.kill(this.proc);
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.launch();
  }

  private async call(method: string, path: string, body?: unknown, timeoutMs = 10_000): Promise<Response> {
    const res = await fetch(`http://${this.httpAddr}${path}`, {
      method, signal: AbortSignal.timeout(timeoutMs),
      ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });
    if (!res.ok) throw new Error(`${this.o.name} ${method} ${path}: HTTP ${res.status}: ${await res.text()}`);
    return res;
  }

  async members(): Promise<MemberStatus[]> {
    const list = (await (await this.call('GET', '/v1/members')).json()) as { name: string; status: string }[];
    return list.map((m) => ({ name: m.name, status: m.status }));
  }

  async join(addr: string): Promise<void> {
    await (await this.call('POST', '/v1/join', { addrs: [addr] }, 60_000)).text();
  }

  async sendEvent(payload: string): Promise<void> {
    await (await this.call('POST', '/v1/event', { name: 'bench', payload, coalesce: false })).text();
  }

  async put(key: string, value: string): Promise<void> {
    await (await this.call('PUT', `/v1/kv/${encodeURIComponent(key)}`, { value })).text();
  }

  async metrics(): Promise<string> {
    return (await this.call('GET', '/metrics')).text();
  }

  eventArrivals(): Arrival[] {
    return [...this.events];
  }

  /** Keys this node reported changed on its stream (every report). */
  kvArrivals(): Arrival[] {
    return [...this.kvs];
  }

  suspected(): Set<string> {
    let log = '';
    try {
      log = readFileSync(this.o.logFile, 'utf8');
    } catch {
      // no log yet
    }
    return suspectsInAgentLog(log, this.o.name);
  }

  async watch(): Promise<void> {
    if (this.stream?.isOpen === true) return;
    this.stream = await AgentStream.open(this.httpAddr, (e) => this.onStream(e));
  }

  private onStream(e: StreamEvent): void {
    const d = e.data as Record<string, unknown>;
    if (e.event === 'user-event' && d.name === 'bench' && typeof d.payload === 'string') this.events.push({ id: d.payload, atMs: e.atMs });
    else if (e.event === 'kv' && typeof d.key === 'string') this.kvs.push({ id: d.key, atMs: e.atMs });
  }

  unwatch(): void {
    this.stream?.close();
    this.stream = null;
  }

  close(): void {
    this.unwatch();
  }
}

/**
 * Names our agent's log says were suspected, read as serf's log is (`suspectsInSerfLog`): the
 * prober's line (`SUSPECT_RAISED_MSG`, memberlist's "Suspect X has failed") and the suspect's own
 * refutation (`SELF_REFUTED_MSG`). The agent's lines are JSON when its output is a file, as under the bench.
 */
export function suspectsInAgentLog(log: string, self: string): Set<string> {
  const out = new Set<string>();
  for (const line of log.split('\n')) {
    if (!line.includes(SUSPECT_RAISED_MSG) && !line.includes(SELF_REFUTED_MSG)) continue;
    let o: { msg?: unknown; member?: unknown };
    try {
      o = JSON.parse(line) as { msg?: unknown; member?: unknown };
    } catch {
      continue;
    }
    if (o.msg === SUSPECT_RAISED_MSG && typeof o.member === 'string') out.add(o.member);
    else if (o.msg === SELF_REFUTED_MSG) out.add(self);
  }
  return out;
}

/** The last lines of a log file (for an error message). */
export function tail(file: string, lines = 5): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
