import { describe, expect, it } from 'vitest';
import type { ChangeEvent } from '../../../src/core/replica/changes.js';
import { ChangeFeed } from '../../../src/core/replica/changes.js';

describe('ChangeFeed', () => {
  it('queues a change for each polling subscriber whose prefix it falls under, in order', () => {
    const f = new ChangeFeed();
    expect(f.active).toBe(false);
    const all = f.subscribe('');
    const cs = f.subscribe('c/');
    expect(f.active).toBe(true);
    f.emit('c/1', 'local', false);
    f.emit('k', 'merge', true);
    const got: ChangeEvent[] = [];
    for (let e = f.poll(); e !== undefined; e = f.poll()) got.push(e);
    expect(got).toEqual([
      { subscription: all, key: 'c/1', cause: 'local', deleted: false },
      { subscription: cs, key: 'c/1', cause: 'local', deleted: false },
      { subscription: all, key: 'k', cause: 'merge', deleted: true },
    ]);
  });

  it('hands a change to a callback subscriber at once, queues nothing for it, and stops after unsubscribe', () => {
    const f = new ChangeFeed();
    const seen: string[] = [];
    const id = f.subscribe('', (e) => seen.push(`${e.key}:${e.cause}`));
    f.emit('a', 'collect', true);
    expect(seen).toEqual(['a:collect']);
    expect(f.poll()).toBeUndefined();
    expect(f.unsubscribe(id)).toBe(true);
    expect(f.unsubscribe(id)).toBe(false);
    f.emit('b', 'local', false);
    expect(seen).toEqual(['a:collect']);
    expect(f.active).toBe(false);
  });
});
