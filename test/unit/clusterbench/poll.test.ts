import { describe, expect, it } from 'vitest';
import type { BenchNode, MemberStatus } from '../../../src/clusterbench/bench-node.js';
import { allAlive, pollUntil, reportsFailed } from '../../../src/clusterbench/poll.js';

/** A node whose member list the test sets. */
function fakeNode(name: string, list: () => MemberStatus[]): BenchNode {
  return {
    side: 'ours', name, gossipPort: 0, proc: null, pid: null,
    start: () => Promise.resolve(), kill: () => Promise.resolve(), restart: () => Promise.resolve(),
    members: () => Promise.resolve(list()), join: () => Promise.resolve(), sendEvent: () => Promise.resolve(), eventArrivals: () => [], suspected: () => new Set(),
    watch: () => Promise.resolve(), unwatch: () => undefined, close: () => undefined,
  };
}

const alive = (...names: string[]): MemberStatus[] => names.map((name) => ({ name, status: 'alive' }));

describe('membership checks', () => {
  it('allAlive wants every name listed alive; reportsFailed accepts failed or gone', () => {
    expect(allAlive(['a', 'b'])(alive('a', 'b', 'c'))).toBe(true);
    expect(allAlive(['a', 'b'])([{ name: 'a', status: 'alive' }, { name: 'b', status: 'failed' }])).toBe(false);
    expect(reportsFailed('b')([{ name: 'b', status: 'failed' }])).toBe(true);
    expect(reportsFailed('b')(alive('a'))).toBe(true);
    expect(reportsFailed('b')(alive('a', 'b'))).toBe(false);
  });
});

describe('pollUntil', () => {
  it('resolves when every node satisfies the check at once', async () => {
    let view = alive('a');
    setTimeout(() => (view = alive('a', 'b')), 100);
    const r = await pollUntil([{ node: fakeNode('a', () => view) }, { node: fakeNode('b', () => view) }], allAlive(['a', 'b']), Date.now() + 5000, 20);
    expect(r.atMs).not.toBeNull();
    expect(r.neverReady).toEqual([]);
  });
  it('times out with null, never hangs', async () => {
    const r = await pollUntil([{ node: fakeNode('a', () => alive('a')) }], allAlive(['a', 'b']), Date.now() + 150, 20);
    expect(r.atMs).toBeNull();
  });
  it('a node that never became ready is a timeout (null) reported by name, not an error, and ends the wait early', async () => {
    const started = Date.now();
    const r = await pollUntil([
      { node: fakeNode('a', () => alive('a', 'b')) },
      { node: fakeNode('b', () => alive('a', 'b')), ready: Promise.reject(new Error('did not answer')) },
    ], allAlive(['a', 'b']), Date.now() + 10_000, 20);
    expect(r.atMs).toBeNull();
    expect(r.neverReady).toEqual(['b']);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
