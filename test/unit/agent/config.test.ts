import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, configFromEnv, configFromFile, isLoopbackHostPort, resolveConfig } from '../../../src/agent/config.js';
import { configFromFlags } from '../../../src/cli/commands/agent.js';

const dir = mkdtempSync(join(tmpdir(), 'gossip-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const KEY16 = Buffer.alloc(16, 1).toString('base64');

function problems(f: () => unknown): readonly string[] {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('agent configuration', () => {
  it('fills defaults: loopback HTTP, bind 0.0.0.0:7946, lan', () => {
    const c = resolveConfig({ flags: { name: 'n1' } });
    expect(c).toMatchObject({ name: 'n1', bind: '0.0.0.0:7946', http: '127.0.0.1:7380', profile: 'lan', join: [], tags: {} });
  });

  it('merges file < env < flags, each replacing lists and maps as a whole', () => {
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ name: 'from-file', bind: '127.0.0.1:1000', profile: 'wan', join: ['127.0.0.1:1'], tags: { a: '1' } }));
    const env = configFromEnv({ GOSSIP_NAME: 'from-env', GOSSIP_JOIN: '127.0.0.1:2, 127.0.0.1:3', GOSSIP_PROFILE: 'local', UNRELATED: 'x' });
    const flags = configFromFlags({ name: 'from-flag', tag: ['role=db', 'dc=x=y'] });
    const c = resolveConfig({ file: configFromFile(file), env, flags });
    expect(c.name).toBe('from-flag');
    expect(c.profile).toBe('local');
    expect(c.bind).toBe('127.0.0.1:1000');
    expect(c.join).toEqual(['127.0.0.1:2', '127.0.0.1:3']);
    expect(c.tags).toEqual({ role: 'db', dc: 'x=y' });
  });

  it('lists every problem at once, naming the setting', () => {
    const p = problems(() => resolveConfig({ flags: { bind: 'nope:xx', profile: 'galaxy', encrypt: 'short' } }));
    expect(p.some((s) => s.startsWith('name: required'))).toBe(true);
    expect(p.some((s) => s.startsWith('bind:'))).toBe(true);
    expect(p.some((s) => s.startsWith('profile:'))).toBe(true);
    expect(p.some((s) => s.startsWith('encrypt:'))).toBe(true);
  });

  it('refuses --encrypt with --keyring-file', () => {
    expect(problems(() => resolveConfig({ flags: { name: 'n', encrypt: KEY16, keyringFile: '/tmp/k' } }))).toEqual(['encrypt: pass either encrypt or keyringFile, not both']);
    expect(resolveConfig({ flags: { name: 'n', encrypt: KEY16 } }).encrypt).toBe(KEY16);
  });

  it('requires a token when the HTTP API is not on loopback', () => {
    expect(problems(() => resolveConfig({ flags: { name: 'n', http: '0.0.0.0:7380' } }))[0]).toMatch(/not a loopback address: a token is required/);
    expect(resolveConfig({ flags: { name: 'n', http: '0.0.0.0:7380', token: 'x'.repeat(16) } }).token).toBe('x'.repeat(16));
    expect(resolveConfig({ flags: { name: 'n', http: '[::1]:7380' } }).http).toBe('[::1]:7380');
  });

  it('reports unknown settings in the file and an unreadable or non-JSON file', () => {
    const bad = join(dir, 'unknown.json');
    writeFileSync(bad, JSON.stringify({ name: 'n', colour: 'blue' }));
    expect(problems(() => resolveConfig({ file: configFromFile(bad) }))).toEqual(['unknown setting: colour']);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"name": ');
    expect(problems(() => configFromFile(broken))[0]).toMatch(/broken\.json: not valid JSON/);
    expect(problems(() => configFromFile(join(dir, 'missing.json')))[0]).toMatch(/missing\.json: ENOENT/);
  });

  it('takes the SQLite synchronous level from the environment, FULL by default', () => {
    expect(resolveConfig({ flags: { name: 'n' } }).sqliteSynchronous).toBe('FULL');
    expect(resolveConfig({ env: configFromEnv({ GOSSIP_SQLITE_SYNCHRONOUS: 'NORMAL' }), flags: { name: 'n' } }).sqliteSynchronous).toBe('NORMAL');
    expect(problems(() => resolveConfig({ env: configFromEnv({ GOSSIP_SQLITE_SYNCHRONOUS: 'OFF' }), flags: { name: 'n' } }))).toEqual(["sqliteSynchronous: expected 'FULL' or 'NORMAL'"]);
  });

  it('nearestRefinement: on by default, off from the file or GOSSIP_NEAREST_REFINEMENT=false, refused when not a boolean', () => {
    expect(resolveConfig({ flags: { name: 'n' } }).nearestRefinement).toBe(true);
    expect(resolveConfig({ env: configFromEnv({ GOSSIP_NEAREST_REFINEMENT: 'false' }), flags: { name: 'n' } }).nearestRefinement).toBe(false);
    expect(resolveConfig({ file: { name: 'n', nearestRefinement: false } }).nearestRefinement).toBe(false);
    expect(problems(() => resolveConfig({ env: configFromEnv({ GOSSIP_NEAREST_REFINEMENT: 'maybe' }), flags: { name: 'n' } }))).toEqual(['nearestRefinement: expected true or false']);
  });

  it('takes resolvers per prefix and refuses an unknown one', () => {
    expect(resolveConfig({ file: { name: 'n', resolvers: { 'mv/': 'siblings' } } }).resolvers).toEqual({ 'mv/': 'siblings' });
    expect(problems(() => resolveConfig({ file: { name: 'n', resolvers: { 'x/': 'crdt' } } }))).toEqual(['resolvers.x/: expected lww, siblings, gcounter, pncounter, orset or ormap']);
  });

  it('refuses a malformed tag', () => {
    expect(problems(() => configFromFlags({ tag: ['novalue'] }))).toEqual(["--tag: tag 'novalue': expected key=value"]);
    expect(problems(() => configFromEnv({ GOSSIP_TAGS: 'a=1,=2' }))).toEqual(["GOSSIP_TAGS: tag '=2': expected key=value"]);
  });

  it('knows loopback addresses', () => {
    expect(['127.0.0.1:1', '127.9.9.9:1', '[::1]:1'].map(isLoopbackHostPort)).toEqual([true, true, true]);
    expect(['0.0.0.0:1', '10.0.0.1:1', '[::]:1', 'localhost:1'].map(isLoopbackHostPort)).toEqual([false, false, false, false]);
  });

  it('reads the token from a file (--token-file, GOSSIP_HTTP_TOKEN_FILE), never printing it', () => {
    const file = join(dir, 'token');
    writeFileSync(file, 'file-token-0123456789abcdef\n', { mode: 0o600 });
    expect(resolveConfig({ flags: { name: 'n', tokenFile: file, http: '0.0.0.0:7380' } }).token).toBe('file-token-0123456789abcdef');
    expect(resolveConfig({ env: configFromEnv({ GOSSIP_HTTP_TOKEN_FILE: file }), flags: { name: 'n' } }).token).toBe('file-token-0123456789abcdef');
    expect(configFromFlags({ tokenFile: file })).toEqual({ tokenFile: file });
    const short = join(dir, 'short-token');
    writeFileSync(short, 'hunter2\n');
    const p = problems(() => resolveConfig({ flags: { name: 'n', tokenFile: short } }));
    expect(p).toEqual([`tokenFile ${short}: the token must be at least 16 characters (it has 7)`]);
    expect(p.join('')).not.toContain('hunter2');
    expect(problems(() => resolveConfig({ flags: { name: 'n', tokenFile: join(dir, 'none') } }))).toEqual([`tokenFile ${join(dir, 'none')}: cannot read it (ENOENT)`]);
    expect(problems(() => resolveConfig({ flags: { name: 'n', tokenFile: file, token: 'x'.repeat(16) } }))).toEqual(['token: pass either token or tokenFile, not both']);
  });

  it('takes the HTTP names and the stream cap', () => {
    const c = resolveConfig({ env: configFromEnv({ GOSSIP_HTTP_HOSTS: 'agent.example, b.example' }), flags: { name: 'n' } });
    expect(c.httpHosts).toEqual(['agent.example', 'b.example']);
    expect(c.httpStreamsMax).toBe(64);
    expect(resolveConfig({ flags: { name: 'n', ...configFromFlags({ httpHost: ['x.example'], valueBytesMax: '2048' }) } })).toMatchObject({ httpHosts: ['x.example'], valueBytesMax: 2048 });
  });

  it('says what is wrong with each bad value in its own words, naming the setting (the schema carries every message: no catalogue is loaded)', () => {
    const bad = (file: Record<string, unknown>): readonly string[] => problems(() => resolveConfig({ file: { name: 'n', ...file } }));
    expect(bad({ valueBytesMax: Number('abc') })).toEqual(['valueBytesMax: expected a whole number']);
    expect(bad({ valueBytesMax: 0 })).toEqual(['valueBytesMax: at least 1']);
    expect(bad({ retryIntervalMs: 4_000_000 })).toEqual(['retryIntervalMs: at most 3600000']);
    expect(bad({ recover: 'maybe' })).toEqual(['recover: expected true or false']);
    expect(bad({ join: 'a:1' })).toEqual(['join: expected a list of strings']);
    expect(bad({ join: [''] })).toEqual(['join: empty address']);
    expect(bad({ tags: { '': 'x' } })).toEqual(['tags: empty tag name']);
    expect(bad({ keyringFile: '' })).toEqual(['keyringFile: empty path']);
    expect(bad({ bandwidth: 3000.5 })).toEqual(['bandwidth: expected whole bytes per second']);
    expect(bad({ yjs: { idleMs: 5, colour: 1 } })).toEqual(['yjs.idleMs: at least 100', 'unknown setting: yjs.colour']);
    expect(problems(() => resolveConfig({ file: { name: 7 } }))).toEqual(['name: required (--name, GOSSIP_NAME or "name" in the config file)']);
  });
});
