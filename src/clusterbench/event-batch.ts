import type { Rng } from '../core/rng.js';
import type { Arrival, BenchNode } from './bench-node.js';
import { sleep } from './bench-node.js';
import type { DeliveryFigures } from './figures.js';
import { deliveryFigures, median } from './figures.js';

/** One message the bench sent (a user event or a write), and from where. */
export interface Sent {
  readonly id: string;
  readonly from: string;
  readonly sentAtMs: number;
  readonly error: string | null;
}

/** A batch's figures: how many reached every node they should have, how fast, how many twice. */
export interface BatchFigures {
  readonly sent: number;
  readonly sendErrors: number;
  readonly reachedAll: number;
  readonly duplicates: number;
  /** Medians over the messages of the time to 50, 90, 100 % of the nodes (s); p100 over those that reached all. */
  readonly p50MedianS: number | null;
  readonly p90MedianS: number | null;
  readonly p100MedianS: number | null;
  /** The slowest message that reached every node (s). */
  readonly p100MaxS: number | null;
  readonly perMessage: readonly (DeliveryFigures & { readonly id: string; readonly from: string })[];
}

/** Groups arrivals by message id: id → node → times. */
export function arrivalsById(byNode: ReadonlyMap<string, readonly Arrival[]>): Map<string, Map<string, number[]>> {
  const out = new Map<string, Map<string, number[]>>();
  for (const [node, list] of byNode) {
    for (const a of list) {
      let m = out.get(a.id);
      if (m === undefined) out.set(a.id, (m = new Map<string, number[]>()));
      let t = m.get(node);
      if (t === undefined) m.set(node, (t = []));
      t.push(a.atMs);
    }
  }
  return out;
}

/** The batch figures of `sent` messages given every node's arrivals and who was expected to get each. */
export function batchFigures(sent: readonly Sent[], byNode: ReadonlyMap<string, readonly Arrival[]>, expected: (s: Sent) => readonly string[]): BatchFigures {
  const byId = arrivalsById(byNode);
  const perMessage = sent.filter((s) => s.error === null).map((s) => ({
    id: s.id, from: s.from,
    ...deliveryFigures({ sentAtMs: s.sentAtMs, arrivals: byId.get(s.id) ?? new Map() }, expected(s)),
  }));
  const vals = (pick: (d: DeliveryFigures) => number | null): number[] => perMessage.map(pick).filter((x): x is number => x !== null);
  const med = (xs: number[]): number | null => (xs.length === 0 ? null : median(xs));
  const p100 = vals((d) => d.p100S);
  return {
    sent: sent.length,
    sendErrors: sent.filter((s) => s.error !== null).length,
    reachedAll: perMessage.filter((d) => d.reached === d.expected).length,
    duplicates: perMessage.reduce((a, d) => a + d.duplicates, 0),
    p50MedianS: med(vals((d) => d.p50S)),
    p90MedianS: med(vals((d) => d.p90S)),
    p100MedianS: med(p100),
    p100MaxS: p100.length === 0 ? null : Math.max(...p100),
    perMessage,
  };
}

export interface EventBatchOptions {
  /** The nodes that may send (running now), asked before each send. */
  readonly senders: () => readonly BenchNode[];
  /** Every node whose deliveries count (running or not). */
  readonly watched: () => readonly BenchNode[];
  readonly count: number;
  readonly intervalMs: number;
  /** Prefix of the payloads (unique per batch and run). */
  readonly tag: string;
  readonly rng: Rng;
  readonly deliveryTimeoutMs: number;
  /** Who must deliver a message sent at that time (asked at the end, and while waiting). */
  readonly expected: (s: Sent) => readonly string[];
  /** Resolves when whatever runs beside the batch (churn) is over; the batch does not end before. */
  readonly beside?: Promise<unknown>;
}

/**
 * Fires `count` user events, each from a random sender, `intervalMs` apart (a slow agent does
 * not hold back the next send), then waits until every expected node delivered every event
 * or `deliveryTimeoutMs` after the last send, and one more second for late duplicates.
 */
export async function fireEvents(o: EventBatchOptions): Promise<{ figures: BatchFigures; sent: Sent[] }> {
  const sent: Sent[] = [];
  const sends: Promise<void>[] = [];
  for (let i = 0; i < o.count; i++) {
    const senders = o.senders();
    const from = senders[o.rng.int(senders.length)];
    if (from === undefined) throw new Error('no node is running to send an event');
    const id = `${o.tag}-${i}`;
    const sentAtMs = Date.now();
    sends.push(from.sendEvent(id).then(
      () => void sent.push({ id, from: from.name, sentAtMs, error: null }),
      (e: unknown) => void sent.push({ id, from: from.name, sentAtMs, error: e instanceof Error ? e.message : String(e) }),
    ));
    await sleep(o.intervalMs);
  }
  await Promise.all(sends);
  await o.beside;
  const arrivals = (): Map<string, Arrival[]> => new Map(o.watched().map((n) => [n.name, n.eventArrivals()]));
  const until = Date.now() + o.deliveryTimeoutMs;
  while (Date.now() < until) {
    const f = batchFigures(sent, arrivals(), o.expected);
    if (f.reachedAll === f.sent - f.sendErrors) break;
    await sleep(250);
  }
  await sleep(1000);
  sent.sort((a, b) => a.sentAtMs - b.sentAtMs);
  return { figures: batchFigures(sent, arrivals(), o.expected), sent };
}
