/** Parsing of user-supplied values, with errors that say what was wrong. */
export class UsageError extends Error {
  override name = 'UsageError';
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `500ms`, `30s`, `10m`, `1h`, `1.5s` → milliseconds. */
export function parseDuration(s: string, what = 'duration'): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(s.trim());
  if (!m) throw new UsageError(`${what}: expected a number with a unit (ms, s, m, h), e.g. 600s; got '${s}'`);
  return Math.round(Number(m[1]) * (UNITS[m[2] as string] as number));
}

export function parseIntIn(s: string, what: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(s.trim())) throw new UsageError(`${what}: expected a whole number, got '${s}'`);
  const n = Number(s);
  if (n < min || n > max) throw new UsageError(`${what}: must be between ${min} and ${max}, got ${n}`);
  return n;
}

export function parseFraction(s: string, what: string): number {
  const n = Number(s);
  if (s.trim() === '' || !Number.isFinite(n) || n < 0 || n >= 1) throw new UsageError(`${what}: expected a fraction in [0, 1), got '${s}'`);
  return n;
}

/** Decimal or 0x-hex 32-bit seed. */
export function parseSeed(s: string): number {
  const t = s.trim();
  const n = /^0x[0-9a-f]+$/i.test(t) ? Number.parseInt(t.slice(2), 16) : /^\d+$/.test(t) ? Number(t) : NaN;
  if (!Number.isSafeInteger(n) || n < 0 || n > 0xffffffff) throw new UsageError(`--seed: expected an integer in [0, 2^32) (decimal or 0x hex), got '${s}'`);
  return n;
}

/** The seed the user gave, or a fresh random one (which the command then prints). */
export function resolveSeed(s: string | undefined): number {
  return s === undefined ? (crypto.getRandomValues(new Uint32Array(1))[0] as number) : parseSeed(s);
}

/** `k=regex` pairs → a tag filter (the regex may itself contain `=`). */
export function parseTagFilters(pairs: readonly string[], what = '--tag'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) throw new UsageError(`${what}: expected name=regex, got '${p}'`);
    const re = p.slice(i + 1);
    try {
      new RegExp(re);
    } catch {
      throw new UsageError(`${what}: '${re}' is not a regular expression`);
    }
    out[p.slice(0, i)] = re;
  }
  return out;
}
