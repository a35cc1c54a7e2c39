/**
 * Polls `cond` until it holds or `deadlineMs` passes; then throws with `what` and the last
 * state `describe` reports. Real-socket tests wait for conditions, never for fixed sleeps.
 */
export async function waitFor(what: string, deadlineMs: number, cond: () => boolean | Promise<boolean>, describe?: () => string | Promise<string>): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await cond()) return performance.now() - start;
    if (performance.now() - start > deadlineMs) {
      const state = describe ? `\nlast state: ${await describe()}` : '';
      throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}${state}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}
