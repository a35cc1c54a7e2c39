import { closeSync, fstatSync, openSync, readdirSync, renameSync, unlinkSync, existsSync, writeSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';

export interface RotationOptions {
  /** A file reaching this many bytes is rotated before the line that would pass it (0: never). */
  readonly rotateBytes: number;
  /** Rotated files kept, newest first; older ones are deleted (0: all kept). */
  readonly maxFiles: number;
}

/**
 * A log file rotated by size, as Consul's `-log-file`: `agent.log` is the current file; when a
 * line would take it past `rotateBytes` it is renamed `agent-<epoch ms>.log` (so names sort
 * oldest first) and a new `agent.log` is started; beyond `maxFiles` rotated files the oldest go.
 * A line is never split: a single line longer than `rotateBytes` gets a file of its own.
 * Writes are synchronous (a line written is in the file when `write` returns).
 */
export class RotatingFile {
  private fd: number;
  private size: number;
  private readonly stem: string;
  private readonly ext: string;
  private readonly dir: string;
  /** The rotated files' names: `<stem>-<digits><ext>`. */
  private readonly rotated: RegExp;
  private lastStamp = 0;

  constructor(readonly path: string, private readonly o: RotationOptions) {
    this.dir = dirname(path);
    this.ext = extname(path);
    this.stem = basename(path, this.ext);
    const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    this.rotated = new RegExp(`^${esc(this.stem)}-(\\d+)${esc(this.ext)}$`);
    this.fd = openSync(path, 'a');
    this.size = fstatSync(this.fd).size;
  }

  write(line: string): void {
    const buf = Buffer.from(line, 'utf8');
    if (this.o.rotateBytes > 0 && this.size > 0 && this.size + buf.length > this.o.rotateBytes) this.rotate();
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd, buf, off);
    this.size += buf.length;
  }

  /** The rotated files, oldest first. */
  rotatedFiles(): string[] {
    return readdirSync(this.dir)
      .map((name) => ({ name, m: this.rotated.exec(name) }))
      .filter((x): x is { name: string; m: RegExpExecArray } => x.m !== null)
      .sort((a, b) => Number(a.m[1]) - Number(b.m[1]))
      .map((x) => join(this.dir, x.name));
  }

  private rotate(): void {
    closeSync(this.fd);
    // Two rotations in one millisecond: the later takes the next free number, so names keep their order.
    let stamp = Math.max(Date.now(), this.lastStamp + 1);
    while (existsSync(join(this.dir, `${this.stem}-${stamp}${this.ext}`))) stamp++;
    this.lastStamp = stamp;
    renameSync(this.path, join(this.dir, `${this.stem}-${stamp}${this.ext}`));
    this.fd = openSync(this.path, 'a');
    this.size = 0;
    if (this.o.maxFiles > 0) {
      const files = this.rotatedFiles();
      for (const f of files.slice(0, Math.max(0, files.length - this.o.maxFiles))) {
        try {
          unlinkSync(f);
        } catch {
          // Already gone (removed by hand): nothing to prune.
        }
      }
    }
  }

  close(): void {
    closeSync(this.fd);
  }
}
