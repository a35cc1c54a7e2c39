import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { WireCount } from './figures.js';

/**
 * Wire bytes from the kernel's side: tcpdump on the loopback interface, filtered to the
 * cluster's gossip ports, written to a pcap file that we parse here. On lo every packet is
 * captured once (as it is sent), so a packet counts once.
 */

/** One captured packet: when, which protocol, its IP length (headers included) and its payload. */
export interface CapturedPacket {
  readonly atMs: number;
  readonly proto: 'udp' | 'tcp' | 'other';
  readonly ipBytes: number;
  readonly payloadBytes: number;
  readonly srcPort: number;
  readonly dstPort: number;
}

/** Longer than libpcap's block timeout (tcpdump's default 1000 ms). */
const BLOCK_RETIRE_MS = 1500;

const LINK_ETHERNET = 1;
const LINK_RAW = 101;
const LINK_RAW_ALT = 12;
const LINK_SLL = 113;
const LINK_SLL2 = 276;

/** Link-layer header length for a pcap link type; throws for one we do not read. */
function linkHeaderBytes(linktype: number): number {
  switch (linktype) {
    case LINK_ETHERNET: return 14;
    case LINK_RAW: case LINK_RAW_ALT: return 0;
    case LINK_SLL: return 16;
    case LINK_SLL2: return 20;
    default: throw new Error(`pcap: link type ${linktype} is not supported (expected Ethernet, raw IP or Linux cooked)`);
  }
}

/**
 * Parses a classic pcap file (either byte order, µs or ns timestamps). Lengths come from the
 * IP header, so a snapshot length that cut the payload does not matter. A truncated last
 * record (tcpdump killed mid-write) is ignored.
 */
export function parsePcap(buf: Uint8Array): CapturedPacket[] {
  if (buf.length < 24) throw new Error('pcap: shorter than its 24-byte header');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magicBe = dv.getUint32(0, false);
  let little: boolean;
  let nano: boolean;
  if (magicBe === 0xa1b2c3d4 || magicBe === 0xa1b23c4d) {
    little = false;
    nano = magicBe === 0xa1b23c4d;
  } else {
    const magicLe = dv.getUint32(0, true);
    if (magicLe !== 0xa1b2c3d4 && magicLe !== 0xa1b23c4d) throw new Error(`pcap: bad magic 0x${magicBe.toString(16)} (pcapng is not supported)`);
    little = true;
    nano = magicLe === 0xa1b23c4d;
  }
  const link = linkHeaderBytes(dv.getUint32(20, little));
  const out: CapturedPacket[] = [];
  let off = 24;
  while (off + 16 <= buf.length) {
    const sec = dv.getUint32(off, little);
    const frac = dv.getUint32(off + 4, little);
    const incl = dv.getUint32(off + 8, little);
    const start = off + 16;
    if (start + incl > buf.length) break;
    off = start + incl;
    const atMs = sec * 1000 + (nano ? frac / 1e6 : frac / 1e3);
    const p = parseIp(buf.subarray(start + link, start + incl), atMs);
    if (p !== null) out.push(p);
  }
  return out;
}

function parseIp(b: Uint8Array, atMs: number): CapturedPacket | null {
  if (b.length < 1) return null;
  const version = (b[0] as number) >> 4;
  let ipBytes: number;
  let headerBytes: number;
  let proto: number;
  if (version === 4) {
    if (b.length < 20) return null;
    headerBytes = ((b[0] as number) & 0x0f) * 4;
    ipBytes = ((b[2] as number) << 8) | (b[3] as number);
    proto = b[9] as number;
  } else if (version === 6) {
    if (b.length < 40) return null;
    headerBytes = 40;
    ipBytes = 40 + (((b[4] as number) << 8) | (b[5] as number));
    proto = b[6] as number;
  } else {
    return null;
  }
  const l4 = b.subarray(headerBytes);
  const port = (i: number): number => (l4.length >= i + 2 ? ((l4[i] as number) << 8) | (l4[i + 1] as number) : 0);
  if (proto === 17) {
    return { atMs, proto: 'udp', ipBytes, payloadBytes: Math.max(0, ipBytes - headerBytes - 8), srcPort: port(0), dstPort: port(2) };
  }
  if (proto === 6) {
    const dataOffset = l4.length >= 13 ? ((l4[12] as number) >> 4) * 4 : 20;
    return { atMs, proto: 'tcp', ipBytes, payloadBytes: Math.max(0, ipBytes - headerBytes - dataOffset), srcPort: port(0), dstPort: port(2) };
  }
  return { atMs, proto: 'other', ipBytes, payloadBytes: 0, srcPort: 0, dstPort: 0 };
}

