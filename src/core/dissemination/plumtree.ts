import type { Address } from '../ids.js';
import type { Rng } from '../rng.js';
import type { UpdateRef } from './messages.js';

/**
 * Plumtree's tunables (Leitão, Pereira, Rodrigues 2007, "Epidemic Broadcast Trees").
 * Eager peers get every new update at once (the tree); lazy peers get "I have" announcements.
 */
export interface PlumtreeConfig {
  /** Eager links a node opens when it starts (symmetric: each asks its peer to push to it too). */
  readonly eagerPeers: number;
  /**
   * Of those, how many are chosen at random whatever the distance (the rest are the nearest
   * of `candidates` sampled peers when an RTT estimate is available): the random links keep
   * regions connected, the near ones make the tree's paths short.
   */
  readonly randomEager: number;
  /**
   * Lazy links a node opens when it starts besides (the next nearest, or random): more peers
   * to hear "I have" from when the tree is cut, without the first update's flood over them.
   */
  readonly lazyPeers: number;
  /** Peers sampled to choose the near eager peers from. */
  readonly candidates: number;
  /** A missing update announced by a lazy peer is grafted this long after the first announcement. */
  readonly graftTimeoutMs: number;
  /** Then, while it is still missing, the next announcer is grafted after this. */
  readonly retryGraftMs: number;
  /** Announcements are batched for this long (one "I have" per lazy peer per batch). */
  readonly ihaveDelayMs: number;
  /**
   * An origin's tree not used (no update, announcement, prune or graft of that origin) for this
   * long is forgotten; if the origin writes again, its tree starts again from the shared links.
   * Peers that membership declared dead are remembered (not relinked by late messages) as long.
   */
  readonly treeIdleMs: number;
  /** At most this many origins' trees are kept; a new one evicts the least recently used. */
  readonly maxTrees: number;
}

export const DEFAULT_PLUMTREE: PlumtreeConfig = {
  eagerPeers: 2, randomEager: 1, lazyPeers: 2, candidates: 16, graftTimeoutMs: 300, retryGraftMs: 200, ihaveDelayMs: 50, treeIdleMs: 300_000, maxTrees: 1024,
};

/** A GRAFT to send: ask `to` for `refs` and push to us from now on (empty refs: just the link). */
export interface GraftOut {
  readonly to: Address;
  readonly refs: UpdateRef[];
}

interface Missing {
  readonly ref: UpdateRef;
  /** Peers that announced it, in order; the next to graft is `announcers[next]`. */
  announcers: Address[];
  next: number;
  dueMs: number;
}

const refKey = (r: UpdateRef): string => `${r.origin}\u0000${r.version}`;

/** Eager and lazy peers. */
interface Links {
  readonly eager: Set<Address>;
  readonly lazy: Set<Address>;
}

/** One origin's links, with when it was last used (the trees map is in that order: least recent first). */
interface Tree extends Links {
  usedMs: number;
}

/**
 * Plumtree's peer sets and rules, sans-IO (the Disseminator sends what they decide), with one
 * tree per origin (the paper's per-sender trees): with several writers, a shared tree is cut
 * whenever concurrent updates from two sources prune each other's links, and every cut costs
 * a graft timeout. A new origin's tree starts as a copy of the shared links (the initial links,
 * pruned and grafted by every origin's traffic, so already close to a tree).
 *
 * - first arrival of an update from a peer → the peer is eager (the link is on the tree);
 * - a duplicate from a peer → the peer is lazy, and a PRUNE tells it to make us lazy too;
 * - an "I have" for an update we lack starts a timer; if the update has not come when it
 *   fires, a GRAFT goes to the announcer (which makes the link eager and sends the update),
 *   and the next announcer is tried `retryGraftMs` later;
 * - a GRAFT received makes its sender eager.
 *
 * Links start symmetric: a node's initial eager peers (nearest by `rtt` where known, plus
 * random ones) get an empty GRAFT, so they push to it as it pushes to them.
 *
 * Membership ends links (the paper's NeighborDown): a peer declared dead or gone (`peerDown`)
 * leaves every set at once, its pending announcements and its place among announcers to graft;
 * while it is remembered as down (`treeIdleMs`), late messages from it make no link. If it was
 * eager anywhere, the caller opens one new eager link (`replace`: the nearest by `rtt`, else
 * random), so this node's part of every tree stays joined without waiting for a graft. A peer
 * that comes back (`peerUp`) is new: in no set until it grafts or announces, as at start.
 *
 * Trees are forgotten after `treeIdleMs` unused, at once when their origin is down, and beyond
 * `maxTrees` (least recently used first): with writers coming and going, the state is bounded.
 */
