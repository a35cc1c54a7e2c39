import { Resolver } from 'node:dns/promises';
import dns2 from 'dns2';
import { freePort } from '../../src/clusterbench/ports.js';

const { Packet } = dns2;

/** A zone the test edits while the server runs: name → records (a name not here answers NXDOMAIN). */
export interface Zone {
  a: Map<string, string[]>;
  aaaa: Map<string, string[]>;
  srv: Map<string, { target: string; port: number; priority?: number; weight?: number }[]>;
}

/**
 * A DNS server on loopback (UDP, a port below 32768) answering A, AAAA and SRV queries from
 * `zone`, and a `node:dns` Resolver pointed at it and nothing else.
 */
export async function startDnsServer(): Promise<{ zone: Zone; resolver: Resolver; queries: string[]; close: () => Promise<void> }> {
  const zone: Zone = { a: new Map(), aaaa: new Map(), srv: new Map() };
  const queries: string[] = [];
  const server = dns2.createServer({
    udp: true,
    handle: (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      const q = request.questions[0];
      if (q === undefined) return void send(response);
      const name = q.name.toLowerCase().replace(/\.$/, '');
      queries.push(`${q.type === Packet.TYPE.SRV ? 'SRV' : q.type === Packet.TYPE.AAAA ? 'AAAA' : q.type === Packet.TYPE.A ? 'A' : String(q.type)} ${name}`);
      const known = zone.a.has(name) || zone.aaaa.has(name) || zone.srv.has(name);
      if (!known) {
        response.header.rcode = 3; // NXDOMAIN
        return void send(response);
      }
      const answer = (r: Record<string, unknown>): void => void response.answers.push(Packet.createResourceFromQuestion(q, { class: Packet.CLASS.IN, ttl: 1, ...r }));
      if (q.type === Packet.TYPE.A) for (const address of zone.a.get(name) ?? []) answer({ address });
      if (q.type === Packet.TYPE.AAAA) for (const address of zone.aaaa.get(name) ?? []) answer({ address });
      if (q.type === Packet.TYPE.SRV) for (const r of zone.srv.get(name) ?? []) answer({ priority: r.priority ?? 0, weight: r.weight ?? 1, port: r.port, target: r.target });
      void send(response);
    },
  });
  const port = await freePort();
  await server.listen({ udp: { port, address: '127.0.0.1' } });
  const resolver = new Resolver({ timeout: 500, tries: 1 });
  resolver.setServers([`127.0.0.1:${port}`]);
  return { zone, resolver, queries, close: () => server.close().then(() => undefined) };
}
