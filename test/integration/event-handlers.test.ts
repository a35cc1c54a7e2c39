import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { ConfigError, resolveConfig } from '../../src/agent/config.js';
import { parseHandlerSpec } from '../../src/agent/event-handlers.js';
import { logDestination } from '../../src/agent/log-output.js';
import { main } from '../../src/cli/main.js';
import { MemoryStore } from '../../src/store/index.js';
import { capture } from '../unit/cli/capture.js';
import { waitFor } from './wait.js';

let dir: string;
let a: Agent;
let b: Agent | null = null;

function script(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'handlers-'));
  const envDump = script('env.sh', `{ env | grep '^SERF_' | sort; echo "STDIN=$(cat)"; } > "${dir}/user-$SERF_USER_LTIME.out"`);
  const answer = script('answer.sh', 'echo "I am $SERF_SELF_NAME ($SERF_SELF_ROLE, dc $SERF_TAG_DC_NAME) asked $(cat)"');
  const joins = script('joins.sh', `cat >> "${dir}/joins.out"`);
  const config = resolveConfig({
    flags: {
      name: 'h1', bind: '127.0.0.1:0', http: '127.0.0.1:0', profile: 'local', tags: { role: 'web', 'dc-name': 'east' },
      eventHandlers: [
        `user:deploy=${envDump}`, `query:whoami=${answer}`, `member-join=${joins}`,
        'query:slow=sleep 5', 'user:fail=echo oops >&2; exit 3', 'query:big=head -c 5000 /dev/zero | tr "\\0" x',
      ],
      eventHandlerTimeoutMs: 300,
    },
  });
  a = await Agent.start({ config, log: pino({ level: 'silent' }), store: new MemoryStore() });
});
afterAll(async () => {
  await b?.stop('test done', false);
  await a?.stop('test done', false);
  rmSync(dir, { recursive: true, force: true });
});