export class Plumtree {
  /** The shared links, from which each origin's tree starts. */
  readonly shared: Links = { eager: new Set(), lazy: new Set() };
  /** Per origin, least recently used first. */
  private readonly trees = new Map<string, Tree>();
  private readonly missing = new Map<string, Missing>();
  private readonly pendingIHave = new Map<Address, UpdateRef[]>();
  /** Peers membership declared dead or gone, with when (oldest first). */
  private readonly down = new Map<Address, number>();
  private ihaveAtMs = Infinity;
  private started = false;

  constructor(
    readonly config: PlumtreeConfig,
    private readonly rng: Rng,
    private readonly rtt: ((peer: Address) => number | undefined) | null,
  ) {}

  /**
   * The initial eager links from `candidates` (distinct peers, sampled by the caller): the
   * nearest `eagerPeers − randomEager` by estimated RTT, the rest at random; without
   * estimates, `eagerPeers` at random; then `lazyPeers` lazy links the same way. Returns the
   * empty GRAFTs ("I have" for the lazy ones) that make the links symmetric.
   */
  start(now: number, candidates: readonly Address[]): { grafts: GraftOut[]; lazies: GraftOut[] } {
    this.started = true;
    const c = this.config;
    const pool = candidates.filter((p) => !this.down.has(p));
    const eagers = this.choose(pool, c.eagerPeers, c.eagerPeers - c.randomEager);
    const lazies = this.choose(pool, c.lazyPeers, c.lazyPeers);
    const grafts: GraftOut[] = [];
    const announced: GraftOut[] = [];
    for (const p of eagers) {
      if (this.shared.eager.has(p) || this.shared.lazy.has(p)) continue;
      this.grafted(now, p, []);
      grafts.push({ to: p, refs: [] });
    }
    for (const p of lazies) {
      if (this.shared.eager.has(p) || this.shared.lazy.has(p)) continue;
      this.shared.lazy.add(p);
      for (const t of this.trees.values()) if (!t.eager.has(p)) t.lazy.add(p);
      announced.push({ to: p, refs: [] });
    }
    return { grafts, lazies: announced };
  }

  /**
   * Takes `k` peers out of `pool`: the `nearK` nearest by estimated RTT (those with an
   * estimate), then random ones.
   */
  private choose(pool: Address[], k: number, nearK: number): Address[] {
    const chosen: Address[] = [];
    const rtt = this.rtt;
    if (rtt !== null && nearK > 0) {
      const withRtt = pool.map((p) => ({ p, r: rtt(p) })).filter((x): x is { p: Address; r: number } => x.r !== undefined && Number.isFinite(x.r));
      withRtt.sort((a, b) => a.r - b.r);
      for (const x of withRtt) {
        if (chosen.length >= nearK) break;
        chosen.push(x.p);
        pool.splice(pool.indexOf(x.p), 1);
      }
    }
    while (chosen.length < k && pool.length > 0) chosen.push(pool.splice(this.rng.int(pool.length), 1)[0] as Address);
    return chosen;
  }

  /** Whether `start` has run. */
  get isStarted(): boolean {
    return this.started;
  }

  /** Origins whose tree is kept. */
  get treeCount(): number {
    return this.trees.size;
  }

  /** Peers remembered as down. */
  get downCount(): number {
    return this.down.size;
  }

  isDown(peer: Address): boolean {
    return this.down.has(peer);
  }

  /** Eager peers of an origin's tree (the shared links until it has one). */
  eagerOf(origin: string): ReadonlySet<Address> {
    return (this.trees.get(origin) ?? this.shared).eager;
  }

