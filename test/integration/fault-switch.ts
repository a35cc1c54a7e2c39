/** A transport for in-process agents whose traffic a test can cut (a partition of one node). */
import type { NodeOptions } from '../../src/runtime/cluster-node.js';
import { NetTransport } from '../../src/transport/net-transport.js';
import type { StreamHandlers, Transport } from '../../src/transport/transport.js';

/** UDP + TCP on `bind`, with switches: `udp` drops every datagram in and out; `tcp` refuses every stream both ways. */
export function faultSwitch(bind: string, streamTimeoutMs: number): { transport: NonNullable<NodeOptions['transport']>; blocked: { udp: boolean; tcp: boolean } } {
  const blocked = { udp: false, tcp: false };
  const transport: NonNullable<NodeOptions['transport']> = async (handlers) => {
    const inner = await NetTransport.listen({ bind, streamTimeoutMs }, {
      packet: (from, bytes) => {
        if (!blocked.udp) handlers.packet(from, bytes);
      },
      stream: (s) => {
        if (!blocked.tcp) return handlers.stream(s);
        s.destroy(new Error('blocked'));
        return { data: () => undefined, close: () => undefined };
      },
    });
    const t: Transport = {
      get localAddress() {
        return inner.localAddress;
      },
      get stats() {
        return inner.stats;
      },
      sendPacket: (to, bytes) => {
        if (!blocked.udp) inner.sendPacket(to, bytes);
      },
      openStream: (to: string, h: StreamHandlers) => inner.openStream(blocked.tcp ? '0.0.0.0:1' : to, h),
      close: () => inner.close(),
    };
    return t;
  };
  return { transport, blocked };
}
