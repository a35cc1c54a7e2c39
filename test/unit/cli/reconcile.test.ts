import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { capture } from './capture.js';

interface ReconcileJson {
  keys: number; diff: number; fanout: number; depth: number; leaves: number; seed: number;
  bytes: number; roundTrips: number; messages: number; foundDiff: number; exact: boolean; converged: boolean;
  breakdown: { hashBytes: number; keyListBytes: number; entryBytes: number; headerBytes: number };
  hashes: number; entries: number; reconcileBytes: number; formulaHashes: number; formulaBytes: number;
  ratio: number | null; ratioWithEntries: number | null; expectedHashes: number; fullStateBytes: number; fullStateRatio: number;
  error: string | null; buildMs: number; wallMs: number;
}

async function run(args: string[]): Promise<ReconcileJson> {
  const io = capture();
  expect(await main(['simulate', 'reconcile', ...args, '--json'], io)).toBe(0);
  return JSON.parse(io.stdout[0] as string) as ReconcileJson;
}

describe('gossip simulate reconcile', () => {
  it('--json: finds exactly the differing keys, converges, and its bytes add up and follow the formula', async () => {
    const r = await run(['--keys', '20000', '--diff', '40', '--fanout', '16', '--seed', '3']);
    expect(r).toMatchObject({ keys: 20000, diff: 40, fanout: 16, depth: 4, leaves: 65536, foundDiff: 40, exact: true, converged: true, error: null });
    const b = r.breakdown;
    expect(b.hashBytes + b.keyListBytes + b.entryBytes + b.headerBytes).toBe(r.bytes);
    expect(r.reconcileBytes).toBe(r.bytes - b.entryBytes);
    expect(r.hashes * 8).toBe(b.hashBytes);
    expect(r.formulaHashes).toBe(Math.round(16 * 40 * Math.log(20000 / 40) / Math.log(16)));
    expect(r.ratio).toBeCloseTo(r.reconcileBytes / r.formulaBytes, 3); // formulaBytes is rounded
    // The walk's hash count is within 10% of its expectation, and the whole exchange within 1.2× of the formula.
    expect(Math.abs(r.hashes / r.expectedHashes - 1)).toBeLessThan(0.1);
    expect(r.ratio).toBeLessThan(1.2);
    // depth 4: open + 3 hash levels + keys + entries + wanted entries = 7 or 8 messages
    expect(r.roundTrips).toBe(Math.ceil(r.messages / 2));
    expect(r.messages).toBeGreaterThanOrEqual(6);
    expect(r.messages).toBeLessThanOrEqual(7);
    expect(r.fullStateBytes).toBeGreaterThan(20000 * 8);
    expect(r.fullStateRatio).toBeCloseTo(r.fullStateBytes / r.bytes, 9);
  });

  it('is deterministic for a seed, and equal replicas cost one round trip', async () => {
    const x = await run(['--keys', '3000', '--diff', '10', '--fanout', '4', '--seed', '9']);
    const y = await run(['--keys', '3000', '--diff', '10', '--fanout', '4', '--seed', '9']);
    expect({ ...x, wallMs: 0, buildMs: 0 }).toEqual({ ...y, wallMs: 0, buildMs: 0 });
    expect(x.exact).toBe(true);
    const same = await run(['--keys', '3000', '--diff', '0', '--seed', '1']);
    expect(same).toMatchObject({ foundDiff: 0, exact: true, roundTrips: 1, messages: 2, ratio: null });
  });

  it('prints a human summary without --json', async () => {
    const io = capture();
    expect(await main(['simulate', 'reconcile', '--keys', '2000', '--diff', '5', '--seed', '2'], io)).toBe(0);
    const text = io.stdout.join('\n');
    expect(text).toMatch(/found 5 differing keys \(exactly the differing ones\), replicas equal/);
    expect(text).toMatch(/round trips/);
    expect(text).toMatch(/full state: \d+ bytes/);
  });

  it.each([
    [['--keys', '0'], /--keys: must be between 1/],
    [['--keys', '10', '--diff', '11'], /--diff: must be between 0 and 10/],
    [['--fanout', '1'], /--fanout: must be between 2/],
    [['--keys', '100', '--fanout', '16', '--depth', '7'], /leaves; at most/],
  ])('rejects %j with exit code 2', async (args, message) => {
    const io = capture();
    expect(await main(['simulate', 'reconcile', ...args], io)).toBe(2);
    expect(io.stderr.join('\n')).toMatch(message);
  });
});
