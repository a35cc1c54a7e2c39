import { describe, expect, it } from 'vitest';
import { loadSeeds, makeCase, runCase, seededRng } from '../../fixtures/wire-fuzz.js';
import { WireStats } from '../../../src/wire/index.js';

describe('decoder fuzz (mutated serf captures + random bytes)', () => {
  it('10^5 cases through decodePacket and StreamDecoder: nothing throws, every failure is a DecodeResult with a known reason, everything accepted re-encodes', () => {
    const seeds = loadSeeds();
    const rng = seededRng(20261125);
    const stats = new WireStats();
    const seen = new Map<string, number>();
    const thrown: string[] = [];
    const CASES = 100_000;
    for (let i = 0; i < CASES; i++) {
      const c = makeCase(rng, seeds, stats);
      try {
        const r = runCase(c);
        seen.set(`${c.kind}:${r}`, (seen.get(`${c.kind}:${r}`) ?? 0) + 1);
      } catch (e) {
        if (thrown.length < 5) thrown.push(`case ${i} (${c.kind}, ${Buffer.from(c.bytes).toString('hex').slice(0, 200)}): ${String(e)}`);
      }
    }
    expect(thrown).toEqual([]);
    // The mutations reach deep: successes, and most kinds of rejection, on both paths.
    for (const k of ['packet:ok', 'stream:ok', 'packet:malformed', 'packet:truncated', 'packet:crc-mismatch', 'packet:decrypt-failed', 'packet:unknown-type', 'packet:decompress-failed', 'packet:limit-exceeded', 'stream:malformed', 'stream:truncated', 'stream:decrypt-failed', 'stream:not-encrypted', 'stream:unknown-type']) {
      expect(seen.get(k) ?? 0, k).toBeGreaterThan(0);
    }
    const s = stats.snapshot();
    expect(s.packetsDecoded + s.packetsRejected + s.streamsDecoded + s.streamsRejected).toBeGreaterThanOrEqual(CASES * 0.99);
  }, 60_000);
});
