import { describe, expect, it } from 'vitest';
import type { PeerSampler } from '../../../src/core/dissemination/disseminator.js';
import { nodeName } from '../../../src/core/ids.js';
import { seededRng } from '../../../src/core/rng.js';
import type { StateNodeOptions } from '../../../src/core/state/options.js';
import { resolveStateOptions, STATE_DISSEMINATION, STATE_NODE_DEFAULTS } from '../../../src/core/state/options.js';
import { stateSizes } from '../../../src/wire/state.js';

const none: PeerSampler = { size: () => 0, sample: () => [] };
const base: StateNodeOptions = { name: nodeName('a'), rng: seededRng(1), now: 0, peers: none, sizes: stateSizes('a') };

describe('StateNode options', () => {
  it('every knob left out takes its documented default', () => {
    const s = resolveStateOptions(base);
    const { merkleFanout, merkleDepth, ...flat } = STATE_NODE_DEFAULTS;
    expect(s).toMatchObject(flat);
    expect(s.merkle).toEqual({ fanout: merkleFanout, depth: merkleDepth });
    expect(s.dissemination).toEqual(STATE_DISSEMINATION);
    // Derived: two epochs of rumors outlive the longest push (4 × maxHotRounds × intervalMs).
    expect(s.rumorEpochMs).toBe(4 * 20 * 100);
    expect(s.budget).toBeNull();
    expect(s.addressOf).toBeUndefined();
  });

  it('a knob given wins over its default; the budget falls back to the dissemination budget', () => {
    const s = resolveStateOptions({ ...base, digestIntervalMs: 250, merkle: { depth: 2 }, dissemination: { intervalMs: 50, budget: { rateBytesPerSec: 9000, burstBytes: 3000 } } });
    expect(s.digestIntervalMs).toBe(250);
    expect(s.merkle).toEqual({ fanout: 16, depth: 2 });
    expect(s.rumorEpochMs).toBe(4 * 20 * 50);
    expect(s.budget).toEqual({ rateBytesPerSec: 9000, burstBytes: 3000 });
    const own = { rateBytesPerSec: 1000, burstBytes: 500 };
    expect(resolveStateOptions({ ...base, budget: own, dissemination: { budget: { rateBytesPerSec: 9000, burstBytes: 3000 } } }).budget).toBe(own);
  });

  it.each<[string, Partial<StateNodeOptions>, RegExp]>([
    ['a generation of 0 ms', { stabilityGenerationMs: 0 }, /stabilityGenerationMs must be > 0/],
    ['a negative sampling period', { sampleEvery: -1 }, /sampleEvery must be a whole number/],
    ['a fractional sampling period', { sampleEvery: 1.5 }, /sampleEvery must be a whole number/],
    ['no acknowledgement repeat', { ackRepeats: 0 }, /ackRepeats must be a whole number ≥ 1/],
  ])('refuses %s', (_, o, message) => {
    expect(() => resolveStateOptions({ ...base, ...o })).toThrow(RangeError);
    expect(() => resolveStateOptions({ ...base, ...o })).toThrow(message);
  });
});
