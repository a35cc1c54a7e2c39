import { randomInt } from 'node:crypto';
import { expect } from 'vitest';

/**
 * The fast-check seed of a property that pins one. `npm test` runs the pinned seed (the same
 * cases every time); `npm run soak` (SOAK=1) draws a fresh seed per property and prints it,
 * and `SOAK_SEED=<n>` replays one: a failing soak seed is a one-line repro.
 */
export function propertySeed(pinned: number): number {
  const replay = process.env.SOAK_SEED;
  if (replay !== undefined && replay !== '') return Number(replay);
  if (process.env.SOAK !== '1') return pinned;
  const seed = randomInt(1, 2 ** 31 - 1);
  const name = expect.getState().currentTestName ?? '?';
  console.log(`soak seed ${seed} (pinned ${pinned}): ${name}\n  replay: SOAK_SEED=${seed} npx vitest run ${expect.getState().testPath ?? ''} -t ${JSON.stringify(name.split(' > ').pop() ?? name)}`);
  return seed;
}
