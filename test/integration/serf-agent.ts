import { execFile, execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../src/clusterbench/ports.js';
import { waitFor } from './wait.js';
import { externalOrSkip } from '../external.js';

const run = promisify(execFile);

/** Every agent still running: killed when the test process exits, whatever happened to the suite. */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});
export const SERF = '/usr/bin/serf';

/**
 * Makes sure Debian's `serf` is installed: present → true; missing and root → apt-get install
 * (after apt-get update); otherwise false, and the caller skips loudly. Suites collect in
 * parallel workers, so one installs (holding a lock directory) while the others wait for it.
 */
export function ensureSerf(): boolean {
  if (existsSync(SERF)) return true;
  if (process.getuid?.() !== 0) return false;
  const lock = join(tmpdir(), 'gossip-coordinator-serf-install.lock');
  try {
    mkdirSync(lock);
  } catch {
    // another worker is installing: wait for it (at most 5 minutes)
    const until = Date.now() + 300_000;
    while (existsSync(lock) && !existsSync(SERF) && Date.now() < until) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
    return existsSync(SERF);
  }
  try {
    console.warn('serf is missing: installing it with apt-get (integration tests need a real Serf agent)');
    execFileSync('apt-get', ['update'], { stdio: 'inherit', timeout: 300_000 });
    execFileSync('apt-get', ['install', '-y', 'serf'], { stdio: 'inherit', timeout: 300_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } catch (e) {
    console.warn(`apt-get install serf failed: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    rmdirSync(lock);
  }
  return existsSync(SERF);
}

/** True when `suite` can run; a loud warning when it cannot, a failure under REQUIRE_EXTERNAL=1. */
export function serfOrWarn(suite: string): boolean {
  return externalOrSkip(`integration suite ${suite}`, SERF, ensureSerf(), 'run as root, or apt-get install serf');
}

/** A port free for both TCP and UDP on `host`, below the kernel's client-port range (serf binds both on one port). */
export { freePort };

export interface SerfMember {
  readonly name: string;
  readonly addr: string;
  readonly port: number;
  readonly tags: Record<string, string>;
  readonly status: string;
  readonly protocol: { readonly min: number; readonly max: number; readonly version: number };
}

export interface AgentOptions {
  readonly name: string;
  readonly join?: readonly string[];
  readonly encrypt?: string;
  readonly tags?: Readonly<Record<string, string>>;
  /** Record every event the agent's handler sees (user events and queries) into `events()`. */
  readonly handler?: boolean;
  readonly profile?: 'lan' | 'wan' | 'local';
  /** Gossip on this loopback address (RPC stays on 127.0.0.1). Default 127.0.0.1. */
  readonly host?: '127.0.0.1' | '::1';
  /** More `-event-handler=[FILTER=]SCRIPT` flags (e.g. a query handler whose stdout is the answer). */
  readonly eventHandlers?: readonly string[];
}

/** A running `serf agent` on 127.0.0.1 with its own gossip and RPC ports, its log kept in memory. */
export class SerfAgent {
  private logText = '';
  private exited = false;

  private constructor(
    readonly name: string,
    readonly host: string,
    readonly port: number,
    readonly rpcPort: number,
    private readonly proc: ChildProcess,
    private readonly eventFile: string | null,
  ) {
    proc.stdout?.on('data', (d: Buffer) => (this.logText += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (this.logText += d.toString()));
    proc.on('exit', () => (this.exited = true));
  }

  get addr(): string {
    return this.host.includes(':') ? `[${this.host}]:${this.port}` : `${this.host}:${this.port}`;
  }

  get rpcAddr(): string {
    return `127.0.0.1:${this.rpcPort}`;
  }

  get log(): string {
    return this.logText;
  }

  /**
   * Starts an agent and waits until its RPC answers. A port probed free can be taken by
   * another process before serf binds it: then the start is retried on new ports.
   */
  static async start(o: AgentOptions): Promise<SerfAgent> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await SerfAgent.startOnce(o);
      } catch (e) {
        if (attempt >= 3 || !/address already in use/i.test(String(e))) throw e;
      }
    }
  }

  private static async startOnce(o: AgentOptions): Promise<SerfAgent> {
    const host = o.host ?? '127.0.0.1';
    const port = await freePort(host);
    const rpcPort = await freePort();
    const args = ['agent', `-node=${o.name}`, `-bind=${host.includes(':') ? `[${host}]` : host}:${port}`, `-rpc-addr=127.0.0.1:${rpcPort}`, '-log-level=debug', `-profile=${o.profile ?? 'lan'}`];
    for (const j of o.join ?? []) args.push(`-join=${j}`);
    if (o.encrypt !== undefined) args.push(`-encrypt=${o.encrypt}`);
    for (const [k, v] of Object.entries(o.tags ?? {})) args.push('-tag', `${k}=${v}`);
    let eventFile: string | null = null;
    if (o.handler === true) {
      const dir = mkdtempSync(join(tmpdir(), `serf-${o.name}-`));
      eventFile = join(dir, 'events.log');
      writeFileSync(eventFile, '');
      const script = join(dir, 'handler.sh');
      // One line per handler run: event type, user event name or query name, its LTime, the payload.
      writeFileSync(script, `#!/bin/sh\npayload=$(cat)\nprintf '%s\\t%s\\t%s\\t%s\\n' "$SERF_EVENT" "$SERF_USER_EVENT$SERF_QUERY_NAME" "$SERF_USER_LTIME$SERF_QUERY_LTIME" "$payload" >> ${eventFile}\n`);
      chmodSync(script, 0o755);
      args.push(`-event-handler=user=${script}`);
    }
    for (const h of o.eventHandlers ?? []) args.push(`-event-handler=${h}`);
    const proc = spawn(SERF, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(proc);
    proc.on('exit', () => running.delete(proc));
    const agent = new SerfAgent(o.name, host, port, rpcPort, proc, eventFile);
    try {
      await waitFor(`serf agent ${o.name} to answer RPC`, 10_000, async () => {
        if (agent.exited) throw new Error(`serf agent ${o.name} exited:\n${agent.log}`);
        try {
          await agent.members();
          return true;
        } catch {
          return false;
        }
      });
    } catch (e) {
      proc.kill('SIGKILL');
      throw e;
    }
    return agent;
  }

  /** Runs a serf CLI command against this agent's RPC address; returns stdout. */
  async cli(...args: string[]): Promise<string> {
    const [cmd, ...rest] = args;
    const { stdout } = await run(SERF, [cmd as string, `-rpc-addr=${this.rpcAddr}`, ...rest], { timeout: 15_000 });
    return stdout;
  }

  async members(): Promise<SerfMember[]> {
    const out = await this.cli('members', '-format=json');
    return (JSON.parse(out) as { members: SerfMember[] }).members;
  }

  async status(name: string): Promise<string> {
    return (await this.members()).find((m) => m.name === name)?.status ?? 'absent';
  }

  /** Lines the event handler appended: `[type, name, ltime, payload]`. */
  events(): string[][] {
    if (this.eventFile === null) throw new Error(`agent ${this.name} runs without a handler`);
    return readFileSync(this.eventFile, 'utf8').split('\n').filter((l) => l.length > 0).map((l) => l.split('\t'));
  }

  /** SIGTERM, then SIGKILL if it lingers. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
    await gone;
    clearTimeout(t);
  }
}

/** Lines of a serf log that point at a message serf did not understand or could not decode. */
export function wireComplaints(log: string): string[] {
  return log.split('\n').filter((l) =>
    /unknown message|unknown|failed to decode|failed to handle|corrupt|unsupported|bad type prefix|incompatible|checksum|Conflicting address/i.test(l) &&
    /\[(WARN|ERR)\]/.test(l));
}
