import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

/**
 * Every process the bench starts goes through one `Launcher`, which knows them by PID and
 * stops them all when the bench ends, whatever way it ends (normal end, error, Ctrl-C).
 */
export class Launcher {
  private readonly running = new Map<number, ChildProcess>();
  private readonly onExit = (): void => this.killAllNow();

  constructor() {
    process.on('exit', this.onExit);
  }

  /** Starts `cmd args`, its stdout and stderr appended to `logFile` (or discarded). */
  spawn(cmd: string, args: readonly string[], logFile: string | null, env?: NodeJS.ProcessEnv): ChildProcess {
    const fd = logFile === null ? 'ignore' : openSync(logFile, 'a');
    try {
      const p = spawn(cmd, [...args], { stdio: ['ignore', fd, fd], ...(env !== undefined ? { env } : {}) });
      this.track(p);
      return p;
    } finally {
      if (typeof fd === 'number') closeSync(fd);
    }
  }

  /** Adopts a process started elsewhere (tcpdump) so that it is stopped with the others. */
  track(p: ChildProcess): void {
    const pid = p.pid;
    if (pid === undefined) return;
    this.running.set(pid, p);
    p.once('exit', () => this.running.delete(pid));
  }

  get pids(): number[] {
    return [...this.running.keys()];
  }

  /** SIGKILL to one process by PID; resolves once it has exited. */
  async kill(p: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => p.once('exit', () => resolve()));
    p.kill(signal);
    const t = signal === 'SIGKILL' ? null : setTimeout(() => p.kill('SIGKILL'), 3000);
    await gone;
    if (t !== null) clearTimeout(t);
  }

  /** Stops every process still running (SIGKILL, each by its PID) and waits for them. */
  async killAll(): Promise<void> {
    await Promise.all([...this.running.values()].map((p) => this.kill(p)));
  }

  /** The synchronous last resort (process exit): SIGKILL to every PID still known. */
  killAllNow(): void {
    for (const pid of this.running.keys()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    this.running.clear();
  }

  dispose(): void {
    process.off('exit', this.onExit);
  }
}

/** True while a child has not exited. */
export function isRunning(p: ChildProcess): boolean {
  return p.exitCode === null && p.signalCode === null;
}
