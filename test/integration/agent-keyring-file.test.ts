/**
 * A keyring file that is named but missing, unreadable or malformed stops the agent (exit 2)
 * with the path and the reason; the library's createNode rejects the same way. Naming a
 * keyring file never leaves a node in plaintext.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { KeyringFileError, createNode } from '../../src/index.js';
import { capture } from '../unit/cli/capture.js';
import { freeAddr } from './free-addr.js';

const dir = mkdtempSync(join(tmpdir(), 'gossip-keyring-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const KEY = Buffer.alloc(32, 7).toString('base64');

const cases: readonly { what: string; path: () => string; reason: RegExp }[] = [
  { what: 'missing', path: () => join(dir, 'nope.json'), reason: /no such file/ },
  { what: 'unreadable (a directory)', path: () => { const p = join(dir, 'a-dir'); mkdirSync(p, { recursive: true }); return p; }, reason: /cannot read it: it is a directory/ },
  { what: 'not JSON', path: () => { const p = join(dir, 'bad.json'); writeFileSync(p, '{oops'); return p; }, reason: /not valid JSON/ },
  { what: 'an empty array', path: () => { const p = join(dir, 'empty.json'); writeFileSync(p, '[]'); return p; }, reason: /non-empty JSON array/ },
  { what: 'a bad key', path: () => { const p = join(dir, 'short.json'); writeFileSync(p, JSON.stringify([Buffer.alloc(5).toString('base64')])); return p; }, reason: /key 0/ },
];

describe('--keyring-file that cannot be used', () => {
  for (const c of cases) {
    it(`${c.what}: gossip agent exits 2 naming the file and the reason`, async () => {
      const path = c.path();
      const io = capture();
      const code = await main(['agent', '--name', 'kf', '--bind', await freeAddr(), '--http', await freeAddr(), '--log-level', 'silent', '--keyring-file', path], io);
      expect(code).toBe(2);
      expect(io.stderr.join('\n')).toContain(`keyring file ${path}: `);
      expect(io.stderr.join('\n')).toMatch(c.reason);
    });
  }

  it('createNode rejects with a KeyringFileError; a missing file with a key to start from is created with it', async () => {
    const missing = join(dir, 'lib-missing.json');
    await expect(createNode({ name: 'lib', bind: await freeAddr(), keyringFile: missing })).rejects.toBeInstanceOf(KeyringFileError);
    const node = await createNode({ name: 'lib', bind: await freeAddr(), keyringFile: missing, encryptKey: KEY });
    try {
      expect(JSON.parse(readFileSync(missing, 'utf8'))).toEqual([KEY]);
    } finally {
      await node.shutdown();
    }
  });
});
