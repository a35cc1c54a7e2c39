import type { ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Capture, countWire, findTcpdump, parsePcap, portFilter } from '../../../src/clusterbench/capture.js';
import { freePorts } from '../../../src/clusterbench/ports.js';

// Recorded by test/fixtures/clusterbench/record-pcap.ts with tcpdump on lo: 3 UDP datagrams
// (100, 200, 300 payload bytes) to port 13018, then one TCP connection to 15512 carrying 1000
// bytes one way and 10 back (10 segments: handshake, data, acks, FINs).
const pcap = readFileSync(new URL('../../fixtures/clusterbench/lo-udp-tcp.pcap', import.meta.url));
const UDP_PORT = 13018;
const TCP_PORT = 15512;

describe('parsePcap on a capture from lo', () => {
  const packets = parsePcap(pcap);
  it('sees every packet once, with IP lengths and payloads', () => {
    expect(packets).toHaveLength(13);
    const udp = packets.filter((p) => p.proto === 'udp');
    expect(udp.map((p) => p.payloadBytes)).toEqual([100, 200, 300]);
    expect(udp.map((p) => p.ipBytes)).toEqual([128, 228, 328]);
    expect(udp.every((p) => p.dstPort === UDP_PORT)).toBe(true);
    const tcp = packets.filter((p) => p.proto === 'tcp');
    expect(tcp).toHaveLength(10);
    expect(tcp.reduce((a, p) => a + p.payloadBytes, 0)).toBe(1010);
    expect(tcp.every((p) => p.srcPort === TCP_PORT || p.dstPort === TCP_PORT)).toBe(true);
  });
  it('counts wire bytes per protocol in a window and for a set of ports', () => {
    const all = countWire(packets, 0, Infinity);
    expect(all).toEqual({ udpBytes: 684, tcpBytes: 1546, udpPackets: 3, tcpPackets: 10 });
    expect(countWire(packets, 0, Infinity, new Set([UDP_PORT]))).toEqual({ udpBytes: 684, tcpBytes: 0, udpPackets: 3, tcpPackets: 0 });
    const first = packets[0]?.atMs ?? 0;
    const second = packets[1]?.atMs ?? 0;
    expect(second).toBeGreaterThan(first);
    expect(countWire(packets, first, second)).toEqual({ udpBytes: 128, tcpBytes: 0, udpPackets: 1, tcpPackets: 0 });
    expect(countWire(packets, 0, first)).toEqual({ udpBytes: 0, tcpBytes: 0, udpPackets: 0, tcpPackets: 0 });
  });
  it('ignores a truncated last record (tcpdump stopped mid-write)', () => {
    expect(parsePcap(pcap.subarray(0, pcap.length - 5))).toHaveLength(12);
  });
  it('refuses what is not a classic pcap', () => {
    expect(() => parsePcap(new Uint8Array(10))).toThrow(/header/);
    expect(() => parsePcap(new Uint8Array(24))).toThrow(/magic/);
  });
  it('reads a big-endian, nanosecond, raw-IP file the same way', () => {
    const ip = Buffer.alloc(28 + 5);
    ip[0] = 0x45; ip.writeUInt16BE(33, 2); ip[9] = 17; ip.writeUInt16BE(1111, 20); ip.writeUInt16BE(2222, 22);
    const head = Buffer.alloc(24); head.writeUInt32BE(0xa1b23c4d, 0); head.writeUInt32BE(101, 20);
    const rec = Buffer.alloc(16); rec.writeUInt32BE(2, 0); rec.writeUInt32BE(500_000_000, 4); rec.writeUInt32BE(ip.length, 8); rec.writeUInt32BE(ip.length, 12);
    expect(parsePcap(Buffer.concat([head, rec, ip]))).toEqual([{ atMs: 2500, proto: 'udp', ipBytes: 33, payloadBytes: 5, srcPort: 1111, dstPort: 2222 }]);
  });
});

describe('portFilter', () => {
  it('matches either end of UDP and TCP', () => {
    expect(portFilter([1, 2])).toBe('(udp or tcp) and (port 1 or port 2)');
    expect(() => portFilter([])).toThrow();
  });
});

describe('Capture (tcpdump on lo)', () => {
  const tcpdump = findTcpdump();
  it.skipIf(tcpdump === null)('a stop right after the last packet still writes it', async () => {
    const [port = 0] = await freePorts(1);
    const procs: ChildProcess[] = [];
    const cap = await Capture.start(tcpdump ?? '', join(mkdtempSync(join(tmpdir(), 'capture-')), 'c.pcap'), [port], (p) => procs.push(p));
    const tx = dgram.createSocket('udp4');
    try {
      for (const n of [10, 20, 30]) await new Promise<void>((r) => tx.send(Buffer.alloc(n), port, '127.0.0.1', () => r()));
    } finally {
      tx.close();
    }
    const packets = await cap.stop();
    expect(packets.map((p) => p.payloadBytes)).toEqual([10, 20, 30]);
    expect(procs.every((p) => p.exitCode !== null || p.signalCode !== null)).toBe(true);
  });
});
