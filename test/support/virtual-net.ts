/**
 * The one in-memory network the unit tests run sans-IO nodes on (SerfNodes, StateNodes, the
 * runtime's StateMachines, Disseminators): named endpoints on virtual time, a deliver loop, cut
 * links (partition groups and a `drop` rule), loss drawn from a seeded Rng. Each test's harness
 * is a thin adapter: it says how a transmit is routed (`route`, which calls `send`).
 *
 * Delivery, by `latencyMs`:
 * - 0: at once, in send order, inside `flush`; the recipient's own sends go out in the next pass
 *   of the flush (every node is drained until nothing moves).
 * - > 0: at `now + latencyMs`, in (time, send order); the recipient is drained after each.
 *
 * `runUntil` alternates: deliver what is due, then fire every node whose `pollTimeout()` is due
 * (in the order the nodes were added) and drain them, then jump to the next deadline. With `stepMs`, time
 * moves in steps of that size (a deadline at 5.5 fires at 6 with `stepMs` 1).
 */
import type { Rng } from '../../src/core/rng.js';
import { seededRng } from '../../src/core/rng.js';

/** What a sans-IO node offers the loop (transmits and events are drained by the net). */
export interface Endpoint<T, E> {
  pollTransmit(): T | undefined;
  pollEvent(): E | undefined;
  pollTimeout(): number | undefined;
  handleTimeout(now: number): void;
}

export interface VirtualNetOptions<T, E, N extends Endpoint<T, E>> {
  /** Routes one transmit of node `from`: usually `net.send(from, to, t, () => to.handle…)`. */
  readonly route: (net: VirtualNet<T, E, N>, from: string, t: T) => void;
  readonly latencyMs?: number;
  /** Probability that a sent transmit is lost (drawn from the net's Rng). */
  readonly loss?: number;
  readonly seed?: number;
  readonly stepMs?: number;
  /** Leave events on the nodes (the test polls them itself) instead of recording them in `events`. */
  readonly leaveEvents?: boolean;
  /** Where each event goes instead of `events`. */
  readonly onEvent?: (node: string, e: E, now: number) => void;
}

interface Delivery {
  readonly at: number;
  readonly seq: number;
  readonly to: string | null;
  readonly run: () => void;
}

export class VirtualNet<T, E, N extends Endpoint<T, E> = Endpoint<T, E>> {
  now = 0;
  latencyMs: number;
  loss: number;
  readonly stepMs: number;
  readonly rng: Rng;
  readonly leaveEvents: boolean;
  readonly nodes = new Map<string, N>();
  /** Every event, with the node and the time (unless `leaveEvents` or `onEvent`). */
  readonly events: { readonly node: string; readonly at: number; readonly e: E }[] = [];
  /** Extra cut: a transmit from → to is dropped when it returns true. */
  drop: (from: string, to: string, t: T) => boolean = () => false;
  /** Sees every transmit a node sends (dropped ones included), before it is routed. */
  onSend: ((from: string, t: T, now: number) => void) | null = null;
  /** Transmits that got through (not cut, not lost). */
  delivered = 0;
  private readonly route: (net: VirtualNet<T, E, N>, from: string, t: T) => void;
  private readonly onEvent: ((node: string, e: E, now: number) => void) | undefined;
  private readonly group = new Map<string, number>();
  private queue: Delivery[] = [];
  private seq = 0;

  constructor(o: VirtualNetOptions<T, E, N>) {
    this.route = o.route;
    this.latencyMs = o.latencyMs ?? 0;
    this.loss = o.loss ?? 0;
    this.stepMs = o.stepMs ?? 0;
    this.rng = seededRng(o.seed ?? 1);
    this.leaveEvents = o.leaveEvents ?? false;
    this.onEvent = o.onEvent;
  }

  add(name: string, node: N): N {
    this.nodes.set(name, node);
    return node;
  }

  node(name: string): N {
    const n = this.nodes.get(name);
    if (n === undefined) throw new Error(`no node ${name}`);
    return n;
  }

  /** Takes a node off the network: nothing more reaches it, what was on its way is gone. */
  remove(name: string): N {
    const n = this.node(name);
    this.nodes.delete(name);
    this.queue = this.queue.filter((d) => d.to !== name);
    return n;
  }

