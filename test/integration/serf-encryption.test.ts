import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterNode } from '../../src/index.js';
import { createNode, JoinError } from '../../src/index.js';
import { SerfAgent, serfOrWarn, wireComplaints } from './serf-agent.js';
import { waitFor } from './wait.js';
import { freeAddr } from './free-addr.js';

/**
 * Issue 5, item 6 (and the `serf keys -list` half of item 4): with the same key everything
 * works; with a wrong key nothing crashes and both sides count and log the rejections; a key
 * rotation with `serf keys -install/-use/-remove` keeps our node in the cluster.
 */
const SUITE = 'serf-encryption (items 4, 6)';
const hasSerf = serfOrWarn(SUITE);
// Fixed keys (no randomness in tests): 32, 16 and 24 bytes, base64 as `serf keygen` prints them.
const K1 = Buffer.alloc(32, 0x11).toString('base64');
const K2 = Buffer.alloc(16, 0x22).toString('base64');
const K3 = Buffer.alloc(24, 0x33).toString('base64');
const WRONG = Buffer.alloc(32, 0x44).toString('base64');
const dec = new TextDecoder();

describe.skipIf(!hasSerf)(SUITE, () => {
  const agents: SerfAgent[] = [];
  const ours: ClusterNode[] = [];
  const logs: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'gc-keyring-'));
  const keyringFile = join(dir, 'ts-enc.keyring');
  const ourNode = async (name: string, key: string, seed: number, file?: string): Promise<ClusterNode> => {
    const n = await createNode({
      name, bind: await freeAddr(), encryptKey: key, seed, tags: { enc: 'yes' }, logger: (level, line) => logs.push(`${name} [${level}] ${line}`),
      ...(file !== undefined ? { keyringFile: file } : {}),
    });
    ours.push(n);
    return n;
  };
  let s1: SerfAgent, s2: SerfAgent, ts: ClusterNode;
  const events: string[] = [];

  beforeAll(async () => {
    s1 = await SerfAgent.start({ name: 's1', encrypt: K1, handler: true });
    agents.push(s1);
    s2 = await SerfAgent.start({ name: 's2', encrypt: K1, join: [s1.addr], handler: true });
    agents.push(s2);
  });
  afterAll(async () => {
    await Promise.all([...ours.map((n) => n.shutdown()), ...agents.map((a) => a.stop())]);
  });

  const allList = (name: string) => async (): Promise<boolean> =>
    (await Promise.all(agents.filter((a) => a !== wrongAgent).map((a) => a.status(name)))).every((s) => s === 'alive');
  let wrongAgent: SerfAgent | null = null;

  /** `serf keys -list` on s1: the line for `key`, e.g. `KEY  [3/3]`. */
  const keyCount = async (key: string): Promise<string | undefined> => {
    const out = await s1.cli('keys', '-list');
    return /\[(\d+\/\d+)\]/.exec(out.split('\n').find((l) => l.startsWith(key)) ?? '')?.[1];
  };

  it('same key: our node joins, events flow both ways, serf keys -list counts it, serf query gets its answer', async () => {
    ts = await ourNode('ts-enc', K1, 21, keyringFile);
    expect(JSON.parse(readFileSync(keyringFile, 'utf8'))).toEqual([K1]);
    ts.on('user-event', (e) => events.push(`${e.name}:${dec.decode(e.payload)}`));
    await ts.join([s1.addr]);
    await waitFor('both agents to list ts-enc alive', 5000, allList('ts-enc'));
    await waitFor('ts-enc to list both agents', 5000, () => ts.members().filter((m) => m.status === 'alive').length === 3);
    await s2.cli('event', '-coalesce=false', 'secret', 'payload-1');
    await waitFor('the encrypted event to reach ts-enc', 5000, () => events.includes('secret:payload-1'));
    ts.sendEvent('ts-secret', 'payload-2', { coalesce: false });
    for (const a of [s1, s2]) await waitFor(`${a.name}'s handler for ts-secret`, 5000, () => a.events().some((e) => e[1] === 'ts-secret' && e[3] === 'payload-2'));
    expect(await keyCount(K1)).toBe('3/3');
    ts.on('query', (q) => ts.respond(q, `sealed answer to ${dec.decode(q.payload)}`));
    const out = JSON.parse(await s2.cli('query', '-format=json', '-timeout=1s', 'ask', 'q1')) as { Acks: string[]; Responses: Record<string, string> };
    expect(out.Acks).toContain('ts-enc');
    expect(out.Responses['ts-enc']).toBe('sealed answer to q1');
  });

  it('wrong key: the join fails, both sides count and log the rejection, nothing crashes', async () => {
    const bad = await ourNode('ts-wrong', WRONG, 22);
    await expect(bad.join([s1.addr])).rejects.toBeInstanceOf(JoinError);
    // Our side: serf's reply (an error it encrypted with its key) does not decrypt.
    expect(bad.stats.driver.rejected.get('decrypt-failed') ?? 0).toBeGreaterThan(0);
    expect(logs.some((l) => l.startsWith('ts-wrong') && /rejected decrypt-failed/.test(l))).toBe(true);
    // Serf's side: it could not decrypt our stream and said so.
    await waitFor('s1 to log the failed decryption', 5000, () => /\[ERR\].*(decrypt|No installed keys)/i.test(s1.log));

    // The other way round: a serf agent with the wrong key tries to join our node.
    wrongAgent = await SerfAgent.start({ name: 's-wrong', encrypt: WRONG });
    agents.push(wrongAgent);
    const before = ts.stats.driver.rejectedTotal;
    await expect(wrongAgent.cli('join', ts.addr)).rejects.toThrow();
    await waitFor('ts-enc to count the rejected stream', 5000, () => ts.stats.driver.rejectedTotal > before);
    expect(ts.stats.driver.rejected.get('decrypt-failed') ?? 0).toBeGreaterThan(0);
    expect(logs.some((l) => l.startsWith('ts-enc') && /rejected decrypt-failed/.test(l))).toBe(true);
    // Nobody crashed, and the good cluster is intact.
    for (const a of agents) expect((await a.members()).length).toBeGreaterThan(0);
    expect(await allList('ts-enc')()).toBe(true);
    expect((await wrongAgent.members()).map((m) => m.name)).toEqual(['s-wrong']);
  });

  it('rotation with serf keys -install / -use / -remove keeps our node in', async () => {
    // (the rejections counted so far came from the wrong-key agent; the rotation adds none)
    const decryptFailuresBefore = ts.stats.driver.rejected.get('decrypt-failed') ?? 0;
    await s1.cli('keys', `-install=${K2}`);
    expect(await keyCount(K2)).toBe('3/3');
    await s1.cli('keys', `-use=${K2}`);
    await s1.cli('keys', `-remove=${K1}`);
    expect(await keyCount(K1)).toBeUndefined();
    expect(await keyCount(K2)).toBe('3/3');
    // Traffic under the new key only: an event still reaches us, and we stay alive everywhere
    // through a full probe cycle of the agents.
    await s1.cli('event', '-coalesce=false', 'rotated', 'payload-3');
    await waitFor('an event under the new key to reach ts-enc', 5000, () => events.includes('rotated:payload-3'));
    await s2.cli('keys', `-install=${K3}`);
    expect(await keyCount(K3)).toBe('3/3');
    // And what we send now is under the new primary: the agents, which dropped K1, decrypt it.
    ts.sendEvent('after-rotation', 'payload-4', { coalesce: false });
    for (const a of [s1, s2]) await waitFor(`${a.name}'s handler for after-rotation`, 5000, () => a.events().some((e) => e[1] === 'after-rotation' && e[3] === 'payload-4'));
    await waitFor('both agents to list ts-enc alive after the rotation', 5000, allList('ts-enc'));
    expect(ts.stats.driver.rejected.get('decrypt-failed') ?? 0).toBe(decryptFailuresBefore);
    expect(ts.members().filter((m) => m.status === 'alive').map((m) => m.name).sort()).toEqual(['s1', 's2', 'ts-enc']);
    for (const a of [s1, s2]) expect(wireComplaints(a.log), `${a.name} log`).toEqual([]);

    // The keyring file followed the rotation (primary first), so a node started from it joins
    // the rotated cluster; one started with the old key alone cannot.
    await waitFor('the keyring file to hold the rotated keys', 3000, () => readFileSync(keyringFile, 'utf8').includes(K3));
    expect(JSON.parse(readFileSync(keyringFile, 'utf8'))).toEqual([K2, K3]);
    const restoredFile = join(dir, 'restored.keyring');
    copyFileSync(keyringFile, restoredFile);
    const restored = await ourNode('ts-restored', K1, 23, restoredFile);
    await restored.join([s1.addr]);
    await waitFor('both agents to list ts-restored alive', 5000, allList('ts-restored'));
    const stale = await ourNode('ts-stale', K1, 24);
    await expect(stale.join([s1.addr])).rejects.toBeInstanceOf(JoinError);
  });
});
