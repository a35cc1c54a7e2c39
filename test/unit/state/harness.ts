import type { PeerSampler } from '../../../src/core/dissemination/disseminator.js';
import type { Address, Millis } from '../../../src/core/ids.js';
import { nodeName } from '../../../src/core/ids.js';
import type { Rng } from '../../../src/core/rng.js';
import { seededRng } from '../../../src/core/rng.js';
import type { Replica } from '../../../src/core/replica/replica.js';
import type { StateMessage } from '../../../src/core/state/messages.js';
import type { StateNodeOptions } from '../../../src/core/state/options.js';
import type { StateEvent } from '../../../src/core/state/outbox.js';
import { StateNode } from '../../../src/core/state/state-node.js';
import { stateSizes } from '../../../src/wire/state.js';

interface InFlight {
  readonly at: number;
  readonly from: string;
  readonly to: string;
  readonly msg: StateMessage;
}

/** A few StateNodes on explicit time, 1 ms apart, with cuts between groups and no loss. */
export class Cluster {
  readonly nodes = new Map<string, StateNode>();
  readonly events: { node: string; e: StateEvent }[] = [];
  /** Called with every message a node sends (its counted bytes), when set. */
  onSend: ((node: string, at: number, bytes: number) => void) | null = null;
  now = 0;
  private queue: InFlight[] = [];
  private readonly group = new Map<string, number>();
  private readonly rng: Rng;

  constructor(names: readonly string[], private readonly opts: Partial<StateNodeOptions> = {}, seed = 1) {
    this.rng = seededRng(seed);
    for (const n of names) this.boot(n);
    for (const s of this.nodes.values()) s.setMembers(0, names.map(nodeName));
  }

  boot(name: string, durable?: Replica, incarnation = 0, extra: Partial<StateNodeOptions> = {}): StateNode {
    const s = new StateNode({
      replica: { resolvers: { 'c/': { type: 'pncounter' }, 's/': { type: 'orset' } } },
      addressOf: (member: string) => (this.nodes.has(member) ? (member as Address) : undefined),
      ...this.opts,
      ...extra,
      name: nodeName(name), sizes: stateSizes(name), rng: this.rng.fork(), now: this.now, peers: this.sampler(name), incarnation,
      ...(durable !== undefined ? { durable } : {}),
    });
    this.nodes.set(name, s);
    return s;
  }

  node(name: string): StateNode {
    const s = this.nodes.get(name);
    if (s === undefined) throw new Error(`no node ${name}`);
    return s;
  }

  crash(name: string): Replica {
    const r = this.node(name).replica;
    this.nodes.delete(name);
    this.queue = this.queue.filter((m) => m.to !== name);
    return r;
  }

  /** Only nodes in the same group talk. */
  partition(groups: Record<string, number>): void {
    for (const [n, g] of Object.entries(groups)) this.group.set(n, g);
  }

  heal(): void {
    this.group.clear();
  }

  reachable(a: string, b: string): boolean {
    return (this.group.get(a) ?? 0) === (this.group.get(b) ?? 0);
  }

  /** Runs until `untilMs` in 1 ms steps. */
  run(untilMs: number): void {
    for (; this.now <= untilMs; this.now++) {
      const t = this.now;
      const due = this.queue.filter((m) => m.at <= t);
      if (due.length > 0) {
        this.queue = this.queue.filter((m) => m.at > t);
        for (const m of due) {
          const s = this.nodes.get(m.to);
          if (s === undefined) continue;
          s.handleMessage(t as Millis, m.from as Address, m.msg);
          this.drain(m.to, s);
        }
      }
      for (const [name, s] of this.nodes) {
        const next = s.pollTimeout();
        if (next !== undefined && next <= t) {
          s.handleTimeout(t as Millis);
          this.drain(name, s);
        }
      }
    }
    this.now = untilMs;
  }

  /** Applies an operation on a node now and sends what it produced. */
  on(name: string, fn: (s: StateNode, now: number) => void): void {
    const s = this.node(name);
    fn(s, this.now);
    this.drain(name, s);
  }

  roots(): string[] {
    return [...this.nodes.values()].map((s) => s.root());
  }

  converged(): boolean {
    return new Set(this.roots()).size === 1;
  }

  private drain(name: string, s: StateNode): void {
    for (let t = s.pollTransmit(); t !== undefined; t = s.pollTransmit()) {
      this.onSend?.(name, this.now, t.bytes);
      const to = t.to as string;
      if (!this.reachable(name, to)) continue;
      this.queue.push({ at: this.now + 1, from: name, to, msg: t.message });
    }
    for (let e = s.pollEvent(); e !== undefined; e = s.pollEvent()) this.events.push({ node: name, e });
  }

  private sampler(self: string): PeerSampler {
    return {
      size: () => [...this.nodes.keys()].filter((n) => n !== self).length,
      sample: (k: number, rng: Rng): Address[] => {
        const others = [...this.nodes.keys()].filter((n) => n !== self);
        const out: Address[] = [];
        while (out.length < Math.min(k, others.length)) {
          const pick = others[rng.int(others.length)] as string;
          if (!out.includes(pick as Address)) out.push(pick as Address);
        }
        return out;
      },
    };
  }
}

/** A key's value(s) at a node: a register's values, a counter's value, a set's elements. */
export const value = (c: Cluster, n: string, key: string): unknown => {
  const r = c.node(n).get(key);
  return r?.type === 'register' ? r.values : r?.type === 'counter' ? r.value : r?.type === 'set' ? r.elements : undefined;
};