  /** Only nodes of the same group talk (unlisted nodes are in group 0). */
  partition(groups: Readonly<Record<string, number>>): void {
    for (const [n, g] of Object.entries(groups)) this.group.set(n, g);
  }

  heal(): void {
    this.group.clear();
  }

  reachable(a: string, b: string): boolean {
    return (this.group.get(a) ?? 0) === (this.group.get(b) ?? 0);
  }

  /** Whether a transmit from → to gets through now: its link is not cut and it is not lost. */
  passes(from: string, to: string, t: T): boolean {
    if (!this.reachable(from, to) || this.drop(from, to, t)) return false;
    return this.loss === 0 || this.rng.next() >= this.loss;
  }

  /** Sends `t` from → to if it `passes`: `deliver` runs on arrival. Returns whether it got through. */
  send(from: string, to: string, t: T, deliver: () => void): boolean {
    if (!this.passes(from, to, t)) return false;
    this.delivered++;
    this.after(to, deliver);
    return true;
  }

  /** Runs `fn` on arrival at `to` (null: a node that need not exist), after the latency; at once when it is 0. */
  after(to: string | null, fn: () => void): void {
    if (this.latencyMs === 0) {
      if (to === null || this.nodes.has(to)) fn();
      return;
    }
    this.queue.push({ at: this.now + this.latencyMs, seq: this.seq++, to, run: fn });
  }

  /** Runs an input on one node now, then sends what follows from it. */
  input(name: string, fn: (n: N, now: number) => void): void {
    fn(this.node(name), this.now);
    this.flush();
  }

  /** Sends one node's transmits and records its events. */
  drain(name: string): void {
    const n = this.nodes.get(name);
    if (n === undefined) return;
    this.drainNode(name, n);
  }

  /** Drains every node until nothing moves (with latency 0, deliveries happen here). */
  flush(): void {
    for (let guard = 0, moved = true; moved; guard++) {
      if (guard > 100_000) throw new Error('flush: message storm');
      moved = false;
      for (const [name, n] of this.nodes) if (this.drainNode(name, n)) moved = true;
    }
  }

  /** Delivers and fires timers in time order until `untilMs` (inclusive), then sets the clock to it. */
  runUntil(untilMs: number): void {
    for (let guard = 0; ; guard++) {
      if (guard > 10_000_000) throw new Error('runUntil: no progress');
      this.flush();
      let next = Infinity;
      for (const d of this.queue) if (d.at < next) next = d.at;
      for (const n of this.nodes.values()) {
        const t = n.pollTimeout();
        if (t !== undefined && t < next) next = t;
      }
      if (this.stepMs > 0) next = Math.ceil(next / this.stepMs) * this.stepMs;
      if (next > untilMs) break;
      this.now = Math.max(this.now, next);
      this.deliverDue();
      // Every due node fires, then they are drained together (the flush above): with latency 0
      // no node hears another's answer before its own timer at the same instant.
      for (const n of this.nodes.values()) {
        const t = n.pollTimeout();
        if (t !== undefined && t <= this.now) n.handleTimeout(this.now);
      }
    }
    this.now = Math.max(this.now, untilMs);
  }

  runFor(ms: number): void {
    this.runUntil(this.now + ms);
  }

  private deliverDue(): void {
    const due = this.queue.filter((d) => d.at <= this.now).sort((a, b) => a.at - b.at || a.seq - b.seq);
    if (due.length === 0) return;
    this.queue = this.queue.filter((d) => d.at > this.now);
    for (const d of due) {
      if (d.to !== null && !this.nodes.has(d.to)) continue;
      d.run();
      if (d.to !== null) this.drain(d.to);
    }
  }

  private drainNode(name: string, n: N): boolean {
    let moved = false;
    for (let t = n.pollTransmit(); t !== undefined; t = n.pollTransmit()) {
      moved = true;
      this.onSend?.(name, t, this.now);
      this.route(this, name, t);
    }
    if (this.leaveEvents) return moved;
    for (let e = n.pollEvent(); e !== undefined; e = n.pollEvent()) {
      if (this.onEvent !== undefined) this.onEvent(name, e, this.now);
      else this.events.push({ node: name, at: this.now, e });
    }
    return moved;
  }
}
