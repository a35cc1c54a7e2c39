import type { PeerSampler } from '../core/dissemination/disseminator.js';
import type { Address } from '../core/ids.js';
import type { Rng } from '../core/rng.js';

/**
 * Partners from an oracle that knows which simulated nodes are up (`up[i] === 1`, `live()` of
 * them): up to k distinct random live nodes other than `self`, by rejection sampling. What a
 * perfect membership layer would give, without its cost, for large simulations.
 */
export function oracleSampler(self: number, addrs: readonly Address[], up: Uint8Array, live: () => number): PeerSampler {
  const n = addrs.length;
  const others = (): number => live() - (up[self] === 1 ? 1 : 0);
  return {
    size: others,
    sample: (k: number, rng: Rng): Address[] => {
      const out: Address[] = [];
      const picked: number[] = [];
      const want = Math.min(k, others());
      for (let tries = 0; picked.length < want && tries < 8 * n; tries++) {
        let j = rng.int(n - 1);
        if (j >= self) j++;
        if (up[j] !== 1 || picked.includes(j)) continue;
        picked.push(j);
        out.push(addrs[j] as Address);
      }
      return out;
    },
  };
}
