import type { IncomingMessage } from 'node:http';
import { beforeEach, describe, expect, it, vi } from 'vitest';

/** Every timingSafeEqual call the guard makes (the real one still answers). */
const compared: [number, number][] = [];
vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  return {
    ...real,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView): boolean => {
      compared.push([a.byteLength, b.byteLength]);
      return real.timingSafeEqual(a, b);
    },
  };
});

const { HttpGuard } = await import('../../../src/agent/http-guard.js');
const { HttpError } = await import('../../../src/agent/http-body.js');

const TOKEN = 'correct-horse-battery-staple';
const req = (headers: Record<string, string>): IncomingMessage => ({ headers, method: 'GET' }) as unknown as IncomingMessage;
const status = (f: () => void): number => {
  try {
    f();
    return 200;
  } catch (e) {
    if (e instanceof HttpError) return e.status;
    throw e;
  }
};

describe('HttpGuard: the token is compared in constant time', () => {
  const guard = new HttpGuard({ token: TOKEN, hosts: [] });
  beforeEach(() => {
    compared.length = 0;
  });

  it('every given token, right or wrong, of any length, goes through timingSafeEqual on equal-length digests', () => {
    const none = new URLSearchParams();
    const tries: [string, number][] = [
      [TOKEN, 200],
      [`X${TOKEN.slice(1)}`, 403], // differs in the first byte
      [`${TOKEN.slice(0, -1)}X`, 403], // differs in the last byte
      ['short', 403],
      [`${TOKEN}-and-more`, 403],
      ['x'.repeat(10_000), 403],
    ];
    for (const [given, want] of tries) {
      compared.length = 0;
      expect(status(() => guard.authorize(req({ authorization: `Bearer ${given}` }), '/v1/members', none)), given).toBe(want);
      // One comparison, of two digests of the same size: the time does not depend on the given token.
      expect(compared, given).toEqual([[32, 32]]);
    }
  });

  it('?token= on the page and the stream goes through the same comparison', () => {
    expect(status(() => guard.authorize(req({}), '/v1/stream', new URLSearchParams({ token: 'wrong' })))).toBe(403);
    expect(status(() => guard.authorize(req({}), '/', new URLSearchParams({ token: TOKEN })))).toBe(200);
    expect(compared).toEqual([[32, 32], [32, 32]]);
  });

  it('no token at all is a 401, before any comparison', () => {
    expect(status(() => guard.authorize(req({}), '/v1/kv/x', new URLSearchParams()))).toBe(401);
    expect(status(() => guard.authorize(req({ authorization: 'Bearer ' }), '/v1/kv/x', new URLSearchParams()))).toBe(401);
    expect(compared).toEqual([]);
  });
});
