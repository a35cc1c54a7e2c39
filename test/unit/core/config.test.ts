import { describe, expect, it } from 'vitest';
import type { Config } from '../../../src/core/config.js';
import { ConfigError, defaultConfig, PRESETS, pushPullScale } from '../../../src/core/config.js';

// memberlist v0.2.2 DefaultLANConfig / DefaultWANConfig / DefaultLocalConfig (reference §6.8).
const table: [keyof Config, number, number, number][] = [
  ['streamTimeoutMs', 10_000, 30_000, 1000],
  ['indirectChecks', 3, 3, 1],
  ['retransmitMult', 4, 4, 2],
  ['suspicionMult', 4, 6, 3],
  ['suspicionMaxTimeoutMult', 6, 6, 6],
  ['pushPullIntervalMs', 30_000, 60_000, 15_000],
  ['probeIntervalMs', 1000, 5000, 1000],
  ['probeTimeoutMs', 500, 3000, 200],
  ['awarenessMaxMultiplier', 8, 8, 8],
  ['gossipIntervalMs', 200, 500, 100],
  ['gossipNodes', 3, 4, 3],
  ['gossipToTheDeadTimeMs', 30_000, 60_000, 15_000],
  ['packetBytesMax', 1400, 1400, 1400],
  ['deadNodeReclaimTimeMs', 0, 0, 0],
];

describe('presets', () => {
  it.each(table)('%s: lan %i, wan %i, local %i', (field, lan, wan, local) => {
    expect(PRESETS.lan[field]).toBe(lan);
    expect(PRESETS.wan[field]).toBe(wan);
    expect(PRESETS.local[field]).toBe(local);
  });
  it('stream pings and Lifeguard are on by default', () => {
    expect(PRESETS.lan.disableStreamPings).toBe(false);
    expect(PRESETS.lan.lifeguard).toBe(true);
  });
});

describe('validateConfig', () => {
  it.each([
    [{ probeIntervalMs: 0 }, /probeIntervalMs must be a positive number/],
    [{ gossipNodes: -1 }, /gossipNodes must be a non-negative number/],
    [{ probeTimeoutMs: 2000 }, /probeTimeoutMs must not exceed probeIntervalMs/],
    [{ packetBytesMax: 64 }, /packetBytesMax must be at least 128/],
    [{ suspicionMult: Number.NaN }, /suspicionMult/],
  ] as [Partial<Config>, RegExp][])('rejects %j', (overrides, message) => {
    expect(() => defaultConfig('lan', overrides)).toThrow(ConfigError);
    expect(() => defaultConfig('lan', overrides)).toThrow(message);
  });
});

describe('pushPullScale (reference §6.6)', () => {
  it.each([
    [1, 1], [32, 1], [33, 2], [64, 2], [65, 3], [128, 3], [129, 4], [256, 4], [1000, 6],
  ])('n = %i → ×%i', (n, mult) => {
    expect(pushPullScale(30_000, n)).toBe(30_000 * mult);
  });
});