  lazyOf(origin: string): ReadonlySet<Address> {
    return (this.trees.get(origin) ?? this.shared).lazy;
  }

  /** An origin's tree, made from the shared links if new (evicting the least recently used past `maxTrees`), marked used now. */
  private tree(now: number, origin: string): Tree {
    let t = this.trees.get(origin);
    if (t !== undefined) {
      if (t.usedMs < now) {
        // Map order is use order: move it to the end.
        this.trees.delete(origin);
        this.trees.set(origin, t);
        t.usedMs = now;
      }
      return t;
    }
    if (this.trees.size >= this.config.maxTrees) {
      const oldest = this.trees.keys().next();
      if (oldest.done !== true) this.trees.delete(oldest.value);
    }
    t = { eager: new Set(this.shared.eager), lazy: new Set(this.shared.lazy), usedMs: now };
    this.trees.set(origin, t);
    return t;
  }

  /**
   * Membership says `peer` is dead or has left (`origin`: its member name, whose tree goes
   * too): it leaves every set. True when it was an eager link somewhere (then `replace`).
   */
  peerDown(now: number, peer: Address, origin?: string): boolean {
    this.down.delete(peer);
    this.down.set(peer, now);
    if (origin !== undefined) this.trees.delete(origin);
    this.pendingIHave.delete(peer);
    for (const m of this.missing.values()) {
      const at = m.announcers.indexOf(peer);
      if (at < 0) continue;
      m.announcers.splice(at, 1);
      if (at < m.next) m.next--;
    }
    // Every tree's peers are among the shared links' (which only ever gain peers but here).
    if (!this.shared.eager.has(peer) && !this.shared.lazy.has(peer)) return false;
    let wasEager = this.shared.eager.delete(peer);
    this.shared.lazy.delete(peer);
    for (const t of this.trees.values()) {
      if (t.eager.delete(peer)) wasEager = true;
      t.lazy.delete(peer);
    }
    return wasEager;
  }

  /** Membership says `peer` is alive again: it may link again, as a new peer. */
  peerUp(peer: Address): void {
    this.down.delete(peer);
  }

  /**
   * A new eager link in place of a dead one, from `candidates` (sampled live peers): the
   * nearest by RTT (a random one without estimates) of those not linked yet, else of the lazy
   * ones (a lazy link closes a cycle, so it more likely joins what is joined already). Returns
   * the empty GRAFT that makes it symmetric (none when no candidate is left).
   */
  replace(now: number, candidates: readonly Address[]): GraftOut[] {
    const live = candidates.filter((p) => !this.down.has(p) && !this.shared.eager.has(p));
    const unlinked = live.filter((p) => !this.shared.lazy.has(p));
    const p = this.choose(unlinked.length > 0 ? unlinked : live, 1, 1)[0];
    if (p === undefined) return [];
    this.grafted(now, p, []);
    return [{ to: p, refs: [] }];
  }

  /** The first copy of an update came from `from` (null: our own): the link is on the tree. */
  firstArrival(now: number, from: Address | null, ref: UpdateRef): void {
    this.missing.delete(refKey(ref));
    const t = this.tree(now, ref.origin);
    if (from === null || this.down.has(from)) return;
    eager(t, from);
    eager(this.shared, from);
  }

  /** A copy of an update of `origin` we already had came from `from`: true when a PRUNE should tell it (it was eager). */
  duplicate(now: number, from: Address, origin: string): boolean {
    if (this.down.has(from)) return false;
    const t = this.tree(now, origin);
    const wasEager = t.eager.has(from);
    lazy(t, from);
    lazy(this.shared, from);
    return wasEager;
  }

  /** `from` pruned its links to us for these updates' origins. */
  pruned(now: number, from: Address, refs: readonly UpdateRef[]): void {
    if (this.down.has(from)) return;
    for (const r of refs) lazy(this.tree(now, r.origin), from);
    lazy(this.shared, from);
  }

