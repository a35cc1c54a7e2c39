import dgram from 'node:dgram';
import net from 'node:net';
import { FETCH_BLOCKED_PORTS } from '../agent/fetch-blocked-ports.js';

/**
 * Ports for agents that tests and `gossip bench cluster` start. They come from below the
 * kernel's client-port range (Linux hands out 32768–60999 to outgoing connections): an agent
 * bound there can collide with a client socket after a restart, so we never use it.
 */
export const AGENT_PORT_MIN = 10_000;
export const AGENT_PORT_MAX = 32_000;

/** True when both a TCP listener and a UDP socket can bind `port` on `host` right now. */
export async function portIsFree(host: string, port: number): Promise<boolean> {
  const server = net.createServer();
  const tcpOk = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => resolve(true));
  });
  if (!tcpOk) return false;
  const udp = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const udpOk = await new Promise<boolean>((resolve) => {
    udp.once('error', () => resolve(false));
    udp.bind({ address: host, port, exclusive: true }, () => resolve(true));
  });
  await new Promise<void>((resolve) => udp.close(() => resolve()));
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return udpOk;
}

const taken = new Set<number>();

/**
 * A port free for TCP and UDP on `host`, below 32768, not handed out before by this process, and
 * not one that fetch() and browsers refuse (10080: an agent's API there never answers the bench).
 * Candidates start at a random offset (processes running side by side rarely probe the same
 * ports) and walk the range; a port probed free can still be taken by another process before
 * the caller binds it, so callers that start agents retry on EADDRINUSE.
 */
export async function freePort(host = '127.0.0.1', draw: (n: number) => number = (n) => Math.floor(Math.random() * n)): Promise<number> {
  const span = AGENT_PORT_MAX - AGENT_PORT_MIN;
  const start = draw(span);
  for (let i = 0; i < span; i++) {
    const port = AGENT_PORT_MIN + ((start + i * 7919) % span);
    if (taken.has(port) || FETCH_BLOCKED_PORTS.has(port)) continue;
    if (await portIsFree(host, port)) {
      taken.add(port);
      return port;
    }
  }
  throw new Error(`no free port on ${host} in ${AGENT_PORT_MIN}–${AGENT_PORT_MAX}`);
}

/** `n` distinct free ports (see `freePort`). */
export async function freePorts(n: number, host = '127.0.0.1'): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await freePort(host));
  return out;
}
