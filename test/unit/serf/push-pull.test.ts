import { describe, expect, it } from 'vitest';
import { address } from '../../../src/core/ids.js';
import { SerfCluster } from './cluster.js';

describe('SerfNode push-pull: bad remote state', () => {
  it('a push-pull user state with a bad prefix is counted, the member list still merges', () => {
    const c = new SerfCluster();
    const a = c.add('a');
    c.runFor(5);
    a.handleStreamRequest(c.at(), address('127.0.0.50:1'), 1, {
      type: 'push-pull', join: true, records: [{ type: 'alive', incarnation: 1 as never, node: 'z' as never, addr: address('127.0.0.50:7946'), meta: null, vsn: [1, 5, 2, 2, 5, 5] }],
      incarnations: Uint32Array.of(1), states: Uint8Array.of(0), userState: new Uint8Array([9, 9]),
    });
    c.flush(a);
    expect(a.stats.malformedMessages).toBe(1);
    expect(a.member('z')).toMatchObject({ status: 'alive', tags: { role: '' } });
  });
});
