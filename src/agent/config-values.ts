import { readFileSync } from 'node:fs';

/**
 * The agent configuration's error and the values the CLI reads before a configuration is
 * validated (`gossip agent --tag`, a client's `--token-file`). Kept apart from `config.ts` and
 * its zod schema, so that the CLI's commands load nothing of the agent (issue 12).
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
}

/** `k=v` pairs (flags, `GOSSIP_TAGS` comma-separated) → tags. */
export function parseTags(pairs: readonly string[], source: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) throw new ConfigError([`${source}: tag '${p}': expected key=value`]);
    out[p.slice(0, i)] = p.slice(i + 1);
  }
  return out;
}

/**
 * The token in a token file: its content without trailing whitespace (one line). Errors name
 * the file, never its content.
 */
export function readTokenFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    throw new ConfigError([`tokenFile ${path}: cannot read it (${typeof code === 'string' ? code : e instanceof Error ? e.message : String(e)})`]);
  }
  const token = text.replace(/\s+$/, '');
  if (token.length < 16) throw new ConfigError([`tokenFile ${path}: the token must be at least 16 characters (it has ${token.length})`]);
  if (/\s/.test(token)) throw new ConfigError([`tokenFile ${path}: expected the token alone on one line`]);
  return token;
}
