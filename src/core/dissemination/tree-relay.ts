import type { TrafficClass } from '../control/bandwidth.js';
import type { Address } from '../ids.js';
import type { Held, DisseminationStats } from './engine-types.js';
import type { DisseminationMessage, GossipRequest, TreeMessage, UpdateRef } from './messages.js';
import { checkTreeMessage } from './messages.js';
import type { Plumtree } from './plumtree.js';

/** What the relay needs of its disseminator: sending, sizes, the updates it holds, its peers. */
export interface TreeHost<P> {
  readonly stats: DisseminationStats;
  send(to: Address, message: DisseminationMessage<P>, bytes: number, cls: TrafficClass): void;
  frame(message: DisseminationMessage<P>): number;
  nextRequestId(): number;
  held(ref: UpdateRef): Held<P> | undefined;
  covers(ref: UpdateRef): boolean;
  /** Candidate peers for new links (the disseminator's sampler). */
  candidates(): Address[];
}

/**
 * Mode 'plumtree' on the wire: turns the tree's decisions (`Plumtree`: eager and lazy sets,
 * GRAFT, PRUNE, "I have") into messages, and tree messages from peers into its rules.
 */
export class TreeRelay<P> {
  constructor(readonly tree: Plumtree, private readonly host: TreeHost<P>) {}

  /** A first arrival (or our own update): eager peers get it now, lazy ones an "I have" soon. */
  forward(now: number, h: Held<P>, from: Address | null): void {
    const tree = this.tree;
    if (!tree.isStarted) this.start(now);
    const ref = { origin: h.update.origin, version: h.update.version };
    tree.firstArrival(now, from, ref);
    for (const to of tree.pushTargets(now, ref.origin, from)) this.push(to, [h]);
    tree.announce(now, ref, from);
  }

  /** Opens the initial links: an empty GRAFT to each eager peer, an empty "I have" to each lazy one. */
  start(now: number): void {
    const { grafts, lazies } = this.tree.start(now, this.host.candidates());
    this.send(grafts, 'graft');
    this.send(lazies, 'ihave');
  }

  /** Membership says `peer` is down: a replacement link where it was eager. */
  peerDown(now: number, peer: Address, name?: string): void {
    if (!this.tree.peerDown(now, peer, name) || !this.tree.isStarted) return;
    this.send(this.tree.replace(now, this.host.candidates()), 'graft');
  }

  /** The "I have" batches and GRAFTs now due. */
  due(now: number): void {
    const { ihaves, grafts } = this.tree.due(now);
    this.send(ihaves, 'ihave');
    this.send(grafts, 'graft');
  }

  send(out: readonly { to: Address; refs: UpdateRef[] }[], type: TreeMessage['type']): void {
    for (const o of out) {
      const msg: TreeMessage = { type, updates: [], refs: o.refs };
      this.host.send(o.to, msg, this.host.frame(msg), 'normal');
    }
  }

  /** A PRUNE, "I have" or GRAFT from a peer (checked here; throws `MalformedMessage`). */
  handle(now: number, from: Address, m: TreeMessage): void {
    const tree = this.tree;
    checkTreeMessage(m);
    // A late message from a peer membership declared down makes no link and gets no answer.
    if (tree.isDown(from)) return;
    if (m.type === 'prune') return tree.pruned(now, from, m.refs);
    if (m.type === 'ihave') return tree.announced(now, from, m.refs, (r) => this.host.covers(r));
    tree.grafted(now, from, m.refs);
    const held: Held<P>[] = [];
    for (const r of m.refs) {
      const h = this.host.held(r);
      if (h !== undefined) held.push(h);
    }
    if (held.length > 0) this.push(from, held);
  }

  private push(to: Address, held: readonly Held<P>[]): void {
    const msg: GossipRequest<P> = { type: 'gossip', id: this.host.nextRequestId(), updates: held.map((h) => h.update), digest: null, feedback: false, hops: null };
    let bytes = this.host.frame(msg);
    for (const h of held) bytes += h.bytes;
    this.host.send(to, msg, bytes, held.some((h) => h.update.critical) ? 'critical' : 'normal');
    this.host.stats.pushPayloads += held.length;
    this.host.stats.payloadsOut += held.length;
  }
}
