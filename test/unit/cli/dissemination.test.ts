import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { capture } from './capture.js';


describe('gossip simulate dissemination', () => {
  it('--json prints the documented fields, consistent with the round count', async () => {
    const io = capture();
    expect(await main(['simulate', 'dissemination', '--mode', 'push-pull', '--nodes', '2000', '--trials', '10', '--seed', '4', '--json'], io)).toBe(0);
    const r = JSON.parse(io.stdout[0] as string) as {
      mode: string; fanout: number; nodes: number; trials: number; engine: string;
      rounds: { mean: number; p50: number; p99: number; max: number }; theoryRounds: number; transmissionsPerNode: number; allInformedTrials: number; wallMs: number;
    };
    expect(r).toMatchObject({ mode: 'push-pull', fanout: 1, nodes: 2000, trials: 10, engine: 'rounds', allInformedTrials: 10 });
    expect(r.rounds.p50).toBeLessThanOrEqual(r.rounds.p99);
    expect(r.rounds.p99).toBeLessThanOrEqual(r.rounds.max);
    expect(r.rounds.mean).toBeLessThanOrEqual(r.rounds.max);
    expect(r.theoryRounds).toBeCloseTo(Math.log(2000) / Math.log(3) + Math.log2(Math.log(2000)), 6);
    expect(r.transmissionsPerNode).toBeGreaterThan(1);
  });

  it('--plot writes an SVG chart with both series', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gossip-plot-'));
    try {
      const file = join(dir, 'push.svg');
      const io = capture();
      expect(await main(['simulate', 'dissemination', '--mode', 'push', '--fanout', '2', '--nodes', '500', '--trials', '5', '--seed', '1', '--plot', file], io)).toBe(0);
      const svg = readFileSync(file, 'utf8');
      expect(svg.startsWith('<svg')).toBe(true);
      expect(svg).toContain('theory (mean field)');
      expect(svg).toContain('simulated (mean of 5)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [['--mode', 'gossip'], /--mode: expected push, pull or push-pull/],
    [['--mode', 'pull', '--fanout', '2'], /--fanout applies to --mode push only/],
    [['--nodes', '1'], /--nodes: must be between 2/],
  ])('rejects %j with exit code 2', async (args, message) => {
    const io = capture();
    expect(await main(['simulate', 'dissemination', ...args], io)).toBe(2);
    expect(io.stderr.join('\n')).toMatch(message);
  });
});

describe('gossip simulate rumor', () => {
  it('--json gives residue, traffic, tAve, tLast and the theoretical residue for feedback variants', async () => {
    const io = capture();
    expect(await main(['simulate', 'rumor', '--variant', 'feedback-counter', '--k', '2', '--nodes', '3000', '--trials', '20', '--seed', '6', '--json'], io)).toBe(0);
    const r = JSON.parse(io.stdout[0] as string) as { residue: number; trafficPerNode: number; tAve: number; tLast: number; theoryResidue: number | null };
    expect(r.theoryResidue).toBeCloseTo(0.0595, 3);
    expect(Math.abs(r.residue - (r.theoryResidue as number)) / (r.theoryResidue as number)).toBeLessThan(0.15);
    expect(r.tLast).toBeGreaterThanOrEqual(r.tAve);
  });

  it('blind variants report no theoretical residue; bad variants are rejected', async () => {
    const io = capture();
    expect(await main(['simulate', 'rumor', '--variant', 'blind-coin', '--k', '3', '--nodes', '500', '--trials', '3', '--seed', '1', '--json'], io)).toBe(0);
    expect((JSON.parse(io.stdout[0] as string) as { theoryResidue: null }).theoryResidue).toBeNull();
    const bad = capture();
    expect(await main(['simulate', 'rumor', '--variant', 'loud'], bad)).toBe(2);
    expect(bad.stderr.join('\n')).toMatch(/--variant: expected one of/);
  });
});

describe('gossip simulate dissemination --termination', () => {
  it('push-then-pull reports fewer transmissions than naive push-pull for the same seed', async () => {
    const run = async (termination: string): Promise<{ transmissionsPerNode: number; termination: string; allInformedTrials: number }> => {
      const io = capture();
      expect(await main(['simulate', 'dissemination', '--mode', 'push-pull', '--nodes', '5000', '--trials', '5', '--seed', '2', '--termination', termination, '--json'], io)).toBe(0);
      return JSON.parse(io.stdout[0] as string) as { transmissionsPerNode: number; termination: string; allInformedTrials: number };
    };
    const naive = await run('none');
    const ptp = await run('push-then-pull');
    const mc = await run('median-counter');
    expect(ptp.termination).toBe('push-then-pull');
    expect(ptp.allInformedTrials).toBe(5);
    expect(ptp.transmissionsPerNode).toBeLessThan(naive.transmissionsPerNode);
    expect(mc.termination).toBe('median-counter');
  });

  it('rejects a termination rule for push or pull', async () => {
    const io = capture();
    expect(await main(['simulate', 'dissemination', '--mode', 'push', '--termination', 'push-then-pull'], io)).toBe(2);
    expect(io.stderr.join('\n')).toMatch(/--termination applies to --mode push-pull only/);
  });
});
