import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/core/config.js';
import { suspicionTimeoutMs } from '../../src/core/membership/suspicion.js';
import { SerfAgent, serfOrWarn, wireComplaints } from './serf-agent.js';
import { waitFor } from './wait.js';
import { freeAddr } from './free-addr.js';

/**
 * Issue 5, item 5: our node (in a child process) killed with SIGKILL is marked failed by every
 * serf agent within serf's suspicion bound; after a graceful leave serf shows it `left`.
 */
const SUITE = 'serf-failure (item 5)';
const hasSerf = serfOrWarn(SUITE);
const LAN = defaultConfig('lan');
const CHILD = fileURLToPath(new URL('./child-node.ts', import.meta.url));

interface Child {
  readonly proc: ChildProcess;
  addr: string;
  stderr: string;
  lines: string[];
}

/** Starts our node in a child process and resolves once it has joined `join`. */
async function startChild(name: string, join: readonly string[], children: Child[]): Promise<Child> {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify({ name, join, tags: { proc: 'child' }, seed: 7, bind: await freeAddr() })], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const child: Child = { proc, addr: '', stderr: '', lines: [] };
  process.once('exit', () => proc.kill('SIGKILL'));
  children.push(child);
  proc.stderr?.on('data', (d: Buffer) => (child.stderr += d.toString()));
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    const parts = out.split('\n');
    out = parts.pop() ?? '';
    child.lines.push(...parts);
  });
  await waitFor(`child ${name} to join`, 20_000, () => {
    if (proc.exitCode !== null) throw new Error(`child ${name} exited with ${proc.exitCode}: ${child.stderr}`);
    return child.lines.some((l) => l.includes('"ready"'));
  });
  child.addr = (JSON.parse(child.lines.find((l) => l.includes('"ready"')) as string) as { addr: string }).addr;
  return child;
}

describe.skipIf(!hasSerf)(SUITE, () => {
  const agents: SerfAgent[] = [];
  const children: Child[] = [];
  beforeAll(async () => {
    const s1 = await SerfAgent.start({ name: 's1' });
    agents.push(s1);
    agents.push(...(await Promise.all([SerfAgent.start({ name: 's2', join: [s1.addr] }), SerfAgent.start({ name: 's3', join: [s1.addr] })])));
  });
  afterAll(async () => {
    for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    await Promise.all(agents.map((a) => a.stop()));
  });

  const allShow = (name: string, status: string) => async (): Promise<boolean> =>
    (await Promise.all(agents.map((a) => a.status(name)))).every((s) => s === status);
  const describeStatus = (name: string) => async (): Promise<string> => (await Promise.all(agents.map(async (a) => `${a.name}:${await a.status(name)}`))).join(' ');

  it('SIGKILL: every agent marks our node failed within the suspicion bound', async () => {
    // Joined through every agent (a push-pull with each): this suite is about failure and leave,
    // not about how far one seed's gossip reaches (serf-cluster covers that).
    const c = await startChild('ts-kill', agents.map((a) => a.addr), children);
    await waitFor('every agent to list ts-kill alive', 5000, allShow('ts-kill', 'alive'), describeStatus('ts-kill'));
    c.proc.kill('SIGKILL');
    const t0 = performance.now();
    // Serf's lan bound with n = 4 members: suspicion starts at suspicionMaxTimeoutMult × min
    // (min = suspicionMult × max(1, log10 n) × probeIntervalMs) and shrinks with confirmations;
    // a probe reaches the dead node within a probe round, then the death is gossiped.
    const minMs = suspicionTimeoutMs(LAN.suspicionMult, 4, LAN.probeIntervalMs);
    const boundMs = LAN.suspicionMaxTimeoutMult * minMs + 4 * LAN.probeIntervalMs;
    await waitFor('every agent to mark ts-kill failed', boundMs, allShow('ts-kill', 'failed'), describeStatus('ts-kill'));
    const ms = performance.now() - t0;
    console.log(`serf-failure: SIGKILL → failed on all 3 agents in ${ms.toFixed(0)} ms (suspicion min ${minMs} ms, bound ${boundMs} ms)`);
    expect(ms).toBeGreaterThanOrEqual(minMs - 100);
  });

  it('graceful leave: every agent shows our node left', async () => {
    const c = await startChild('ts-leave', agents.map((a) => a.addr), children);
    await waitFor('every agent to list ts-leave alive', 5000, allShow('ts-leave', 'alive'), describeStatus('ts-leave'));
    c.proc.stdin?.write('leave\n');
    await waitFor('the child to report it left', 5000, () => c.lines.some((l) => l.includes('"left"')));
    await waitFor('every agent to show ts-leave left', 5000, allShow('ts-leave', 'left'), describeStatus('ts-leave'));
    for (const a of agents) expect(wireComplaints(a.log), `${a.name} log`).toEqual([]);
  });
});
