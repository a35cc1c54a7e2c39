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
    [['--mode', 'gossip'], /--mode: expected one of push, pull, push-pull, plumtree, got 'gossip'/],
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

describe('gossip simulate dissemination --engine full', () => {
  it('--json has the documented fields, the engine and the membership source', async () => {
    const io = capture();
    expect(await main(['simulate', 'dissemination', '--engine', 'full', '--mode', 'push', '--fanout', '2', '--nodes', '300', '--trials', '3', '--seed', '4', '--json'], io)).toBe(0);
    const r = JSON.parse(io.stdout[0] as string) as { engine: string; membership: string; mode: string; fanout: number; trials: number; allInformedTrials: number; rounds: { mean: number; p50: number; p99: number; max: number }; transmissionsPerNode: number; theoryRounds: number; wallMs: number };
    expect(r).toMatchObject({ engine: 'full', membership: 'oracle', mode: 'push', fanout: 2, trials: 3, allInformedTrials: 3 });
    expect(r.rounds.mean).toBeGreaterThan(r.theoryRounds * 0.8);
    expect(r.rounds.max).toBeGreaterThanOrEqual(r.rounds.p50);
    // Naive push with fanout 2 sends 2 per informed node per round: far more than one per node.
    expect(r.transmissionsPerNode).toBeGreaterThan(2);
  });

  it.each([
    [['--engine', 'fast'], /--engine: expected rounds or full/],
    [['--engine', 'full', '--membership', 'dns'], /--membership: expected oracle or swim/],
    [['--engine', 'full', '--termination', 'median-counter'], /median-counter runs on --engine rounds only/],
  ])('rejects %j with exit code 2', async (args, message) => {
    const io = capture();
    expect(await main(['simulate', 'dissemination', ...args], io)).toBe(2);
    expect(io.stderr.join('\n')).toMatch(message);
  });

  it('median-counter reports the state-first payload count too, and informs everyone', async () => {
    const io = capture();
    expect(await main(['simulate', 'dissemination', '--mode', 'push-pull', '--termination', 'median-counter', '--nodes', '20000', '--trials', '3', '--seed', '2', '--json'], io)).toBe(0);
    const r = JSON.parse(io.stdout[0] as string) as { transmissionsPerNode: number; stateFirstTransmissionsPerNode: number; allInformedTrials: number };
    expect(r.allInformedTrials).toBe(3);
    expect(r.stateFirstTransmissionsPerNode).toBeGreaterThanOrEqual(1);
    expect(r.stateFirstTransmissionsPerNode).toBeLessThan(r.transmissionsPerNode);
  });
});

describe('gossip simulate stream', () => {
  it('--json reports time to everyone, payloads and the budget check', async () => {
    const io = capture();
    expect(await main(['simulate', 'stream', '--nodes', '100', '--writers', '5', '--rate', '10', '--duration', '2s', '--drain', '2s', '--budget', '20000', '--critical-share', '0.2', '--seed', '3', '--json'], io)).toBe(0);
    const r = JSON.parse(io.stdout[0] as string) as { updates: number; reachedEveryone: number; timeToEveryone: { p50Ms: number; p99Ms: number; maxMs: number }; payloadsPerNodePerUpdate: number; budgetExcessBytes: number; budget: { rateBytesPerSec: number; burstBytes: number } };
    expect(r.updates).toBe(20);
    expect(r.reachedEveryone).toBe(20);
    expect(r.timeToEveryone.p50Ms).toBeLessThanOrEqual(r.timeToEveryone.maxMs);
    expect(r.payloadsPerNodePerUpdate).toBeGreaterThanOrEqual(1);
    expect(r.budget).toEqual({ rateBytesPerSec: 20000, burstBytes: 20000 });
    expect(r.budgetExcessBytes).toBeLessThanOrEqual(0);
  });

  it.each([
    [['--rate', '0'], /--rate: expected updates per second/],
    [['--burst', '5000'], /--burst goes with --budget/],
    [['--rumor', 'loud'], /--rumor: expected one of/],
    [['--budget', '10'], /--budget: must be between 1500/],
  ])('rejects %j with exit code 2', async (args, message) => {
    const io = capture();
    expect(await main(['simulate', 'stream', ...args], io)).toBe(2);
    expect(io.stderr.join('\n')).toMatch(message);
  });
});
