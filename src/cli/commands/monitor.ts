import type { Command } from 'commander';
import type { Io } from '../io.js';
import type { ClientFlags } from '../client.js';
import { ApiError, clientFrom, clientOptions, runClient } from '../client.js';

/**
 * `gossip monitor`: prints the agent's event stream (members, updates, convergence) until
 * interrupted or the agent stops. A stream cut off (the agent crashed or was killed) says the
 * agent went away and exits 1, as `serf monitor` does.
 */
export function registerMonitor(program: Command, io: Io): void {
  clientOptions(program.command('monitor').description('stream membership changes, key updates, events and convergence'))
    .option('--json', 'one JSON object per line: {event, data}')
    .option('--no-convergence', 'leave out the periodic convergence lines')
    .action((o: ClientFlags & { json?: boolean; convergence: boolean }) => runClient(io, async () => {
      const client = clientFrom(o);
      const res = await client.fetch('GET', '/v1/stream');
      if (!res.ok || res.body === null) throw new ApiError(res.status, `${res.status}: ${await res.text()}`);
      const decoder = new TextDecoder();
      let buf = '';
      for await (const chunk of wentAway(res.body, client.base)) {
        buf += decoder.decode(chunk, { stream: true });
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let event = 'message';
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (data === '' || (event === 'convergence' && !o.convergence)) continue;
          io.out(o.json === true ? JSON.stringify({ event, data: JSON.parse(data) as unknown }) : `${event}: ${data}`);
        }
      }
    }));
}

/** The body's chunks; a connection lost mid-stream (undici's `TypeError: terminated`) becomes an `ApiError` saying so. */
async function* wentAway(body: AsyncIterable<Uint8Array>, base: string): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of body) yield chunk;
  } catch (e) {
    const cause = e instanceof Error && e.cause instanceof Error ? e.cause.message : e instanceof Error ? e.message : String(e);
    throw new ApiError(0, `the agent at ${base} went away (the event stream was cut off: ${cause}); it may have crashed or been killed`);
  }
}
