import type { PeerSampler } from '../../../src/core/dissemination/disseminator.js';
import type { Address, Millis } from '../../../src/core/ids.js';
import { nodeName } from '../../../src/core/ids.js';
import type { Rng } from '../../../src/core/rng.js';
import { seededRng } from '../../../src/core/rng.js';
import type { Replica } from '../../../src/core/replica/replica.js';
import type { StateNodeOptions } from '../../../src/core/state/options.js';
import type { StateEvent } from '../../../src/core/state/outbox.js';
import { StateNode } from '../../../src/core/state/state-node.js';
import { stateSizes } from '../../../src/wire/state.js';
import { VirtualNet } from '../../support/virtual-net.js';

/** What a StateNode sends. */
type StateTransmit = NonNullable<ReturnType<StateNode['pollTransmit']>>;

/**
 * A few StateNodes on the test network (test/support/virtual-net.ts): explicit time in 1 ms
 * steps, every message 1 ms on its way, cuts between groups, no loss.
 */
export class Cluster {
  readonly nodes: Map<string, StateNode>;
  readonly events: { node: string; e: StateEvent }[];
  /** Called with every message a node sends (its counted bytes, its kind), when set. */
  onSend: ((node: string, at: number, bytes: number, type: StateTransmit['message']['type']) => void) | null = null;
  private readonly net = new VirtualNet<StateTransmit, StateEvent, StateNode>({
    latencyMs: 1,
    stepMs: 1,
    route: (net, from, t) => {
      this.onSend?.(from, net.now, t.bytes, t.message.type);
      net.send(from, t.to, t, () => net.node(t.to).handleMessage(net.now as Millis, from as Address, t.message));
    },
  });
  private readonly rng: Rng;

  constructor(names: readonly string[], private readonly opts: Partial<StateNodeOptions> = {}, seed = 1) {
    this.nodes = this.net.nodes;
    this.events = this.net.events;
    this.rng = seededRng(seed);
    for (const n of names) this.boot(n);
    for (const [name, s] of this.nodes) {
      s.setMembers(0, names.map(nodeName));
      this.net.drain(name); // what joining sends (root probes) leaves now
    }
  }

  get now(): number {
    return this.net.now;
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
    return this.net.add(name, s);
  }

  node(name: string): StateNode {
    return this.net.node(name);
  }

  crash(name: string): Replica {
    return this.net.remove(name).replica;
  }

  /** Only nodes in the same group talk. */
  partition(groups: Record<string, number>): void {
    this.net.partition(groups);
  }

  heal(): void {
    this.net.heal();
  }

  reachable(a: string, b: string): boolean {
    return this.net.reachable(a, b);
  }

  /** Runs until `untilMs`, in 1 ms steps. */
  run(untilMs: number): void {
    this.net.runUntil(untilMs);
  }

  /** Applies an operation on a node now and sends what it produced. */
  on(name: string, fn: (s: StateNode, now: number) => void): void {
    this.net.input(name, fn);
  }

  roots(): string[] {
    return [...this.nodes.values()].map((s) => s.root());
  }

  converged(): boolean {
    return new Set(this.roots()).size === 1;
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
