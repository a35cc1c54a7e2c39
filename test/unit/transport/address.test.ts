import fc from 'fast-check';
import * as net from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { ipFamily, parseHostPort } from '../../../src/transport/address.js';

// net.isIP, counted: its IPv6 test (a large regular expression, about 6 ms of CPU on first use)
// must not run for text that cannot be an IPv6 literal.
const calls = vi.hoisted(() => ({ isIP: 0 }));
vi.mock('node:net', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:net')>();
  return { ...real, isIP: (s: string) => {
    calls.isIP++;
    return real.isIP(s);
  } };
});

describe('ipFamily', () => {
  it('agrees with net.isIP on every kind of text', () => {
    const table = ['1.2.3.4', '127.0.0.1', '255.255.255.255', '256.1.1.1', '1.2.3', '::1', '::', 'fe80::1', '::ffff:1.2.3.4', '2001:db8::8a2e:370:7334',
      '1.2.3.4:7946', '[::1]:7946', 'localhost', 'a:b', 'a:b:c', '', ':', '::::', 'example.com:80'];
    for (const s of table) expect(ipFamily(s), s).toBe(net.isIP(s));
    fc.assert(fc.property(fc.oneof(fc.ipV4(), fc.ipV6(), fc.string(), fc.ipV4().map((a) => `${a}:7946`)), (s) => ipFamily(s) === net.isIP(s)));
  });

  it('an IPv4 host:port, a bare IPv4 host or a name is told apart without the IPv6 test', () => {
    calls.isIP = 0;
    expect(parseHostPort('127.0.0.1:7946')).toEqual({ host: '127.0.0.1', port: 7946, family: 4 });
    expect(parseHostPort('10.0.0.2', 7946)).toEqual({ host: '10.0.0.2', port: 7946, family: 4 });
    expect(() => parseHostPort('localhost:7946')).toThrow(/IPv4 or IPv6 literal/);
    expect(calls.isIP).toBe(0);
    expect(parseHostPort('[::1]:7946')).toEqual({ host: '::1', port: 7946, family: 6 });
    expect(calls.isIP).toBeGreaterThan(0);
  });
});
