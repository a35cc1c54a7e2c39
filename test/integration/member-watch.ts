/**
 * One agent's view of one member, followed on its `/v1/stream`: every state the agent showed
 * for the member other than alive or suspected (failed, left …) is recorded, as is a stream that
 * lost events (`lagged`) or ended early, since then nothing can be said about what it missed;
 * each suspicion is recorded with how long it lasted (until `member-recovered`), each
 * failure declared with its time.
 */
import type { MemberJson } from '../../src/agent/http-api.js';

export interface Suspicion {
  readonly viewer: string;
  /** When the viewer reported it (ms, performance.now()). */
  readonly atMs: number;
  /** When the viewer reported the member recovered (refuted); null while it is not. */
  recoveredAtMs: number | null;
}

export interface Failure {
  readonly viewer: string;
  readonly what: 'member-failed' | 'member-reaped';
  readonly atMs: number;
}

export interface MemberWatch {
  /** `viewer: what` for each time the viewer showed the member as left or otherwise not alive, or lost sight of it. */
  readonly seen: string[];
  /** Each time the viewer declared the member failed (or reaped it). */
  readonly failures: Failure[];
  /** Each suspicion of the member the viewer reported, and its end. */
  readonly suspicions: Suspicion[];
  /** Closes the stream; resolves once its reader has stopped. */
  stop(): Promise<void>;
}

interface MemberEvent {
  readonly type: string;
  readonly name?: string;
  readonly member?: MemberJson;
}

/** Follows `http`'s (an agent named `viewer`) stream and records how it sees `member`. */
export async function watchMember(viewer: string, http: string, member: string): Promise<MemberWatch> {
  const seen: string[] = [];
  const suspicions: Suspicion[] = [];
  const failures: Failure[] = [];
  const ctl = new AbortController();
  const res = await fetch(`http://${http}/v1/stream?events=member`, { signal: ctl.signal });
  if (res.status !== 200 || res.body === null) throw new Error(`${viewer}'s /v1/stream answered ${res.status}`);
  const onEvent = (event: string, data: string): void => {
    if (event === 'lagged') seen.push(`${viewer}: stream lagged ${data}`);
    if (event === 'members') {
      const m = (JSON.parse(data) as MemberJson[]).find((x) => x.name === member);
      if (m?.status === 'suspect') suspicions.push({ viewer, atMs: performance.now(), recoveredAtMs: null });
      else if (m?.status === 'failed') failures.push({ viewer, what: 'member-failed', atMs: performance.now() });
      else if (m !== undefined && m.status !== 'alive') seen.push(`${viewer}: ${m.status} at connect`);
    }
    if (event === 'member') {
      const e = JSON.parse(data) as MemberEvent;
      const name = e.name ?? e.member?.name;
      if (name !== member) return;
      const open = suspicions.at(-1);
      if (e.type === 'member-suspected') {
        if (open === undefined || open.recoveredAtMs !== null) suspicions.push({ viewer, atMs: performance.now(), recoveredAtMs: null });
      } else if (e.type === 'member-recovered' || (e.type === 'member-updated' && e.member?.status === 'alive')) {
        if (open !== undefined && open.recoveredAtMs === null) open.recoveredAtMs = performance.now();
      } else if (e.type === 'member-failed' || e.type === 'member-reaped') failures.push({ viewer, what: e.type, atMs: performance.now() });
      else if (e.type === 'member-left') seen.push(`${viewer}: ${e.type} at ${new Date().toISOString().slice(11, 23)}`);
      else if (e.member !== undefined && e.member.status !== 'alive' && e.member.status !== 'suspect') seen.push(`${viewer}: ${e.type} as ${e.member.status}`);
    }
  };
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let stopping = false;
  const done = (async (): Promise<void> => {
    let buf = '';
    try {
      for (;;) {
        const { value, done: end } = await reader.read();
        if (end) break;
        buf += value;
        let cut: number;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event !== undefined && data !== undefined) onEvent(event, data);
        }
      }
    } catch (e) {
      if (!stopping) seen.push(`${viewer}: stream failed: ${String(e)}`);
      return;
    }
    if (!stopping) seen.push(`${viewer}: stream ended`);
  })();
  return {
    seen,
    suspicions,
    failures,
    stop: async () => {
      stopping = true;
      ctl.abort();
      await done;
    },
  };
}
