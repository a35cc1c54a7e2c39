/** Dissemination mode: who sends the payload in a contact. */
export type GossipMode = 'push' | 'pull' | 'push-pull';

/**
 * The mean-field informed fraction after each round (theory.md §2.1 recurrences, with fanout):
 * push p' = p·(1 − 1/n)^{f·n(1−p)}, pull p' = p², push-pull p' = p²·(1 − 1/n)^{n(1−p)},
 * where p is the susceptible fraction; runs until fewer than half a node is expected susceptible.
 */
export function theoryCurve(mode: GossipMode, n: number, fanout = 1, maxRounds = 200): number[] {
  let p = 1 - 1 / n;
  const out = [1 - p];
  const miss = Math.log1p(-1 / n);
  for (let r = 0; r < maxRounds && p * n >= 0.5; r++) {
    if (mode === 'push') p = p * Math.exp(fanout * n * (1 - p) * miss);
    else if (mode === 'pull') p = p * p;
    else p = p * p * Math.exp(n * (1 - p) * miss);
    out.push(1 - p);
  }
  return out;
}

/**
 * The first round at which the push-pull mean-field curve for n passes one half: where
 * push-then-pull stops pushing (Karp et al.: past half, pull informs faster than push, and
 * every pulled payload is useful).
 */
export function halfwayRound(n: number): number {
  const curve = theoryCurve('push-pull', n);
  const r = curve.findIndex((x) => x >= 0.5);
  return r < 0 ? curve.length : r;
}
