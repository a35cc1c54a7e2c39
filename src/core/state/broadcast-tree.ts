import type { Address, NodeName } from '../ids.js';
import { nodeName } from '../ids.js';
import type { Entry } from '../replica/entry.js';
import type { StateTreeMsg } from './messages.js';
import { isList, MalformedMessage } from './messages.js';
import type { StateSettings } from './options.js';
import type { StateOutbox } from './outbox.js';
import type { ReplicaTree } from './replica-tree.js';

/**
 * A member's children in `root`'s broadcast tree of fanout `k` over `members` (sorted, distinct,
 * `root` and `self` among them): the list rotated so that `root` is at position 0, position p's
 * children are positions p·k + 1 … p·k + k. Every member but the root has exactly one parent, so a
 * push down the tree reaches each member once, in ⌈log_k n⌉ hops. Empty when `root` or `self` is
 * not a member (views that differ: anti-entropy repairs what that misses).
 */
export function treeChildren(members: readonly string[], root: string, self: string, k: number): string[] {
  const n = members.length;
  const r = members.indexOf(root);
  const s = members.indexOf(self);
  if (r < 0 || s < 0 || k < 1) return [];
  const p = (s - r + n) % n;
  const out: string[] = [];
  for (let c = p * k + 1; c <= p * k + k && c < n; c++) out.push(members[(r + c) % n] as string);
  return out;
}

/**
 * Spreads local writes down the writer's broadcast tree (`treeFanout` > 0, instead of rumors):
 * the writer sends its entry to its children, and each member merges what it receives and sends
 * what changed its replica on to its own children. The tree is computed by every member from its
 * own view of the live members (sorted by name): while the views agree, every member gets one
 * copy, a few bytes above the entry. An entry that already was here is not sent on (so views that
 * differ cannot loop); whatever a member misses (a lost packet, a member that died with its
 * subtree, views that differ) is anti-entropy's to repair. A message over the packet size, or over
 * the byte budget, is not sent (counted): anti-entropy carries it too.
 */
export class BroadcastTree {
  /** The live members sorted by name (self included), re-made after a membership change. */
  private sorted: string[] | null = null;
  /** Entries to send down each root's tree at the next `flush` (the driver's next poll): a burst of writes goes packed. */
  private readonly pending = new Map<string, Entry[]>();

  constructor(
    private readonly name: NodeName,
    private readonly keys: ReplicaTree,
    private readonly live: ReadonlySet<string>,
    private readonly out: StateOutbox,
    private readonly s: StateSettings,
    private readonly addressOf: (name: NodeName) => Address | undefined,
    private readonly bytesOf: (m: StateTreeMsg) => number,
  ) {}

  /** The live set changed: the tree is re-made at the next push. */
  membersChanged(): void {
    this.sorted = null;
  }

  /** A local write's entry: to this node's children in its own tree, at the next `flush`. */
  publish(entry: Entry): void {
    this.out.stats.rumorsPublished++;
    this.queue(this.name, entry);
  }

  /** Sends what is queued, each root's entries packed into as few messages as the packet size allows. */
  flush(now: number): void {
    if (this.pending.size === 0) return;
    if (this.sorted === null) this.sorted = [...this.live].sort();
    for (const [root, entries] of this.pending) {
      const children = treeChildren(this.sorted, root, this.name, this.s.treeFanout);
      if (children.length === 0) continue;
      let batch: Entry[] = [];
      for (const e of entries) {
        if (batch.length > 0 && this.bytesOf({ type: 'state-tree', root, entries: [...batch, e] }) > this.s.dissemination.packetBytesMax) {
          this.send(now, root, batch, children);
          batch = [];
        }
        batch.push(e);
      }
      this.send(now, root, batch, children);
    }
    this.pending.clear();
  }

  /** A parent's push: merged here, and what changed this replica goes on to this node's children. */
  handle(now: number, m: StateTreeMsg): void {
    if (typeof m.root !== 'string' || !isList(m.entries)) throw new MalformedMessage('state-tree without a root or entries');
    const entries = m.entries as readonly unknown[];
    if (!entries.every((e) => typeof e === 'object' && e !== null)) throw new MalformedMessage('state-tree: an entry is not a record');
    const changed: Entry[] = [];
    for (const e of m.entries) {
      if (!this.keys.replica.merge(now, e)) continue;
      this.keys.syncKey(e.key);
      changed.push(e);
    }
    this.out.stats.treeApplied += changed.length;
    for (const e of changed) this.queue(m.root, e);
  }

  private queue(root: string, e: Entry): void {
    if (this.s.treeFanout === 0) return;
    const q = this.pending.get(root);
    if (q === undefined) this.pending.set(root, [e]);
    else q.push(e);
  }

  private send(now: number, root: string, entries: Entry[], children: readonly string[]): void {
    const m: StateTreeMsg = { type: 'state-tree', root, entries };
    if (this.bytesOf(m) > this.s.dissemination.packetBytesMax) {
      this.out.stats.rumorsTooLarge += entries.length;
      return;
    }
    for (const child of children) {
      const to = this.addressOf(nodeName(child));
      if (to === undefined || !this.out.sendWithin(now, to, m, 'normal')) this.out.stats.treeNotSent++;
      else this.out.stats.treeSent++;
    }
  }
}
