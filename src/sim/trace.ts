/**
 * The simulation trace: a running 32-bit FNV-1a hash over every event processed (time, node,
 * kind), so two runs can be compared in one number, plus readable lines for the notable ones
 * (crash, restart, stall, partition, failures), one per event, bounded in count.
 */
export class Trace {
  private h = 0x811c9dc5;
  readonly lines: string[] = [];
  private dropped = 0;

  constructor(private readonly maxLines = 10_000) {}

  mix(timeMs: number, node: number, code: number): void {
    let h = this.h;
    h = fnv(h, Math.floor(timeMs * 1000) >>> 0);
    h = fnv(h, Math.floor(timeMs / 4294967.296) >>> 0);
    h = fnv(h, node >>> 0);
    h = fnv(h, code >>> 0);
    this.h = h;
  }

  line(timeMs: number, what: string, node: number, arg?: number): void {
    this.mix(timeMs, node, what.length * 131 + (arg ?? 0));
    if (this.lines.length >= this.maxLines) {
      this.dropped++;
      return;
    }
    const t = (timeMs / 1000).toFixed(3).padStart(9);
    this.lines.push(`${t}s ${what}${node >= 0 ? ` node-${node}` : ''}${arg !== undefined ? ` ${arg}` : ''}`);
  }

  get hash(): string {
    return (this.h >>> 0).toString(16).padStart(8, '0');
  }

  get droppedLines(): number {
    return this.dropped;
  }
}

function fnv(h: number, v: number): number {
  for (let i = 0; i < 4; i++) {
    h ^= (v >>> (i * 8)) & 0xff;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
