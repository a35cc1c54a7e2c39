import type { PeerSampler } from '../dissemination/disseminator.js';
import { Disseminator } from '../dissemination/disseminator.js';
import type { DisseminationMessage, GossipReply, UpdateRef } from '../dissemination/messages.js';
import type { Address, Millis, NodeName } from '../ids.js';
import type { Rng } from '../rng.js';
import type { Entry } from '../replica/entry.js';
import type { StateSizes } from './messages.js';
import { isList, MalformedMessage } from './messages.js';
import type { StateSettings } from './options.js';
import type { StateOutbox } from './outbox.js';
import type { ReplicaTree } from './replica-tree.js';

/**
 * Rumors: each local write's entry is pushed by a `Disseminator<Entry>` (`STATE_DISSEMINATION`:
 * push, feedback counter), packed into datagrams by the entries' encoded sizes within the byte
 * budget, and receivers merge it. The engine remembers every update it has seen (to deduplicate),
 * so a new engine ("epoch", origin `name~incarnation.epoch`) starts every `rumorEpochMs`; the
 * previous one is kept one more epoch, its late duplicates answered as known rather than taken as
 * new. A write too large for a packet is left to anti-entropy.
 */
export class Rumors {
  private epoch = 0;
  private current: Disseminator<Entry> | null;
  private previous: Disseminator<Entry> | null = null;
  private nextEpochMs: number;

  constructor(
    private readonly name: NodeName,
    private readonly keys: ReplicaTree,
    private readonly rng: Rng,
    private readonly peers: PeerSampler,
    private readonly sizes: StateSizes,
    private readonly out: StateOutbox,
    private readonly s: StateSettings,
    now: number,
  ) {
    this.current = s.rumors ? this.newEngine(now) : null;
    this.nextEpochMs = now + s.rumorEpochMs;
  }

  /** Updates both engines push now. */
  get hotCount(): number {
    return (this.current?.hotCount ?? 0) + (this.previous?.hotCount ?? 0);
  }

  /** A local write's entry, spread (counted as too large when it does not fit a packet). */
  publish(now: number, key: string, entry: Entry): void {
    if (this.current === null) return;
    try {
      this.current.publish(now as Millis, key, entry);
      this.out.stats.rumorsPublished++;
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      this.out.stats.rumorsTooLarge++;
    }
    this.drain(now, this.current);
  }

  /** A peer's rumor or feedback. */
  handle(now: number, from: Address, g: DisseminationMessage<Entry>): void {
    if (typeof g !== 'object' || g === null) throw new MalformedMessage('state-rumor without a gossip message');
    if (this.current === null) return;
    if (g.type === 'gossip-reply') {
      this.current.handleMessage(now as Millis, from, g);
      this.drain(now, this.current);
      if (this.previous !== null) {
        this.previous.handleMessage(now as Millis, from, g);
        this.drain(now, this.previous);
      }
      return;
    }
    let req = g;
    const prev = this.previous;
    if (prev !== null) {
      if (!isList(g.updates) || !(g.updates as readonly unknown[]).every((u) => typeof u === 'object' && u !== null)) throw new MalformedMessage('state-rumor: updates are not a list of updates');
      if (g.updates.some((u) => prev.has(u.origin, u.version))) {
        // Late duplicates of the previous epoch: answer "known" instead of taking them as new.
        const known: UpdateRef[] = [];
        const keep: number[] = [];
        g.updates.forEach((u, k) => (prev.has(u.origin, u.version) ? known.push({ origin: u.origin, version: u.version }) : keep.push(k)));
        this.out.stats.rumorsLateDuplicate += known.length;
        req = { ...g, updates: keep.map((k) => g.updates[k] as (typeof g.updates)[number]), hops: g.hops === null ? null : keep.map((k) => g.hops?.[k] ?? 1) };
        if (g.feedback) {
          const reply: GossipReply<Entry> = { type: 'gossip-reply', id: g.id, updates: [], known, floors: [] };
          this.out.sendWithin(now, from, { type: 'state-rumor', gossip: reply }, 'normal');
        }
      }
    }
    this.current.handleMessage(now as Millis, from, req);
    this.drain(now, this.current);
  }

  /** A new epoch when due, then both engines' rounds. */
  handleTimeout(now: number): void {
    if (this.current !== null) {
      if (now >= this.nextEpochMs) {
        this.previous?.shutdown();
        this.previous = this.current;
        this.current = this.newEngine(now);
        this.nextEpochMs = now + this.s.rumorEpochMs;
      }
      this.current.handleTimeout(now as Millis);
      this.drain(now, this.current);
    }
    if (this.previous !== null) {
      this.previous.handleTimeout(now as Millis);
      this.drain(now, this.previous);
    }
  }

  /** The earliest of the engines' deadlines and the next epoch, if before `t`. */
  pollTimeout(t: number): number {
    if (this.current !== null) {
      t = Math.min(t, this.nextEpochMs);
      const r = this.current.pollTimeout();
      if (r !== undefined && r < t) t = r;
    }
    if (this.previous !== null) {
      const r = this.previous.pollTimeout();
      if (r !== undefined && r < t) t = r;
    }
    return t;
  }

  private newEngine(now: number): Disseminator<Entry> {
    const origin = `${this.name}~${this.s.incarnation}.${this.epoch++}`;
    const budget = this.out.budget;
    // One bucket for the node's life: every epoch's engine draws from it (the sizes count the frame with its type byte; the rest is framing).
    const b = budget === null ? {} : { bucket: budget.bucket, wireOverheadBytes: budget.overheadBytes };
    return new Disseminator<Entry>({ origin, config: this.s.dissemination, rng: this.rng.fork(), now: now as Millis, peers: this.peers, sizes: { update: this.sizes.rumorUpdate, frame: this.sizes.rumorFrame }, ...b });
  }

  private drain(now: number, d: Disseminator<Entry>): void {
    // The engine counted each message's bytes as it packed it.
    for (let t = d.pollTransmit(); t !== undefined; t = d.pollTransmit()) this.out.sendRumor(t.to, { type: 'state-rumor', gossip: t.message }, t.bytes);
    for (let e = d.pollEvent(); e !== undefined; e = d.pollEvent()) {
      if (e.type === 'protocol-error') {
        this.out.protocolError(e.from, e.detail);
        continue;
      }
      if (e.from === null) continue; // our own write, applied already
      if (this.keys.replica.merge(now, e.update.payload)) {
        this.out.stats.rumorsApplied++;
        this.keys.syncKey(e.update.payload.key);
      }
    }
  }
}
