import { Hasher64 } from '../replica/hash.js';

/**
 * A membership view (issue 16): the members a node knows, each with its state and incarnation,
 * in canonical order (sorted by name, code-unit order), with a checksum of the members' (name,
 * state, incarnation) (as ringpop's membership checksum: equal views, equal checksums, on every
 * node and process; a sum of per-member hashes, so it is kept up to date member by member).
 *
 * States: `alive`, `suspect`, `failed` (memberlist's dead), `left` (a graceful leave). A
 * member's record only moves forward under memberlist's precedence rules, in the order of
 * `recordRank` (incarnation first, then alive < suspect < failed < left at one incarnation), so
 * "node B is behind view V" is well defined: some member's record at B is older than in V
 * (`behindView`), the contradiction the simulator's checker looks for.
 */
export type ViewState = 'alive' | 'suspect' | 'failed' | 'left';
export const VIEW_STATES: readonly ViewState[] = ['alive', 'suspect', 'failed', 'left'];

export interface ViewMember {
  readonly name: string;
  readonly state: ViewState;
  readonly incarnation: number;
  /** The member's tags as last announced (not part of the checksum: a tag change comes with a new incarnation). */
  readonly tags: Readonly<Record<string, string>>;
}

export interface MembershipView {
  /** This node's counter of view changes (grows by one on every change; local, not comparable across nodes). */
  readonly epoch: number;
  /** 32-bit checksum of the members' (name, state, incarnation) (`viewChecksum`). */
  readonly checksum: number;
  /** Sorted by name. */
  readonly members: readonly ViewMember[];
}

/** A member that must report the view's checksum for it to be stable (it may still be running). */
export function isLive(s: ViewState): boolean {
  return s === 'alive' || s === 'suspect';
}

const hasher = new Hasher64(0x71e3c4ec);
const out = new Uint32Array(2);

/**
 * One member's 64-bit hash (name, state, incarnation), as `[hi, lo]` into `into`. The view's
 * checksum sums these (each half mod 2^32), so a tracker updates it per changed member instead
 * of rehashing the whole view (issue 16 at 1,000 nodes: every record change of every node).
 */
export function memberHash(name: string, state: ViewState, incarnation: number, into: Uint32Array): Uint32Array {
  return hasher.reset().string(name).word(VIEW_STATES.indexOf(state)).number(incarnation).digest(into);
}

/** The checksum of a view of `count` members whose `memberHash`es sum to `[sumHi, sumLo]` (each mod 2^32). */
export function checksumOfSums(count: number, sumHi: number, sumLo: number): number {
  return hasher.reset().word(count).word(sumHi).word(sumLo).digest(out)[0] as number;
}

/**
 * The checksum of a view: depends only on the set of (name, state, incarnation), not on the
 * order (equal on every node for equal views). Names are unique in a view.
 */
export function viewChecksum(members: readonly ViewMember[]): number {
  let hi = 0;
  let lo = 0;
  const h = new Uint32Array(2);
  for (const m of members) {
    memberHash(m.name, m.state, m.incarnation, h);
    hi = (hi + (h[0] as number)) >>> 0;
    lo = (lo + (h[1] as number)) >>> 0;
  }
  return checksumOfSums(members.length, hi, lo);
}

/** 8 lowercase hex digits (how operators see a checksum). */
export function checksumHex(c: number): string {
  return (c >>> 0).toString(16).padStart(8, '0');
}

/** Members in canonical order. */
export function canonicalMembers(members: Iterable<ViewMember>): ViewMember[] {
  return [...members].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The order in which a member's record moves forward. */
export function recordRank(state: ViewState, incarnation: number): number {
  return incarnation * 4 + VIEW_STATES.indexOf(state);
}

/**
 * Whether `records` (a node's current member records) are behind `view`: some member of the
 * view has an older record there, or a live member of the view is missing there. A node that
 * held `view` at some time and only moved forward since is never behind it.
 */
export function behindView(records: ReadonlyMap<string, { readonly state: ViewState; readonly incarnation: number }>, view: MembershipView): string | null {
  for (const m of view.members) {
    const r = records.get(m.name);
    if (r === undefined) {
      if (isLive(m.state)) return `${m.name} (${m.state}) unknown`;
      continue;
    }
    if (recordRank(r.state, r.incarnation) < recordRank(m.state, m.incarnation)) return `${m.name} ${r.state}/${r.incarnation} < ${m.state}/${m.incarnation}`;
  }
  return null;
}
