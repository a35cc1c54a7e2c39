import { Hasher64 } from '../replica/hash.js';

/**
 * A membership view (issue 16): the members a node knows, each with its state and incarnation,
 * in canonical order (sorted by name, code-unit order), with a checksum of that canonical form
 * (as ringpop's membership checksum: equal views, equal checksums, on every node and process).
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
  /** 32-bit checksum of the canonical form (name, state, incarnation of each member, in order). */
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

/** The checksum of members already in canonical order. */
export function viewChecksum(members: readonly ViewMember[]): number {
  const h = hasher.reset().word(members.length);
  for (const m of members) h.string(m.name).word(VIEW_STATES.indexOf(m.state)).number(m.incarnation);
  return h.digest(out)[0] as number;
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
