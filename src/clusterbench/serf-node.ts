import type { ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Arrival, BenchNode, MemberStatus } from './bench-node.js';
import { loopback, sleep, startWithFreshPorts } from './bench-node.js';
import type { Launcher } from './launcher.js';
import { isRunning } from './launcher.js';
import { tail } from './our-node.js';
import { freePort } from './ports.js';
import { SerfRpc } from './serf-rpc.js';

/** Where Debian installs Serf. */
export const SERF_BIN = '/usr/bin/serf';

/** The serf binary (`GOSSIP_BENCH_SERF` overrides the path), or null when it is not installed. */
export function findSerf(env: Readonly<Record<string, string | undefined>> = process.env): string | null {
  const bin = env.GOSSIP_BENCH_SERF ?? SERF_BIN;
  return existsSync(bin) ? bin : null;
}

export interface SerfNodeOptions {
  readonly name: string;
  readonly dir: string;
  readonly logFile: string;
  readonly profile: string;
  readonly encrypt: string | null;
  /** Keep a snapshot (`-snapshot`) so that a restart rejoins (`-rejoin`), as our agent's data dir does. */
  readonly snapshot: boolean;
  readonly readyTimeoutMs: number;
}

/**
 * The event handler: one line per `bench` user event, the wall clock when the handler ran and the
 * payload. bash's $EPOCHREALTIME avoids forking `date` for the stamp.
 */
export function handlerScript(eventsFile: string): string {
  return `#!/bin/bash\nt=$EPOCHREALTIME\nIFS= read -r payload\nprintf '%s\\t%s\\n' "$t" "$payload" >> '${eventsFile}'\n`;
}

/** Handler lines → arrivals (ms). Lines that do not parse are skipped. */
export function parseHandlerLines(text: string): Arrival[] {
  const out: Arrival[] = [];
  for (const line of text.split('\n')) {
    const i = line.indexOf('\t');
    if (i <= 0) continue;
    const s = Number(line.slice(0, i).replace(',', '.'));
    if (!Number.isFinite(s)) continue;
    out.push({ id: line.slice(i + 1), atMs: s * 1000 });
  }
  return out;
}

/** Names a serf log says were suspected: the prober's "Suspect X has failed" and the suspect's own refutation. */
export function suspectsInSerfLog(log: string, self: string): Set<string> {
  const out = new Set<string>();
  for (const m of log.matchAll(/memberlist: Suspect (\S+) has failed, no acks received/g)) out.add(m[1] as string);
  if (/memberlist: Refuting a suspect message/.test(log)) out.add(self);
  return out;
}

/** How long a member poll waits for serf's answer before the connection is replaced. */
const MEMBERS_TIMEOUT_MS = 3000;

/** One `serf agent` process, driven over its RPC port. */
export class SerfNode implements BenchNode {
  readonly side = 'serf' as const;
  gossipPort = 0;
  rpcPort = 0;
  proc: ChildProcess | null = null;
  private args: string[] = [];
  private rpc: SerfRpc | null = null;
  private readonly eventsFile: string;
  private readonly script: string;

  constructor(private readonly launcher: Launcher, private readonly bin: string, private readonly o: SerfNodeOptions) {
    this.eventsFile = join(o.dir, 'events.tsv');
    this.script = join(o.dir, 'handler.sh');
    writeFileSync(this.eventsFile, '');
    writeFileSync(this.script, handlerScript(this.eventsFile));
    chmodSync(this.script, 0o755);
  }

  get name(): string {
    return this.o.name;
  }

  get pid(): number | null {
    return this.proc?.pid ?? null;
  }

  async start(joinAddr: string | null): Promise<void> {
    await startWithFreshPorts(async () => {
      this.gossipPort = await freePort();
      this.rpcPort = await freePort();
      this.args = ['agent', `-node=${this.o.name}`, `-bind=${loopback(this.gossipPort)}`, `-rpc-addr=${loopback(this.rpcPort)}`,
        `-profile=${this.o.profile}`, `-event-handler=user:bench=${this.script}`];
      if (this.o.encrypt !== null) this.args.push(`-encrypt=${this.o.encrypt}`);
      if (this.o.snapshot) this.args.push(`-snapshot=${join(this.o.dir, 'snapshot')}`, '-rejoin');
      if (joinAddr !== null) this.args.push(`-join=${joinAddr}`);
      await this.launch();
    });
  }

  private async launch(): Promise<void> {
    const p = this.launcher.spawn(this.bin, this.args, this.o.logFile);
    this.proc = p;
    const until = Date.now() + this.o.readyTimeoutMs;
    for (;;) {
      if (!isRunning(p)) throw new Error(`serf agent ${this.o.name} exited (${p.exitCode ?? p.signalCode}): ${tail(this.o.logFile)}`);
      try {
        this.rpc = await SerfRpc.connect(loopback(this.rpcPort));
        return;
      } catch {
        if (Date.now() > until) throw new Error(`serf agent ${this.o.name} did not answer RPC within ${this.o.readyTimeoutMs} ms`);
        await sleep(50);
      }
    }
  }

  async kill(): Promise<void> {
    this.rpc?.close();
    this.rpc = null;
    if (this.proc !== null) await this.launcher.kill(this.proc);
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.launch();
  }

  private client(): SerfRpc {
    if (this.rpc === null) throw new Error(`serf agent ${this.o.name} is not running`);
    return this.rpc;
  }

  /**
   * Asked on the connection kept open (a poll every 200 ms costs no connect); one that did not
   * answer within 3 s was closed and is replaced here. (In a 64-node run one agent's poll went
   * unanswered for 60 s while its log showed every member joined: the join read 64 s for a
   * cluster formed in 1.3 s.)
   */
  async members(): Promise<MemberStatus[]> {
    let c = this.client();
    if (c.isClosed && this.proc !== null && isRunning(this.proc)) {
      c = await SerfRpc.connect(loopback(this.rpcPort));
      this.rpc = c;
    }
    return c.members(MEMBERS_TIMEOUT_MS);
  }

  /** On a connection of its own: Serf answers one connection's requests in turn, and the join must not hold back the member polls. */
  async join(addr: string): Promise<void> {
    const c = await SerfRpc.connect(loopback(this.rpcPort));
    try {
      await c.join([addr]);
    } finally {
      c.close();
    }
  }

  sendEvent(payload: string): Promise<void> {
    return this.client().event('bench', payload, false);
  }

  eventArrivals(): Arrival[] {
    return parseHandlerLines(readFileSync(this.eventsFile, 'utf8'));
  }

  suspected(): Set<string> {
    let log = '';
    try {
      log = readFileSync(this.o.logFile, 'utf8');
    } catch {
      // no log yet
    }
    return suspectsInSerfLog(log, this.o.name);
  }

  watch(): Promise<void> {
    return Promise.resolve();
  }

  unwatch(): void {
    // serf's handler runs per event; nothing to close.
  }

  close(): void {
    this.rpc?.close();
    this.rpc = null;
  }
}
