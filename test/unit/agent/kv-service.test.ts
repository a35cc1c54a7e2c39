import { describe, expect, it } from 'vitest';
import { LocalKv } from '../../../src/agent/kv-service.js';
import { ReplicaError } from '../../../src/core/replica/index.js';
import type { EntryChange } from '../../../src/store/index.js';
import { MemoryStore } from '../../../src/store/index.js';

class CountingStore extends MemoryStore {
  batches: number[] = [];
  failNext = false;
  override writeEntries(changes: readonly EntryChange[]): void {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('disk full');
    }
    this.batches.push(changes.length);
    super.writeEntries(changes);
  }
}

let clock = 1_000;
const tick = (): number => (clock += 1);

describe('LocalKv', () => {
  it('resolves a write only after the store took it, committing concurrent writes in one batch', async () => {
    const s = new CountingStore();
    const kv = new LocalKv(s, 'n', tick);
    const writes = Array.from({ length: 50 }, (_, i) => kv.put(`k${i}`, i));
    expect(s.batches).toEqual([]);
    await Promise.all(writes);
    expect(s.batches).toEqual([50]);
    expect(s.loadEntries()).toHaveLength(50);
  });

  it('rejects every write of a batch the store refused', async () => {
    const s = new CountingStore();
    const kv = new LocalKv(s, 'n', tick);
    s.failNext = true;
    const r = await Promise.allSettled([kv.put('a', 1), kv.put('b', 2)]);
    expect(r.map((x) => x.status)).toEqual(['rejected', 'rejected']);
    expect(s.loadEntries()).toEqual([]);
  });

  it('comes back after a restart with its entries and without reusing a dot', async () => {
    const s = new MemoryStore();
    const kv = new LocalKv(s, 'n', tick);
    await kv.put('a', { v: 1 });
    await kv.put('b', 'x');
    await kv.delete('b');
    const again = new LocalKv(s, 'n', tick);
    expect(again.list('')).toEqual(['a']);
    expect(again.get('a')).toMatchObject({ type: 'register', values: [{ v: 1 }] });
    // Dots 1-3 were the two puts and the delete (its tombstone came back too): the next is 4.
    const ctx = await again.put('c', 1);
    expect(ctx).toEqual([{ origin: 'n', counter: 4 }]);
  });

  it('resolves keys last-writer-wins and refuses operations of another type', async () => {
    const kv = new LocalKv(new MemoryStore(), 'n', tick);
    await kv.put('a', 1);
    await kv.put('a', 2);
    expect(kv.get('a')).toMatchObject({ values: [2] });
    expect(kv.resolverOf('a')).toBe('lww');
    await expect(kv.put('b', undefined as unknown as number)).rejects.toThrow(ReplicaError);
    expect(kv.list('')).toEqual(['a']);
  });
});
