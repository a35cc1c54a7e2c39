import type { Rng } from '../rng.js';
import type { StateSettings } from './options.js';

/**
 * Idle and active mode, and the two rounds it paces. A node is active for `activeWindowMs`
 * after its state changed, a member joined or a peer's root differed from its own, and while it
 * is busy (acknowledgements to send, a session open, a stability generation to take part in,
 * `syncFirst` before its first complete session): a digest round every `digestIntervalMs` and an
 * anti-entropy round every `antiEntropyIntervalMs` (± half). Idle: one digest (its root alone) to
 * one peer every `idleDigestIntervalMs`, no session (a receiver whose root differs starts one).
 */
export class Activity {
  /** When this node last had a reason to be active. */
  private lastActiveMs: number;
  private nextAeMs: number;
  private nextDigestMs: number;

  constructor(
    private readonly rng: Rng,
    private readonly s: StateSettings,
    now: number,
    /** Whether something in progress keeps the node active (see above). */
    private readonly busy: (now: number) => boolean,
  ) {
    this.lastActiveMs = now - s.activeWindowMs; // idle from the start: a change, a joiner's differing root or a busy part wakes it
    this.nextAeMs = now + rng.next() * s.antiEntropyIntervalMs;
    this.nextDigestMs = now + rng.next() * s.digestIntervalMs;
  }

  /** Something changed or differs: digest rounds and anti-entropy resume now, not at the idle period. */
  markActive(now: number): void {
    this.lastActiveMs = now;
    // Rounds scheduled at the idle pace come forward (also when something busy kept the node
    // "active" while its timers still ran at the idle pace, e.g. acknowledgements waiting).
    if (this.nextDigestMs > now + this.s.digestIntervalMs) this.nextDigestMs = now + this.rng.next() * this.s.digestIntervalMs;
    if (this.nextAeMs > now + this.s.antiEntropyIntervalMs) this.nextAeMs = now + this.s.antiEntropyIntervalMs * (0.5 + this.rng.next());
  }

  isActive(now: number): boolean {
    return now < this.lastActiveMs + this.s.activeWindowMs || this.busy(now);
  }

  /** Whether an anti-entropy session is due now (active only; an idle node just moves its timer on). */
  antiEntropyDue(now: number, active: boolean): boolean {
    if (now < this.nextAeMs) return false;
    if (!active) {
      this.nextAeMs = now + this.s.idleDigestIntervalMs; // idle: sessions start from a differing digest
      return false;
    }
    this.nextAeMs = now + this.s.antiEntropyIntervalMs * (0.5 + this.rng.next());
    return true;
  }

  /** Whether a digest round (active) or an idle digest is due now. */
  digestDue(now: number, active: boolean): boolean {
    if (now < this.nextDigestMs) return false;
    this.nextDigestMs = now + (active ? this.s.digestIntervalMs : this.s.idleDigestIntervalMs);
    return true;
  }

  /** The earlier of the two rounds. */
  nextRoundMs(): number {
    return Math.min(this.nextAeMs, this.nextDigestMs);
  }
}