describe('--event-handler scripts', () => {
  it('a user event runs its script with Serf\'s environment and the payload on stdin', async () => {
    a.node.sendEvent('deploy', 'v42');
    a.node.sendEvent('other', 'not for the script');
    await waitFor('the handler to run', 5000, () => a.handlers.stats.runs >= 1);
    await a.handlers.idle();
    const ltime = a.node.clocks.event - 2;
    const out = readFileSync(join(dir, `user-${ltime}.out`), 'utf8').split('\n');
    // Every tag, our data layer's tag (gc) included, as Serf passes every tag.
    expect(out).toEqual([
      'SERF_EVENT=user', 'SERF_SELF_NAME=h1', 'SERF_SELF_ROLE=web', 'SERF_TAG_DC_NAME=east', 'SERF_TAG_GC=1', 'SERF_TAG_ROLE=web',
      `SERF_USER_EVENT=deploy`, `SERF_USER_LTIME=${ltime}`, 'STDIN=v42', '',
    ]);
    expect(a.handlers.stats).toMatchObject({ runs: 1, failed: 0 });
  });

  it('a query\'s answer is the script\'s stdout (gossip query shows it)', async () => {
    const io = capture();
    expect(await main(['query', 'whoami', 'you?', '--timeout', '1500ms', '--json', '--http', a.httpAddress], io)).toBe(0);
    expect(JSON.parse(io.stdout[0] ?? '')).toEqual({ name: 'whoami', acks: ['h1'], responses: { h1: 'I am h1 (web, dc east) asked you?\n' } });
  });

  it('an answer over the response size limit is cut to it', async () => {
    const r = await a.node.query('big', '', { timeoutMs: 1500 });
    const answer = r.responses.get('h1');
    expect(answer).toBeDefined();
    expect(answer?.length).toBeGreaterThan(a.node.queryResponseSizeLimit - 100);
    expect(answer?.length).toBeLessThan(a.node.queryResponseSizeLimit);
    expect(new Set(Buffer.from(answer ?? new Uint8Array()).toString())).toEqual(new Set(['x']));
  });

  it('a failing or hanging script is counted and logged, and the agent goes on', async () => {
    const before = { ...a.handlers.stats };
    a.node.sendEvent('fail', '');
    const r = await a.node.query('slow', '', { timeoutMs: 1000 });
    expect(r.responses.size).toBe(0);
    await waitFor('both runs', 5000, () => a.handlers.stats.runs >= before.runs + 2);
    expect(a.handlers.stats.failed - before.failed).toBe(2);
    expect(a.handlers.stats.timedOut - before.timedOut).toBe(1);
    const io = capture();
    expect(await main(['info', '--json', '--http', a.httpAddress], io)).toBe(0);
    expect((JSON.parse(io.stdout[0] ?? '') as { handlers: unknown }).handlers).toEqual(a.handlers.stats);
    // still answering
    const again = await a.node.query('whoami', 'again', { timeoutMs: 1500 });
    expect(Buffer.from(again.responses.get('h1') ?? new Uint8Array()).toString()).toContain('asked again');
  });

  it('an event script\'s output is logged at debug, its lines grouped under the line in the text format', async () => {
    const lines: string[] = [];
    const config = resolveConfig({ flags: { name: 'h-out', bind: '127.0.0.1:0', http: '127.0.0.1:0', profile: 'local', eventHandlers: ['user:hello=printf "line one\\nline two\\n"', 'user:bad=printf "e1\\ne2\\n" >&2; exit 1'] } });
    const c = await Agent.start({ config, log: pino({ level: 'debug' }, logDestination({ format: 'text', out: { write: (l: string) => lines.push(l) } })), store: new MemoryStore() });
    try {
      c.node.sendEvent('hello', '');
      c.node.sendEvent('bad', '');
      await waitFor('both runs', 5000, () => c.handlers.stats.runs >= 2);
    } finally {
      await c.stop('test done', false);
    }
    expect(lines.find((l) => l.includes('event handler output'))).toMatch(/\[DEBUG\] agent: event handler output event=user script=.* ms=\d+\n {4}output: line one\n {4}output: line two\n$/);
    expect(lines.find((l) => l.includes('event handler exited with 1'))).toMatch(/\[WARN\] agent: event handler exited with 1 event=user .*\n {4}stderr: e1\n {4}stderr: e2\n$/);
  });

  it('a member-join runs with the member as a line on stdin: name, address, role, tags', async () => {
    const config = resolveConfig({ flags: { name: 'h2', bind: '127.0.0.1:0', http: '127.0.0.1:0', profile: 'local', tags: { role: 'db' }, join: [a.node.addr] } });
    b = await Agent.start({ config, log: pino({ level: 'silent' }), store: new MemoryStore() });
    await waitFor('the join handler', 5000, () => {
      try {
        return readFileSync(join(dir, 'joins.out'), 'utf8').includes('h2\t');
      } catch {
        return false;
      }
    });
    const lines = readFileSync(join(dir, 'joins.out'), 'utf8').split('\n');
    const line = lines.find((l) => l.startsWith('h2\t'));
    expect(line).toMatch(/^h2\t127\.0\.0\.1\tdb\t(.*,)?role=db(,.*)?$/);
  });

  it('filters: Serf\'s syntax is parsed, a bad one is a configuration error', () => {
    expect(parseHandlerSpec('member-join,user:deploy=/bin/x')).toEqual({ filters: [{ type: 'member-join', name: null }, { type: 'user', name: 'deploy' }], script: '/bin/x' });
    expect(parseHandlerSpec('/bin/x')).toEqual({ filters: [{ type: '*', name: null }], script: '/bin/x' });
    expect(() => resolveConfig({ flags: { name: 'x', eventHandlers: ['member-joined=/bin/x'] } })).toThrow(ConfigError);
    expect(() => resolveConfig({ flags: { name: 'x', eventHandlers: ['member-join:a=/bin/x'] } })).toThrow(/only user and query filters take a name/);
  });
});
