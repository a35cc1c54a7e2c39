import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AgentProcess } from './agent-process.js';
import { kill, killAll, members, portOf, startAgent } from './agent-process.js';
import { waitFor } from './wait.js';

/**
 * Issue 12 (events exactly once): an agent killed -9 while user events stream and restarted on
 * its data dir must not deliver again an event it delivered in its first life. It records each
 * delivered event before the next turn of its event loop (not at the next 5 s snapshot), so its
 * second life's floor covers everything the first delivered. Real processes; deliveries are
 * read from each life's "user event" log lines.
 */
const dir = mkdtempSync(join(tmpdir(), 'crash-events-'));
afterAll(() => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const delivered = (a: AgentProcess): string[] =>
  a.log.filter((l) => l.includes('"msg":"user event"')).map((l) => (JSON.parse(l) as { event: string }).event);

async function fire(a: AgentProcess, name: string): Promise<void> {
  const r = await fetch(`http://${a.http}/v1/event`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, payload: name, coalesce: false }) });
  expect(r.status).toBeLessThan(300);
  await r.text();
}

describe('user events across a crash', () => {
  it('an agent killed -9 mid-stream and restarted delivers no event twice, and every event once', async () => {
    const common = ['--profile', 'local', '--log-level', 'info', '--log-format', 'json'];
    const a = await startAgent('xa', [...common]);
    const b = await startAgent('xb', [...common, '--join', a.gossip]);
    const cDir = join(dir, 'xc');
    const c1 = await startAgent('xc', [...common, '--join', a.gossip, '--data-dir', cDir]);
    let c2: AgentProcess | null = null;
    await waitFor('three alive', 20_000, async () => (await members(c1)).filter((m) => m.status === 'alive').length === 3);
    const names: string[] = [];
    for (let i = 0; i < 60; i++) {
      const name = `x${i}`;
      names.push(name);
      await fire(i % 2 === 0 ? a : b, name);
      if (i === 25) await kill(c1); // mid-stream, right after deliveries
      if (i === 35) c2 = await startAgent('xc', [...common, '--join', a.gossip, '--data-dir', cDir], { bindPort: portOf(c1.gossip) });
      await sleep(50);
    }
    const second: AgentProcess | null = c2;
    expect(second).not.toBeNull();
    if (second === null) return;
    const both = (): string[] => [...delivered(c1), ...delivered(second)];
    await waitFor('every event at the restarted node, across its two lives', 60_000, () => new Set(both()).size >= names.length,
      () => `first life ${delivered(c1).length}, second ${delivered(second).length}: missing ${names.filter((n) => !both().includes(n)).join(',')}`);
    await sleep(1500); // late duplicates would show now
    const twice = both().filter((n, i, all) => all.indexOf(n) !== i);
    expect(twice, `delivered in both lives (first life had ${delivered(c1).length})`).toEqual([]);
    expect([...new Set(both())].sort()).toEqual([...names].sort());
    for (const x of [a, b]) {
      await waitFor(`every event at ${x.name}`, 30_000, () => new Set(delivered(x)).size >= names.length,
        () => `${x.name} delivered ${new Set(delivered(x)).size}: missing ${names.filter((n) => !delivered(x).includes(n)).join(',')}`);
      expect(new Set(delivered(x)).size).toBe(names.length);
    }
    await kill(second);
  }, 180_000);
});
