import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { capture } from './capture.js';

interface StateJson {
  converged: boolean; convergedAfterHealMs: number | null; lostWrites: number; resurrected: number; siblingsMax: number;
  rumorBytes: number; antiEntropyBytes: number; wallMs: number; seed: number; ok: boolean; command: string;
  acknowledged: { lww: number; counter: number; orset: number };
}

const small = ['--nodes', '12', '--keys', '200', '--writes', '600', '--partition', '5s', '--duration', '10s', '--loss', '0.05', '--crash', '2'];

describe('gossip simulate state', () => {
  it('--json prints the required fields; a passing run exits 0 and names its command', async () => {
    const io = capture();
    expect(await main(['simulate', 'state', ...small, '--types', 'lww,counter,orset', '--seed', '5', '--json'], io)).toBe(0);
    const r = JSON.parse(io.stdout[0] as string) as StateJson;
    expect(r).toMatchObject({ converged: true, lostWrites: 0, resurrected: 0, seed: 5, ok: true });
    expect(typeof r.convergedAfterHealMs).toBe('number');
    expect(r.siblingsMax).toBeGreaterThanOrEqual(0);
    expect(r.rumorBytes).toBeGreaterThan(0);
    expect(r.antiEntropyBytes).toBeGreaterThan(0);
    expect(typeof r.wallMs).toBe('number');
    expect(r.command).toBe('npx gossip simulate state --nodes 12 --keys 200 --writes 600 --types lww,counter,orset --partition 5s --loss 0.05 --crash 2 --duration 10s --drain 120s --seed 5 --json');
    expect(io.stderr).toEqual([]);
  });

  it('only the requested types are written', async () => {
    const io = capture();
    expect(await main(['simulate', 'state', ...small, '--types', 'counter', '--seed', '2', '--json'], io)).toBe(0);
    const r = JSON.parse(io.stdout[0] as string) as StateJson;
    expect(r.acknowledged).toEqual({ lww: 0, counter: 600, orset: 0 });
  });

  it('a failing run (no time to converge after the heal) exits 1 and prints its seed and the command that reproduces it', async () => {
    const io = capture();
    expect(await main(['simulate', 'state', ...small, '--drain', '0s', '--seed', '7', '--json'], io)).toBe(1);
    const r = JSON.parse(io.stdout[0] as string) as StateJson;
    expect(r.ok).toBe(false);
    expect(io.stderr.join('\n')).toContain('FAILED (seed 7)');
    expect(io.stderr.join('\n')).toContain(r.command);
    expect(r.command).toContain('--seed 7');
  });

  it('rejects an unknown type with a clear error', async () => {
    const io = capture();
    expect(await main(['simulate', 'state', '--types', 'lww,bogus'], io)).toBe(2);
    expect(io.stderr.join('\n')).toContain("--types: expected a comma-separated list of lww, counter, orset; got 'bogus'");
  });

  it('prints a human summary without --json', async () => {
    const io = capture();
    expect(await main(['simulate', 'state', ...small, '--seed', '3'], io)).toBe(0);
    expect(io.stdout[0]).toContain('state: 12 nodes, 200 keys, 600 writes');
    expect(io.stdout.join('\n')).toContain('lost writes: 0');
  });
});
