import { isIP, isIPv4 } from 'node:net';

/**
 * `net.isIP`, without its IPv6 test where the text cannot be an IPv6 literal (fewer than two
 * colons: `1.2.3.4`, `1.2.3.4:7946`, a name). That test is a large regular expression whose first
 * use costs a process about 6 ms of CPU, which every agent paid at start to parse its own
 * `host:port` (issue 12).
 */
export function ipFamily(s: string): 0 | 4 | 6 {
  const colon = s.indexOf(':');
  if (colon < 0) return isIPv4(s) ? 4 : 0;
  if (colon === s.lastIndexOf(':')) return 0;
  return isIP(s) === 6 ? 6 : 0;
}

/** A parsed `host:port` (`[v6]:port` for IPv6). */
export interface HostPort {
  readonly host: string;
  readonly port: number;
  /** 4 or 6. */
  readonly family: 4 | 6;
}

/** A clear error for a bad address given by a user (bind, advertise, join). */
export class AddressError extends Error {
  override name = 'AddressError';
}

/**
 * Parses `host:port`, `[v6]:port`, or a bare host with `defaultPort`. The host must be an IP
 * literal: names are not resolved (a node's address is what it advertises on the wire).
 * Throws an `AddressError` naming the input.
 */
export function parseHostPort(s: string, defaultPort?: number): HostPort {
  let host: string;
  let portText: string | undefined;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (v6) {
    host = v6[1] as string;
    portText = v6[2];
  } else if (ipFamily(s) === 6) {
    host = s;
  } else {
    const i = s.lastIndexOf(':');
    if (i < 0) host = s;
    else {
      host = s.slice(0, i);
      portText = s.slice(i + 1);
    }
  }
  const family = ipFamily(host);
  if (family !== 4 && family !== 6) throw new AddressError(`${JSON.stringify(s)}: host must be an IPv4 or IPv6 literal`);
  let port: number;
  if (portText === undefined) {
    if (defaultPort === undefined) throw new AddressError(`${JSON.stringify(s)}: missing port`);
    port = defaultPort;
  } else {
    if (!/^\d{1,5}$/.test(portText)) throw new AddressError(`${JSON.stringify(s)}: bad port`);
    port = Number(portText);
  }
  if (port > 65535) throw new AddressError(`${JSON.stringify(s)}: port ${port} out of range`);
  return { host: unmapIPv4(host), port, family: ipFamily(unmapIPv4(host)) === 6 ? 6 : 4 };
}

/** `host:port`, brackets around IPv6 hosts. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** `::ffff:1.2.3.4` (what a dual-stack socket reports for an IPv4 peer) → `1.2.3.4`. */
export function unmapIPv4(host: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
  return m ? (m[1] as string) : host;
}

/** 0.0.0.0 or :: : a bind address that is no one's address to advertise. */
export function isUnspecified(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || /^[0:]+$/.test(host);
}
