/** Reading our agent's Prometheus text (`/metrics`) from outside. */

/** Samples of the Prometheus text format: metric name, labels text, value. Comments skipped. */
export function parseMetrics(text: string): { name: string; labels: string; value: number }[] {
  const out: { name: string; labels: string; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m === null) continue;
    const value = Number(m[3]);
    if (Number.isFinite(value)) out.push({ name: m[1] as string, labels: m[2] ?? '', value });
  }
  return out;
}

/**
 * User events the agent discarded as older than its event clock allows, if it counts them: a
 * counter about events whose name or labels say "old" (e.g. `gossip_user_events_dropped_total{reason="old"}`
 * or `gossip_events_dropped_old_total`). Null when the agent exposes no such counter.
 */
export function eventsDroppedAsOld(text: string): number | null {
  let found = false;
  let sum = 0;
  for (const s of parseMetrics(text)) {
    if (!/event/.test(s.name)) continue;
    if (!/old/.test(s.name) && !/"[a-z_-]*old[a-z_-]*"/.test(s.labels)) continue;
    if (s.name.endsWith('_created')) continue;
    found = true;
    sum += s.value;
  }
  return found ? sum : null;
}

/** The sum of a metric's samples (every label set), or null when absent. */
export function metricSum(text: string, name: string): number | null {
  const xs = parseMetrics(text).filter((s) => s.name === name);
  return xs.length === 0 ? null : xs.reduce((a, s) => a + s.value, 0);
}
