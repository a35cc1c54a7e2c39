import net from 'node:net';
import { decodeMultiStream, encode } from '@msgpack/msgpack';
import { afterEach, describe, expect, it } from 'vitest';
import { SerfRpc } from '../../../src/clusterbench/serf-rpc.js';

/** A fake serf RPC server: answers the handshake; answers `members` only when `answer` says so. */
function fakeSerf(answer: () => boolean): Promise<{ addr: string; server: net.Server }> {
  const server = net.createServer((sock) => {
    void (async () => {
      try {
        let header: { Command: string; Seq: number } | null = null;
        for await (const obj of decodeMultiStream(sock)) {
          if (header === null) {
            header = obj as { Command: string; Seq: number };
            if (header.Command === 'members') {
              if (answer()) sock.write(Buffer.concat([encode({ Seq: header.Seq, Error: '' }), encode({ Members: [{ Name: 'a', Status: 'alive' }] })]));
              header = null;
            }
            continue;
          }
          // The handshake's body.
          sock.write(encode({ Seq: header.Seq, Error: '' }));
          header = null;
        }
      } catch {
        // the client went away
      }
    })();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const a = server.address() as net.AddressInfo;
    resolve({ addr: `127.0.0.1:${a.port}`, server });
  }));
}

let servers: net.Server[] = [];
afterEach(() => {
  for (const s of servers) s.close();
  servers = [];
});

describe('the bench\'s serf RPC client', () => {
  it('fails a call that gets no answer within its timeout and closes the connection, so a poll cannot hang', async () => {
    let answers = false;
    const { addr, server } = await fakeSerf(() => answers);
    servers.push(server);
    const c = await SerfRpc.connect(addr);
    const t0 = Date.now();
    await expect(c.members(300)).rejects.toThrow(/no answer to members within 300 ms/);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(c.isClosed).toBe(true);
    await expect(c.members(300)).rejects.toThrow(/no answer/);
    // A new connection answers.
    answers = true;
    const c2 = await SerfRpc.connect(addr);
    expect(await c2.members(300)).toEqual([{ name: 'a', status: 'alive' }]);
    expect(c2.isClosed).toBe(false);
    c2.close();
  });
});
