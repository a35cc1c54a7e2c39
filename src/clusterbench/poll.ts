import type { BenchNode, MemberStatus } from './bench-node.js';
import { sleep } from './bench-node.js';

/** What a membership poll waits for, given the members one node lists. */
export type MembersCheck = (members: readonly MemberStatus[]) => boolean;

/** Every one of `names` is listed and alive. */
export const allAlive = (names: readonly string[]): MembersCheck => (members) => {
  const alive = new Set(members.filter((m) => m.status === 'alive').map((m) => m.name));
  return names.every((n) => alive.has(n));
};

/** `name` is listed as failed (or no longer listed at all, once reaped). */
export const reportsFailed = (name: string): MembersCheck => (members) => {
  const m = members.find((x) => x.name === name);
  return m === undefined || m.status === 'failed';
};

export interface PollTarget {
  readonly node: BenchNode;
  /** Polling of this node starts once it resolves (its process answers); if it rejects, the node never satisfies the check. */
  readonly ready?: Promise<unknown>;
}

export interface PollResult {
  /** When the last node came to satisfy the check (each node's answer time, ms), or null on timeout. */
  readonly atMs: number | null;
  /** Per node: when its current streak of satisfied answers began, or null. */
  readonly since: ReadonlyMap<string, number | null>;
  readonly polls: number;
  readonly errors: number;
  /** Nodes whose `ready` rejected (never polled). */
  readonly neverReady: readonly string[];
}

/**
 * Polls every target's member list every `intervalMs` (each node in its own loop, so a slow
 * node does not hold back the others' samples) until all of them satisfy `check` at once, or
 * until `deadlineMs` (wall clock). A node's time is when its answer arrived; the result is
 * the latest of the nodes' current streak starts: the moment the last node got there.
 */
export async function pollUntil(targets: readonly PollTarget[], check: MembersCheck, deadlineMs: number, intervalMs: number): Promise<PollResult> {
  const since = new Map<string, number | null>(targets.map((t) => [t.node.name, null]));
  let polls = 0;
  let errors = 0;
  let done = false;
  let result: number | null = null;
  const neverReady = new Set<string>();
  /** All satisfied: done with the time; all but the never-ready satisfied: done without one (waiting longer cannot help). */
  const allDone = (): boolean => {
    let latest = 0;
    for (const [name, v] of since) {
      if (neverReady.has(name)) continue;
      if (v === null) return false;
      latest = Math.max(latest, v);
    }
    result = neverReady.size === 0 ? latest : null;
    return true;
  };
  const loop = async (t: PollTarget): Promise<void> => {
    if (t.ready !== undefined) {
      try {
        await t.ready;
      } catch {
        neverReady.add(t.node.name);
        if (allDone()) done = true;
        return;
      }
    }
    while (!done && Date.now() < deadlineMs) {
      const began = Date.now();
      try {
        const ok = check(await t.node.members());
        polls++;
        const at = Date.now();
        since.set(t.node.name, ok ? (since.get(t.node.name) ?? at) : null);
        if (ok && allDone()) {
          done = true;
          return;
        }
      } catch {
        errors++;
        since.set(t.node.name, null);
      }
      await sleep(Math.max(0, intervalMs - (Date.now() - began)));
    }
  };
  await Promise.all(targets.map((t) => loop(t)));
  return { atMs: done ? result : null, since, polls, errors, neverReady: [...neverReady] };
}
