import type { MembershipView, ViewMember, ViewState } from './view.js';

/**
 * The partition side (issue 16): against the last stable view, are the members this node can
 * reach a strict majority? Reachable means `alive` now (a suspect is not counted).
 *
 * The denominator is the *quorum basis*: the members (failed ones included, gracefully left ones
 * not) of a stable view this node adopted. A new stable view replaces the basis only if its alive
 * members are a strict majority of the current basis, so the minority side of a split, whose own
 * view becomes stable with the others failed, cannot shrink the denominator to itself; the
 * majority side can (and after the failed members are forgotten, it does). The first stable view
 * a node sees is adopted as it is (a fresh node trusts it: see README's limits).
 *
 * Weights: with `weightTag`, a member weighs the tag's value (a finite number ≥ 0; anything
 * else weighs 1), else every member weighs 1.
 */
export interface QuorumBasis {
  /** Epoch (this node's) of the stable view adopted. */
  readonly epoch: number;
  readonly checksum: number;
  /** Member name → weight. */
  readonly weights: ReadonlyMap<string, number>;
  readonly total: number;
}

export interface QuorumStatus {
  readonly hasQuorum: boolean;
  /** Weight of the basis members reachable now (this node included). */
  readonly reachable: number;
  /** Weight of the whole basis. */
  readonly total: number;
  /** More than this is a quorum (total / 2). */
  readonly needMoreThan: number;
  readonly basis: QuorumBasis | null;
}

export function memberWeight(m: ViewMember, weightTag: string | undefined): number {
  if (weightTag === undefined) return 1;
  const raw = m.tags[weightTag];
  if (raw === undefined || raw.trim() === '') return 1;
  const w = Number(raw);
  return Number.isFinite(w) && w >= 0 ? w : 1;
}

export function basisOf(view: MembershipView, weightTag: string | undefined): QuorumBasis {
  const weights = new Map<string, number>();
  let total = 0;
  for (const m of view.members) {
    if (m.state === 'left') continue;
    const w = memberWeight(m, weightTag);
    weights.set(m.name, w);
    total += w;
  }
  return { epoch: view.epoch, checksum: view.checksum, weights, total };
}

/** Weight of the basis members whose current state is alive. */
export function reachableWeight(basis: QuorumBasis, stateOf: (name: string) => ViewState | undefined): number {
  let r = 0;
  for (const [name, w] of basis.weights) if (stateOf(name) === 'alive') r += w;
  return r;
}

/** The basis after `view` became stable: adopted when there is none or when the view's alive members are a majority of the current one. */
export function nextBasis(current: QuorumBasis | null, view: MembershipView, weightTag: string | undefined): QuorumBasis {
  if (current === null) return basisOf(view, weightTag);
  const alive = new Map<string, ViewState>();
  for (const m of view.members) alive.set(m.name, m.state);
  return reachableWeight(current, (n) => alive.get(n)) > current.total / 2 ? basisOf(view, weightTag) : current;
}

export function quorumStatus(basis: QuorumBasis | null, stateOf: (name: string) => ViewState | undefined): QuorumStatus {
  if (basis === null) return { hasQuorum: false, reachable: 0, total: 0, needMoreThan: 0, basis };
  const reachable = reachableWeight(basis, stateOf);
  return { hasQuorum: reachable > basis.total / 2, reachable, total: basis.total, needMoreThan: basis.total / 2, basis };
}
