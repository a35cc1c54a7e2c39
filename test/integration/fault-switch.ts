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
    return dropping(inner, () => blocked.udp, () => blocked.tcp);
  };
  return { transport, blocked };
}

/**
 * `inner` with its sends cut: a datagram to an address for which `dropUdp(to)` holds is dropped,
 * a stream to one for which `refuseTcp(to)` holds goes nowhere (it fails as a refused one).
 */
export function dropping(inner: Transport, dropUdp: (to: string) => boolean, refuseTcp: (to: string) => boolean): Transport {
  return {
    get localAddress() {
      return inner.localAddress;
    },
    get stats() {
      return inner.stats;
    },
    sendPacket: (to, bytes) => {
      if (!dropUdp(to)) inner.sendPacket(to, bytes);
    },
    openStream: (to: string, h: StreamHandlers) => inner.openStream(refuseTcp(to) ? '0.0.0.0:1' : to, h),
    close: () => inner.close(),
  };
}
