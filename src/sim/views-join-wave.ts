import { seededRng } from '../core/rng.js';
import type { ViewChecker, ViewsScenario } from './views.js';
import { ViewCluster } from './views.js';

/**
 * What view notes cost around a join wave (issue 16 vs 12): a converged cluster of
 * `nodes − joiners` settles, then `joiners` nodes join at random moments within `waveMs`, each
 * through three random members. Bytes are the real encodings' (a piggybacked note's user-message
 * framing included; a note sent on its own counts its data packet). Two windows: **during** (the
 * wave's start until every live node reports the same stable view) and **after** (the
 * `afterMs` that follow), each per live node per second.
 */
export interface JoinWaveScenario extends ViewsScenario {
  readonly joiners: number;
  /** Joins spread over this long. Default 2,000 ms. */
  readonly waveMs?: number;
  /** The quiet window measured after the wave settled. Default 30,000 ms. */
  readonly afterMs?: number;
}

export interface NoteCost {
  readonly ms: number;
  /** Per live node per second. */
  readonly notesPerNodeS: number;
  readonly piggybackedBytesPerNodeS: number;
  readonly directNotesPerNodeS: number;
  readonly directBytesPerNodeS: number;
  /** All membership packet bytes (notes piggybacked inside included) and push-pull streams, for scale. */
  readonly packetBytesPerNodeS: number;
  readonly streamBytesPerNodeS: number;
}

export interface JoinWaveResult {
  readonly nodes: number;
  readonly joiners: number;
  readonly seed: number;
  readonly loss: number;
  readonly settleMs: number;
  /** From the wave's start until every live node reported the same stable view (null: not within the phase). */
  readonly stableMs: number | null;
  readonly during: NoteCost;
  readonly after: NoteCost;
  /** Notes sent in the 10 s before the wave, on a settled cluster (0 expected). */
  readonly notesBefore: number;
  readonly checker: ViewChecker;
}

interface Counters { notes: number; noteBytes: number; direct: number; directBytes: number; packetBytes: number; streamBytes: number }

export function runJoinWave(sc: JoinWaveScenario): JoinWaveResult {
  const c = new ViewCluster(sc);
  const n = sc.nodes;
  const first = n - sc.joiners;
  if (sc.joiners < 1 || first < 3) throw new RangeError(`join wave: need 1 ≤ joiners ≤ nodes − 3, got ${sc.joiners} of ${n}`);
  for (let i = 0; i < first; i++) c.startConverged(i);
  const phaseMax = sc.phaseMaxMs ?? 180_000;
  c.runUntil(() => c.allStableAlike(), phaseMax);
  const counters = (): Counters => ({ notes: c.notes, noteBytes: c.noteBytes, direct: c.sim.dataPackets, directBytes: c.sim.dataBytes, packetBytes: c.sim.bytes, streamBytes: c.sim.streamBytes });
  const quietFrom = counters();
  c.run(10_000);
  const start = counters();
  const t0 = c.sim.now;
  const waveMs = sc.waveMs ?? 2_000;
  const rng = seededRng(sc.seed ^ 0x10a2_ce11);
  let started = 0;
  for (let j = first; j < n; j++) {
    const seeds = [rng.int(first), rng.int(first), rng.int(first)];
    c.sim.at(t0 + rng.next() * waveMs, () => {
      c.join(j, seeds);
      started++;
    });
  }
  const hit = c.runUntil(() => started === sc.joiners && c.allStableAlike(), phaseMax);
  const mid = counters();
  const t1 = c.sim.now;
  c.run(sc.afterMs ?? 30_000);
  const end = counters();
  const live = c.live().length;
  const cost = (a: Counters, b: Counters, ms: number): NoteCost => {
    const per = (x: number): number => (ms > 0 ? x / live / (ms / 1000) : 0);
    return {
      ms,
      notesPerNodeS: per(b.notes - a.notes + b.direct - a.direct),
      piggybackedBytesPerNodeS: per(b.noteBytes - a.noteBytes),
      directNotesPerNodeS: per(b.direct - a.direct),
      directBytesPerNodeS: per(b.directBytes - a.directBytes),
      packetBytesPerNodeS: per(b.packetBytes - a.packetBytes),
      streamBytesPerNodeS: per(b.streamBytes - a.streamBytes),
    };
  };
  return {
    nodes: n, joiners: sc.joiners, seed: sc.seed, loss: sc.loss, settleMs: sc.settleMs,
    stableMs: hit === null ? null : hit - t0,
    during: cost(start, mid, t1 - t0), after: cost(mid, end, c.sim.now - t1),
    notesBefore: start.notes - quietFrom.notes + start.direct - quietFrom.direct,
    checker: c.checker,
  };
}
