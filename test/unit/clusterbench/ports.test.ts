import { describe, expect, it } from 'vitest';
import { FETCH_BLOCKED_PORTS } from '../../../src/agent/fetch-blocked-ports.js';
import { AGENT_PORT_MIN, freePort } from '../../../src/clusterbench/ports.js';

describe('freePort', () => {
  it('never hands out a port fetch() refuses: a walk that starts on 10080 moves past it', async () => {
    // The walk's first candidate is AGENT_PORT_MIN + the draw: 10080, which Node's fetch (the
    // bench's and the tests' client) and every browser refuse to connect to ("bad port").
    const port = await freePort('127.0.0.1', () => 10_080 - AGENT_PORT_MIN);
    expect(port).not.toBe(10_080);
    expect(FETCH_BLOCKED_PORTS.has(port)).toBe(false);
  });

  it('the list is the Fetch standard\'s: fetch() refuses its ports above 1023 in this Node', async () => {
    for (const port of [...FETCH_BLOCKED_PORTS].filter((p) => p > 1023)) {
      const err = await fetch(`http://127.0.0.1:${port}/`).catch((e: unknown) => e);
      expect(err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err)).toMatch(/bad port/);
    }
  });
});