  /** `from` grafted: it wants our pushes of these updates' origins (none: of every origin, a new link). */
  grafted(now: number, from: Address, refs: readonly UpdateRef[]): void {
    if (this.down.has(from)) return;
    eager(this.shared, from);
    if (refs.length === 0) for (const t of this.trees.values()) eager(t, from);
    for (const r of refs) eager(this.tree(now, r.origin), from);
  }

  /** The update arrived some other way (a pull): nothing to graft for it. */
  received(ref: UpdateRef): void {
    this.missing.delete(refKey(ref));
  }

  /** `from` announced updates; `have` says which are here already. */
  announced(now: number, from: Address, refs: readonly UpdateRef[], have: (r: UpdateRef) => boolean): void {
    if (this.down.has(from)) return;
    if (!this.shared.eager.has(from)) this.shared.lazy.add(from);
    for (const r of refs) {
      const t = this.tree(now, r.origin);
      if (!t.eager.has(from)) t.lazy.add(from);
      if (have(r)) continue;
      const k = refKey(r);
      const m = this.missing.get(k);
      if (m === undefined) this.missing.set(k, { ref: { origin: r.origin, version: r.version }, announcers: [from], next: 0, dueMs: now + this.config.graftTimeoutMs });
      else if (!m.announcers.includes(from) && m.announcers.length < 16) m.announcers.push(from);
    }
  }

  /** Announces an update to every lazy peer except `except` (batched until `ihaveDelayMs`). */
  announce(now: number, ref: UpdateRef, except: Address | null): void {
    for (const p of this.tree(now, ref.origin).lazy) {
      if (p === except) continue;
      let refs = this.pendingIHave.get(p);
      if (refs === undefined) this.pendingIHave.set(p, (refs = []));
      refs.push(ref);
    }
    if (this.pendingIHave.size > 0 && this.ihaveAtMs === Infinity) this.ihaveAtMs = now + this.config.ihaveDelayMs;
  }

  /** Eager peers of `origin`'s tree to push a new update to (all but the one it came from). */
  pushTargets(now: number, origin: string, except: Address | null): Address[] {
    const out: Address[] = [];
    for (const p of this.tree(now, origin).eager) if (p !== except) out.push(p);
    return out;
  }

  /** The next time `due` has something to do. */
  nextDeadline(): number {
    let t = this.ihaveAtMs;
    for (const m of this.missing.values()) if (m.dueMs < t) t = m.dueMs;
    return t;
  }

  /**
   * What is due at `now`: the batched announcements and the grafts for updates still missing.
   * Forgets trees unused and down peers remembered for `treeIdleMs`.
   */
  due(now: number): { ihaves: GraftOut[]; grafts: GraftOut[] } {
    const idle = this.config.treeIdleMs;
    for (const [origin, t] of this.trees) {
      if (t.usedMs + idle > now) break;
      this.trees.delete(origin);
    }
    for (const [p, at] of this.down) {
      if (at + idle > now) break;
      this.down.delete(p);
    }
    const ihaves: GraftOut[] = [];
    if (now >= this.ihaveAtMs) {
      for (const [to, refs] of this.pendingIHave) ihaves.push({ to, refs });
      this.pendingIHave.clear();
      this.ihaveAtMs = Infinity;
    }
    const byPeer = new Map<Address, UpdateRef[]>();
    for (const [k, m] of this.missing) {
      if (m.dueMs > now) continue;
      const to = m.announcers[m.next];
      if (to === undefined) {
        // Every announcer was tried: the engine's pull repair finishes it.
        this.missing.delete(k);
        continue;
      }
      m.next++;
      m.dueMs = now + this.config.retryGraftMs;
      let refs = byPeer.get(to);
      if (refs === undefined) byPeer.set(to, (refs = []));
      refs.push(m.ref);
    }
    const grafts: GraftOut[] = [];
    for (const [to, refs] of byPeer) {
      this.grafted(now, to, refs);
      grafts.push({ to, refs });
    }
    return { ihaves, grafts };
  }
}

function eager(l: Links, p: Address): void {
  l.lazy.delete(p);
  l.eager.add(p);
}

function lazy(l: Links, p: Address): void {
  l.eager.delete(p);
  l.lazy.add(p);
}
