import type { Address, Incarnation, NodeName } from '../ids.js';
import type { AliveMsg } from '../messages.js';
import { MemberState } from '../messages.js';

/**
 * Interns node names to small integers. A simulator shares one directory among all its nodes
 * so that a member entry costs a few typed-array bytes, not a Map entry per node pair.
 */
export class NameDirectory {
  private readonly ids = new Map<string, number>();
  private readonly names: NodeName[] = [];

  intern(name: NodeName): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.ids.set(name, id);
      this.names.push(name);
    }
    return id;
  }

  lookup(name: string): number | undefined {
    return this.ids.get(name);
  }

  name(id: number): NodeName {
    return this.names[id] as NodeName;
  }

  get size(): number {
    return this.names.length;
  }
}

/**
 * The member list of one node, as a struct of arrays indexed by the member's directory id
 * (its "slot"). Per entry: the alive record last accepted (shared and immutable: address,
 * meta, versions), the incarnation, the state and the time of the last state change:
 * 8 + 4 + 1 + 8 bytes. No per-member objects, closures or timers.
 */
export class MemberTable {
  private records: (AliveMsg | null)[] = [];
  private incarnations = new Uint32Array(16);
  private states = new Uint8Array(16).fill(NONE);
  private changedMs = new Float64Array(16);
  private count = 0;
  private readonly stateCounts = new Int32Array(4);

  constructor(readonly directory: NameDirectory) {}

  get size(): number {
    return this.count;
  }

  /** Slots in use are in [0, capacity); check `inUse`. */
  get capacity(): number {
    return this.records.length;
  }

  countIn(state: MemberState): number {
    return this.stateCounts[state] as number;
  }

  slotOf(name: string): number {
    const id = this.directory.lookup(name);
    if (id === undefined || id >= this.records.length || this.states[id] === NONE) return -1;
    return id;
  }

  inUse(slot: number): boolean {
    return slot < this.records.length && this.states[slot] !== NONE;
  }

  /** Makes room for members up to `capacity` slots (directory ids) without growing step by step. */
  reserve(capacity: number): void {
    if (capacity > this.incarnations.length) this.grow(capacity);
    if (this.records.length < capacity) {
      const more = capacity - this.records.length;
      this.records = this.records.concat(new Array<AliveMsg | null>(more).fill(null));
    }
  }

  /** Adds a member in state Dead with incarnation 0 (memberlist's placeholder); returns its slot. */
  add(name: NodeName, record: AliveMsg, nowMs: number): number {
    return this.addAt(this.directory.intern(name), record, nowMs);
  }

  /** `add` for a name already interned as `slot` (a directory id) and not in use. */
  addAt(slot: number, record: AliveMsg, nowMs: number): number {
    if (slot >= this.incarnations.length) this.grow(Math.max(slot + 1, this.incarnations.length * 2, this.directory.size));
    while (this.records.length <= slot) this.records.push(null);
    this.records[slot] = record;
    this.incarnations[slot] = 0;
    this.states[slot] = MemberState.Dead;
    this.changedMs[slot] = nowMs;
    this.bump(MemberState.Dead, 1);
    this.count++;
    return slot;
  }

  /** Told of every change of a member's incarnation or state (null: removed); see `GossipNode.watchMembers`. */
  watcher: ((slot: number, state: MemberState | null) => void) | null = null;

  remove(slot: number): void {
    this.watcher?.(slot, null);
    this.bump(this.states[slot] as MemberState, -1);
    this.states[slot] = NONE;
    this.records[slot] = null;
    this.count--;
  }

  name(slot: number): NodeName {
    return this.directory.name(slot);
  }
  record(slot: number): AliveMsg {
    return this.records[slot] as AliveMsg;
  }
  addr(slot: number): Address {
    return (this.records[slot] as AliveMsg).addr;
  }
  incarnation(slot: number): Incarnation {
    return this.incarnations[slot] as Incarnation;
  }
  state(slot: number): MemberState {
    return this.states[slot] as MemberState;
  }
  changedAt(slot: number): number {
    return this.changedMs[slot] as number;
  }

  setRecord(slot: number, r: AliveMsg): void {
    this.records[slot] = r;
  }
  setIncarnation(slot: number, inc: number): void {
    const changed = this.incarnations[slot] !== inc;
    this.incarnations[slot] = inc;
    if (changed && this.states[slot] !== NONE) this.watcher?.(slot, this.states[slot] as MemberState);
  }
  setState(slot: number, s: MemberState, nowMs: number): void {
    const old = this.states[slot] as MemberState;
    if (old !== s) {
      this.bump(old, -1);
      this.bump(s, 1);
    }
    this.states[slot] = s;
    this.changedMs[slot] = nowMs;
    if (old !== s) this.watcher?.(slot, s);
  }

  private bump(s: MemberState, d: number): void {
    this.stateCounts[s] = (this.stateCounts[s] as number) + d;
  }

  private grow(cap: number): void {
    const inc = new Uint32Array(cap);
    inc.set(this.incarnations);
    this.incarnations = inc;
    const st = new Uint8Array(cap).fill(NONE);
    st.set(this.states);
    this.states = st;
    const ch = new Float64Array(cap);
    ch.set(this.changedMs);
    this.changedMs = ch;
  }
}

/** A slot not in use. */
const NONE = 255;
