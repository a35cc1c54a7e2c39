import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, configFromDir } from '../../../src/agent/config.js';
import { agentConfig } from '../../../src/cli/commands/agent.js';
import { main } from '../../../src/cli/main.js';
import { capture } from './capture.js';

const root = mkdtempSync(join(tmpdir(), 'gossip-config-dir-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function dir(name: string, files: Record<string, unknown>): string {
  const d = join(root, name);
  mkdirSync(d);
  for (const [f, v] of Object.entries(files)) writeFileSync(join(d, f), typeof v === 'string' ? v : JSON.stringify(v));
  return d;
}

describe('--config-dir', () => {
  it('merges every *.json in name order (later wins, maps replaced whole), over --config, under env and flags', async () => {
    const d = dir('a', {
      '20-tags.json': { tags: { y: '2' }, profile: 'wan' },
      '10-base.json': { name: 'from-dir', tags: { x: '1' }, profile: 'local', logLevel: 'debug' },
      'notes.txt': 'not json, not read',
      '30-last.json': { logLevel: 'error' },
    });
    mkdirSync(join(d, 'sub.json'));
    const file = join(root, 'main.json');
    writeFileSync(file, JSON.stringify({ name: 'from-file', valueBytesMax: 1234, logLevel: 'warn' }));
    const c = await agentConfig({ config: file, configDir: d }, {});
    expect(c).toMatchObject({ name: 'from-dir', tags: { y: '2' }, profile: 'wan', logLevel: 'error', valueBytesMax: 1234 });
    expect(c.tags).toEqual({ y: '2' });
    expect((await agentConfig({ configDir: d }, { GOSSIP_PROFILE: 'lan' })).profile).toBe('lan');
    expect((await agentConfig({ configDir: d, name: 'flag' }, { GOSSIP_NAME: 'env' })).name).toBe('flag');
    expect((await agentConfig({}, { GOSSIP_CONFIG_DIR: d })).name).toBe('from-dir');
  });

  it('a bad file or a missing directory is a configuration error naming it; the agent exits 2', async () => {
    const bad = dir('bad', { '01.json': { name: 'x' }, '02.json': '{not json' });
    expect(() => configFromDir(bad)).toThrow(ConfigError);
    expect(() => configFromDir(bad)).toThrow(/02\.json: not valid JSON/);
    expect(() => configFromDir(join(root, 'none'))).toThrow(/config dir .*none/);
    const io = capture();
    expect(await main(['agent', '--config-dir', bad], io)).toBe(2);
    expect(io.stderr.join('\n')).toMatch(/02\.json/);
    const unknown = dir('unknown', { '01.json': { name: 'x', colour: 'red' } });
    const io2 = capture();
    expect(await main(['agent', '--config-dir', unknown], io2)).toBe(2);
    expect(io2.stderr.join('\n')).toMatch(/unknown setting: colour/);
  });

  it('an empty directory adds nothing', () => {
    expect(configFromDir(dir('empty', {}))).toEqual({});
  });
});
