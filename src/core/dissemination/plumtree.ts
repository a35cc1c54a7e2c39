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
}

export const DEFAULT_PLUMTREE: PlumtreeConfig = { eagerPeers: 2, randomEager: 1, lazyPeers: 2, candidates: 16, graftTimeoutMs: 300, retryGraftMs: 200, ihaveDelayMs: 50 };

/** A GRAFT to send: ask `to` for `refs` and push to us from now on (empty refs: just the link). */
export interface GraftOut {
  readonly to: Address;
  readonly refs: UpdateRef[];
}

interface Missing {
  readonly ref: UpdateRef;
  /** Peers that announced it, in order; the next to graft is `announcers[next]`. */
  readonly announcers: Address[];
  next: number;
  dueMs: number;
}

const refKey = (r: UpdateRef): string => `${r.origin}\u0000${r.version}`;

/** Eager and lazy peers. */
interface Links {
  readonly eager: Set<Address>;
  readonly lazy: Set<Address>;
}

/**
 * Plumtree's peer sets and rules, sans-IO (the Disseminator sends what they decide), with one
 * tree per origin (the paper's per-sender trees): with several writers, a shared tree is cut
 * whenever concurrent updates from two sources prune each other's links, and every cut costs
 * a graft timeout. A new origin's tree starts as a copy of the shared links (the initial links,
 * pruned and grafted by every origin's traffic, so already close to a tree).
 *
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
 */
export class Plumtree {
  /** The shared links, from which each origin's tree starts. */
  readonly shared: Links = { eager: new Set(), lazy: new Set() };
  private readonly trees = new Map<string, Links>();
  private readonly missing = new Map<string, Missing>();
  private readonly pendingIHave = new Map<Address, UpdateRef[]>();
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
  start(candidates: readonly Address[]): { grafts: GraftOut[]; lazies: GraftOut[] } {
    this.started = true;
    const c = this.config;
    const pool = candidates.slice();
    const chosen: Address[] = [];
    const rtt = this.rtt;
    const withRtt = rtt === null ? [] : pool.map((p) => ({ p, r: rtt(p) })).filter((x): x is { p: Address; r: number } => x.r !== undefined && Number.isFinite(x.r));
    withRtt.sort((a, b) => a.r - b.r);
    const near = (k: number): void => {
      for (const x of withRtt) {
        if (k <= 0) break;
        const at = pool.indexOf(x.p);
        if (at < 0) continue;
        chosen.push(x.p);
        pool.splice(at, 1);
        k--;
      }
    };
    near(c.eagerPeers - c.randomEager);
    while (chosen.length < c.eagerPeers && pool.length > 0) chosen.push(pool.splice(this.rng.int(pool.length), 1)[0] as Address);
    const eagerCount = chosen.length;
    near(c.lazyPeers);
    while (chosen.length < eagerCount + c.lazyPeers && pool.length > 0) chosen.push(pool.splice(this.rng.int(pool.length), 1)[0] as Address);
    const grafts: GraftOut[] = [];
    const lazies: GraftOut[] = [];
    chosen.forEach((p, k) => {
      if (this.shared.eager.has(p) || this.shared.lazy.has(p)) return;
      if (k < eagerCount) {
        this.grafted(p, []);
        grafts.push({ to: p, refs: [] });
      } else {
        this.shared.lazy.add(p);
        for (const t of this.trees.values()) if (!t.eager.has(p)) t.lazy.add(p);
        lazies.push({ to: p, refs: [] });
      }
    });
    return { grafts, lazies };
  }

  /** Whether `start` has run. */
  get isStarted(): boolean {
    return this.started;
  }

  /** Eager peers of an origin's tree (the shared links until it has one). */
  eagerOf(origin: string): ReadonlySet<Address> {
    return (this.trees.get(origin) ?? this.shared).eager;
  }

  lazyOf(origin: string): ReadonlySet<Address> {
    return (this.trees.get(origin) ?? this.shared).lazy;
  }

  private tree(origin: string): Links {
    let t = this.trees.get(origin);
    if (t === undefined) this.trees.set(origin, (t = { eager: new Set(this.shared.eager), lazy: new Set(this.shared.lazy) }));
    return t;
  }

  /** The first copy of an update came from `from` (null: our own): the link is on the tree. */
  firstArrival(from: Address | null, ref: UpdateRef): void {
    this.missing.delete(refKey(ref));
    const t = this.tree(ref.origin);
    if (from === null) return;
    eager(t, from);
    eager(this.shared, from);
  }

  /** A copy of an update of `origin` we already had came from `from`: true when a PRUNE should tell it (it was eager). */
  duplicate(from: Address, origin: string): boolean {
    const t = this.tree(origin);
    const wasEager = t.eager.has(from);
    lazy(t, from);
    lazy(this.shared, from);
    return wasEager;
  }

  /** `from` pruned its links to us for these updates' origins. */
  pruned(from: Address, refs: readonly UpdateRef[]): void {
    for (const r of refs) lazy(this.tree(r.origin), from);
    lazy(this.shared, from);
  }

  /** `from` grafted: it wants our pushes of these updates' origins (none: of every origin, a new link). */
  grafted(from: Address, refs: readonly UpdateRef[]): void {
    eager(this.shared, from);
    if (refs.length === 0) for (const t of this.trees.values()) eager(t, from);
    for (const r of refs) eager(this.tree(r.origin), from);
  }

  /** The update arrived some other way (a pull): nothing to graft for it. */
  received(ref: UpdateRef): void {
    this.missing.delete(refKey(ref));
  }

  /** `from` announced updates; `have` says which are here already. */
  announced(now: number, from: Address, refs: readonly UpdateRef[], have: (r: UpdateRef) => boolean): void {
    if (!this.shared.eager.has(from)) this.shared.lazy.add(from);
    for (const r of refs) {
      const t = this.tree(r.origin);
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
    for (const p of this.tree(ref.origin).lazy) {
      if (p === except) continue;
      let refs = this.pendingIHave.get(p);
      if (refs === undefined) this.pendingIHave.set(p, (refs = []));
      refs.push(ref);
    }
    if (this.pendingIHave.size > 0 && this.ihaveAtMs === Infinity) this.ihaveAtMs = now + this.config.ihaveDelayMs;
  }

  /** Eager peers of `origin`'s tree to push a new update to (all but the one it came from). */
  pushTargets(origin: string, except: Address | null): Address[] {
    const out: Address[] = [];
    for (const p of this.tree(origin).eager) if (p !== except) out.push(p);
    return out;
  }

  /** The next time `due` has something to do. */
  nextDeadline(): number {
    let t = this.ihaveAtMs;
    for (const m of this.missing.values()) if (m.dueMs < t) t = m.dueMs;
    return t;
  }

  /** What is due at `now`: the batched announcements and the grafts for updates still missing. */
  due(now: number): { ihaves: GraftOut[]; grafts: GraftOut[] } {
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
      this.grafted(to, refs);
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