/** UDP and TCP bytes and packets of the packets in [fromMs, toMs) that touch one of `ports` (all when `ports` is null). */
export function countWire(packets: readonly CapturedPacket[], fromMs: number, toMs: number, ports: ReadonlySet<number> | null = null): WireCount {
  let udpBytes = 0, tcpBytes = 0, udpPackets = 0, tcpPackets = 0;
  for (const p of packets) {
    if (p.atMs < fromMs || p.atMs >= toMs || p.proto === 'other') continue;
    if (ports !== null && !ports.has(p.srcPort) && !ports.has(p.dstPort)) continue;
    if (p.proto === 'udp') {
      udpBytes += p.ipBytes;
      udpPackets++;
    } else {
      tcpBytes += p.ipBytes;
      tcpPackets++;
    }
  }
  return { udpBytes, tcpBytes, udpPackets, tcpPackets };
}

/** The tcpdump to use, or null when it is missing or cannot capture (not root, no capability). */
export function findTcpdump(): string | null {
  for (const p of ['/usr/bin/tcpdump', '/usr/sbin/tcpdump', '/bin/tcpdump', '/sbin/tcpdump']) {
    const r = spawnSync(p, ['-D'], { encoding: 'utf8', timeout: 5000 });
    if (r.error === undefined && r.status === 0 && /\blo\b/.test(r.stdout)) return p;
  }
  return null;
}

/** The BPF filter for a set of ports (either end). */
export function portFilter(ports: readonly number[]): string {
  if (ports.length === 0) throw new Error('capture: no ports to filter on');
  return `(udp or tcp) and (${ports.map((p) => `port ${p}`).join(' or ')})`;
}

/**
 * A running tcpdump on lo writing `file`. `start` resolves once tcpdump says it is listening;
 * `stop` ends it (SIGINT, so it flushes) and resolves with the packets it wrote.
 */
export class Capture {
  private stderr = '';
  private exited = false;

  private constructor(private readonly proc: ChildProcess, readonly file: string) {
    proc.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    proc.on('exit', () => (this.exited = true));
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  static async start(tcpdump: string, file: string, ports: readonly number[], track: (p: ChildProcess) => void): Promise<Capture> {
    // 128 bytes hold every header we read; -U writes each packet at once, so a stop loses nothing.
    const proc = spawn(tcpdump, ['-i', 'lo', '-n', '-s', '128', '-U', '-w', file, portFilter(ports)], { stdio: ['ignore', 'ignore', 'pipe'] });
    track(proc);
    const c = new Capture(proc, file);
    const until = Date.now() + 10_000;
    while (!/listening on/.test(c.stderr)) {
      if (c.exited) throw new Error(`tcpdump exited: ${c.stderr.trim()}`);
      if (Date.now() > until) {
        proc.kill('SIGKILL');
        throw new Error(`tcpdump did not start listening within 10 s: ${c.stderr.trim()}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return c;
  }

  async stop(): Promise<CapturedPacket[]> {
    if (!this.exited) {
      // libpcap hands packets over in blocks that retire after tcpdump's 1 s timeout; a SIGINT
      // before that loses the pending block (seen: 26 packets through the filter, 0 written).
      await new Promise((r) => setTimeout(r, BLOCK_RETIRE_MS));
      const gone = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
      this.proc.kill('SIGINT');
      const t = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(t);
    }
    return parsePcap(readFileSync(this.file));
  }
}
