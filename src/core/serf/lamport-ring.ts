/**
 * Serf's de-duplication buffer for user events and queries (reference §8.8, §8.9): `size`
 * slots indexed by `ltime % size`, each holding what was seen at one Lamport time. A newer
 * Lamport time takes the slot over, so anything older than `clock − size` is forgotten; the
 * caller rejects such messages before asking.
 */
export class LamportRing<T> {
  private readonly slots: ({ ltime: number; items: T[] } | undefined)[];

  constructor(readonly size = 512) {
    this.slots = new Array<{ ltime: number; items: T[] } | undefined>(size).fill(undefined);
  }

  /** Records `item` at `ltime`; false if an equal item was already recorded there. */
  add(ltime: number, item: T, equals: (a: T, b: T) => boolean): boolean {
    const idx = ltime % this.size;
    let slot = this.slots[idx];
    if (slot !== undefined && slot.ltime === ltime) {
      for (const seen of slot.items) if (equals(seen, item)) return false;
    } else {
      slot = { ltime, items: [] };
      this.slots[idx] = slot;
    }
    slot.items.push(item);
    return true;
  }

  /** Every slot in index order (`undefined` when empty): Serf sends its whole buffer in push-pull. */
  entries(): readonly ({ readonly ltime: number; readonly items: readonly T[] } | undefined)[] {
    return this.slots;
  }
}
