/**
 * The agent configuration's error and the one parser `gossip agent`'s flags need before the
 * configuration is validated. Kept apart from `config.ts` (and its zod schema) so that
 * defining the CLI's commands loads nothing of the agent (issue 12).
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
