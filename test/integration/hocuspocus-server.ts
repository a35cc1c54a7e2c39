/**
 * A Hocuspocus server with the gossip extension, as a process for tests:
 *   tsx test/integration/hocuspocus-server.ts NAME GOSSIP_PORT WS_PORT [JOIN_ADDR]
 * Prints "ready" once it listens.
 */
import { Server } from '@hocuspocus/server';
import { Gossip } from '../../src/hocuspocus/index.js';

const [name = 'hp', gossipPort = '0', wsPort = '0', join] = process.argv.slice(2);
const server = new Server({
  port: Number(wsPort), address: '127.0.0.1', quiet: true,
  extensions: [new Gossip({ node: { name, bind: `127.0.0.1:${gossipPort}`, profile: 'local' }, join: join === undefined ? [] : [join], replication: { antiEntropyIntervalMs: 500 } })],
});
await server.listen();
console.log('ready');
