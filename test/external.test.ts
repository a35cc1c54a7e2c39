import { afterEach, describe, expect, it, vi } from 'vitest';
import { externalOrSkip } from './external.js';
import { propertySeed } from './property/seed.js';

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('suites that need an external program', () => {
  it('present: the suite runs', () => {
    vi.stubEnv('REQUIRE_EXTERNAL', '1');
    expect(externalOrSkip('s', 'serf', true, 'hint')).toBe(true);
  });

  it('missing: skipped with a loud warning by default', () => {
    vi.stubEnv('REQUIRE_EXTERNAL', '');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    expect(externalOrSkip('serf-cluster', '/usr/bin/serf', false, 'apt-get install serf')).toBe(false);
    expect(warn.mock.calls[0]?.[0]).toMatch(/SKIPPED "serf-cluster": \/usr\/bin\/serf is not installed/);
  });

  it('missing under REQUIRE_EXTERNAL=1 (CI): a failure, not a skip', () => {
    vi.stubEnv('REQUIRE_EXTERNAL', '1');
    expect(() => externalOrSkip('browser suite dashboard', '/usr/bin/chromium', false, 'apt-get install chromium')).toThrow(/REQUIRE_EXTERNAL=1.*\/usr\/bin\/chromium is not installed/);
  });
});

describe('pinned property seeds', () => {
  it('npm test: the pinned seed', () => {
    vi.stubEnv('SOAK', '');
    vi.stubEnv('SOAK_SEED', '');
    expect(propertySeed(42)).toBe(42);
  });

  it('npm run soak: a fresh seed, printed with its replay command', () => {
    vi.stubEnv('SOAK', '1');
    vi.stubEnv('SOAK_SEED', '');
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const seeds = new Set([propertySeed(42), propertySeed(42), propertySeed(42)]);
    expect(seeds.size).toBeGreaterThan(1);
    expect(log).toHaveBeenCalledTimes(3);
    expect(log.mock.calls[0]?.[0]).toMatch(/^soak seed \d+ \(pinned 42\): .*\n {2}replay: SOAK_SEED=\d+ npx vitest run /);
  });

  it('SOAK_SEED replays one seed', () => {
    vi.stubEnv('SOAK', '1');
    vi.stubEnv('SOAK_SEED', '12345');
    expect(propertySeed(42)).toBe(12345);
  });
});
