import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../../src/cli/program.js';
import { capture } from './capture.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function helpOf(c: Command): string[] {
  return [c.helpInformation(), ...c.commands.flatMap(helpOf)];
}

describe('help text', () => {
  it('names no document that is not in the repository (every command and subcommand)', async () => {
    const top = await buildProgram(capture(), []);
    const texts: string[] = [];
    for (const name of top.commands.map((c) => c.name())) texts.push(...helpOf(await buildProgram(capture(), [name])));
    expect(texts.length).toBeGreaterThan(20);
    const docs = [...new Set(texts.flatMap((t) => [...t.matchAll(/[\w./-]+\.md\b/g)].map((m) => m[0])))];
    expect(docs.filter((d) => !existsSync(join(ROOT, d)))).toEqual([]);
  });
});
