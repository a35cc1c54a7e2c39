import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { capture } from './capture.js';


describe('gossip simulate membership', () => {
  it('--json prints one object with the documented fields', async () => {
    const io = capture();
    const code = await main(['simulate', 'membership', '--nodes', '40', '--duration', '30s', '--seed', '9', '--crash', '1', '--loss', '0.01', '--json'], io);
    expect(code).toBe(0);
    expect(io.stdout).toHaveLength(1);
    const r = JSON.parse(io.stdout[0] as string) as Record<string, unknown>;
    for (const k of ['nodes', 'seed', 'simulatedMs', 'wallMs', 'joinConvergedMs', 'detection', 'falsePositives', 'falseSuspicions', 'messages']) {
      expect(r).toHaveProperty(k);
    }
    expect(r.nodes).toBe(40);
    expect(r.seed).toBe(9);
    expect(r.simulatedMs).toBe(30_000);
    const m = r.messages as { packets: number; bytes: number; bytesPerNodePerSecond: number };
    expect(m.packets).toBeGreaterThan(0);
    expect(m.bytesPerNodePerSecond).toBe(Math.round(m.bytes / 40 / 30));
    expect(Object.keys(r.detection as object).sort()).toEqual(['maxMs', 'p50Ms', 'p99Ms', 'undetected']);
  });

  it('prints a readable summary without --json', async () => {
    const io = capture();
    expect(await main(['simulate', 'membership', '--nodes', '20', '--duration', '10s', '--seed', '3'], io)).toBe(0);
    const text = io.stdout.join('\n');
    expect(text).toContain('seed 3');
    expect(text).toMatch(/join converged/);
  });

  it.each([
    [['--duration', '6'], /--duration: expected a number with a unit/],
    [['--nodes', 'ten'], /--nodes: expected a whole number/],
    [['--loss', '1.5'], /--loss: expected a fraction/],
    [['--profile', 'moon'], /--profile: expected lan, wan or local/],
    [['--seed', '-4'], /--seed/],
  ])('rejects %j with a clear error and exit code 2', async (args, message) => {
    const io = capture();
    expect(await main(['simulate', 'membership', '--nodes', '10', ...args], io)).toBe(2);
    expect(io.stderr.join('\n')).toMatch(message);
    expect(io.stdout).toHaveLength(0);
  });
});
