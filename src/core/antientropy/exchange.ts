import type { ReconcileHost, ReconcileStats } from './session.js';
import { ReconcileSession } from './session.js';

export interface LocalReconcileResult {
  /** The initiator's view; bytes and hashes cover both directions. */
  readonly stats: ReconcileStats;
  /** The differing keys as the deciding side saw them, sorted. */
  readonly differingKeys: string[];
  /** One-way messages of the exchange. */
  readonly messages: number;
  readonly error: string | null;
  /** Both sides finished without failure and every differing entry travelled. */
  readonly complete: boolean;
}

/**
 * Runs a whole reconciliation between two hosts in memory (tests, the CLI, the simulator's
 * zero-latency case): pumps messages until both sides are done and hands each side the entries
 * the other sent through `applyToA` / `applyToB` (after the exchange, so the walk sees the trees
 * as they were when it started). `messagesMax` bounds a misbehaving pair.
 */
export function reconcileLocally<E>(
  a: ReconcileHost<E>,
  b: ReconcileHost<E>,
  applyToA: (entry: E) => void,
  applyToB: (entry: E) => void,
  messagesMax = 64,
): LocalReconcileResult {
  const sa = new ReconcileSession(a, 'initiator');
  const sb = new ReconcileSession(b, 'responder');
  sa.start();
  let messages = 0;
  for (let moved = true; moved && messages <= messagesMax; ) {
    moved = false;
    for (let m = sa.pollMessage(); m !== undefined; m = sa.pollMessage()) {
      sb.handleMessage(m);
      messages++;
      moved = true;
    }
    for (let m = sb.pollMessage(); m !== undefined; m = sb.pollMessage()) {
      sa.handleMessage(m);
      messages++;
      moved = true;
    }
  }
  const toA: E[] = [];
  const toB: E[] = [];
  for (let e = sa.pollEntry(); e !== undefined; e = sa.pollEntry()) toA.push(e);
  for (let e = sb.pollEntry(); e !== undefined; e = sb.pollEntry()) toB.push(e);
  for (const e of toA) applyToA(e);
  for (const e of toB) applyToB(e);
  const keysA = sa.differingKeys();
  const keysB = sb.differingKeys();
  // The side that received rc-keys decided the difference; its list is the longer (a superset).
  return {
    stats: sa.stats(),
    differingKeys: keysA.length >= keysB.length ? keysA : keysB,
    messages,
    error: sa.error ?? sb.error,
    complete: sa.complete && sb.complete,
  };
}
