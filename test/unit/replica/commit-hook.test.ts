import { describe, expect, it } from 'vitest';
import type { Entry, Replica as ReplicaT } from '../../../src/core/replica/index.js';
import { Replica } from '../../../src/core/replica/index.js';
import { RESOLVERS } from './harness.js';
import { nodeName } from '../../../src/core/ids.js';

/** A replica whose commit hook (its durable store) refuses while `full` is set. */
function withHook(): { r: ReplicaT; disk: Map<string, Entry>; setFull: (f: boolean) => void } {
  const disk = new Map<string, Entry>();
  let full = false;
  const r = new Replica({
    node: nodeName('a'), resolvers: RESOLVERS,
    commit: (key, entry) => {
      if (full) throw new Error('database or disk is full');
      disk.set(key, entry);
    },
  });
  r.subscribe('');
  return { r, disk, setFull: (f) => (full = f) };
}

const ops: readonly [string, (r: ReplicaT) => unknown][] = [
  ['put', (r) => r.put(10, 'l/x', 'v')],
  ['delete', (r) => r.delete(10, 'l/x')],
  ['increment', (r) => r.increment(10, 'p/x', 2)],
  ['add', (r) => r.add(10, 'o/x', 'e')],
  ['mapSet', (r) => r.mapSet(10, 'm/x', 'f', 1)],
];

describe('Replica commit hook: a local write the store refuses leaves no trace', () => {
  it.each(ops)('%s: no state, no dot, no change event, and the next write takes the same dot', (_name, op) => {
    const { r, disk, setFull } = withHook();
    r.put(1, 'l/before', 'ok');
    const summary = r.versionSummary();
    const keys = [...r.keys()];
    while (r.pollChange() !== undefined);
    setFull(true);
    expect(() => op(r)).toThrow('database or disk is full');
    expect([...r.keys()]).toEqual(keys);
    expect(r.lastCounter).toBe(1);
    expect(r.versionSummary()).toEqual(summary);
    expect(r.pollChange()).toBeUndefined();
    expect(r.stats().summaryGaps).toBe(0);
    setFull(false);
    op(r);
    expect(r.lastCounter).toBe(2);
    expect(r.versionSummary().get('a')).toBe(2);
    expect(disk.size).toBe(2);
  });

  it('a refused overwrite keeps the old value', () => {
    const { r, setFull } = withHook();
    r.put(1, 'l/x', 'old');
    setFull(true);
    expect(() => r.put(2, 'l/x', 'new')).toThrow();
    expect(r.get('l/x')).toMatchObject({ values: ['old'] });
  });
});
