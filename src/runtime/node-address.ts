import { networkInterfaces } from 'node:os';
import { formatHostPort, isUnspecified, parseHostPort } from '../transport/address.js';

/** memberlist's default port; join addresses without a port use it. */
export const DEFAULT_PORT = 7946;

/** `name/host:port` (memberlist's syntax) or `host[:port]` → `host:port`. */
export function normalizeJoinAddress(a: string): string {
  const slash = a.indexOf('/');
  const hp = parseHostPort(slash >= 0 ? a.slice(slash + 1) : a, DEFAULT_PORT);
  return formatHostPort(hp.host, hp.port);
}

/** The address to advertise: explicit, else the bind address, else the first non-internal IPv4 address. */
export function advertiseAddress(bind: string, advertise: string | undefined, boundPort: number): string {
  if (advertise !== undefined) {
    const a = parseHostPort(advertise, 0);
    if (isUnspecified(a.host)) throw new TypeError(`advertise ${advertise}: must be an address peers can reach`);
    return formatHostPort(a.host, a.port === 0 ? boundPort : a.port);
  }
  const b = parseHostPort(bind);
  if (!isUnspecified(b.host)) return formatHostPort(b.host, boundPort);
  for (const list of Object.values(networkInterfaces())) {
    for (const i of list ?? []) if (i.family === 'IPv4' && !i.internal) return formatHostPort(i.address, boundPort);
  }
  throw new TypeError(`bind ${bind}: no address to advertise; pass advertise`);
}
