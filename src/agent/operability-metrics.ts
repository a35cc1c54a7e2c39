import type { Registry } from 'prom-client';
import { Counter, Gauge, collectDefaultMetrics } from './prom.js';
import type { ClusterNode, OldDropKind, OldDropReason } from '../index.js';

/** Resolution of the event-loop delay metrics (`nodejs_eventloop_lag_*`), ms. */
export const EVENT_LOOP_PRECISION_MS = 1000;

/**
 * The faults an operator must be able to see, read from the node's counters at scrape time:
 * events and queries dropped as old (by kind and why), inbound streams refused, timed out,
 * evicted or cut for size (idle-connection floods), warning lines held back by the log's rate
 * limits; and the process's own CPU, memory, heap, event-loop and GC figures (prom-client's
 * default metrics, `process_*` and `nodejs_*`).
 */
export function registerOperabilityMetrics(r: Registry, node: ClusterNode): void {
  const labelled = (name: string, help: string, labelNames: readonly string[], values: () => Iterable<readonly [Record<string, string>, number]>): void => {
    new Counter({
      name, help, labelNames: [...labelNames], registers: [r],
      collect() {
        this.reset();
        for (const [labels, v] of values()) this.inc(labels, v);
      },
    });
  };
  labelled('gossip_dropped_old_total', 'Events and queries dropped as old: kind event (gossiped), replayed-event (from a peer\'s push-pull buffer; expected after a restart for what the previous life delivered) or query; reason below-floor (under the minimum accepted time: a previous life\'s clock, or an ignore-old join) or outside-window (older than clock - buffer size)', ['kind', 'reason'], () => {
    const d = node.stats.serf.oldDropped;
    const out: [Record<string, string>, number][] = [];
    for (const kind of Object.keys(d) as OldDropKind[]) for (const reason of Object.keys(d[kind]) as OldDropReason[]) out.push([{ kind, reason }, d[kind][reason]]);
    return out;
  });
  labelled('gossip_streams_refused_total', 'Inbound TCP connections refused at accept: slots-full (every slot busy with an exchange) or per-address (the source address held its share)', ['reason'], () => {
    const t = node.stats.transport;
    return [[{ reason: 'slots-full' }, t.streamsRefused - t.streamsRefusedPerIp], [{ reason: 'per-address' }, t.streamsRefusedPerIp]];
  });
  labelled('gossip_streams_timed_out_total', 'Streams cut at a deadline: first-byte (an inbound connection that sent nothing in time) or exchange (the whole exchange, streamTimeoutMs)', ['deadline'], () => {
    const t = node.stats.transport;
    return [[{ deadline: 'first-byte' }, t.streamsTimedOutFirstByte], [{ deadline: 'exchange' }, t.streamsTimedOut - t.streamsTimedOutFirstByte]];
  });
  labelled('gossip_streams_evicted_idle_total', 'Inbound connections that had sent nothing, closed to make room for a new one', [], () => [[{}, node.stats.transport.streamsEvictedIdle]]);
  labelled('gossip_streams_over_limit_total', 'Streams cut for receiving more than the byte limit', [], () => [[{}, node.stats.transport.streamsOverLimit]]);
  labelled('gossip_log_lines_total', 'Warning lines about rejected input and protocol errors: written, or suppressed by the rate limits (per reason and source address, and a global cap per second)', ['result'], () => {
    const l = node.stats.log;
    return [[{ result: 'written' }, l.lines], [{ result: 'suppressed' }, l.suppressed]];
  });
  // The event-loop delay histogram samples on a libuv timer at this resolution: prom-client's
  // default (10 ms) wakes an idle agent 100 times a second, 0.25 % of a core by itself.
  collectDefaultMetrics({ register: r, eventLoopMonitoringPrecision: EVENT_LOOP_PRECISION_MS });
  // Outside the V8 heap, what the defaults leave out: Buffers and ArrayBuffers (part of
  // `nodejs_external_memory_bytes`, which also counts other native allocations V8 was told of).
  new Gauge({
    name: 'nodejs_array_buffers_bytes', help: 'Bytes held by ArrayBuffers and Buffers (process.memoryUsage().arrayBuffers)', registers: [r],
    collect() { this.set(process.memoryUsage().arrayBuffers); },
  });
}
