import type { RecentEvents } from '../index.js';
import type { AgentStore } from '../store/state-store.js';

const EVENTS_META = 'agent.events';

type Stored = [ltime: number, events: [name: string, payload: string | null][]][];

/**
 * The user events the node de-duplicates against, saved beside its clocks (store meta
 * `agent.events`), so a restarted agent delivers what it missed while stopped, even what was
 * stamped below its saved clock, and nothing it delivered before. Unreadable content counts as
 * none: the node then floors at its saved clock, as before.
 */
export function loadRecentEvents(store: AgentStore): RecentEvents | null {
  const v = store.loadMeta(EVENTS_META);
  if (v === null) return null;
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(v));
    if (!Array.isArray(parsed)) return null;
    return (parsed as Stored).map(([ltime, events]) => {
      if (!Number.isSafeInteger(ltime) || !Array.isArray(events)) throw new TypeError('bad slot');
      return {
        ltime,
        events: events.map(([name, payload]) => {
          if (typeof name !== 'string' || (payload !== null && typeof payload !== 'string')) throw new TypeError('bad event');
          return { name, payload: payload === null ? null : new Uint8Array(Buffer.from(payload, 'base64')) };
        }),
      };
    });
  } catch {
    return null;
  }
}

/** The store meta that saves `events` (a part of the agent's snapshot). */
export function recentEventsMeta(events: RecentEvents): [name: string, value: Uint8Array] {
  const stored: Stored = events.map((s) => [s.ltime, s.events.map((e) => [e.name, e.payload === null ? null : Buffer.from(e.payload).toString('base64')])]);
  return [EVENTS_META, new TextEncoder().encode(JSON.stringify(stored))];
}
