import { readFileSync } from 'node:fs';
import type { LatencySpec } from '../sim/latency-model.js';
import { UsageError } from './parse.js';

/**
 * `--topology FILE|preset` of the simulate commands: a preset name (`lan`, `geo`) or a JSON
 * file with a `LatencySpec` (a preset's fields, overridden by the file's: `{"preset": "geo",
 * "triangleViolators": 0.05}`, or a whole spec).
 */
export async function parseTopologyOption(arg: string): Promise<LatencySpec> {
  const { LATENCY_PRESETS, latencySpecProblems } = await import('../sim/latency-model.js');
  const presets: Readonly<Record<string, LatencySpec>> = LATENCY_PRESETS;
  const preset = presets[arg];
  if (preset !== undefined) return preset;
  let text: string;
  try {
    text = readFileSync(arg, 'utf8');
  } catch (e) {
    throw new UsageError(`--topology: '${arg}' is neither a preset (${Object.keys(presets).join(', ')}) nor a readable file: ${e instanceof Error ? e.message : String(e)}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--topology ${arg}: not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new UsageError(`--topology ${arg}: expected a JSON object`);
  const { preset: base, ...fields } = raw as Record<string, unknown>;
  if (base !== undefined && (typeof base !== 'string' || presets[base] === undefined)) throw new UsageError(`--topology ${arg}: preset: expected one of ${Object.keys(presets).join(', ')}`);
  const spec = { ...(typeof base === 'string' ? presets[base] : {}), ...fields } as LatencySpec;
  const problems = latencySpecProblems(spec);
  if (problems.length > 0) throw new UsageError(`--topology ${arg}: ${problems.join('; ')}`);
  return spec;
}
