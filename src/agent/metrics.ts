import { Counter, Gauge, Registry } from './prom.js';
import type { ClusterNode, TypeTraffic } from '../index.js';
import type { StoreHealth } from '../store/watched-store.js';
import type { KvService } from './kv-service.js';
import { registerOperabilityMetrics } from './operability-metrics.js';
import type { StreamHubStats } from './stream-hub.js';

/** What the HTTP API reports to /metrics: answers by status, and its `/v1/stream` fan-out. */
export interface HttpApiStats {
  readonly answered: ReadonlyMap<number, number>;
  readonly streams: StreamHubStats;
}

const STATUSES = ['alive', 'leaving', 'left', 'failed'] as const;

/**
 * The agent's Prometheus metrics, read from the node's counters at scrape time (nothing on the
 * hot path). Counters the node keeps as running totals are exported as prom counters by
 * setting them to the node's value on collect.
 */
export class AgentMetrics {
  readonly registry = new Registry();

  constructor(node: ClusterNode, kv: KvService, extra: { readonly suspicionsSeen: () => number; readonly storeHealth?: () => StoreHealth; readonly http?: () => HttpApiStats | null }) {
    const r = this.registry;
    const total = (name: string, help: string, value: () => number): void => {
      new Counter({
        name, help, registers: [r],
        collect() {
          this.reset();
          this.inc(value());
        },
      });
    };
    const labelledTotal = (name: string, help: string, label: string, values: () => Iterable<readonly [string, number]>): void => {
      new Counter({
        name, help, labelNames: [label], registers: [r],
        collect() {
          this.reset();
          for (const [l, v] of values()) this.inc({ [label]: l }, v);
        },
      });
    };
    new Gauge({
      name: 'gossip_members', help: 'Members known, by Serf status', labelNames: ['status'], registers: [r],
      collect() {
        const counts = new Map<string, number>(STATUSES.map((s) => [s, 0]));
        for (const m of node.members()) counts.set(m.status, (counts.get(m.status) ?? 0) + 1);
        for (const [status, n] of counts) this.set({ status }, n);
      },
    });
    labelledTotal('gossip_packets_total', 'UDP packets, by direction', 'direction', () => {
      const t = node.stats.transport;
      return [['in', t.packetsIn], ['out', t.packetsOut]];
    });
    labelledTotal('gossip_packet_bytes_total', 'UDP packet bytes, by direction', 'direction', () => {
      const t = node.stats.transport;
      return [['in', t.packetBytesIn], ['out', t.packetBytesOut]];
    });
    labelledTotal('gossip_streams_total', 'TCP streams (push-pull, reliable messages), by direction', 'direction', () => {
      const t = node.stats.transport;
      return [['in', t.streamsIn], ['out', t.streamsOut]];
    });
    labelledTotal('gossip_messages_total', 'Serf messages, by type and direction', 'type', () => {
      const s = node.stats.serf;
      return [['user-event-in', s.userEventsIn], ['query-in', s.queriesIn], ['query-response-in', s.queryResponsesIn], ['data-in', s.dataMessagesIn], ['data-out', s.dataMessagesOut]];
    });
    // By message type: what /metrics and the dashboard's bytes-per-second chart split by.
    const byType = (name: string, help: string, pick: (t: TypeTraffic) => readonly [number, number]): void => {
      new Counter({
        name, help, labelNames: ['type', 'direction'], registers: [r],
        collect() {
          this.reset();
          for (const [type, t] of node.stats.driver.traffic) {
            const [vin, vout] = pick(t);
            this.inc({ type, direction: 'in' }, vin);
            this.inc({ type, direction: 'out' }, vout);
          }
        },
      });
    };
    byType('gossip_messages_by_type_total', 'memberlist messages (each part of a compound), by type and direction; user messages split into Serf (user) and ours (data)', (t) => [t.messagesIn, t.messagesOut]);
    byType('gossip_message_bytes_total', 'Encoded bytes of those messages (before CRC, compression, encryption), by type and direction', (t) => [t.bytesIn, t.bytesOut]);
    new Gauge({
      name: 'gossip_probe_rtt_ms', help: 'Round trip of the last answered probe, by member', labelNames: ['member'], registers: [r],
      collect() {
        this.reset();
        for (const m of node.members()) {
          const rtt = node.probeRttMs(m.name);
          if (rtt !== undefined) this.set({ member: m.name }, rtt);
        }
      },
    });
    total('gossip_probe_rtt_ms_sum', 'Sum of the round trips of answered probes (ms)', () => node.stats.gossip.probeRttSumMs);
    total('gossip_probe_rtt_count', 'Answered probes', () => node.stats.gossip.probeRtts);
    new Gauge({
      name: 'gossip_queue_depth', help: 'Broadcasts waiting to go out, by queue', labelNames: ['queue'], registers: [r],
      collect() {
        const q = node.queueDepths();
        this.set({ queue: 'membership' }, q.membership);
        this.set({ queue: 'serf' }, q.serf);
        this.set({ queue: 'data' }, node.stats.data.unsent);
      },
    });
    labelledTotal('gossip_rejected_total', 'Input rejected by the wire layer or the driver, by reason', 'reason', () => node.stats.driver.rejected);
    total('gossip_probes_total', 'Probes started', () => node.stats.gossip.probes);
    total('gossip_probes_failed_total', 'Probes without an ack (direct and indirect)', () => node.stats.gossip.probesFailed);
    total('gossip_indirect_probes_total', 'Indirect probes requested', () => node.stats.gossip.indirectProbes);
    total('gossip_suspicions_raised_total', 'Suspicions this node raised', () => node.stats.gossip.suspicionsRaised);
    total('gossip_verdicts_deferred_total', 'Probe failures and suspicion expiries this node handled late (its own event loop stalled) and so deferred once, a probe timeout, to read what arrived meanwhile (Lifeguard: the observer\'s own health)', () => node.stats.gossip.verdictsDeferred);
    total('gossip_suspicions_seen_total', 'Members this node saw suspected', extra.suspicionsSeen);
    const http = extra.http;
    if (http !== undefined) {
      labelledTotal('gossip_http_responses_total', 'HTTP API answers, by status (403: Host, Origin or token refused; 415: not JSON; 503: too many streams)', 'status', () =>
        [...(http()?.answered ?? new Map<number, number>())].map(([status, n]) => [String(status), n] as const));
      new Gauge({
        name: 'gossip_http_streams_open', help: 'Open /v1/stream connections', registers: [r],
        collect() {
          this.set(http()?.streams.open ?? 0);
        },
      });
      total('gossip_http_streams_refused_total', '/v1/stream connections refused over httpStreamsMax', () => http()?.streams.refused ?? 0);
      total('gossip_http_stream_events_dropped_total', 'Events not sent to a /v1/stream reader that fell behind (then told with a lagged event)', () => http()?.streams.dropped ?? 0);
      total('gossip_http_streams_disconnected_total', '/v1/stream readers closed after staying stuck over their queue limit', () => http()?.streams.disconnected ?? 0);
    }
    total('gossip_false_positive_refutations_total', 'Times this node refuted a suspicion or death about itself while alive', () => node.stats.gossip.refutations);
    total('gossip_stale_accusations_corrected_total', 'Suspicions or deaths of an older incarnation of this node, answered with its current alive straight to their sender', () => node.stats.gossip.staleAccusationsCorrected);
    total('gossip_broadcasts_queued_total', 'memberlist broadcasts queued', () => node.stats.gossip.broadcastsQueued);
    total('gossip_broadcasts_dropped_total', 'Serf broadcasts refused because a queue was full', () => node.stats.serf.broadcastsDropped);
    labelledTotal('gossip_data_messages_total', 'Data-layer messages received, decoded or rejected', 'result', () => {
      const d = node.stats.data;
      return [['decoded', d.decoded], ['rejected', Object.values(d.rejected).reduce((a, b) => a + b, 0) + d.node.rejected]];
    });
    total('gossip_kv_entries_merged_total', 'Peer entries merged that changed a key', () => node.stats.data.node.entriesMerged);
    total('gossip_kv_store_errors_total', 'Entry writes the store refused', () => node.stats.data.node.storeErrors);
    labelledTotal('gossip_kv_quorum_ops_total', 'Quorum writes and reads this node coordinated (issue 16), by op and result', 'op', () => {
      const q = node.stats.data.quorum;
      return [['write', q.writes - q.writesFailed], ['write_failed', q.writesFailed], ['read', q.reads - q.readsFailed], ['read_failed', q.readsFailed]];
    });
    labelledTotal('gossip_kv_quorum_messages_total', 'Quorum messages this node refused or could not use, by reason', 'reason', () => {
      const q = node.stats.data.quorum;
      return [['malformed', q.malformed], ['stranger', q.strangers], ['late', q.late], ['unsent', q.unsent], ['not_durable', q.notDurable], ['refused_sent', q.refusedSent]];
    });
    const storeHealth = extra.storeHealth;
    if (storeHealth !== undefined) {
      new Gauge({
        name: 'gossip_store_failing', help: '1 while the store refuses writes (reads are still served), else 0', registers: [r],
        collect() {
          this.set(storeHealth().failing ? 1 : 0);
        },
      });
      total('gossip_store_write_failures_total', 'Writes of any kind (entries, meta, snapshot) the store refused', () => storeHealth().writeFailures);
    }
    labelledTotal('gossip_antientropy_sessions_total', 'Merkle anti-entropy sessions, by outcome', 'result', () => {
      const d = node.stats.data.node;
      return [['complete', d.sessionsComplete], ['failed', d.sessionsFailed]];
    });
    new Gauge({
      name: 'gossip_kv_time_to_everyone_ms', help: 'Time until every live member had the most recent sampled local write', registers: [r],
      collect() {
        const t = kv.convergence().timeToEveryoneMs;
        const last = t[t.length - 1];
        if (last !== undefined) this.set(last);
      },
    });
    new Gauge({
      name: 'gossip_kv_keys', help: 'Keys in the key-value state', registers: [r],
      collect() {
        this.set(kv.convergence().keys);
      },
    });
    new Gauge({
      name: 'gossip_convergence_agreement', help: 'Fraction of data members whose state matches ours', registers: [r],
      collect() {
        this.set(kv.convergence().agreement);
      },
    });
    registerOperabilityMetrics(r, node);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
