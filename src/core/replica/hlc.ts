/**
 * Hybrid logical clock (Kulkarni et al., OPODIS 2014; theory.md §8): a timestamp (l, c) with
 * l the highest physical time seen in ms (48 bits) and c a 16-bit counter that orders events
 * within one l. Local or send event: l' = max(l, pt); c' = (l' = l) ? c + 1 : 0. Receive of
 * (lm, cm): l' = max(l, lm, pt); c' follows whichever of l, lm tied for the max (max of their
 * counters + 1), or 0 when pt alone is the max. So e → f implies hlc(e) < hlc(f), and l − pt
 * stays within the clock-sync error ε.
 *
 * Drift guard: a remote timestamp with lm − pt > `maxDriftMs` (a peer clock running ahead by
 * more than ε) is not adopted: `update` returns false, leaves the clock untouched and counts it
 * in `driftRejected`. Pulling our clock forward by a broken peer's error would let every later
 * local write inherit it; the caller decides what to do with the data (the replica still merges
 * it, so replicas converge, and reports the count).
 *
 * When c would pass 0xffff, l advances by 1 ms instead (l then leads pt by at most that many ms).
 */
export interface HlcTimestamp {
  /** Milliseconds (48 bits). */
  readonly l: number;
  /** Counter within `l` (16 bits). */
  readonly c: number;
}

export const HLC_COUNTER_MAX = 0xffff;
/** Default ε for the drift guard (theory.md §8: "e.g. 500 ms"). */
export const DEFAULT_MAX_DRIFT_MS = 500;

/** Total order on (l, c): negative, zero or positive. */
export function compareHlc(al: number, ac: number, bl: number, bc: number): number {
  return al !== bl ? al - bl : ac - bc;
}

/** `compareHlc` on timestamp objects. */
export function compareTimestamps(a: HlcTimestamp, b: HlcTimestamp): number {
  return compareHlc(a.l, a.c, b.l, b.c);
}

/** 64-bit packing as two uint32 halves: hi = l / 2^16, lo = (l mod 2^16) << 16 | c. */
export function packHlc(t: HlcTimestamp, out: Uint32Array): Uint32Array {
  out[0] = Math.floor(t.l / 65536);
  out[1] = (((t.l % 65536) << 16) | t.c) >>> 0;
  return out;
}

export class Hlc {
  /** Current logical ms. Read after `tick`/`update` to avoid allocating a timestamp. */
  l = 0;
  /** Current counter. */
  c = 0;
  /** Remote timestamps refused by the drift guard. */
  driftRejected = 0;
  /** Largest lm − pt seen among refused timestamps (ms). */
  driftMaxMs = 0;

  constructor(readonly maxDriftMs: number = DEFAULT_MAX_DRIFT_MS) {
    if (!(maxDriftMs >= 0)) throw new RangeError(`maxDriftMs must be ≥ 0, got ${maxDriftMs}`);
  }

  /** A local or send event at physical time `physicalMs`; the result is in `l`, `c`. */
  tick(physicalMs: number): void {
    const pt = Math.floor(physicalMs);
    if (pt > this.l) {
      this.l = pt;
      this.c = 0;
    } else if (this.c < HLC_COUNTER_MAX) {
      this.c++;
    } else {
      this.l++;
      this.c = 0;
    }
  }

  /** `tick`, returned as a timestamp. */
  now(physicalMs: number): HlcTimestamp {
    this.tick(physicalMs);
    return { l: this.l, c: this.c };
  }

  /**
   * A receive event carrying (remoteL, remoteC). False (clock unchanged, counted) when the
   * drift guard refuses it.
   */
  observe(remoteL: number, remoteC: number, physicalMs: number): boolean {
    const pt = Math.floor(physicalMs);
    if (remoteL - pt > this.maxDriftMs) {
      this.driftRejected++;
      if (remoteL - pt > this.driftMaxMs) this.driftMaxMs = remoteL - pt;
      return false;
    }
    const l = Math.max(this.l, remoteL, pt);
    let c: number;
    if (l === this.l && l === remoteL) c = Math.max(this.c, remoteC) + 1;
    else if (l === this.l) c = this.c + 1;
    else if (l === remoteL) c = remoteC + 1;
    else c = 0;
    if (c > HLC_COUNTER_MAX) {
      this.l = l + 1;
      this.c = 0;
    } else {
      this.l = l;
      this.c = c;
    }
    return true;
  }

  /** `observe` of a timestamp; the new local timestamp, or undefined when refused. */
  update(remote: HlcTimestamp, physicalMs: number): HlcTimestamp | undefined {
    return this.observe(remote.l, remote.c, physicalMs) ? { l: this.l, c: this.c } : undefined;
  }
}
