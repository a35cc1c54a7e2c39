import { freePort } from '../../src/clusterbench/ports.js';

/**
 * `host:port` with a free port below 32768 (see `freePort`): what tests give an agent, a node or
 * a server to bind instead of port 0, which the kernel picks from its client-port range.
 */
export async function freeAddr(host = '127.0.0.1'): Promise<string> {
  const port = await freePort(host);
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
