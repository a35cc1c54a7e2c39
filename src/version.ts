import { readFileSync } from 'node:fs';

let cached: string | null = null;

/** This package's version (its package.json, one level above both `src/` and `dist/`), read on first use. */
export function packageVersion(): string {
  if (cached !== null) return cached;
  try {
    const pkg: unknown = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    const v = typeof pkg === 'object' && pkg !== null ? (pkg as Record<string, unknown>).version : undefined;
    cached = typeof v === 'string' ? v : 'unknown';
  } catch {
    cached = 'unknown';
  }
  return cached;
}
