import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { capture } from './capture.js';

async function code(...argv: string[]): Promise<number> {
  return main(argv, capture());
}

describe('exit codes: 0 success, 1 runtime failure, 2 usage or configuration error', () => {
  it('usage errors exit 2, whether commander or the command finds them', async () => {
    expect(await code('no-such-command')).toBe(2);
    expect(await code('members', '--no-such-option')).toBe(2);
    expect(await code('query')).toBe(2);
    expect(await code('join')).toBe(2);
    expect(await code('force-leave')).toBe(2);
    expect(await code('force-it')).toBe(2);
    expect(await code('query', 'q', '--timeout', 'later', '--http', '127.0.0.1:1')).toBe(2);
    expect(await code('members', '--http', 'not a url at all')).toBe(2);
    expect(await code('agent', '--profile', 'moon', '--name', 'x')).toBe(2);
  });

  it('help and version exit 0', async () => {
    expect(await code('--help')).toBe(0);
    expect(await code('query', '--help')).toBe(0);
    expect(await code('version')).toBe(0);
  });

  it('a command that cannot reach its agent exits 1', async () => {
    for (const argv of [['members'], ['info'], ['query', 'q'], ['join', '127.0.0.1:7946'], ['tags', '--set', 'a=b'], ['reachability'], ['force-leave', 'x']]) {
      expect(await code(...argv, '--http', '127.0.0.1:1')).toBe(1);
    }
  });
});
