import { WireError } from './result.js';

/**
 * Addresses travel as an IP (`[]byte`, 4 or 16 bytes) plus a `Port` field. We carry them as
 * `host:port` strings, `[v6]:port` for 16-byte addresses, so that the bytes survive a round
 * trip: a 4-byte IPv4 address is `a.b.c.d:port`, a 16-byte IPv4-mapped one (what a Go node
 * bound to 0.0.0.0 sends) is `[::ffff:a.b.c.d]:port`. Go compares addresses byte by byte, so
 * the two forms must stay distinct (reference §2, "Addr").
 */

export interface IpPort {
  readonly ip: Uint8Array;
  readonly port: number;
}

/**
 * Parsed and formatted addresses, remembered: every member record and alive message carries
 * one, and a push-pull answer writes every member's (a join storm asks for that N times).
 * Cleared when full; the parsed bytes are shared, so callers only read them.
 */
const CACHE_MAX = 4096;
const parsed = new Map<string, IpPort>();
const formatted = new Map<number, string>();

/** Splits and parses `host:port` / `[v6]:port`; throws on anything that is not an IP literal (caller error). */
export function parseAddress(a: string): IpPort {
  let r = parsed.get(a);
  if (r === undefined) {
    r = parseAddressText(a);
    if (parsed.size >= CACHE_MAX) parsed.clear();
    parsed.set(a, r);
  }
  return r;
}

function parseAddressText(a: string): IpPort {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d{1,5})$/.exec(a);
  if (!m) throw new Error(`wire: not an IP address with a port: '${a}'`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`wire: port out of range in '${a}'`);
  const ip = m[1] !== undefined ? parseIpv6(m[1]) : parseIpv4(m[2] as string);
  if (ip === undefined) throw new Error(`wire: bad IP in '${a}'`);
  return { ip, port };
}

/** Formats IP bytes and a port; a length other than 4 or 16 is malformed (thrown as `WireError`). */
export function formatAddress(ip: Uint8Array, port: number): string {
  if (ip.length === 4) {
    // Remembered by IP and port as one 48-bit number (decoders hand a uint16 port; others are formatted each time).
    const key = Number.isInteger(port) && port >= 0 && port <= 0xffff ? ((ip[0] as number) * 0x1000000 + (((ip[1] as number) << 16) | ((ip[2] as number) << 8) | (ip[3] as number))) * 0x10000 + port : -1;
    let s = formatted.get(key);
    if (s === undefined) {
      s = `${ip[0]}.${ip[1]}.${ip[2]}.${ip[3]}:${port}`;
      if (key >= 0) {
        if (formatted.size >= CACHE_MAX) formatted.clear();
        formatted.set(key, s);
      }
    }
    return s;
  }
  if (ip.length === 16) return `[${formatIpv6(ip)}]:${port}`;
  throw new WireError('malformed', `IP address of ${ip.length} bytes (expected 4 or 16)`);
}

function parseIpv4(s: string): Uint8Array | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i] as string;
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    out[i] = v;
  }
  return out;
}

function parseIpv6(s: string): Uint8Array | undefined {
  const out = new Uint8Array(16);
  let tail: Uint8Array | undefined;
  let text = s;
  // An embedded IPv4 tail (::ffff:1.2.3.4).
  const lastColon = text.lastIndexOf(':');
  if (text.indexOf('.', lastColon) >= 0) {
    tail = parseIpv4(text.slice(lastColon + 1));
    if (tail === undefined) return undefined;
    text = text.slice(0, lastColon + 1) + '0:0';
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string): number[] | undefined => {
    if (h === '') return [];
    const out: number[] = [];
    for (const g of h.split(':')) {
      if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = groups(halves[0] as string);
  const rest = halves.length === 2 ? groups(halves[1] as string) : [];
  if (head === undefined || rest === undefined) return undefined;
  if (halves.length === 1 ? head.length !== 8 : head.length + rest.length > 7) return undefined;
  const all = [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest];
  for (let i = 0; i < 8; i++) {
    out[2 * i] = (all[i] as number) >> 8;
    out[2 * i + 1] = (all[i] as number) & 0xff;
  }
  if (tail !== undefined) out.set(tail, 12);
  return out;
}

/** RFC 5952 text: lowercase, the longest run (≥ 2) of zero groups as `::`, IPv4-mapped as `::ffff:a.b.c.d`. */
function formatIpv6(ip: Uint8Array): string {
  let mapped = true;
  for (let i = 0; i < 10; i++) if (ip[i] !== 0) mapped = false;
  if (mapped && ip[10] === 0xff && ip[11] === 0xff) return `::ffff:${ip[12]}.${ip[13]}.${ip[14]}.${ip[15]}`;
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push(((ip[2 * i] as number) << 8) | (ip[2 * i + 1] as number));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]): string => a.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}
