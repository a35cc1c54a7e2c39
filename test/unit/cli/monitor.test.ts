/** `gossip monitor` when its agent dies mid-stream: one clear line, exit 1, no stack. */
import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { capture } from './capture.js';
import { freePort } from '../../../src/clusterbench/ports.js';

describe('gossip monitor', () => {
  it('says the agent went away and exits 1 when the stream is cut off', async () => {
    // A stand-in agent: sends one event on /v1/stream, then its connection drops (a crash).
    const server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: members\ndata: []\n\n');
      setTimeout(() => req.socket.destroy(), 50);
    });
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    try {
      const io = capture();
      const code = await main(['monitor', '--http', `127.0.0.1:${port}`], io);
      expect(code).toBe(1);
      expect(io.stdout).toEqual(['members: []']);
      expect(io.stderr).toHaveLength(1);
      expect(io.stderr[0]).toMatch(/^error: the agent at http:\/\/127\.0\.0\.1:\d+ went away/);
      expect(io.stderr[0]).not.toMatch(/\n\s+at /);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
