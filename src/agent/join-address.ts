import { lookup } from 'node:dns/promises';
import { Resolver } from 'node:dns/promises';
import { AddressError, formatHostPort, ipFamily, parseHostPort } from '../transport/address.js';

/** Serf's default gossip port: a join address without a port means this one. */
export const DEFAULT_GOSSIP_PORT = 7946;
const SRV_SCHEME = 'dns+srv://';
/** A DNS name: dot-separated labels of letters, digits, `-` and `_` (SRV names), none empty, at most 253 characters. */
const DNS_NAME = /^(?=.{1,253}\.?$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

/**
 * What a `--join` / `--retry-join` address names: an IP literal with its port, a DNS name (its
 * A and AAAA records) with a port, or `dns+srv://NAME` (its SRV records give hosts and ports:
 * what a Kubernetes headless service publishes).
 */
export type JoinAddress =
  | { readonly kind: 'ip'; readonly addr: string }
  | { readonly kind: 'name'; readonly host: string; readonly port: number }
  | { readonly kind: 'srv'; readonly name: string };

/** Parses a join address (no DNS query); the port defaults to 7946. Throws an `AddressError` naming the input. */
export function parseJoinAddress(s: string): JoinAddress {
  if (s.toLowerCase().startsWith(SRV_SCHEME)) {
    const name = s.slice(SRV_SCHEME.length);
    if (!DNS_NAME.test(name)) throw new AddressError(`${JSON.stringify(s)}: expected dns+srv://NAME with a DNS name`);
    return { kind: 'srv', name };
  }
  if (s.startsWith('[') || ipFamily(s) !== 0 || ipFamily(s.slice(0, Math.max(0, s.lastIndexOf(':')))) !== 0) {
    const hp = parseHostPort(s, DEFAULT_GOSSIP_PORT);
    return { kind: 'ip', addr: formatHostPort(hp.host, hp.port) };
  }
  const i = s.lastIndexOf(':');
  const host = i < 0 ? s : s.slice(0, i);
  const portText = i < 0 ? undefined : s.slice(i + 1);
  if (!DNS_NAME.test(host)) throw new AddressError(`${JSON.stringify(s)}: expected host:port, [v6]:port, a DNS name (port optional) or dns+srv://NAME`);
  if (portText !== undefined && (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535)) throw new AddressError(`${JSON.stringify(s)}: bad port`);
  return { kind: 'name', host, port: portText === undefined ? DEFAULT_GOSSIP_PORT : Number(portText) };
}

/** The DNS queries a join makes; the agent's is `systemResolver()`, a test's points at its own server (`dnsResolver`). */
export interface JoinResolver {
  /** The IPv4 and IPv6 addresses of a name. */
  lookupHost(name: string): Promise<string[]>;
  /** The SRV records of a name. */
  resolveSrv(name: string): Promise<{ name: string; port: number; priority: number; weight: number }[]>;
}

/** The system's resolver: names through `getaddrinfo` (so `/etc/hosts` and `localhost` count), SRV through the configured DNS servers. */
export function systemResolver(): JoinResolver {
  const srv = new Resolver();
  return {
    lookupHost: async (name) => (await lookup(name, { all: true })).map((a) => a.address),
    resolveSrv: (name) => srv.resolveSrv(name),
  };
}

/** A `node:dns` Resolver (e.g. one with `setServers(['127.0.0.1:PORT'])`): A and AAAA records, SRV records. */
export function dnsResolver(r: Resolver): JoinResolver {
  return {
    lookupHost: async (name) => {
      const [v4, v6] = await Promise.allSettled([r.resolve4(name), r.resolve6(name)]);
      const out = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
      if (out.length === 0) throw v4.status === 'rejected' ? v4.reason : new Error(`${name}: no A or AAAA records`);
      return out;
    },
    resolveSrv: (name) => r.resolveSrv(name),
  };
}

const reason = (e: unknown): string => {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' ? code : e instanceof Error ? e.message : String(e);
};

/**
 * The `host:port` addresses a join address stands for now (queried anew on each call, so a
 * retried join sees records that appeared late): SRV records by priority, then weight (heaviest
 * first), each target's addresses. Throws an `AddressError` saying what did not resolve.
 */
export async function resolveJoinAddress(s: string, r: JoinResolver): Promise<string[]> {
  const a = parseJoinAddress(s);
  if (a.kind === 'ip') return [a.addr];
  if (a.kind === 'name') {
    let ips: string[];
    try {
      ips = await r.lookupHost(a.host);
    } catch (e) {
      throw new AddressError(`${JSON.stringify(s)}: cannot resolve ${a.host} (${reason(e)})`);
    }
    return ips.map((ip) => formatHostPort(ip, a.port));
  }
  let records;
  try {
    records = await r.resolveSrv(a.name);
  } catch (e) {
    throw new AddressError(`${JSON.stringify(s)}: no SRV records for ${a.name} (${reason(e)})`);
  }
  records.sort((x, y) => x.priority - y.priority || y.weight - x.weight);
  const out: string[] = [];
  for (const rec of records) {
    const target = rec.name.replace(/\.$/, '');
    if (ipFamily(target) !== 0) out.push(formatHostPort(target, rec.port));
    else {
      try {
        for (const ip of await r.lookupHost(target)) out.push(formatHostPort(ip, rec.port));
      } catch {
        // One target that does not resolve: the others may.
      }
    }
  }
  if (out.length === 0) throw new AddressError(`${JSON.stringify(s)}: the SRV records of ${a.name} name no host that resolves`);
  return [...new Set(out)];
}

/**
 * Every address the join addresses stand for now, and a problem per address that did not
 * resolve (the others are still joined through).
 */
export async function resolveJoinAddresses(addrs: readonly string[], r: JoinResolver): Promise<{ addrs: string[]; problems: string[] }> {
  const results = await Promise.allSettled(addrs.map((s) => resolveJoinAddress(s, r)));
  const out: string[] = [];
  const problems: string[] = [];
  for (const res of results) {
    if (res.status === 'fulfilled') out.push(...res.value);
    else problems.push(res.reason instanceof Error ? res.reason.message : String(res.reason));
  }
  return { addrs: [...new Set(out)], problems };
}
